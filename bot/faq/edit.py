"""Edit FAQ YAML files in place, keeping the lead's comments and formatting outside the edit.

Every edit follows the same steps, holding the FAQ folder's edit lock (bot/faq/swap.py, one
edit at a time across the processes of this machine):

1. read the file's bytes and find the entry in them (or the file an entry is appended to);
2. cut the entry's lines out of the file, edit them with ruamel.yaml's round-trip loader and
   splice the re-dumped entry back, so every byte outside the edited entry stays as written
   (ruamel keeps the comments, order, quoting and block styles inside the entry too);
3. write the result to a temporary file in the same directory, validate the whole FAQ
   directory as it would be (the file itself plus the cross-file checks for duplicate ids and
   phrasings) and check that the edit changed exactly what was asked;
4. refuse with :class:`~bot.errors.FaqError` (path:line reasons) leaving the file untouched,
   or, if the file still holds the bytes read in step 1, replace it atomically (``os.replace``).
   If someone changed it meanwhile (a hand save), the edit runs again on the new bytes; a
   real conflict (the entry is gone, the answer is not the one the lead saw) is refused with
   ConflictError (HTTP 409), so nobody's work is overwritten.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.errors import ConflictError, FaqError, InputError, NotFoundError, Problem
from bot.faq import roundtrip as rt
from bot.faq import swap
from bot.faq.load import Entry, faq_files, normalise_phrasing, parse_bytes
from bot.settings import ISO_639_1

logger = logging.getLogger(__name__)

_STEM_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def read_entry(faq_dir: Path, entry_id: str, default_language: str = "en") -> tuple[Path, Entry]:
    """Return the file holding an entry and the entry as written there now."""
    path, _data, entry = _read_entry(faq_dir, entry_id, default_language)
    return path, entry


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
    seen: list[str | None] = []

    def check(entry: Entry) -> None:  # on the bytes the edit is made on, every try
        before = entry.answer.get(lang)
        if expected is not None and (before or "") != expected.strip():
            raise ConflictError(f"the {lang} answer of {entry_id} changed since you opened it "
                                "(someone else saved it); look at it again before saving")
        if before == text.strip() and lang not in entry.drafts:
            raise InputError("nothing changed: the answer already reads so")
        seen[:] = [before]

    path = _set_answers(faq_dir, entry_id, {lang: text}, False, author, default_language,
                        True, check)
    return path, seen[0]


def _read_entry(faq_dir: Path, entry_id: str, default_language: str) -> tuple[Path, bytes, Entry]:
    """Return the file holding an entry, the bytes it was found in, and the entry."""
    for path in faq_files(faq_dir):
        try:
            data = path.read_bytes()
        except OSError:  # renamed or removed since it was listed (validate reports such)
            continue
        for entry in parse_bytes(data, str(path), default_language).entries:
            if entry.id == entry_id:
                return path, data, entry
    raise NotFoundError(
        f"no entry '{entry_id}' in {faq_dir} (or it has errors: run 'faqbot validate')"
    )


def _edit_entry(
    faq_dir: Path,
    entry_id: str,
    default_language: str,
    mutate: Callable[[CommentedMap, Entry, int], Entry | None],
) -> Path:
    """Apply ``mutate`` to one entry in its file; ``mutate`` returns the expected entry.

    ``mutate`` may run more than once (on the new bytes when the file changed meanwhile).
    """
    def once(again: bool) -> Path:
        try:
            path, original, old_entry = _read_entry(faq_dir, entry_id, default_language)
        except NotFoundError:
            if again:  # it was there a moment ago: removed or renamed by hand meanwhile
                raise ConflictError(swap.CHANGED_MEANWHILE) from None
            raise
        _edit_bytes(faq_dir, path, original, old_entry, default_language, mutate)
        return path

    return swap.retrying(faq_dir, once)


def _edit_bytes(
    faq_dir: Path,
    path: Path,
    original: bytes,
    old_entry: Entry,
    default_language: str,
    mutate: Callable[[CommentedMap, Entry, int], Entry | None],
) -> None:
    """Splice ``mutate``'s change of one entry into the file's ``original`` bytes, commit it."""
    text = original.decode("utf-8")
    lines = text.splitlines(keepends=True)
    outline = rt.outline(text, str(path))
    spans = rt.entry_spans(lines, outline)
    index = next(i for i, item in enumerate(outline.items) if item[0] == old_entry.id)
    span = spans[index]
    entry_text = rt.dedent(lines[span.start:span.end], span.dash_col)
    if not entry_text.endswith("\n"):
        entry_text += "\n"
    style = rt.pick_style(entry_text)
    y = rt.round_trip_yaml(style)
    item = rt.load(y, entry_text, str(path), span.start)[0]
    expected = mutate(item, old_entry, span.dash_col + 3 * style.mapping)
    if expected is None:
        return  # nothing to change
    new_entry_text = rt.restore(lines[span.start:span.end],
                                rt.indent(rt.dump(y, [item]), span.dash_col))
    tail = "".join(lines[span.end:])
    if span.end == len(lines) and not text.endswith("\n"):
        new_entry_text = new_entry_text.rstrip("\n")
    new_text = "".join(lines[:span.start]) + new_entry_text + tail
    swap.commit(faq_dir, path, original, new_text, default_language, {old_entry.id: expected})


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
        added[:] = new  # (a second try replaces the first one's)
        return dataclasses.replace(old, questions=qs)

    added: list[str] = []
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
    with swap.edit_lock(faq_dir):  # one turn for all languages: no other edit between them
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
                    swap.write_atomically(path, before[path])
            raise
    if written is None:
        raise InputError("choose at least one question to add")
    return written[0]


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
    return _set_answers(faq_dir, entry_id, answers, draft, author, default_language, overwrite)


def _set_answers(
    faq_dir: Path,
    entry_id: str,
    answers: Mapping[str, str],
    draft: bool,
    author: str,
    default_language: str,
    overwrite: bool,
    check: Callable[[Entry], None] | None = None,
) -> Path:
    """Do :func:`set_answers`, first calling ``check`` on the entry as the edit reads it."""
    for lang in answers:
        _check_lang(lang)
    clean = {lang: text.strip() for lang, text in answers.items()}
    if any(not t for t in clean.values()):
        raise InputError("answers must be non-empty text")

    def mutate(item: CommentedMap, old: Entry, indent: int) -> Entry | None:
        if check is not None:
            check(old)
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

    def once(_again: bool) -> Path:
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
        swap.commit(faq_dir, path, original, new_text, default_language, expected)
        return path

    path = swap.retrying(faq_dir, once)
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
