"""Canned replies for agents: one YAML file per language, searchable from the console.

``FAQBOT_CANNED_DIR`` (default ``canned_replies/``) holds ``<lang>.yaml`` files::

    replies:
      - id: ask-order-number            # required; [a-z0-9][a-z0-9._-]*, unique per file
        title: Ask for the order number # required; what the agent searches and picks
        text: |                         # required; what is inserted (Markdown subset)
          Could you send me your order number? It starts with "A-".
        tags: [orders]                  # optional; searched too

The same ``id`` in two files is the same reply in two languages: an agent answering a
German shopper gets the German text, and the default language's for replies that have no
German text yet (marked as such). A bad file or entry is reported as ``path:line: message``
and skipped; the others keep working (one typo must not take every canned reply away from
a busy desk). Files are read again when they change.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import Problem
from bot.settings import ISO_639_1

log = logging.getLogger(__name__)

ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MAX_TEXT_CHARS = 5000
MAX_TITLE_CHARS = 200
KEYS = ("id", "title", "text", "tags")
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class CannedReply:
    """One canned reply in one language."""

    id: str
    title: str
    text: str
    language: str
    tags: tuple[str, ...] = ()
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class CannedMatch:
    """A reply offered for a language; ``fallback`` when it is the default language's text."""

    reply: CannedReply
    fallback: bool


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def parse_file(path: Path, language: str) -> tuple[list[CannedReply], list[Problem]]:
    """Read one ``<lang>.yaml``: its good replies, and a Problem for each bad part."""
    shown = str(path)
    problems: list[Problem] = []

    def bad(node: yaml.Node | None, message: str) -> None:
        problems.append(Problem(shown, _line(node) if node is not None else 1, message))

    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(shown, 1, f"cannot read the file: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = int(mark.line) + 1 if mark is not None else 1
        return [], [Problem(shown, line, f"not valid YAML: {getattr(exc, 'problem', exc)}")]
    if root is None:
        return [], []
    items = _mapping(root).get("replies") if isinstance(root, yaml.MappingNode) else None
    if not isinstance(items, yaml.SequenceNode):
        bad(root, "expected 'replies:' followed by a list of replies")
        return [], problems
    replies: list[CannedReply] = []
    seen: dict[str, int] = {}
    for node in items.value:
        reply = _parse_reply(node, language, shown, bad)
        if reply is None:
            continue
        if reply.id in seen:
            bad(node, f"id '{reply.id}' is used twice in this file (first on line "
                      f"{seen[reply.id]})")
            continue
        seen[reply.id] = reply.line
        replies.append(reply)
    return replies, problems


def _mapping(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _parse_reply(node: yaml.Node, language: str, shown: str, bad: Any) -> CannedReply | None:
    if not isinstance(node, yaml.MappingNode):
        bad(node, "each reply is a mapping with id, title and text")
        return None
    fields = _mapping(node)
    for key in fields:
        if key not in KEYS:
            bad(fields[key], f"unknown key '{key}' (a reply has {', '.join(KEYS)})")
            return None
    values: dict[str, str] = {}
    for key, limit in (("id", 200), ("title", MAX_TITLE_CHARS), ("text", MAX_TEXT_CHARS)):
        value = fields.get(key)
        if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            bad(value if value is not None else node, f"'{key}' is missing or empty")
            return None
        text = str(value.value).strip()
        if len(text) > limit:
            bad(value, f"'{key}' is {len(text)} characters; the limit is {limit}")
            return None
        values[key] = text
    if not ID_RE.match(values["id"]):
        bad(fields["id"], f"id '{values['id']}': use lowercase letters, digits, '.', '_', '-'")
        return None
    tags: tuple[str, ...] = ()
    if "tags" in fields:
        raw = fields["tags"]
        if not isinstance(raw, yaml.SequenceNode) or not all(
            isinstance(t, yaml.ScalarNode) for t in raw.value
        ):
            bad(raw, "'tags' must be a list of words")
            return None
        tags = tuple(str(t.value) for t in raw.value)
    return CannedReply(values["id"], values["title"], values["text"], language, tags, shown,
                       _line(node))


class CannedReplies:
    """The canned replies of one directory, read again whenever a file changes."""

    def __init__(self, directory: Path, default_language: str) -> None:
        self.directory = directory
        self.default_language = default_language
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._by_lang: dict[str, dict[str, CannedReply]] = {}
        self._problems: list[Problem] = []

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir()
                      if p.suffix in (".yaml", ".yml") and p.is_file())

    def _refresh(self) -> None:
        files = self._files()
        stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
        with self._lock:
            if stamp == self._stamp:
                return
            by_lang: dict[str, dict[str, CannedReply]] = {}
            problems: list[Problem] = []
            for path in files:
                lang = path.stem.lower()
                if lang not in ISO_639_1:
                    problems.append(Problem(str(path), 1, f"the file name must be a language "
                                                          f"code such as de.yaml, not "
                                                          f"{path.name}"))
                    continue
                if lang in by_lang:
                    problems.append(Problem(str(path), 1, f"a second file for '{lang}'"))
                    continue
                replies, found = parse_file(path, lang)
                problems += found
                by_lang[lang] = {r.id: r for r in replies}
            for p in problems:
                log.warning("canned reply skipped: %s", p)
            self._by_lang, self._problems, self._stamp = by_lang, sorted(problems), stamp

    def problems(self) -> list[Problem]:
        """Return what is wrong in the files (each bad part was skipped)."""
        self._refresh()
        return list(self._problems)

    def languages(self) -> list[str]:
        """Return the languages that have a file."""
        self._refresh()
        return sorted(self._by_lang)

    def search(self, language: str, query: str = "", limit: int = 50) -> list[CannedMatch]:
        """Return replies for ``language`` matching ``query`` (all when empty), best first.

        Every word of the query must appear in the title, id, tags or text; title and id
        matches rank first. Replies without text in ``language`` come in the default
        language, marked ``fallback``.
        """
        self._refresh()
        own = self._by_lang.get(language, {})
        offered = [CannedMatch(r, False) for r in own.values()]
        if language != self.default_language:
            offered += [CannedMatch(r, True)
                        for rid, r in self._by_lang.get(self.default_language, {}).items()
                        if rid not in own]
        words = _fold(query).split()
        ranked: list[tuple[int, str, CannedMatch]] = []
        for match in offered:
            r = match.reply
            head = _fold(" ".join((r.title, r.id, *r.tags)))
            body = _fold(r.text)
            if not all(w in head or w in body for w in words):
                continue
            rank = 0 if all(w in head for w in words) else 1
            ranked.append((rank + (2 if match.fallback else 0), _fold(r.title), match))
        ranked.sort(key=lambda x: (x[0], x[1]))
        return [m for _, _, m in ranked[:limit]]
