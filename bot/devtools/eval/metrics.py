"""`faqbot eval`, step two: arithmetic on the ranked lists (no model calls).

accuracy@1 and MRR@3 per language, the decisions at given thresholds exactly as
bot/matching/decide.py makes them, confused pairs, the threshold sweep and a recommendation.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.devtools.eval.ranking import LaneInfo, Ranked
from bot.matching.decide import CHIP_SLACK
from bot.settings import Thresholds

ANSWER_GRID = tuple(round(0.20 + 0.01 * i, 2) for i in range(76))  # 0.20 .. 0.95
MARGIN_GRID = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10, 0.12, 0.15)
CLARIFY_GRID = tuple(round(0.10 + 0.01 * i, 2) for i in range(86))  # 0.10 .. 0.95


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
    head: FloatArray  # the head's score of the top entry (bot/matching/head.py); nan: none

    @classmethod
    def of(cls, ranked: Sequence[Ranked]) -> Arrays:
        s1 = np.array([r.scores[0] if r.scores else -math.inf for r in ranked], dtype=np.float64)
        s2 = np.array([r.scores[1] if len(r.scores) > 1 else -1.0 for r in ranked])
        in_scope = np.array([r.question.expect is not None for r in ranked], dtype=bool)
        correct = np.array(
            [bool(r.ids) and r.ids[0] == r.question.expect for r in ranked], dtype=bool
        )
        head = np.array([math.nan if r.head is None else r.head for r in ranked])
        return cls(s1, s2.astype(np.float64), correct & in_scope, in_scope, head)


def actions_for(a: Arrays, t: Thresholds) -> npt.NDArray[np.str_]:
    """Return each question's action under t, exactly as bot.decide.decide would."""
    answer = (a.s1 >= t.answer) & (a.s1 - a.s2 >= t.margin) & (a.s1 >= t.clarify)
    handoff = a.s1 < t.clarify
    if t.head_clarify is not None:
        handoff &= ~(a.head >= t.head_clarify)  # nan (no head) compares False: handed off
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
    helped = sum(1 for i in clarified
                 if ranked[i].question.expect in chips(ranked[i], ts[ranked[i].lane]))
    oos_answered = sum(1 for i in outside if acts[i] == "answer")
    answered = int((acts == "answer").sum())
    return {
        "in_scope": {
            "n": len(inside),
            "answered_right": _share(right, len(inside)),
            "answered_wrong": _share(wrong_in, len(inside)),
            "clarified": _share(len(clarified), len(inside)),
            "clarified_with_right": _share(helped, len(inside)),
            # Answered right, or the right entry among the clarify chips (issue 17's "shown").
            "shown": _share(right + helped, len(inside)),
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
        "wrong_over_all": _share(wrong_in + oos_answered, len(ranked)),
    }


def chips(r: Ranked, t: Thresholds) -> tuple[str, ...]:
    """Return the entries decide() offers when it clarifies: the top 3 hits down to CHIP_SLACK
    below the clarify threshold, or the top one alone (the head's path, far below it)."""
    out = tuple(e for e, s in zip(r.ids[:3], r.scores[:3], strict=True)
                if s >= t.clarify - CHIP_SLACK)
    return out or r.ids[:1]


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
            row["wrong_over_all"] = d["wrong_over_all"]
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
    out = {"answer": t.answer, "clarify": t.clarify, "margin": t.margin}
    if t.head_clarify is not None:
        out["head_clarify"] = t.head_clarify
    return out


def frontier(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return, per answer threshold, the margin with the most right answers (for tables)."""
    best: dict[float, dict[str, Any]] = {}
    for r in rows:
        cur = best.get(r["answer"])
        if cur is None or (r["right"], -r["wrong_rate"]) > (cur["right"], -cur["wrong_rate"]):
            best[r["answer"]] = r
    return [best[k] for k in sorted(best)]
