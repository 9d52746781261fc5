"""Load and check triage word lists and examples (bot/chat/data/triage.yaml plus a shop's file).

The format is described at the top of bot/chat/data/triage.yaml. A shop's own file
(FAQBOT_TRIAGE_FILE) has the same format; its lists are added to the shipped ones. Every
problem is reported as ``path:line: what is wrong``, like the FAQ files.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError, Problem
from bot.settings import ISO_639_1

SHIPPED = Path(__file__).resolve().parent / "data" / "triage.yaml"

KINDS = ("greeting", "thanks", "goodbye", "person", "complaint", "order", "faq", "noise")
SMALL_TALK = ("greeting", "thanks", "goodbye")
# Top-level lists that belong to no class.
SHARED = ("fillers", "polite", "question_words", "hypothetical", "answered")
# What each class may hold besides ``examples``.
CLASS_KEYS: dict[str, tuple[str, ...]] = {
    "greeting": ("words", "emoji"),
    "thanks": ("words", "emoji"),
    "goodbye": ("words", "emoji"),
    "person": ("keywords", "unless", "requests", "short_words"),
    "complaint": ("rules",),
    "order": ("keywords", "nouns", "status"),
    "faq": (),
    "noise": ("words", "emoji"),
}
MAX_ITEM_CHARS = 300
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Example:
    """One example message of a class, and where it was written."""

    text: str
    language: str
    kind: str
    path: str
    line: int


@dataclass
class TriageData:
    """Word lists by name ("fillers", "greeting.words", "person.keywords" ...) and examples.

    Lists hold every language together: a shopper's short message is often too short to
    tell its language, and "ok" or "super" mean the same in many.
    """

    lists: dict[str, list[str]] = field(default_factory=dict)
    # The languages each greeting, thanks or goodbye word is listed under ("danke" -> {de}):
    # the language a message made only of such words is written in (chat replies to "merci"
    # in French where detection has nothing else to go by).
    word_languages: dict[str, set[str]] = field(default_factory=dict)
    # Urgent rules as handoff priority rules take them: {name, priority, keywords: {lang: [...]}}
    rules: list[dict[str, Any]] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def get(self, name: str) -> list[str]:
        """Return the list called ``name`` (empty when no file wrote one)."""
        return self.lists.get(name, [])

    def extend(self, other: TriageData) -> None:
        """Add another file's lists, rules and examples to these."""
        for name, items in other.lists.items():
            self.lists.setdefault(name, []).extend(items)
        for word, langs in other.word_languages.items():
            self.word_languages.setdefault(word, set()).update(langs)
        self.rules.extend(other.rules)
        self.examples.extend(other.examples)
        self.sources.extend(other.sources)


class _Reader:
    """Reads one file's YAML nodes into TriageData, collecting problems with line numbers."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.data = TriageData(sources=[path])

    def error(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem(self.path, int(node.start_mark.line) + 1, message))

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping")
            return []
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: set[str] = set()
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode) or not str(knode.value).strip():
                self.error(knode, f"a key in {what} must be plain text")
                continue
            key = str(knode.value)
            if key in seen:
                self.error(knode, f"'{key}' appears twice in {what}; merge them into one")
                continue
            seen.add(key)
            out.append((key, knode, vnode))
        return out

    def unknown(self, knode: yaml.Node, key: str, allowed: Iterable[str], where: str) -> None:
        allowed = list(allowed)
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f"; allowed: {', '.join(allowed)}"
        self.error(knode, f"unknown key '{key}' in {where}{hint}")

    def texts(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node]]:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{what} must be a list, e.g. [a, b]")
            return []
        out: list[tuple[str, yaml.Node]] = []
        for item in node.value:
            # Scalars stay text: YAML 1.1 would read "no" (Norwegian) or "yes" as booleans.
            if not isinstance(item, yaml.ScalarNode) or item.tag.endswith(":null"):
                self.error(item, f"each item of {what} must be text")
                continue
            value = str(item.value).strip()
            if not value or value == "*":
                self.error(item, f"an item of {what} is empty")
            elif len(value) > MAX_ITEM_CHARS:
                self.error(item, f"an item of {what} is {len(value)} characters; the limit is "
                                 f"{MAX_ITEM_CHARS}")
            else:
                out.append((value, item))
        return out

    def by_language(self, node: yaml.Node, what: str) -> list[tuple[str, str, yaml.Node]]:
        """Read ``{lang: [text, ...]}`` into (lang, text, node) triples."""
        out = []
        for lang, knode, vnode in self.mapping(node, what):
            if lang not in ISO_639_1:
                self.error(knode, f"'{lang}' in {what} is not an ISO 639-1 language code")
                continue
            out += [(lang, text, item) for text, item in self.texts(vnode, f"{what}.{lang}")]
        return out

    def read(self, root: yaml.Node | None) -> None:
        if root is None:
            return  # an empty file adds nothing
        for key, knode, vnode in self.mapping(root, "the triage file"):
            if key in SHARED:
                self.data.lists.setdefault(key, []).extend(
                    text for _lang, text, _n in self.by_language(vnode, key))
            elif key == "classes":
                for kind, kn, cnode in self.mapping(vnode, "classes"):
                    if kind not in KINDS:
                        self.unknown(kn, kind, KINDS, "classes")
                    else:
                        self.read_class(kind, cnode)
            else:
                self.unknown(knode, key, (*SHARED, "classes"), "the triage file")

    def read_class(self, kind: str, node: yaml.Node) -> None:
        allowed = (*CLASS_KEYS[kind], "examples")
        for key, knode, vnode in self.mapping(node, f"classes.{kind}"):
            what = f"{kind}.{key}"
            if key not in allowed:
                self.unknown(knode, key, allowed, f"classes.{kind}")
            elif key == "examples":
                self.data.examples += [
                    Example(text, lang, kind, self.path, int(item.start_mark.line) + 1)
                    for lang, text, item in self.by_language(vnode, what)
                ]
            elif key == "emoji":
                self.data.lists.setdefault(what, []).extend(
                    text for text, _n in self.texts(vnode, what))
            elif key == "rules":
                self.read_rules(vnode)
            else:
                found = self.by_language(vnode, what)
                self.data.lists.setdefault(what, []).extend(text for _lang, text, _n in found)
                if key == "words" and kind in SMALL_TALK:
                    for lang, text, _n in found:
                        self.data.word_languages.setdefault(text, set()).add(lang)

    def read_rules(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, "complaint.rules must be a list of {name, keywords}")
            return
        for i, rnode in enumerate(node.value):
            name = f"rule {i + 1}"
            keywords: dict[str, list[str]] = {}
            entries: list[str] = []
            for key, knode, vnode in self.mapping(rnode, "a complaint rule"):
                if key == "name" and isinstance(vnode, yaml.ScalarNode) and str(vnode.value):
                    name = str(vnode.value).strip()
                elif key == "keywords":
                    for lang, text, _n in self.by_language(vnode, "rule keywords"):
                        keywords.setdefault(lang, []).append(text)
                elif key == "entries":
                    entries += [text for text, _n in self.texts(vnode, "rule entries")]
                elif key != "name":
                    self.unknown(knode, key, ("name", "keywords", "entries"), "a complaint rule")
                else:
                    self.error(vnode, "a rule's name must be text")
            if keywords:
                self.data.rules.append({"name": name, "priority": "urgent", "keywords": keywords,
                                        "entries": entries})
            elif isinstance(rnode, yaml.MappingNode):
                self.error(rnode, f"complaint rule '{name}' has no keywords")


def read_file(path: Path) -> tuple[TriageData, list[Problem]]:
    """Read one triage file; return what loaded and every problem found."""
    reader = _Reader(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return reader.data, [Problem(str(path), 0, f"cannot read the triage file: {exc}")]
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = int(mark.line) + 1 if mark is not None else 0
        return reader.data, [Problem(str(path), line, f"not valid YAML: {exc}")]
    reader.read(root)
    return reader.data, reader.problems


def load_triage_data(extra: Path | None = None) -> TriageData:
    """Load the shipped lists plus a shop's file; raise ConfigError listing path:line problems."""
    data, problems = read_file(SHIPPED)
    if extra is not None:
        more, more_problems = read_file(extra)
        data.extend(more)
        problems += more_problems
    if problems:
        lines = "\n  ".join(str(p) for p in sorted(problems))
        raise ConfigError(f"triage word lists have errors (FAQBOT_TRIAGE_FILE):\n  {lines}")
    return data
