"""Round-trip YAML for bot/faq/edit.py: an entry's lines cut out, re-dumped in the file's style.

ruamel.yaml keeps comments, order and quoting inside an entry, but not the file's indentation
or the block styles of new values; these helpers find each entry's lines (with PyYAML's fast C
composer), try the indentation styles until one reproduces an entry byte for byte, and give
new values the scalar style their siblings use.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
from collections.abc import Iterable, Sequence
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from bot.errors import FaqError, Problem

FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Indentation styles tried, in order, until one reproduces the entry byte for byte:
# (mapping indent, sequence indent, dash offset).
STYLES = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 0), (3, 5, 2))
# Folded answers are wrapped so lines stay within this many columns, like the shipped files.
WRAP_COLUMNS = 100
# Answers shorter than this stay on one line even when their siblings use a block style.
BLOCK_MIN_CHARS = 60


@dataclasses.dataclass(frozen=True)
class Style:
    mapping: int
    sequence: int
    offset: int


@dataclasses.dataclass(frozen=True)
class Span:
    """Lines [start, end) hold one entry; trailing comments and blank lines are not in it."""

    start: int
    end: int
    dash_col: int


def round_trip_yaml(style: Style) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a line the lead wrote
    y.indent(mapping=style.mapping, sequence=style.sequence, offset=style.offset)
    return y


def dump(y: YAML, data: Any) -> str:
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()


def load(y: YAML, text: str, display: str, first_line: int = 0) -> Any:
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


def is_trailer(line: str, key_col: int) -> bool:
    """Tell a blank line or a comment between entries from the content of an entry."""
    stripped = line.strip()
    if not stripped:
        return True
    # Block-scalar text sits deeper than its key, so a '#' at or left of the entry's keys
    # can only be a comment.
    return stripped.startswith("#") and len(line) - len(line.lstrip(" ")) <= key_col


@dataclasses.dataclass(frozen=True)
class Outline:
    """Where a file's entries are: ids and first-key positions, and where the list ends."""

    items: list[tuple[str, int, int]]  # (id, line of the first key, its column)
    has_entries: bool  # an 'entries' key exists
    block: bool  # the list is a block sequence (not [] or null)
    region_end: int  # the line after the list: the next top-level key or the end


def outline(text: str, display: str) -> Outline:
    """Locate the entries with PyYAML's C composer (the round-trip loader is 10x slower)."""
    try:
        root = yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise FaqError([Problem(display, line, f"YAML cannot be read: {exc}")]) from None
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if not isinstance(root, yaml.MappingNode):
        return Outline([], False, False, lines)
    for n, (knode, vnode) in enumerate(root.value):
        if getattr(knode, "value", None) != "entries":
            continue
        end = root.value[n + 1][0].start_mark.line if n + 1 < len(root.value) else lines
        if not isinstance(vnode, yaml.SequenceNode) or vnode.flow_style:
            return Outline([], True, False, end)
        items = []
        for item in vnode.value:
            entry_id = ""
            if isinstance(item, yaml.MappingNode):
                for k, v in item.value:
                    if getattr(k, "value", None) == "id" and isinstance(v, yaml.ScalarNode):
                        entry_id = str(v.value)
            items.append((entry_id, item.start_mark.line, item.start_mark.column))
        return Outline(items, True, True, end)
    return Outline([], False, False, lines)


def entry_spans(lines: list[str], outline: Outline) -> list[Span]:
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
        while end > start + 1 and is_trailer(lines[end - 1], key_col):
            end -= 1
        spans.append(Span(start, end, dash_col))
    return spans


def dedent(lines: Sequence[str], col: int) -> str:
    out = []
    for line in lines:
        # A blank line shorter than the indent (inside a block scalar) stays a blank line.
        body = line.rstrip("\r\n")
        fits = not line[:col].strip() and len(body) >= col
        out.append(line[col:] if fits else line.lstrip(" "))
    return "".join(out)


def indent(text: str, col: int) -> str:
    """Shift dumped text so its first dash sits at ``col``."""
    lines = text.splitlines(keepends=True)
    first = lines[0]
    shift = col - (len(first) - len(first.lstrip(" ")))
    if shift >= 0:
        pad = " " * shift
        return "".join(pad + ln if ln.strip() else ln for ln in lines)
    return "".join(ln[-shift:] if ln[:-shift].strip() == "" else ln for ln in lines)


def restore(original: Sequence[str], dumped: str) -> str:
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


def pick_style(text: str) -> Style:
    """Find the indentation style that reproduces an entry exactly (default: the shipped one)."""
    for m, s, o in STYLES:
        style = Style(m, s, o)
        y = round_trip_yaml(style)
        try:
            data = y.load(text)
        except YAMLError:
            break
        if indent(dump(y, data), len(text) - len(text.lstrip(" "))) == text:
            return style
    return Style(*STYLES[0])


def scalar_kind(values: Iterable[Any]) -> type | None:
    for v in values:
        if isinstance(
            v,
            (DoubleQuotedScalarString, SingleQuotedScalarString, FoldedScalarString,
             LiteralScalarString),
        ):
            return type(v)
    return None


def styled(text: str, kind: type | None, indent: int) -> Any:
    """Return ``text`` in the scalar style its siblings use, so new lines look like the rest."""
    if kind in (DoubleQuotedScalarString, SingleQuotedScalarString):
        return DoubleQuotedScalarString(text) if kind is DoubleQuotedScalarString else (
            SingleQuotedScalarString(text)
        )
    if kind is None or len(text) < BLOCK_MIN_CHARS or text != text.strip():
        return text
    if "\n" in text or kind is LiteralScalarString:
        return LiteralScalarString(text)
    folded = FoldedScalarString(text)
    folded.fold_pos = fold_positions(text, max(40, WRAP_COLUMNS - indent))
    return folded


def fold_positions(text: str, width: int) -> list[int]:
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
