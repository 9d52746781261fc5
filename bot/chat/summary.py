"""What a ticket carries for the agent: the shopper's topic in their words, and the guesses.

Only substantive messages count (questions, order questions, complaints): "I want a person"
or "hi" say nothing about the topic, and the bot's guesses for them are noise (issue 16: for
"Ich möchte mit einer Person sprechen" the agent saw account-gdpr-data 0.36 while the topic,
refunding shipping costs, was two messages earlier).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

ASKED_ABOUT_CHARS = 300
SEPARATOR = " · "


def asked_about(texts: Sequence[str], limit: int = ASKED_ABOUT_CHARS) -> str:
    """Join the shopper's substantive messages into one line, oldest first.

    Too long, it keeps the first message (usually the topic) and the newest, cut between.
    """
    parts: list[str] = []
    for text in texts:
        line = " ".join(text.split())
        if line and (not parts or parts[-1] != line):
            parts.append(line)
    joined = SEPARATOR.join(parts)
    if len(joined) <= limit:
        return joined
    head, tail = parts[0], parts[-1]
    room = limit - 3  # the " … " between them
    if len(parts) == 1 or len(head) + len(tail) > room:
        half = room // 2
        head, tail = head[:half].rstrip(), (tail if len(parts) > 1 else head)[-half:].lstrip()
    return f"{head} … {tail}"[:limit]


def merge_guesses(
    per_message: Iterable[Sequence[tuple[str, float]]], keep: int = 3
) -> list[tuple[str, float]]:
    """Merge the bot's guesses over several messages: each entry's best score, best first."""
    best: dict[str, float] = {}
    for guesses in per_message:
        for faq_id, score in guesses:
            if score > best.get(faq_id, float("-inf")):
                best[faq_id] = score
    return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
