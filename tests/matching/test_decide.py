"""The decision: answer, clarify or hand off, exactly at and around each threshold."""

from __future__ import annotations

import pytest

from bot.faq.load import Entry
from bot.matching.decide import CHIP_SLACK, Decision, confidence, decide, prefer
from bot.matching.index import Hit
from bot.settings import Thresholds

T = Thresholds(answer=0.55, clarify=0.40, margin=0.03)


def hits(*scores: float) -> list[Hit]:
    """Return hits for entries e0, e1 ... with the given scores (already best first)."""
    return [
        Hit(Entry(f"e{i}", {"en": (f"q{i}",)}, {"en": f"a{i}"}, "c"), s, f"q{i}")
        for i, s in enumerate(scores)
    ]


def act(*scores: float, t: Thresholds = T) -> str:
    return decide(hits(*scores), t).action


@pytest.mark.parametrize(
    ("scores", "action"),
    [
        ((), "handoff"),
        ((0.95,), "answer"),  # a lone hit has no runner-up to be close to
        ((0.55,), "answer"),  # exactly the answer threshold answers
        ((0.5499,), "clarify"),
        ((0.40,), "clarify"),  # exactly the clarify threshold clarifies
        ((0.3999,), "handoff"),
        ((-0.2,), "handoff"),
        ((0.80, 0.50), "answer"),
        ((0.58, 0.55), "answer"),  # a lead of exactly the margin answers (0.58-0.55 < 0.03!)
        ((0.60, 0.57), "answer"),
        ((0.80, 0.7701), "clarify"),  # a lead just under the margin clarifies
        ((0.80, 0.80), "clarify"),
        ((0.45, 0.30), "clarify"),  # grey zone, however clear the lead
        ((0.39, 0.38), "handoff"),
    ],
)
def test_decision_boundaries(scores: tuple[float, ...], action: str) -> None:
    assert act(*scores) == action


def test_answer_carries_the_best_hit_and_no_suggestions() -> None:
    d = decide(hits(0.9, 0.5, 0.45), T)
    assert d.action == "answer" and d.best is not None and d.best.entry.id == "e0"
    assert d.suggestions == ()


def test_clarify_offers_at_most_three_suggestions_down_to_the_chip_slack() -> None:
    d = decide(hits(0.70, 0.69, 0.60, 0.50, 0.45), T)
    assert d.action == "clarify"
    assert [h.entry.id for h in d.suggestions] == ["e0", "e1", "e2"]
    # Runners-up a little below the clarify threshold are still offered; far below are not.
    low = T.clarify - CHIP_SLACK
    d = decide(hits(0.50, low + 0.01, low - 0.01), T)
    assert [h.entry.id for h in d.suggestions] == ["e0", "e1"]


def test_the_head_clarifies_below_the_clarify_threshold_only_when_it_reaches_its_own() -> None:
    t = Thresholds(answer=0.55, clarify=0.40, margin=0.03, head_clarify=0.5)
    low = hits(0.35, 0.32, 0.20)
    assert decide(low, t).action == "handoff"  # no head score: as before
    assert decide(low, t, 0.4999).action == "handoff"
    d = decide(low, t, 0.5)
    assert d.action == "clarify" and d.best is not None and d.best.entry.id == "e0"
    # The chips are those down to the chip slack below the clarify threshold...
    assert [h.entry.id for h in d.suggestions] == ["e0", "e1"]
    # ... or the top entry alone when all are further below.
    d = decide(hits(0.25, 0.24), t, 0.9)
    assert [h.entry.id for h in d.suggestions] == ["e0"]
    # Thresholds without a head score (another model, pinned by hand) never take this path,
    # and above the clarify threshold the head has no say.
    assert decide(low, T, 0.9).action == "handoff"
    assert decide(hits(0.6, 0.3), t, 0.0).action == "answer"
    assert decide(hits(0.45, 0.3), t, 0.0).action == "clarify"


def test_handoff_has_no_entry() -> None:
    assert decide(hits(0.1, 0.05), T) == Decision("handoff", None, ())


def test_zero_margin_answers_ties() -> None:
    t = Thresholds(0.55, 0.40, 0.0)
    assert act(0.7, 0.7, t=t) == "answer"


def test_equal_thresholds_leave_no_grey_zone() -> None:
    t = Thresholds(0.5, 0.5, 0.03)
    assert act(0.5, t=t) == "answer"
    assert act(0.4999, t=t) == "handoff"


@pytest.mark.parametrize(
    ("answer", "clarify", "margin"),
    [(0.4, 0.5, 0.0), (1.1, 0.4, 0.0), (0.5, -0.1, 0.0), (0.5, 0.4, 1.0), (0.5, 0.4, -0.01)],
)
def test_bad_thresholds_are_refused(answer: float, clarify: float, margin: float) -> None:
    with pytest.raises(ValueError):
        Thresholds(answer, clarify, margin)


@pytest.mark.parametrize(
    ("score", "shown"),
    [(1.0000001, 1.0), (0.123456, 0.1235), (-0.3, 0.0), (0.0, 0.0), (0.5, 0.5)],
)
def test_confidence_is_clamped_and_rounded(score: float, shown: float) -> None:
    value = confidence(score)
    assert value == shown and isinstance(value, float)


@pytest.mark.parametrize(("scores", "preferred", "action", "answered"), [
    ((0.65, 0.58), ["e1"], "answer", "e1"),  # within 0.10 of the best: the words decide
    ((0.52, 0.51), ["e0"], "answer", "e0"),  # grey zone, but the words name the best
    ((0.80, 0.60), ["e1"], "answer", "e0"),  # too far behind: the embedding stands
    ((0.45, 0.39), ["e1"], "clarify", "e0"),  # under the clarify threshold: not answered
    ((0.65, 0.58), [], "answer", "e0"),  # nothing preferred: decide() as always
    ((0.52, 0.51), ["nope"], "clarify", "e0"),
])
def test_prefer_answers_an_entry_the_words_name(
    scores: tuple[float, ...], preferred: list[str], action: str, answered: str
) -> None:
    h = hits(*scores)
    got = prefer(decide(h, T), h, preferred, T)
    assert got.action == action and got.best is not None and got.best.entry.id == answered
