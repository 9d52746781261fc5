"""A second opinion on "is this question about that entry?", for questions about to go to a person.

On a sparse FAQ (one language, two phrasings an entry) a shopper's answerable question in
another language often scores below the clarify threshold and is handed off, while some
off-topic messages score as high (issue 17). The cosine of USE vectors mixes what a sentence
asks with its language and wording. A linear map fitted on public intent data, with many
languages and wordings per intent (scripts/fit_head.py: Fisher's linear discriminant with
shrinkage), keeps the directions that tell intents apart and drops the rest: in its space
the right entry's score stands further from off-topic messages (issue 17 dev, AUC of a right
top entry against out of scope: sparse-2 FAQ .967 -> .984, sparse-1 .963 -> .972, shipped
.990 -> .987; it does not rank better, so it never chooses the entry).

It is used on one path only: a question the thresholds would hand off is clarified instead
when the head's score of its top entry reaches what the shipped off-topic messages
(calibrate.NEGATIVES) reach 2 % of the time on the same FAQ (``Calibration.head_clarify``).
The shopper gets the chips, ending with "none of these - talk to a person".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.matching.embedder import Vectors, _normalise

HEAD_FILE = Path(__file__).parent / "data" / "head-use.npz"
# The main models the head was fitted for (name before '@'); other models have no head.
MODELS = {"use-multilingual-v3": HEAD_FILE}


@functools.cache
def _load(path: Path) -> npt.NDArray[np.float32]:
    with np.load(path) as z:
        return np.ascontiguousarray(z["weights"], dtype=np.float32)


def head_for(model: str, dim: int) -> Head | None:
    """Return the head fitted for a model's ``dim``-wide vectors, None when there is none.

    The width is checked as well as the name: "use+e5" starts with USE's name, and its
    896-wide vectors cannot go through a map fitted on USE's 512.
    """
    path = MODELS.get(model.split("@")[0])
    if path is None or not path.exists():
        return None
    matrix = _load(path)
    return Head(matrix) if matrix.shape[0] == dim else None


class Head:
    """The fitted map, and entry scores in its space computed as SearchIndex scores entries."""

    def __init__(self, matrix: npt.NDArray[np.float32]) -> None:
        self.matrix = matrix

    def project(self, vectors: Vectors) -> Vectors:
        """Map vectors of the main model into the head's space, unit length."""
        return _normalise(np.asarray(vectors, dtype=np.float32) @ self.matrix)


class HeadScores:
    """Entry scores in the head's space for one index, its phrasings mapped on demand.

    Only the entry a question ranked first is ever scored, so nothing is mapped ahead: a
    reload does not pay for mapping every phrasing (25,000 on the bench FAQ: ~50 ms); an
    entry's are mapped when a question first needs them.
    """

    def __init__(self, head: Head, rows_of: Callable[[npt.NDArray[np.intp]], Vectors],
                 owners: npt.NDArray[np.intp], sums: Vectors, w: float) -> None:
        """``rows_of`` returns phrasing vectors by row; ``owners`` is each row's entry
        position; ``sums`` are the entries' unnormalised centroids."""
        self.head = head
        self.rows_of = rows_of
        self.order = np.argsort(owners, kind="stable").astype(np.intp)
        counts = np.bincount(owners, minlength=len(sums))
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        self.sums = sums
        self.w = w
        # Entries' phrasings and centroid in the head's space, for the entries asked about.
        self._mapped: dict[int, tuple[Vectors, Vectors]] = {}

    def of(self, query: Vectors, entries: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        """Score each query (already projected) against its one entry: best phrasing and
        centroid, at the index's centroid weight (without scoring.py's slide towards exact
        phrasings: the head is asked about questions below the clarify threshold only)."""
        wanted, slot = np.unique(entries, return_inverse=True)
        counts = self.starts[wanted + 1] - self.starts[wanted]
        rows = np.concatenate([self.order[self.starts[e] : self.starts[e + 1]]
                               for e in wanted.tolist()]).astype(np.intp)
        mapped = self.head.project(self.rows_of(rows)) if len(rows) else np.zeros(
            (0, self.head.matrix.shape[1]), dtype=np.float32)
        # Each query against its entry's phrasings: a (queries, longest) table of row numbers,
        # padded with -1, so all are scored in one step.
        first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        width = max(1, int(counts.max(initial=0)))
        offsets = np.arange(width)
        table = first[slot][:, None] + offsets
        valid = offsets < counts[slot][:, None]
        sims = np.einsum("id,ijd->ij", query, mapped[np.where(valid, table, 0)]) if len(
            mapped) else np.full(table.shape, -1.0, dtype=np.float32)
        best = np.where(valid, sims, -np.inf).max(axis=1)
        best[~np.isfinite(best)] = -1.0
        centroids = self.head.project(self.sums[wanted])
        out = (1 - self.w) * best + self.w * np.einsum("id,id->i", query, centroids[slot])
        return np.asarray(out, dtype=np.float32)

    def confidence(self, vector: Vectors, entry: int) -> float:
        """Return the head's score of one question vector (the main model's) for one entry."""
        q = self.head.project(np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]
        mapped = self._mapped.get(entry)
        if mapped is None:
            # Kept per entry once asked about: mapping its phrasings again on every question
            # cost 0.3 ms at the p95 of `faqbot bench` (matrix products competing with the
            # model's threads), the cached product 0.07 ms.
            rows = self.order[self.starts[entry] : self.starts[entry + 1]]
            mapped = (self.head.project(self.rows_of(rows)),
                      self.head.project(self.sums[entry : entry + 1])[0])
            self._mapped[entry] = mapped
        rows_mapped, centroid = mapped
        best = float(np.max(rows_mapped @ q)) if len(rows_mapped) else -1.0
        return (1 - self.w) * best + self.w * float(centroid @ q)
