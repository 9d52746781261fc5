"""How an entry's score is made from its best phrasing and its centroid.

``(1 - w) * best phrasing + w * centroid`` cosine. A sparse FAQ ranks by the centroid almost
alone (w 0.9, bot/matching/index.py ``SPARSE_CENTROID_WEIGHT``), but a question that is one of
the entry's own phrasings word for word should still be answered with full confidence: as the
best phrasing goes from ``EXACT_FROM`` to 1.0 the weight slides back to ``CENTROID_WEIGHT``.
Shoppers' questions rarely come that close (shop test questions: none change rank).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

CENTROID_WEIGHT = 0.5
EXACT_FROM = 0.8


def entry_scores(best: npt.ArrayLike, centroid: npt.ArrayLike, w: float) -> npt.NDArray[np.float64]:
    """Return entry scores from best-phrasing and centroid cosines (arrays of one shape)."""
    b = np.asarray(best, dtype=np.float64)
    c = np.asarray(centroid, dtype=np.float64)
    if w <= CENTROID_WEIGHT:
        return (1 - w) * b + w * c
    near = np.clip((b - EXACT_FROM) / (1.0 - EXACT_FROM), 0.0, 1.0)
    weight = w - (w - CENTROID_WEIGHT) * near
    out: npt.NDArray[np.float64] = (1 - weight) * b + weight * c
    return out


def entry_score(best: float, centroid: float, w: float) -> float:
    """Return one entry's score, as :func:`entry_scores` does (plain floats: SearchIndex.search
    scores ~40 entries a question, and a numpy call each cost ~0.1 ms)."""
    if w > CENTROID_WEIGHT:
        near = min(max((best - EXACT_FROM) / (1.0 - EXACT_FROM), 0.0), 1.0)
        w = w - (w - CENTROID_WEIGHT) * near
    return (1 - w) * best + w * centroid
