"""Edit FAQ YAML files in place, keeping the lead's comments and formatting outside the edit.

Every edit follows the same steps, under one module-level lock:

1. find the file and the entry (or the file an entry is appended to);
2. cut the entry's lines out of the file, edit them with ruamel.yaml's round-trip loader and
   splice the re-dumped entry back, so every byte outside the edited entry stays as written
   (ruamel keeps the comments, order, quoting and block styles inside the entry too);
3. write the result to a temporary file in the same directory, validate the whole FAQ
   directory as it would be (the file itself plus the cross-file checks for duplicate ids and
   phrasings) and check that the edit changed exactly what was asked;
4. refuse with :class:`~bot.errors.FaqError` (path:line reasons) leaving the file untouched,
   or replace the file atomically with ``os.replace``.

The lock serialises edits within one process; a file that changed on disk while an edit was
being prepared (a lead saving by hand) makes the edit fail with ConflictError instead of
overwriting the lead's work.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.errors import ConflictError, FaqError, InputError, NotFoundError, Problem

# cross_checks: the same duplicate id/phrasing checks load_faq runs, on the would-be files.
from bot.faq import roundtrip as rt
from bot.faq.load import Entry, cross_checks, faq_files, normalise_phrasing, parse_file
from bot.settings import ISO_639_1

logger = logging.getLogger(__name__)

_LOCK = threading.RLock()
_STEM_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

def read_entry(faq_dir: Path, entry_id: str, default_language: str = "en") -> tuple[Path, Entry]:
    """Return the file holding an entry and the entry as written there now."""
    return _find_entry_file(faq_dir, entry_id, default_language)


def edit_answer(
    faq_dir: Path,
    entry_id: str,
    lang: str,
    text: str,
    author: str,
    *,
    expected: str | None = None,
    default_language: str = "en",
) -> tuple[Path, str | None]:
    """Write or rewrite one language's answer as a lead; return the file and the old text.

    ``expected`` is the answer as the lead last saw it ("" for none): when the file says
    otherwise now, someone else saved meanwhile and ConflictError leaves the file alone.
    """
    with _LOCK:
        _path, entry = _find_entry_file(faq_dir, entry_id, default_language)
        before = entry.answer.get(lang)
        if expected is not None and (before or "") != expected.strip():
            raise ConflictError(f"the {lang} answer of {entry_id} changed since you opened it "
                                "(someone else saved it); look at it again before saving")
        if before == text.strip() and lang not in entry.drafts:
            raise InputError("nothing changed: the answer already reads so")
        path = set_answers(faq_dir, entry_id, {lang: text}, False, author,
                           default_language=default_language, overwrite=True)
    return path, before


def _find_entry_file(faq_dir: Path, entry_id: str, default_language: str) -> tuple[Path, Entry]:
    for path in faq_files(faq_dir):
        for entry in parse_file(path, default_language).entries:
            if entry.id == entry_id:
                return path, entry
    raise NotFoundError(
        f"no entry '{entry_id}' in {faq_dir} (or it has errors: run 'faqbot validate')"
    )


def _norm_problem(p: Problem) -> tuple[str, str]:
    # Line numbers move when an entry grows, so compare problems without them.
    return p.path, re.sub(r":\d+\b", ":#", p.message)


def _validate(
    faq_dir: Path, path: Path, candidate: Path, default_language: str
) -> tuple[list[Problem], list[Entry]]:
    """Return the errors the edit would add to the FAQ dir, and the candidate's entries."""
    display = str(path)
    others: list[Entry] = []
    before_entries: list[Entry] = []
    before_problems: list[Problem] = []
    after_problems: list[Problem] = []
    for other in faq_files(faq_dir):
        if other == path:
            continue
        res = parse_file(other, default_language)
        others.extend(res.entries)
        before_problems.extend(res.errors)
        after_problems.extend(res.errors)
    if path.exists():
        old = parse_file(path, default_language, display=display)
        before_entries = old.entries
        before_problems.extend(old.errors)
    new = parse_file(candidate, default_language, display=display)
    after_problems.extend(new.errors)
    before_problems.extend(cross_checks([*others, *before_entries]))
    after_problems.extend(cross_checks([*others, *new.entries]))
    known = {_norm_problem(p) for p in before_problems if p.severity == "error"}
    added = [p for p in after_problems if p.severity == "error" and _norm_problem(p) not in known]
    return added, new.entries


def _strip_place(entry: Entry) -> Entry:
    return dataclasses.replace(entry, line=0, path="")


def _commit(
    faq_dir: Path,
    path: Path,
    original: bytes | None,
    new_text: str,
    default_language: str,
    expect: Mapping[str, Entry | None],
) -> None:
    """Validate ``new_text`` as ``path`` and swap it in atomically, or raise and leave it be.

    ``expect`` maps entry ids to what they must be after the edit (None: must not change).
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new_text.encode("utf-8"))
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        problems, entries = _validate(faq_dir, path, tmp, default_language)
        if problems:
            raise FaqError(problems)
        _check_expected(path, original, entries, expect, default_language)
        current = path.read_bytes() if path.exists() else None
        if current != original:
            raise ConflictError(f"{path} changed on disk while it was being edited; try again")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _check_expected(
    path: Path,
    original: bytes | None,
    entries: list[Entry],
    expect: Mapping[str, Entry | None],
    default_language: str,
) -> None:
    """Make sure the file holds exactly the intended change (a guard on the splicing)."""
    before: dict[str, Entry] = {}
    if original is not None:
        before = {e.id: e for e in parse_file(path, default_language).entries}
    after = {e.id: e for e in entries}
    wanted = {k: _strip_place(v) for k, v in before.items()}
    for entry_id, entry in expect.items():
        if entry is not None:
            wanted[entry_id] = _strip_place(entry)
    got = {k: _strip_place(v) for k, v in after.items()}
    if got != wanted:
        differ = sorted(k for k in set(got) | set(wanted) if got.get(k) != wanted.get(k))
        raise FaqError(
            [Problem(str(path), 0, "the edit would change more than intended "
                     f"(entries {', '.join(differ)}); edit this file by hand")]
        )


def _edit_entry(
    faq_dir: Path,
    entry_id: str,
    default_language: str,
    mutate: Callable[[CommentedMap, Entry, int], Entry | None],
) -> Path:
    """Apply ``mutate`` to one entry in its file; ``mutate`` returns the expected entry."""
    path, old_entry = _find_entry_file(faq_dir, entry_id, default_language)
    original = path.read_bytes()
    text = original.decode("utf-8")
    lines = text.splitlines(keepends=True)
    outline = rt.outline(text, str(path))
    spans = rt.entry_spans(lines, outline)
    index = next(i for i, item in enumerate(outline.items) if item[0] == entry_id)
    span = spans[index]
    entry_text = rt.dedent(lines[span.start:span.end], span.dash_col)
    if not entry_text.endswith("\n"):
        entry_text += "\n"
    style = rt.pick_style(entry_text)
    y = rt.round_trip_yaml(style)
    item = rt.load(y, entry_text, str(path), span.start)[0]
    expected = mutate(item, old_entry, span.dash_col + 3 * style.mapping)
    if expected is None:
        return path  # nothing to change
    new_entry_text = rt.restore(lines[span.start:span.end],
                                rt.indent(rt.dump(y, [item]), span.dash_col))
    tail = "".join(lines[span.end:])
    if span.end == len(lines) and not text.endswith("\n"):
        new_entry_text = new_entry_text.rstrip("\n")
    new_text = "".join(lines[:span.start]) + new_entry_text + tail
    _commit(faq_dir, path, original, new_text, default_language, {entry_id: expected})
    return path


def _check_lang(lang: str) -> None:
    if lang not in ISO_639_1:
        raise InputError(f"'{lang}' is not an ISO 639-1 language code such as 'de'")


def add_phrasings(
    faq_dir: Path,
    entry_id: str,
    lang: str,
    texts: Sequence[str],
    author: str,
    *,
    default_language: str = "en",
    note: str | None = None,
) -> Path:
    """Add question phrasings in one language to an entry; return the file edited.

    Phrasings the entry already has (ignoring case and punctuation) are skipped; one that
    another entry has makes the edit fail with FaqError. ``note`` becomes a comment after
    each new phrasing in a block list (``faqbot translate`` marks machine drafts so).
    """
    _check_lang(lang)
    clean = [t.strip() for t in texts]
    if not clean or any(not t for t in clean):
        raise InputError("phrasings must be non-empty text")

    def mutate(item: CommentedMap, old: Entry, indent: int) -> Entry | None:
        have = {normalise_phrasing(q) for _l, q in old.phrasings()}
        new: list[str] = []
        for t in clean:
            key = normalise_phrasing(t)
            if key not in have:
                have.add(key)
                new.append(t)
        if not new:
            return None
        questions = item["questions"]
        existing = questions.get(lang)
        # New phrasings take the quoting of their own list, else of the other languages.
        kind = rt.scalar_kind(existing if isinstance(existing, list) else [existing]) if (
            existing is not None
        ) else rt.scalar_kind(
            v for qs in questions.values() for v in (qs if isinstance(qs, list) else [qs])
        )
        if existing is None:
            seq = CommentedSeq(rt.styled(t, kind, indent) for t in new)
            questions[lang] = seq
        elif isinstance(existing, list):
            existing.extend(rt.styled(t, kind, indent) for t in new)
        else:  # one phrasing written as a plain string: make it a list
            questions[lang] = CommentedSeq([existing, *(rt.styled(t, kind, indent) for t in new)])
        seq = questions[lang]
        if note and isinstance(seq, CommentedSeq) and not seq.fa.flow_style():
            for i in range(len(seq) - len(new), len(seq)):
                seq.yaml_add_eol_comment(f"# {note}", i, column=0)
        qs = dict(old.questions)
        qs[lang] = (*qs.get(lang, ()), *new)
        added.extend(new)
        return dataclasses.replace(old, questions=qs)

    added: list[str] = []
    with _LOCK:
        path = _edit_entry(faq_dir, entry_id, default_language, mutate)
    if added:
        logger.info("faq edit by %s: %d %s phrasing(s) added to %s in %s", author, len(added),
                    lang, entry_id, path.name)
    return path


def add_phrasings_in_languages(
    faq_dir: Path,
    entry_id: str,
    by_language: Mapping[str, Sequence[str]],
    author: str,
    default_language: str = "en",
) -> Path:
    """Add phrasings in several languages to an entry: all of them, or none.

    :func:`add_phrasings` writes one language per call; if a later language is refused, the
    file goes back to the bytes it had before the first call (unless someone changed it
    since). Raises FaqError with the reasons of the refused language.
    """
    with _LOCK:
        before = {p: p.read_bytes() for p in faq_files(faq_dir)}
        written: tuple[Path, bytes] | None = None
        try:
            for lang, texts in by_language.items():
                path = add_phrasings(faq_dir, entry_id, lang, texts, author,
                                     default_language=default_language)
                written = (path, path.read_bytes())
        except Exception:
            if written is not None:
                path, ours = written
                if path in before and path.read_bytes() == ours:
                    _write_atomically(path, before[path])
            raise
    if written is None:
        raise InputError("choose at least one question to add")
    return written[0]


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def set_answers(
    faq_dir: Path,
    entry_id: str,
    answers: Mapping[str, str],
    draft: bool,
    author: str,
    *,
    default_language: str = "en",
    overwrite: bool = False,
) -> Path:
    """Write answers in some languages to an entry; return the file edited.

    A lead-written (non-draft) answer is overwritten only with ``overwrite`` (a lead editing
    it); otherwise ConflictError, nothing written. With ``draft`` the languages are added to
    the entry's ``drafts:`` list (a machine draft waiting for review); without it, a
    language written over a draft leaves that list (the lead reviewed it).
    """
    for lang in answers:
        _check_lang(lang)
    clean = {lang: text.strip() for lang, text in answers.items()}
    if any(not t for t in clean.values()):
        raise InputError("answers must be non-empty text")

    def mutate(item: CommentedMap, old: Entry, indent: int) -> Entry | None:
        locked = sorted(lang for lang in clean if lang in old.answer and lang not in old.drafts)
        if locked and not overwrite:
            raise ConflictError(
                f"entry '{old.id}' already has a reviewed answer in {', '.join(locked)}; "
                "edit it in the YAML file instead"
            )
        if not clean:
            return None
        answer = item["answer"]
        kind = rt.scalar_kind(answer.values())
        for lang, text in clean.items():
            # A rewritten answer keeps the style it was written in; a new one its siblings'.
            own = rt.scalar_kind([answer[lang]]) if lang in answer else None
            answer[lang] = rt.styled(text, own or kind, indent)
        drafts = list(old.drafts)
        node = item.get("drafts")
        if draft:
            for lang in clean:
                if lang not in drafts:
                    drafts.append(lang)
        else:
            drafts = [d for d in drafts if d not in clean]
        if drafts and isinstance(node, list):
            node[:] = [d for d in node if d in drafts] + [d for d in drafts if d not in node]
        elif drafts:
            seq = CommentedSeq(drafts)
            seq.fa.set_flow_style()
            keys = list(item.keys())
            item.insert(keys.index("answer") + 1, "drafts", seq)
        elif node is not None:
            del item["drafts"]
        merged = dict(old.answer)
        merged.update(clean)
        return dataclasses.replace(old, answer=merged, drafts=tuple(drafts))

    with _LOCK:
        path = _edit_entry(faq_dir, entry_id, default_language, mutate)
    if clean:
        logger.info("faq edit by %s: %s answer(s) in %s written to %s in %s", author,
                    "draft" if draft else "reviewed", ",".join(clean), entry_id, path.name)
    return path


def _build_entry(entry: Mapping[str, Any], kind_q: type | None, kind_a: type | None,
                 indent: int) -> CommentedMap:
    """Turn a plain entry dict into ruamel nodes laid out like the shipped files."""
    if "id" not in entry:
        raise InputError("a new entry needs an 'id'")
    out = CommentedMap()
    out["id"] = entry["id"]
    for key, value in entry.items():
        if key == "id":
            continue
        if key == "questions" and isinstance(value, Mapping):
            qs = CommentedMap()
            for lang, texts in value.items():
                items = [texts] if isinstance(texts, str) else list(texts)
                qs[lang] = CommentedSeq(rt.styled(str(t).strip(), kind_q, indent) for t in items)
            out[key] = qs
        elif key == "answer" and isinstance(value, Mapping):
            ans = CommentedMap()
            for lang, text in value.items():
                ans[lang] = rt.styled(str(text).strip(), kind_a, indent)
            out[key] = ans
        elif isinstance(value, (list, tuple)):
            seq = CommentedSeq(value)
            seq.fa.set_flow_style()
            out[key] = seq
        else:
            out[key] = value
    return out


def add_entry(
    faq_dir: Path,
    file_stem: str,
    entry: Mapping[str, Any],
    author: str,
    *,
    default_language: str = "en",
) -> Path:
    """Append a new entry to faq_dir/<file_stem>.yaml (created if missing); return its path."""
    if not _STEM_RE.fullmatch(file_stem):
        raise InputError(f"file name {file_stem!r} must match [a-z0-9][a-z0-9_-]* (no path)")
    with _LOCK:
        path = faq_dir / f"{file_stem}.yaml"
        if not path.exists() and (faq_dir / f"{file_stem}.yml").exists():
            path = faq_dir / f"{file_stem}.yml"
        original = path.read_bytes() if path.exists() else None
        text = original.decode("utf-8") if original is not None else ""
        lines = text.splitlines(keepends=True)
        style = rt.Style(*rt.STYLES[0])
        dash_col = 2
        kind_q: type | None = None
        kind_a: type | None = None
        outline = rt.outline(text, str(path))
        if outline.block and outline.items:
            spans = rt.entry_spans(lines, outline)
            last = spans[-1]
            dash_col = last.dash_col
            last_text = rt.dedent(lines[last.start:last.end], dash_col)
            style = rt.pick_style(last_text)
            sample = rt.load(rt.round_trip_yaml(style), last_text, str(path), last.start)
            sample = sample[0] if isinstance(sample, list) and sample else None
            if isinstance(sample, Mapping) and isinstance(sample.get("questions"), Mapping):
                kind_q = rt.scalar_kind(
                    v for qs in sample["questions"].values() if isinstance(qs, list) for v in qs
                )
            if isinstance(sample, Mapping) and isinstance(sample.get("answer"), Mapping):
                kind_a = rt.scalar_kind(sample["answer"].values())
            # Separate the new entry as the lead separates theirs (a blank line, maybe
            # followed by a comment heading).
            above = last.start - 1
            while above > 0 and lines[above].lstrip().startswith("#"):
                above -= 1
            blank = above >= 0 and not lines[above].strip()
            y = rt.round_trip_yaml(style)
            node = _build_entry(entry, kind_q, kind_a, dash_col + 3 * style.mapping)
            body = rt.indent(rt.dump(y, [node]), dash_col)
            head = text if text.endswith("\n") else text + "\n"
            new_text = head + ("\n" if blank else "") + body
        elif not outline.items and all(
            ln.split("#")[0].strip() in ("", "entries:", "entries: []", "entries: null")
            for ln in lines
        ):
            # A new or empty file: write the list afresh below any comments it has.
            y = rt.round_trip_yaml(style)
            node = _build_entry(entry, None, None, dash_col + 3 * style.mapping)
            body = rt.indent(rt.dump(y, [node]), dash_col)
            keep = [ln for ln in lines if ln.lstrip().startswith("#") or not ln.strip()]
            new_text = "".join(keep) + "entries:\n" + body
        else:
            raise FaqError([Problem(str(path), 1, "'entries' is not a block list; "
                                    "add the entry by hand")])
        expected = _expected_new_entry(path, entry)
        _commit(faq_dir, path, original, new_text, default_language, expected)
        logger.info("faq edit by %s: entry %s added to %s", author, entry["id"], path.name)
        return path


def _expected_new_entry(path: Path, entry: Mapping[str, Any]) -> dict[str, Entry | None]:
    """Describe the entry add_entry must produce, for the post-edit check."""
    questions = {
        lang: tuple(str(t).strip() for t in ([texts] if isinstance(texts, str) else texts))
        for lang, texts in dict(entry.get("questions") or {}).items()
    }
    answer = {lang: str(t).strip() for lang, t in dict(entry.get("answer") or {}).items()}
    new = Entry(
        id=str(entry["id"]),
        questions=questions,
        answer=answer,
        category=str(entry.get("category", path.stem)).strip(),
        tags=tuple(str(t) for t in entry.get("tags", ())),
        markets=tuple(str(m).upper() for m in entry.get("markets", ())),
        handoff=bool(entry.get("handoff", False)),
        drafts=tuple(str(d) for d in entry.get("drafts", ())),
    )
    return {new.id: new}
