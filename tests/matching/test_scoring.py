"""An entry's score from its best phrasing and its centroid (bot/matching/scoring.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.matching.scoring import entry_score, entry_scores


def test_the_usual_weight_is_a_plain_mix() -> None:
    assert entry_score(0.9, 0.5, 0.5) == pytest.approx(0.7)
    assert entry_score(0.3, 0.6, 0.5) == pytest.approx(0.45)


def test_a_sparse_faq_leans_on_the_centroid_until_a_phrasing_is_nearly_exact() -> None:
    assert entry_score(0.6, 0.4, 0.9) == pytest.approx(0.1 * 0.6 + 0.9 * 0.4)
    # A phrasing typed word for word scores as at weight 0.5: full confidence for it.
    assert entry_score(1.0, 0.6, 0.9) == pytest.approx(0.8)
    # The slide between 0.8 and 1.0 has no step, and a closer phrasing never scores lower.
    best = np.linspace(0.7, 1.0, 301)
    scores = entry_scores(best, np.full_like(best, 0.6), 0.9)
    assert np.all(np.diff(scores) > 0)
    assert np.max(np.abs(np.diff(scores))) < 0.01


def test_entries_without_phrasings_keep_minus_infinity() -> None:
    out = entry_scores(np.array([-np.inf, 0.5]), np.array([0.4, 0.4]), 0.9)
    assert out[0] == -np.inf and np.isfinite(out[1])


def test_one_score_and_many_agree() -> None:
    rng = np.random.default_rng(0)
    best, cent = rng.uniform(-0.2, 1.0, 200), rng.uniform(-0.2, 1.0, 200)
    for w in (0.5, 0.9):
        many = entry_scores(best, cent, w)
        assert [entry_score(float(b), float(c), w) for b, c in zip(best, cent, strict=True)] == \
            pytest.approx(many.tolist(), abs=1e-12)
