"""What a shopper's words ask for beyond the FAQ: a person, or ending the wait.

Both come from the triage word lists (bot/chat/data/triage.yaml), so a shop extending those
lists extends these too; the chat service asks its own classifier, which also has the shop's
file and the message's embedding. These helpers use the shipped lists alone.
"""

from __future__ import annotations

import functools

from bot.chat.triage import TriageClassifier


@functools.cache
def _shipped() -> TriageClassifier:
    return TriageClassifier.load()


def wants_person(text: str) -> bool:
    """Tell whether the shopper asks for a person, in any supported language."""
    return bool(text.strip()) and _shipped().classify(text).kind == "person"


def says_answered(text: str) -> bool:
    """Tell whether a waiting shopper says the question is answered ("never mind, found it")."""
    return _shipped().says_answered(text)
