"""Find phrasings of different entries so alike that shoppers could get either answer."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from bot.errors import Problem
from bot.faq.load import Entry, disjoint_markets
from bot.matching.embedder import Embedder
from bot.matching.index import phrasing_hash, try_load_index


def embed_phrasings(entries: list[Entry], embedder: Embedder, index_dir: Path) -> np.ndarray:
    """Embed every phrasing, reusing vectors the current index already holds."""
    rows = [(e, q) for e in entries for _lang, q in e.phrasings()]
    known: dict[str, np.ndarray] = {}
    index = try_load_index(index_dir)
    if index is not None and index.model == embedder.name:
        vecs = index.vectors()
        known = {p["hash"]: vecs[i] for i, p in enumerate(index.manifest["phrasings"])}
    out = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    todo = []
    for i, (_e, q) in enumerate(rows):
        v = known.get(phrasing_hash(q, embedder.name))
        if v is None:
            todo.append(i)
        else:
            out[i] = v
    for start in range(0, len(todo), 64):
        chunk = todo[start : start + 64]
        out[chunk] = embedder.embed([rows[i][1] for i in chunk])
    return out


def near_duplicates(
    entries: list[Entry], embedder: Embedder, index_dir: Path, threshold: float
) -> list[Problem]:
    """Warn once per pair of entries whose closest phrasings score at or above threshold."""
    rows = [(e, q) for e in entries for _lang, q in e.phrasings()]
    if len(rows) < 2:
        return []
    vectors = embed_phrasings(entries, embedder, index_dir)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    lims, scores, ids = index.range_search(vectors, float(threshold))
    worst: dict[tuple[str, str], tuple[float, int, int]] = {}
    for i in range(len(rows)):
        for j, score in zip(ids[lims[i] : lims[i + 1]], scores[lims[i] : lims[i + 1]],
                            strict=True):
            a, b = rows[i][0], rows[int(j)][0]
            if a.id >= b.id or disjoint_markets(a, b):
                continue
            key = (a.id, b.id)
            if key not in worst or score > worst[key][0]:
                worst[key] = (float(score), i, int(j))
    problems = []
    for (a_id, b_id), (score, i, j) in sorted(worst.items()):
        a, b = rows[i][0], rows[j][0]
        problems.append(Problem(
            a.path, a.line,
            f"entries '{a_id}' and '{b_id}' ({b.path}:{b.line}) are too alike "
            f"(score {score:.2f}): '{rows[i][1]}' ~ '{rows[j][1]}'; shoppers could get either",
            "warning",
        ))
    return problems
