"""Decide what to do with a ranked list of entries: answer, clarify or hand off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.matching.index import Hit
from bot.settings import Thresholds

Action = Literal["answer", "clarify", "handoff"]
_EPSILON = 1e-9
# When the best entry reaches the clarify threshold, the runners-up are offered as chips down
# to this far below it: the shopper picks, or taps "none of these - talk to a person". On the
# sparse proxies' dev split (issue 17) the right entry was shown for 76.8 -> 79.5 % (2
# phrasings an entry) and 70.5 -> 73.2 % (1 phrasing) of in-scope questions with 0.10 (0.05:
# 78.6 / 72.3 %; 0.15 as 0.10); what is answered, clarified or handed off does not change.
CHIP_SLACK = 0.10


@dataclass(frozen=True)
class Decision:
    """The action, the entry it is about (if any) and up to three suggestions."""

    action: Action
    best: Hit | None
    suggestions: tuple[Hit, ...]


def decide(hits: list[Hit], t: Thresholds, head: float | None = None) -> Decision:
    """Answer when clearly best and confident, clarify in the grey zone, else hand off.

    ``head`` is the head's score of the best entry (bot/matching/head.py), needed only below
    the clarify threshold: reaching ``t.head_clarify`` clarifies instead of handing off.
    """
    if not hits:
        return Decision("handoff", None, ())
    if hits[0].score < t.clarify:
        if head is None or t.head_clarify is None or head < t.head_clarify:
            return Decision("handoff", None, ())
        chips = tuple(h for h in hits[:3] if h.score >= t.clarify - CHIP_SLACK)
        return Decision("clarify", hits[0], chips or (hits[0],))
    best = hits[0]
    runner_up = hits[1].score if len(hits) > 1 else -1.0
    # The epsilon keeps a lead of exactly the margin an answer: 0.58 - 0.55 is 0.0299999...
    if best.score >= t.answer and best.score - runner_up >= t.margin - _EPSILON:
        return Decision("answer", best, ())
    suggestions = tuple(h for h in hits[:3] if h.score >= t.clarify - CHIP_SLACK)
    return Decision("clarify", best, suggestions)


# How far below the best entry a preferred one may score and still be answered.
PREFER_LEAD = 0.10


def prefer(
    decision: Decision, hits: list[Hit], entry_ids: Sequence[str], t: Thresholds,
    lead: float = PREFER_LEAD,
) -> Decision:
    """Answer an entry the shopper's words point to, when the embedding nearly agrees.

    A complaint rule ("abîmé", "hasarlı") names the entry for it; the embedding alone
    often ranks a neighbour first ("Mon article est arrivé abîmé, que faire ?" scored the
    return steps 0.65, the damaged-item entry 0.58). The named entry is answered when it is
    among the hits, reaches the clarify threshold and is within ``lead`` of the best.
    """
    if not hits or not entry_ids:
        return decision
    for hit in hits:
        if hit.entry.id in entry_ids and hit.score >= t.clarify \
                and hits[0].score - hit.score <= lead + _EPSILON:
            return Decision("answer", hit, ())
    return decision


def confidence(score: float) -> float:
    """Map a cosine score into [0, 1] for display and the JSON contract."""
    return round(min(1.0, max(0.0, score)), 4)
