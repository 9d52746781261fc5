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
import difflib
import io
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from bot.errors import ConflictError, FaqError, InputError, NotFoundError, Problem

# _cross_checks: the same duplicate id/phrasing checks load_faq runs, on the would-be files.
from bot.faq.load import Entry, _cross_checks, faq_files, normalise_phrasing, parse_file
from bot.matching.language import ISO_639_1

logger = logging.getLogger(__name__)

_LOCK = threading.RLock()
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STEM_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Indentation styles tried, in order, until one reproduces the entry byte for byte:
# (mapping indent, sequence indent, dash offset).
_STYLES = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 0), (3, 5, 2))
# Folded answers are wrapped so lines stay within this many columns, like the shipped files.
_WRAP_COLUMNS = 100
# Answers shorter than this stay on one line even when their siblings use a block style.
_BLOCK_MIN_CHARS = 60


@dataclasses.dataclass(frozen=True)
class _Style:
    mapping: int
    sequence: int
    offset: int


@dataclasses.dataclass(frozen=True)
class _Span:
    """Lines [start, end) hold one entry; trailing comments and blank lines are not in it."""

    start: int
    end: int
    dash_col: int


def _yaml(style: _Style) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a line the lead wrote
    y.indent(mapping=style.mapping, sequence=style.sequence, offset=style.offset)
    return y


def _dump(y: YAML, data: Any) -> str:
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()


def _load(y: YAML, text: str, display: str, first_line: int = 0) -> Any:
    """Load round-trip YAML, turning syntax errors into path:line problems."""
    try:
        return y.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line + 1 if mark else 1)
        problem = Problem(display, line, f"YAML syntax error: {exc.problem or exc}")
        raise FaqError([problem]) from None
    except YAMLError as exc:
        raise FaqError([Problem(display, first_line + 1, f"YAML cannot be read: {exc}")]) from None


def _is_trailer(line: str, key_col: int) -> bool:
    """Tell a blank line or a comment between entries from the content of an entry."""
    stripped = line.strip()
    if not stripped:
        return True
    # Block-scalar text sits deeper than its key, so a '#' at or left of the entry's keys
    # can only be a comment.
    return stripped.startswith("#") and len(line) - len(line.lstrip(" ")) <= key_col


@dataclasses.dataclass(frozen=True)
class _Outline:
    """Where a file's entries are: ids and first-key positions, and where the list ends."""

    items: list[tuple[str, int, int]]  # (id, line of the first key, its column)
    has_entries: bool  # an 'entries' key exists
    block: bool  # the list is a block sequence (not [] or null)
    region_end: int  # the line after the list: the next top-level key or the end


def _outline(text: str, display: str) -> _Outline:
    """Locate the entries with PyYAML's C composer (the round-trip loader is 10x slower)."""
    try:
        root = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise FaqError([Problem(display, line, f"YAML cannot be read: {exc}")]) from None
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if not isinstance(root, yaml.MappingNode):
        return _Outline([], False, False, lines)
    for n, (knode, vnode) in enumerate(root.value):
        if getattr(knode, "value", None) != "entries":
            continue
        end = root.value[n + 1][0].start_mark.line if n + 1 < len(root.value) else lines
        if not isinstance(vnode, yaml.SequenceNode) or vnode.flow_style:
            return _Outline([], True, False, end)
        items = []
        for item in vnode.value:
            entry_id = ""
            if isinstance(item, yaml.MappingNode):
                for k, v in item.value:
                    if getattr(k, "value", None) == "id" and isinstance(v, yaml.ScalarNode):
                        entry_id = str(v.value)
            items.append((entry_id, item.start_mark.line, item.start_mark.column))
        return _Outline(items, True, True, end)
    return _Outline([], False, False, lines)


def _spans(lines: list[str], outline: _Outline) -> list[_Span]:
    """Return where each entry of the ``entries`` list starts and ends."""
    starts: list[tuple[int, int, int]] = []
    for _id, first_line, key_col in outline.items:
        line = first_line
        # The first key is on the dash's line or, rarely, below it.
        while line > 0 and not lines[line].lstrip().startswith("-"):
            line -= 1
        dash_col = len(lines[line]) - len(lines[line].lstrip(" "))
        starts.append((line, dash_col, key_col))
    spans = []
    for i, (start, dash_col, key_col) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else outline.region_end
        while end > start + 1 and _is_trailer(lines[end - 1], key_col):
            end -= 1
        spans.append(_Span(start, end, dash_col))
    return spans


def _dedent(lines: Sequence[str], col: int) -> str:
    out = []
    for line in lines:
        # A blank line shorter than the indent (inside a block scalar) stays a blank line.
        body = line.rstrip("\r\n")
        fits = not line[:col].strip() and len(body) >= col
        out.append(line[col:] if fits else line.lstrip(" "))
    return "".join(out)


def _indent(text: str, col: int) -> str:
    """Shift dumped text so its first dash sits at ``col``."""
    lines = text.splitlines(keepends=True)
    first = lines[0]
    shift = col - (len(first) - len(first.lstrip(" ")))
    if shift >= 0:
        pad = " " * shift
        return "".join(pad + ln if ln.strip() else ln for ln in lines)
    return "".join(ln[-shift:] if ln[:-shift].strip() == "" else ln for ln in lines)


def _restore(original: Sequence[str], dumped: str) -> str:
    """Put back the lead's own lines wherever the dump differs from them only in spacing.

    ruamel normalises the gap before an end-of-line comment and the spacing inside flow
    lists; lines that did not change keep exactly what the lead typed.
    """
    new = dumped.splitlines(keepends=True)
    old = [ln if ln.endswith("\n") else ln + "\n" for ln in original]

    def norm(line: str) -> str:
        return " ".join(line.split())

    matcher = difflib.SequenceMatcher(None, [norm(x) for x in old], [norm(x) for x in new],
                                      autojunk=False)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        out.extend(old[i1:i2] if tag == "equal" else new[j1:j2])
    return "".join(out)


def _pick_style(text: str) -> _Style:
    """Find the indentation style that reproduces an entry exactly (default: the shipped one)."""
    for m, s, o in _STYLES:
        style = _Style(m, s, o)
        y = _yaml(style)
        try:
            data = y.load(text)
        except YAMLError:
            break
        if _indent(_dump(y, data), len(text) - len(text.lstrip(" "))) == text:
            return style
    return _Style(*_STYLES[0])


def _scalar_kind(values: Iterable[Any]) -> type | None:
    for v in values:
        if isinstance(
            v,
            (DoubleQuotedScalarString, SingleQuotedScalarString, FoldedScalarString,
             LiteralScalarString),
        ):
            return type(v)
    return None


def _styled(text: str, kind: type | None, indent: int) -> Any:
    """Return ``text`` in the scalar style its siblings use, so new lines look like the rest."""
    if kind in (DoubleQuotedScalarString, SingleQuotedScalarString):
        return DoubleQuotedScalarString(text) if kind is DoubleQuotedScalarString else (
            SingleQuotedScalarString(text)
        )
    if kind is None or len(text) < _BLOCK_MIN_CHARS or text != text.strip():
        return text
    if "\n" in text or kind is LiteralScalarString:
        return LiteralScalarString(text)
    folded = FoldedScalarString(text)
    folded.fold_pos = _fold_positions(text, max(40, _WRAP_COLUMNS - indent))
    return folded


def _fold_positions(text: str, width: int) -> list[int]:
    """Choose the spaces at which a folded scalar breaks its lines (greedy, like a lead would)."""
    positions: list[int] = []
    line_start = 0
    last_ok = -1
    for i, ch in enumerate(text):
        if ch == " " and 0 < i < len(text) - 1 and text[i - 1] != " " and text[i + 1] != " ":
            if i - line_start > width and last_ok > line_start:
                positions.append(last_ok)
                line_start = last_ok + 1
            last_ok = i
    if len(text) - line_start > width and last_ok > line_start:
        positions.append(last_ok)
    return positions


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
    before_problems.extend(_cross_checks([*others, *before_entries]))
    after_problems.extend(_cross_checks([*others, *new.entries]))
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
    outline = _outline(text, str(path))
    spans = _spans(lines, outline)
    index = next(i for i, item in enumerate(outline.items) if item[0] == entry_id)
    span = spans[index]
    entry_text = _dedent(lines[span.start:span.end], span.dash_col)
    if not entry_text.endswith("\n"):
        entry_text += "\n"
    style = _pick_style(entry_text)
    y = _yaml(style)
    item = _load(y, entry_text, str(path), span.start)[0]
    expected = mutate(item, old_entry, span.dash_col + 3 * style.mapping)
    if expected is None:
        return path  # nothing to change
    new_entry_text = _restore(lines[span.start:span.end], _indent(_dump(y, [item]), span.dash_col))
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
        kind = _scalar_kind(existing if isinstance(existing, list) else [existing]) if (
            existing is not None
        ) else _scalar_kind(
            v for qs in questions.values() for v in (qs if isinstance(qs, list) else [qs])
        )
        if existing is None:
            seq = CommentedSeq(_styled(t, kind, indent) for t in new)
            questions[lang] = seq
        elif isinstance(existing, list):
            existing.extend(_styled(t, kind, indent) for t in new)
        else:  # one phrasing written as a plain string: make it a list
            questions[lang] = CommentedSeq([existing, *(_styled(t, kind, indent) for t in new)])
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


def set_answers(
    faq_dir: Path,
    entry_id: str,
    answers: Mapping[str, str],
    draft: bool,
    author: str,
    *,
    default_language: str = "en",
) -> Path:
    """Write answers in some languages to an entry; return the file edited.

    A lead-written (non-draft) answer is never overwritten: ConflictError, nothing written.
    With ``draft`` the languages are added to the entry's ``drafts:`` list (a machine draft
    waiting for review); without it, a language written over a draft leaves that list.
    """
    for lang in answers:
        _check_lang(lang)
    clean = {lang: text.strip() for lang, text in answers.items()}
    if any(not t for t in clean.values()):
        raise InputError("answers must be non-empty text")

    def mutate(item: CommentedMap, old: Entry, indent: int) -> Entry | None:
        locked = sorted(lang for lang in clean if lang in old.answer and lang not in old.drafts)
        if locked:
            raise ConflictError(
                f"entry '{old.id}' already has a reviewed answer in {', '.join(locked)}; "
                "edit it in the YAML file instead"
            )
        if not clean:
            return None
        answer = item["answer"]
        kind = _scalar_kind(answer.values())
        for lang, text in clean.items():
            answer[lang] = _styled(text, kind, indent)
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
                qs[lang] = CommentedSeq(_styled(str(t).strip(), kind_q, indent) for t in items)
            out[key] = qs
        elif key == "answer" and isinstance(value, Mapping):
            ans = CommentedMap()
            for lang, text in value.items():
                ans[lang] = _styled(str(text).strip(), kind_a, indent)
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
        style = _Style(*_STYLES[0])
        dash_col = 2
        kind_q: type | None = None
        kind_a: type | None = None
        outline = _outline(text, str(path))
        if outline.block and outline.items:
            spans = _spans(lines, outline)
            last = spans[-1]
            dash_col = last.dash_col
            last_text = _dedent(lines[last.start:last.end], dash_col)
            style = _pick_style(last_text)
            sample = _load(_yaml(style), last_text, str(path), last.start)
            sample = sample[0] if isinstance(sample, list) and sample else None
            if isinstance(sample, Mapping) and isinstance(sample.get("questions"), Mapping):
                kind_q = _scalar_kind(
                    v for qs in sample["questions"].values() if isinstance(qs, list) for v in qs
                )
            if isinstance(sample, Mapping) and isinstance(sample.get("answer"), Mapping):
                kind_a = _scalar_kind(sample["answer"].values())
            # Separate the new entry as the lead separates theirs (a blank line, maybe
            # followed by a comment heading).
            above = last.start - 1
            while above > 0 and lines[above].lstrip().startswith("#"):
                above -= 1
            blank = above >= 0 and not lines[above].strip()
            y = _yaml(style)
            node = _build_entry(entry, kind_q, kind_a, dash_col + 3 * style.mapping)
            body = _indent(_dump(y, [node]), dash_col)
            head = text if text.endswith("\n") else text + "\n"
            new_text = head + ("\n" if blank else "") + body
        elif not outline.items and all(
            ln.split("#")[0].strip() in ("", "entries:", "entries: []", "entries: null")
            for ln in lines
        ):
            # A new or empty file: write the list afresh below any comments it has.
            y = _yaml(style)
            node = _build_entry(entry, None, None, dash_col + 3 * style.mapping)
            body = _indent(_dump(y, [node]), dash_col)
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
