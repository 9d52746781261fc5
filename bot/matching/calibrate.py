"""Per-FAQ thresholds without labels: fitted at build time to the FAQ's own density.

Cosine scores depend on the FAQ: a rich one (25 phrasings an entry, 11 languages) gives any
message a close phrasing, a one-language FAQ with two phrasings an entry gives lower scores
to everything, the shoppers' real questions too. Fixed thresholds tuned on the rich FAQ
handed off about a third of answerable questions on a sparse one (issue 17). So at build time:

- negatives: 1,540 off-topic messages in 14 languages (data/offtopic.jsonl.gz, from MASSIVE,
  CC BY 4.0) are scored against the index exactly as a question is (SearchIndex.search);
- the configured thresholds were tuned on the shipped FAQ (faq_data/); the answer and clarify
  thresholds move by as much as the 95th percentile of the negatives' best scores differs
  from its value on the shipped FAQ (``REFERENCE``). A sparse FAQ scores everything lower,
  off-topic messages and real questions alike, so its thresholds come down with it; the
  shipped FAQ keeps its tuned thresholds exactly;
- the move is clamped (``BELOW``, ``ABOVE``), so an odd FAQ (one entry, or an FAQ about the
  negatives' own topics) cannot move them far; a model without a reference keeps the
  configured thresholds;
- pseudo-questions (each phrasing scored against the rest of the index, leave one out, and
  each answer text) estimate what shoppers will see: "about x % answered, y % clarified,
  z % handed off", printed by `faqbot build` and `faqbot validate`.

The result is stored in the index manifest, so every worker process uses the same values,
and it is a pure function of the vectors (the build stays deterministic).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.faq.load import Entry
from bot.matching.embedder import Embedder, Vectors
from bot.settings import Thresholds

CALIBRATION_VERSION = 1
NEGATIVES = Path(__file__).parent / "data" / "offtopic.jsonl.gz"
# The percentile of the negatives' best scores that is compared with the reference. 0.90, 0.95,
# 0.97 and 0.99 moved the thresholds of the sparse proxies alike (-0.04 to -0.055, dev); 0.95
# is steady with 1,540 negatives. BENCHMARKS.md, "Per-FAQ calibration".
QUANTILE = 0.95
# That percentile on the shipped FAQ, per main model (name before '@'): where the configured
# thresholds were tuned. Re-measure it when the shipped FAQ, the negatives or the scoring change
# (tests/matching/test_calibrate.py checks the shipped FAQ keeps its thresholds).
REFERENCE = {"use-multilingual-v3": 0.414}
# How far the calibrated thresholds may move from the configured ones. Never up: the negatives
# score higher than on the shipped FAQ only when the FAQ is about their own topics (alarms,
# music: the MASSIVE proxy), where raising the thresholds (+0.05) took in-scope handoff on
# MASSIVE test from 71.8 % to 85.4 %; not a signal about a shop's FAQ.
BELOW, ABOVE = 0.10, 0.0
# The clarify threshold moves 1.25 times as far as the answer threshold: a sparse FAQ's real
# questions fall further below the shipped FAQ's than off-topic messages do. Dev splits,
# slopes 1 / 1.25 / 1.5: in-scope handed off sparse-2 14.3 / 12.5 / 10.7 %, sparse-1 17.9 /
# 14.3 / 7.1 %; out-of-scope handed off sparse-2 95.2 / 85.7 / 80.9 %, sparse-1 92.9 / 83.3 /
# 71.4 % (target >= 80 %): 1.25.
CLARIFY_SLOPE = 1.25
# Everything the stored thresholds depend on besides the vectors: a build calibrated with
# other values is not current (and gets another build id).
PARAMS = (f"{CALIBRATION_VERSION}:{QUANTILE}:{sorted(REFERENCE.items())}:{BELOW}:{ABOVE}:"
          f"{CLARIFY_SLOPE}")
PSEUDO_LIMIT = 500  # leave-one-out pseudo-questions scored at most (every k-th phrasing)
# Answers embedded as pseudo-questions at most (every k-th entry's). Each is a fresh embedding
# at every build: all 5,000 answers of the bench FAQ took a one-entry re-index from 0.6 to 14 s.
ANSWER_LIMIT = 200
THIN_WORDS = 3  # an entry whose phrasings all have fewer words is "short"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Calibration:
    """The thresholds fitted to one index and what they are expected to do."""

    answer: float
    clarify: float
    margin: float
    negatives: int
    # Shares of pseudo-questions (in scope) and of negatives (off topic) per action.
    in_scope: dict[str, float] = field(default_factory=dict)
    off_topic: dict[str, float] = field(default_factory=dict)
    thin: tuple[str, ...] = ()  # entries with one phrasing or only short ones
    shift: float = 0.0  # how far the answer threshold moved from the configured one
    params: str = PARAMS

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.answer, self.clarify, self.margin)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["thin"] = list(self.thin)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Calibration | None:
        """Return the stored calibration, None when absent or of another version."""
        if not d or d.get("params") != PARAMS:
            return None
        return cls(
            float(d["answer"]), float(d["clarify"]), float(d["margin"]), int(d["negatives"]),
            dict(d.get("in_scope", {})), dict(d.get("off_topic", {})),
            tuple(d.get("thin", ())), float(d.get("shift", 0.0)),
        )

    def expectation(self) -> str:
        """Say in one line what shoppers should expect from this FAQ."""
        i, o = self.in_scope, self.off_topic
        return (
            f"expect about {i.get('answer', 0):.0%} answered, {i.get('clarify', 0):.0%} "
            f"clarified, {i.get('handoff', 0):.0%} handed off of the questions the FAQ covers "
            f"(its own phrasings, left out one at a time, and its answers as questions); "
            f"{o.get('handoff', 0):.0%} of off-topic messages handed off, "
            f"{o.get('answer', 0):.0%} answered "
            f"(thresholds answer={self.answer} clarify={self.clarify} margin={self.margin})"
        )


def read_negatives(path: Path = NEGATIVES) -> list[str]:
    """Return the shipped off-topic messages (gzipped JSONL, one {"q", "lang"} a line)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line)["q"] for line in f if line.strip()]


def negative_vectors(embedder: Embedder, cache_dir: Path | None) -> Vectors:
    """Embed the negatives once per model; the vectors are cached beside the index builds."""
    texts = read_negatives()
    key = hashlib.sha256(f"{embedder.name}\0{len(texts)}\0".encode()
                         + NEGATIVES.read_bytes()).hexdigest()[:16]
    path = cache_dir / f"negatives-{key}.npy" if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            cached = np.load(path)
            if cached.shape == (len(texts), embedder.dim):
                return np.asarray(cached, dtype=np.float32)
        except (OSError, ValueError):
            pass
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), 64):
        out[start : start + 64] = embedder.embed(texts[start : start + 64])
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{np.random.default_rng().integers(1 << 30)}.npy")
        np.save(tmp, out)
        tmp.replace(path)
    return out


class Scorer:
    """Entry scores of many query vectors at once, as SearchIndex.search computes them."""

    def __init__(self, vectors: Vectors, owners: Sequence[int], sums: Vectors, w: float):
        """``sums``: each entry's unnormalised centroid (SearchIndex.centroid_sums)."""
        self.v = np.asarray(vectors, dtype=np.float32)
        self.owner = np.asarray(owners, dtype=np.intp)
        n_entries = len(sums)
        self.n = n_entries
        self.w = w
        self.sums = np.asarray(sums, dtype=np.float64)
        self.centroids = _unit(self.sums).astype(np.float32)
        self.order = np.argsort(self.owner, kind="stable")
        # The phrasing vectors grouped by entry, copied once (a copy per scores() call cost
        # ~50 MB of copying each on the 25,000-phrasing bench FAQ).
        self.grouped = np.ascontiguousarray(self.v[self.order])
        self.column = np.empty_like(self.order)  # phrasing row -> its column in ``scores``
        self.column[self.order] = np.arange(len(self.order))
        counts = np.bincount(self.owner, minlength=n_entries)
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        self.counts = counts

    def scores(self, q: Vectors, leave_out: Sequence[int] | None = None) -> Vectors:
        """Return (len(q), entries) scores; ``leave_out[i]`` is a phrasing row q[i] may not use."""
        sim = q @ self.grouped.T  # columns grouped by entry
        if leave_out is not None:
            sim[np.arange(len(q)), self.column[np.asarray(leave_out, dtype=np.intp)]] = -np.inf
        best = np.full((len(q), self.n), -np.inf, dtype=np.float32)
        has = self.counts > 0
        best[:, has] = np.maximum.reduceat(sim, self.starts[has], axis=1)
        cent = q @ self.centroids.T
        if leave_out is not None:
            for i, row in enumerate(leave_out):
                e = self.owner[row]
                rest = self.sums[e] - self.v[row]
                norm = float(np.linalg.norm(rest))
                cent[i, e] = float(q[i] @ rest) / norm if norm > 1e-6 else -np.inf
        out = (1 - self.w) * best + self.w * cent
        out[~np.isfinite(out)] = -1.0
        return out


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: np.ndarray = m / norms
    return out


def _actions(top: np.ndarray, t: Thresholds) -> dict[str, float]:
    """Shares of answer / clarify / handoff for score matrices' best two columns."""
    if not len(top):
        return {"answer": 0.0, "clarify": 0.0, "handoff": 0.0}
    s1, s2 = top[:, 0], top[:, 1]
    answer = (s1 >= t.answer) & (s1 - s2 >= t.margin - 1e-9)
    handoff = s1 < t.clarify
    n = len(top)
    return {
        "answer": round(float((answer & ~handoff).sum()) / n, 4),
        "clarify": round(float((~answer & ~handoff).sum()) / n, 4),
        "handoff": round(float(handoff.sum()) / n, 4),
    }


def _top2(scores: np.ndarray) -> np.ndarray:
    if scores.shape[1] < 2:
        return np.hstack([scores, np.full((len(scores), 1), -1.0, dtype=scores.dtype)])
    part = -np.partition(-scores, 1, axis=1)[:, :2]
    return np.sort(part, axis=1)[:, ::-1]


def thin_entries(entries: Sequence[Entry]) -> tuple[str, ...]:
    """Return the ids of entries with one phrasing, or only phrasings of a few words."""
    out = []
    for e in entries:
        texts = [q for _lang, q in e.phrasings()]
        longest = max((len(_CJK.findall(t)) // 2 + len(t.split()) for t in texts), default=0)
        if len(texts) < 2 or longest < THIN_WORDS:
            out.append(e.id)
    return tuple(out)


def calibrate(
    entries: Sequence[Entry],
    rows: Sequence[str],
    vectors: Vectors,
    sums: Vectors,
    embedder: Embedder,
    base: Thresholds,
    centroid_weight: float,
    cache_dir: Path | None = None,
    known: Mapping[str, Vectors] | None = None,
) -> Calibration:
    """Fit thresholds to an index: ``rows`` is each phrasing vector's entry id, ``sums`` each
    entry's unnormalised centroid, in sorted entry id order (SearchIndex.centroid_sums).

    ``known`` maps texts the build has embedded already (the answers, for the centroids) to
    their vectors, so the answers scored as pseudo-questions are not embedded again.
    """
    ids = sorted({e.id for e in entries})
    pos = {eid: i for i, eid in enumerate(ids)}
    owners = [pos[r] for r in rows]
    scorer = Scorer(vectors, owners, sums, centroid_weight)
    neg = negative_vectors(embedder, cache_dir)
    neg_top = np.vstack([_top2(scorer.scores(neg[s : s + 256]))
                         for s in range(0, len(neg), 256)]) if len(ids) else np.zeros((0, 2))
    ref = REFERENCE.get(embedder.name.split("@")[0])
    shift = 0.0
    if ref is not None and len(neg_top):
        shift = min(max(float(np.quantile(neg_top[:, 0], QUANTILE)) - ref, -BELOW), ABOVE)
    answer = round(min(max(base.answer + shift, 0.0), 1.0), 2)
    clarify = round(min(max(base.clarify + CLARIFY_SLOPE * shift, 0.0), answer), 2)
    t = Thresholds(answer, clarify, base.margin)
    return Calibration(
        t.answer, t.clarify, t.margin, len(neg),
        _pseudo(scorer, entries, owners, pos, embedder, t, known or {}), _actions(neg_top, t),
        thin_entries(entries), round(shift, 4),
    )


def _pseudo(
    scorer: Scorer, entries: Sequence[Entry], owners: Sequence[int], pos: dict[str, int],
    embedder: Embedder, t: Thresholds, known: Mapping[str, Vectors],
) -> dict[str, float]:
    """Shares per action of the in-scope pseudo-questions (a wrong top entry counts as handoff
    when below clarify, else as what the thresholds do; answers to the wrong entry are rare
    among paraphrases of the FAQ's own phrasings)."""
    counts = scorer.counts
    usable = [i for i, o in enumerate(owners) if counts[o] > 1]
    step = max(1, len(usable) // PSEUDO_LIMIT)
    sample = usable[::step][:PSEUDO_LIMIT]
    tops = []
    for s in range(0, len(sample), 256):
        chunk = sample[s : s + 256]
        tops.append(_top2(scorer.scores(scorer.v[chunk], leave_out=chunk)))
    answers = [e.answer.get(next(iter(e.answer))) or "" for e in entries if e.id in pos]
    answers = answers[:: max(1, len(answers) // ANSWER_LIMIT)][:ANSWER_LIMIT]
    if answers:
        # Re-embedding up to 200 answers (long texts) was most of a one-entry re-index of the
        # 5,000-entry bench FAQ: 2.0 s, 1.2 s of it embedding (BENCHMARKS.md).
        missing = [a for a in answers if a not in known]
        fresh = dict(zip(missing, embedder.embed(missing), strict=True)) if missing else {}
        avec = np.stack([known[a] if a in known else fresh[a] for a in answers])
        tops.append(_top2(scorer.scores(avec)))
    top = np.vstack(tops) if tops else np.zeros((0, 2))
    return _actions(top, t)


def effective_thresholds(
    configured: Thresholds,
    cal: Calibration | None,
    explicit: frozenset[str],
    prefix: str,
    shift_from: Thresholds | None = None,
) -> Thresholds:
    """Return a lane's thresholds: calibrated ones, except where set explicitly.

    ``explicit`` holds the settings fields given explicitly (``answer_threshold`` ...);
    ``prefix`` names the lane's fields (``""`` main, ``"bridge_"``). With ``shift_from``
    (the main lane's configured thresholds) the lane moves by the main lane's shift instead.
    """
    if cal is None:
        return configured
    if shift_from is None:
        answer, clarify, margin = cal.answer, cal.clarify, cal.margin
    else:
        answer = round(configured.answer + cal.answer - shift_from.answer, 2)
        clarify = round(configured.clarify + cal.clarify - shift_from.clarify, 2)
        margin = configured.margin
    if f"{prefix}answer_threshold" in explicit:
        answer = configured.answer
    if f"{prefix}clarify_threshold" in explicit:
        clarify = configured.clarify
    if f"{prefix}margin" in explicit:
        margin = configured.margin
    answer = min(max(answer, 0.0), 1.0)
    clarify = min(max(clarify, 0.0), answer)
    return Thresholds(answer, clarify, margin)
