"""FAQ entries for agents: find one to insert, and its answer in the shopper's language.

The console offers the bot's guesses for a ticket and a search box; picking an entry puts
its answer into the reply box, editable before sending. The answer is the one written in
the shopper's language when there is one; else the default language's, and the console
says so (the reply is then translated when a pack covers the pair, or goes out as is, with
a note to the shopper).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.faq.load import Entry


@dataclass(frozen=True)
class AgentAnswer:
    """An entry's answer as offered to an agent for one shopper language."""

    entry_id: str
    text: str
    language: str  # the language ``text`` is written in
    wanted: str  # the shopper's language
    draft: bool  # an unreviewed machine draft (check it before sending)
    fallback: bool  # no answer in ``wanted``: this is the default language's

    def as_dict(self) -> dict[str, Any]:
        """Return the API shape."""
        return {"faq_id": self.entry_id, "text": self.text, "language": self.language,
                "wanted_language": self.wanted, "draft": self.draft, "fallback": self.fallback}


def answer_for(entry: Entry, language: str, default_language: str) -> AgentAnswer:
    """Return the entry's answer in ``language`` when written, else the default language's."""
    if language in entry.answer:
        return AgentAnswer(entry.id, entry.answer[language], language, language,
                           language in entry.drafts, False)
    source = default_language if default_language in entry.answer else next(iter(entry.answer))
    return AgentAnswer(entry.id, entry.answer[source], source, language,
                       source in entry.drafts, True)


def title_of(entry: Entry, language: str, default_language: str) -> str:
    """Return the entry's first phrasing in ``language``, else the default language's."""
    for code in (language, default_language):
        if code in entry.questions:
            return entry.questions[code][0]
    return next(iter(entry.questions.values()))[0]


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def text_matches(entries: Iterable[Entry], query: str) -> list[tuple[int, Entry]]:
    """Return (rank, entry) for entries whose id, phrasings or answers hold every word.

    Rank 0: every word in the id or a phrasing; 1: found only in the answers.
    """
    words = _fold(query).split()
    found: list[tuple[int, Entry]] = []
    if not words:
        return found
    for e in entries:
        head = _fold(" ".join([e.id, e.category, *e.tags,
                               *(q for qs in e.questions.values() for q in qs)]))
        if all(w in head for w in words):
            found.append((0, e))
        elif all(w in head or w in _fold(" ".join(e.answer.values())) for w in words):
            found.append((1, e))
    found.sort(key=lambda x: (x[0], x[1].id))
    return found
