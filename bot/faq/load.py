"""Load and validate FAQ YAML files (faq_data/<topic>.yaml) into entries, with file:line errors."""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import FaqError, Problem
from bot.settings import ISO_639_1

ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 10_000
ENTRY_KEYS = ("id", "questions", "answer", "category", "tags", "markets", "handoff", "drafts")
TOP_KEYS = ("entries",)
# libyaml parses a large FAQ many times faster and does not recurse in Python on deep nesting.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
# Tags a FAQ file may carry (implicitly or explicitly); anything else is refused by name.
_ALLOWED_TAGS = frozenset(
    _CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)


@dataclass(frozen=True)
class Entry:
    """One FAQ entry: phrasings and answers per language, plus where it was written."""

    id: str
    questions: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    category: str
    tags: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    handoff: bool = False
    # Languages whose answer is an unreviewed machine draft; a lead accepts a draft by
    # removing its language from this list.
    drafts: tuple[str, ...] = ()
    path: str = ""
    line: int = 0

    def phrasings(self) -> list[tuple[str, str]]:
        """Return every (language, phrasing) of the entry in file order."""
        return [(lang, q) for lang, qs in self.questions.items() for q in qs]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready snapshot (kept in the index manifest)."""
        return {
            "id": self.id,
            "questions": {k: list(v) for k, v in self.questions.items()},
            "answer": dict(self.answer),
            "category": self.category,
            "tags": list(self.tags),
            "markets": list(self.markets),
            "handoff": self.handoff,
            "drafts": list(self.drafts),
            "path": self.path,
            "line": self.line,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entry:
        """Rebuild an entry from :meth:`to_dict` output."""
        return cls(
            id=d["id"],
            questions={k: tuple(v) for k, v in d["questions"].items()},
            answer=dict(d["answer"]),
            category=d["category"],
            tags=tuple(d.get("tags", ())),
            markets=tuple(d.get("markets", ())),
            handoff=bool(d.get("handoff", False)),
            drafts=tuple(d.get("drafts", ())),
            path=d.get("path", ""),
            line=int(d.get("line", 0)),
        )


@dataclass
class LoadResult:
    """Entries that loaded, and every problem found on the way."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return sorted(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> list[Problem]:
        return sorted(p for p in self.problems if p.severity == "warning")


@functools.lru_cache(maxsize=1 << 16)  # cross-checks normalise every phrasing on each reload
def normalise_phrasing(text: str) -> str:
    """Fold case, punctuation and spacing so "Refund?" and "refund" compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(c)[0] in "PSZ" else c for c in text)
    return " ".join(text.split())


def faq_files(faq_dir: Path) -> list[Path]:
    """Return the FAQ files of a directory, sorted so builds are deterministic."""
    return sorted([*faq_dir.glob("*.yaml"), *faq_dir.glob("*.yml")])


def fingerprint(faq_dir: Path) -> str:
    """Hash the names and bytes of every FAQ file: any edit changes it."""
    h = hashlib.sha256()
    for path in faq_files(faq_dir):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


class _Ctx:
    """Collects problems for one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def error(self, node: yaml.Node | None, message: str, line: int = 0) -> None:
        self.problems.append(Problem(self.path, _line(node) if node else line, message))


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _text(node: yaml.Node) -> str:
    """Return a scalar as the author wrote it; "" for null or a non-scalar."""
    # Text stays text: YAML 1.1 typing would read `no:` (Norwegian) as False, `yes` as True
    # and `1.10` as 1.1, none of which a FAQ author means.
    if not isinstance(node, yaml.ScalarNode) or node.tag == _CORE + "null":
        return ""
    return str(node.value)


def _key(ctx: _Ctx, node: yaml.Node) -> str | None:
    """Return a mapping key as text, reporting keys that are lists or mappings."""
    if not isinstance(node, yaml.ScalarNode):
        ctx.error(node, "a key must be plain text, not a list or mapping")
        return None
    return _text(node)


def _check_tags(ctx: _Ctx, root: yaml.Node) -> None:
    """Report YAML tags and merge keys a FAQ has no use for (walks without recursion)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # aliases share nodes; visit each once
            continue
        seen.add(id(node))
        if node.tag == _CORE + "merge":
            ctx.error(node, "merge keys ('<<') are not supported; write the keys out")
        elif node.tag not in _ALLOWED_TAGS:
            ctx.error(node, f"YAML tag '{node.tag}' is not allowed in a FAQ file")
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))


def _strings(ctx: _Ctx, node: yaml.Node, what: str, limit: int) -> list[tuple[str, yaml.Node]]:
    """Read a string or a list of strings, reporting empty, non-text and oversized items."""
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    out: list[tuple[str, yaml.Node]] = []
    for item in items:
        if not isinstance(item, yaml.ScalarNode):
            ctx.error(item, f"{what} must be text")
            continue
        value = _text(item)
        if not value.strip():
            ctx.error(item, f"{what} is empty")
            continue
        if len(value) > limit:
            ctx.error(item, f"{what} is {len(value)} characters; the limit is {limit}")
            continue
        out.append((value.strip(), item))
    if isinstance(node, yaml.SequenceNode) and not node.value:
        ctx.error(node, f"{what} list is empty")
    return out


def _lang_map(ctx: _Ctx, node: yaml.Node, key: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, f"'{key}' must map language codes to text, e.g. 'en: ...'")
        return []
    out = []
    seen: set[str] = set()
    for knode, vnode in node.value:
        lang = _key(ctx, knode)
        if lang is None:
            continue
        if lang in seen:
            ctx.error(knode, f"language '{lang}' appears twice in '{key}'; merge them into one")
            continue
        seen.add(lang)
        if lang not in ISO_639_1:
            hint = f" (use '{lang[:2].lower()}')" if lang[:2].lower() in ISO_639_1 else ""
            ctx.error(knode, f"'{lang}' in '{key}' is not an ISO 639-1 language code{hint}")
            continue
        out.append((lang, knode, vnode))
    return out


def _parse_entry(ctx: _Ctx, node: yaml.Node, default_language: str) -> Entry | None:
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, "each entry must be a mapping with id, questions and answer")
        return None
    fields: dict[str, yaml.Node] = {}
    for knode, vnode in node.value:
        key = _key(ctx, knode)
        if key is None:
            continue
        if key not in ENTRY_KEYS:
            close = difflib.get_close_matches(key, ENTRY_KEYS, n=1)
            allowed = ", ".join(ENTRY_KEYS)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; allowed: {allowed}"
            ctx.error(knode, f"unknown key '{key}'{hint}")
            continue
        if key in fields:
            ctx.error(knode, f"key '{key}' appears twice in this entry")
        fields[key] = vnode
    ok = True
    entry_id = ""
    if "id" not in fields:
        ctx.error(node, "entry has no 'id'")
        ok = False
    else:
        entry_id = _text(fields["id"])
        if not isinstance(fields["id"], yaml.ScalarNode):
            ctx.error(fields["id"], "id must be a text such as 'returns-window'")
            ok = False
        elif not ID_RE.fullmatch(entry_id):
            ctx.error(fields["id"], f"id {entry_id!r} must match [a-z0-9][a-z0-9._-]*")
            ok = False
    label = f"entry '{entry_id}'" if entry_id else "entry"
    questions: dict[str, tuple[str, ...]] = {}
    if "questions" not in fields:
        ctx.error(node, f"{label} has no 'questions'")
        ok = False
    else:
        for lang, _k, vnode in _lang_map(ctx, fields["questions"], "questions"):
            qs = [q for q, _ in _strings(ctx, vnode, f"question ({lang})", MAX_QUESTION_CHARS)]
            if qs:
                questions[lang] = tuple(qs)
        node_q = fields["questions"]
        if isinstance(node_q, yaml.MappingNode) and not node_q.value:
            ctx.error(node_q, f"{label} has an empty 'questions' mapping")
        if not questions:
            ok = False
    answer: dict[str, str] = {}
    if "answer" not in fields:
        ctx.error(node, f"{label} has no 'answer'")
        ok = False
    else:
        for lang, _k, vnode in _lang_map(ctx, fields["answer"], "answer"):
            if isinstance(vnode, yaml.SequenceNode):
                ctx.error(vnode, f"answer ({lang}) must be one text, not a list")
                continue
            texts = _strings(ctx, vnode, f"answer ({lang})", MAX_ANSWER_CHARS)
            if texts:
                answer[lang] = texts[0][0]
        if default_language not in answer and isinstance(fields["answer"], yaml.MappingNode):
            ctx.error(
                fields["answer"],
                f"{label} has no answer in the default language '{default_language}'",
            )
            ok = False
    tags = _list_field(ctx, fields.get("tags"), "tags")
    markets = tuple(m.upper() for m in _list_field(ctx, fields.get("markets"), "markets"))
    drafts = _list_field(ctx, fields.get("drafts"), "drafts")
    for lang in drafts:
        if lang not in answer:
            ctx.error(fields["drafts"], f"draft language '{lang}' has no answer in {label}")
    handoff = False
    if "handoff" in fields:
        hnode = fields["handoff"]
        if hnode.tag != _CORE + "bool":
            ctx.error(hnode, "handoff must be true or false")
        else:
            handoff = _text(hnode).lower() in ("true", "yes", "on")
    category = Path(ctx.path).stem
    if "category" in fields:
        value = _text(fields["category"])
        if not value.strip():
            ctx.error(fields["category"], "category must be a non-empty text")
        else:
            category = value.strip()
    if not ok:
        return None
    return Entry(
        id=entry_id,
        questions=questions,
        answer=answer,
        category=category,
        tags=tuple(tags),
        markets=markets,
        handoff=handoff,
        drafts=tuple(drafts),
        path=ctx.path,
        line=_line(node),
    )


def _list_field(ctx: _Ctx, node: yaml.Node | None, key: str) -> list[str]:
    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, f"'{key}' must be a list, e.g. [a, b]")
        return []
    return [v for v, _ in _strings(ctx, node, f"{key} item", 200)]


def parse_file(path: Path, default_language: str = "en", display: str | None = None) -> LoadResult:
    """Parse one FAQ file, collecting every problem with its line number."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = Problem(display or str(path), 1, f"cannot read file: {exc.strerror or exc}")
        return LoadResult(problems=[problem])
    parsed = _parse_bytes(display or str(path), data, default_language)
    return LoadResult(list(parsed.entries), list(parsed.problems))


def parse_bytes(data: bytes, display: str, default_language: str = "en") -> LoadResult:
    """Parse one FAQ file's bytes as read earlier (an edit compares what it read with now)."""
    parsed = _parse_bytes(display, data, default_language)
    return LoadResult(list(parsed.entries), list(parsed.problems))


# A reload reads every file again; only files whose bytes changed are parsed again (a 5,000
# entry FAQ takes ~1 s to parse, most of a one-entry re-index). Entries are immutable.
@functools.lru_cache(maxsize=64)
def _parse_bytes(display: str, data: bytes, default_language: str) -> LoadResult:
    ctx = _Ctx(display)
    result = LoadResult()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        ctx.error(None, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8",
                  line=line)
        result.problems = ctx.problems
        return result
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        lines = text.splitlines()
        hint = ""
        if 0 < line <= len(lines) and "\t" in lines[line - 1]:
            hint = " (YAML cannot indent with tabs; use spaces)"
        cmark = exc.context_mark
        if exc.context and cmark is not None and cmark.line + 1 != line:
            # An unclosed quote or bracket fails at the end of the file; say where it opened.
            hint += f" ({exc.context} at line {cmark.line + 1})"
        ctx.error(None, f"YAML syntax error: {exc.problem or exc}{hint}", line=line)
        result.problems = ctx.problems
        return result
    except yaml.reader.ReaderError as exc:  # a control character such as NUL: binary data
        line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        ctx.error(None, f"not a text file: control character U+{char:04X} is not allowed",
                  line=line)
        result.problems = ctx.problems
        return result
    except (yaml.YAMLError, RecursionError) as exc:
        ctx.error(None, f"YAML cannot be read: {exc.__class__.__name__}: {exc}", line=1)
        result.problems = ctx.problems
        return result
    if root is not None:
        _check_tags(ctx, root)
    if root is None:
        ctx.error(None, "file is empty; expected 'entries:' with a list of entries", line=1)
    elif not isinstance(root, yaml.MappingNode):
        ctx.error(root, "expected a mapping with 'entries:' at the top")
    else:
        entries_node = None
        for knode, vnode in root.value:
            key = _key(ctx, knode)
            if key is None:
                continue
            if key == "entries":
                if entries_node is not None:
                    # Otherwise the second list silently hides every entry of the first.
                    ctx.error(knode, "'entries' appears twice; put all entries in one list")
                entries_node = vnode
            else:
                ctx.error(knode, f"unknown top-level key '{key}'; only 'entries' is allowed")
        if entries_node is None:
            ctx.error(root, "no 'entries:' list in this file")
        elif not isinstance(entries_node, yaml.SequenceNode):
            ctx.error(entries_node, "'entries' must be a list of entries")
        else:
            for enode in entries_node.value:
                entry = _parse_entry(ctx, enode, default_language)
                if entry is not None:
                    result.entries.append(entry)
    result.problems = ctx.problems
    return result


def disjoint_markets(a: Entry, b: Entry) -> bool:
    """Tell whether no shopper can be offered both entries (each limited to other markets)."""
    # Per-market variants of one question (customs for UK, customs for CH) are the point of
    # `markets:`, so they may share phrasings.
    return bool(a.markets and b.markets and not set(a.markets) & set(b.markets))


def cross_checks(entries: Iterable[Entry]) -> list[Problem]:
    """Find ids and phrasings that two entries share."""
    problems: list[Problem] = []
    seen_ids: dict[str, Entry] = {}
    seen_q: dict[str, tuple[Entry, str]] = {}
    for entry in entries:
        first = seen_ids.get(entry.id)
        if first is not None:
            problems.append(
                Problem(entry.path, entry.line,
                        f"id '{entry.id}' is also used at {first.path}:{first.line}")
            )
            problems.append(
                Problem(first.path, first.line,
                        f"id '{entry.id}' is also used at {entry.path}:{entry.line}")
            )
            continue
        seen_ids[entry.id] = entry
        for _lang, q in entry.phrasings():
            key = normalise_phrasing(q)
            if not key:
                continue
            other = seen_q.get(key)
            if other is None:
                seen_q[key] = (entry, q)
            elif other[0].id != entry.id and not disjoint_markets(entry, other[0]):
                problems.append(
                    Problem(entry.path, entry.line,
                            f"phrasing '{q}' of entry '{entry.id}' is the same as '{other[1]}' "
                            f"of entry '{other[0].id}' ({other[0].path}:{other[0].line})")
                )
    return problems


def load_faq(faq_dir: Path, default_language: str = "en") -> LoadResult:
    """Load every FAQ file of a directory; entries plus all problems found."""
    result = LoadResult()
    if not faq_dir.is_dir():
        result.problems.append(Problem(str(faq_dir), 0, "FAQ directory does not exist"))
        return result
    files = faq_files(faq_dir)
    if not files:
        result.problems.append(Problem(str(faq_dir), 0, "no *.yaml files in the FAQ directory"))
    for path in files:
        one = parse_file(path, default_language)
        result.entries.extend(one.entries)
        result.problems.extend(one.problems)
    result.problems.extend(cross_checks(result.entries))
    return result


def load_valid_faq(faq_dir: Path, default_language: str = "en") -> list[Entry]:
    """Load the FAQ or raise FaqError listing every error."""
    result = load_faq(faq_dir, default_language)
    if result.errors:
        raise FaqError(result.errors)
    return result.entries
