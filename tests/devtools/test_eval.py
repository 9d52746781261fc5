"""Test `faqbot eval`: metric maths on hand-made rankings, the sweep, and a real end-to-end run."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.devtools.eval.metrics import (
    ANSWER_GRID,
    MARGIN_GRID,
    Arrays,
    actions_for,
    confused_pairs,
    decision_metrics,
    evaluate,
    rank_metrics,
    recommend,
    sweep,
)
from bot.devtools.eval.ranking import (
    CachedEmbedder,
    Question,
    Ranked,
    bm25_tokens,
    rank_with_bm25,
    read_queries,
)
from bot.devtools.eval.report import summary_table
from bot.errors import InputError
from bot.faq.load import Entry
from bot.matching.decide import decide
from bot.matching.index import Hit
from bot.settings import Thresholds
from tests.support.embedders import CountingEmbedder, FakeHashEmbedder
from tests.support.faqs import write_tiny_faq


def entry(entry_id: str, *questions: str) -> Entry:
    return Entry(entry_id, {"en": questions or (entry_id,)}, {"en": "answer"}, "test")


def ranked(expect: str | None, pairs: list[tuple[str, float]], lang: str = "en") -> Ranked:
    return Ranked(
        Question("q", lang, expect), tuple(i for i, _ in pairs), tuple(s for _, s in pairs)
    )


def test_accuracy_and_mrr_count_in_scope_questions_only() -> None:
    rows = [
        ranked("a", [("a", 0.9), ("b", 0.5)]),  # rank 1
        ranked("a", [("b", 0.9), ("a", 0.8)]),  # rank 2 -> 1/2
        ranked("a", [("b", 0.9), ("c", 0.8), ("a", 0.7)]),  # rank 3 -> 1/3
        ranked("a", [("b", 0.9), ("c", 0.8), ("d", 0.7), ("a", 0.6)]),  # rank 4 -> 0 at @3
        ranked(None, [("a", 0.9)]),  # out of scope: not in either metric
    ]
    m = rank_metrics(rows)
    assert m["accuracy@1"] == 0.25
    assert m["mrr@3"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 4, abs=1e-4)
    assert (m["n"], m["n_in_scope"]) == (5, 4)


def test_offline_actions_agree_with_decide_on_real_hits() -> None:
    rng = random.Random(7)
    entries = [entry(f"e{i}") for i in range(6)]
    rows, hit_lists = [], []
    for _ in range(400):
        n = rng.randint(0, 5)
        scores = sorted((round(rng.uniform(0.1, 0.95), 3) for _ in range(n)), reverse=True)
        hits = [Hit(entries[i], s, "p") for i, s in enumerate(scores)]
        hit_lists.append(hits)
        rows.append(Ranked(Question("q", "en", "e0"), tuple(h.entry.id for h in hits),
                              tuple(scores)))  # fmt: skip
    arrays = Arrays.of(rows)
    for t in (Thresholds(0.55, 0.40, 0.03), Thresholds(0.7, 0.2, 0.0), Thresholds(0.5, 0.5, 0.1)):
        got = actions_for(arrays, t)
        want = [decide(h, t).action for h in hit_lists]
        assert list(got) == want
    # With the head's path: each question's head score of its top entry, or none.
    heads = [None if not h or rng.random() < 0.2 else round(rng.uniform(0.2, 0.8), 3)
             for h in hit_lists]
    rows = [Ranked(r.question, r.ids, r.scores, head=x) for r, x in zip(rows, heads, strict=True)]
    t = Thresholds(0.55, 0.40, 0.03, head_clarify=0.5)
    got = actions_for(Arrays.of(rows), t)
    want = [decide(h, t, x).action for h, x in zip(hit_lists, heads, strict=True)]
    assert list(got) == want and "clarify" in [g for g, r in zip(got, rows, strict=True)
                                               if r.scores and r.scores[0] < t.clarify]


def test_decision_shares_on_a_hand_made_set() -> None:
    t = Thresholds(answer=0.6, clarify=0.4, margin=0.05)
    rows = [
        ranked("a", [("a", 0.9), ("b", 0.5)]),  # answered right
        ranked("a", [("b", 0.9), ("a", 0.5)]),  # answered wrong
        ranked("a", [("a", 0.62), ("b", 0.60)]),  # too close: clarify, right one suggested
        ranked("a", [("a", 0.3)]),  # below clarify: handoff
        ranked(None, [("c", 0.3)]),  # out of scope handed off
        ranked(None, [("c", 0.8), ("a", 0.2)]),  # out of scope answered: a wrong answer
    ]
    d = decision_metrics(rows, t)
    assert d["in_scope"] == {
        "n": 4,
        "answered_right": 0.25,
        "answered_wrong": 0.25,
        "clarified": 0.25,
        "clarified_with_right": 0.25,
        "shown": 0.5,  # answered right, or the right entry among the chips
        "handed_off": 0.25,
    }
    assert d["out_of_scope"] == {"n": 2, "handed_off": 0.5, "clarified": 0.0, "answered": 0.5}
    assert d["coverage"] == 0.5  # 3 answers of 6 questions
    assert d["wrong_rate"] == round(2 / 3, 4)
    assert d["wrong_over_all"] == round(2 / 6, 4)

    # The head's path: below clarify, a head score at its threshold clarifies with the top
    # entry as the chip (the others are below the chip slack); a lower one hands off.
    t = Thresholds(answer=0.6, clarify=0.4, margin=0.05, head_clarify=0.5)
    low = [Ranked(Question("q", "en", "a"), ("a", "b"), (0.25, 0.1), head=0.5),
           Ranked(Question("q", "en", "b"), ("a", "b"), (0.25, 0.1), head=0.7),
           Ranked(Question("q", "en", "a"), ("a",), (0.25,), head=0.49),
           Ranked(Question("q", "en", None), ("a",), (0.25,), head=None)]
    d = decision_metrics(low, t)
    assert d["in_scope"]["clarified"] == round(2 / 3, 4)
    assert d["in_scope"]["shown"] == round(1 / 3, 4)  # "b" was not among the chips
    assert d["in_scope"]["handed_off"] == round(1 / 3, 4)
    assert d["out_of_scope"]["handed_off"] == 1.0


def test_the_report_prints_issue_17s_table() -> None:
    t = Thresholds(answer=0.6, clarify=0.4, margin=0.05)
    rows = [
        ranked("a", [("a", 0.9), ("b", 0.5)], "de"),  # answered right
        ranked("a", [("a", 0.62), ("b", 0.60)], "de"),  # clarified, right one shown
        ranked("a", [("b", 0.9), ("a", 0.5)], "sv"),  # answered wrong
        ranked("a", [("a", 0.3)], "sv"),  # handed off
        ranked(None, [("c", 0.3)], "sv"),  # out of scope handed off
    ]
    table = summary_table(evaluate(rows, t, 0.02))
    assert table[2] == "| right entry ranked first (acc@1) / MRR@3 | 75.0% / 0.875 |"
    assert table[3].endswith("handed off | 25.0% / 50.0% / 25.0% |")
    assert table[4].endswith("off | 20.0% / 0.0% / 100.0% |")
    assert table[5] == "| right entry shown, by language | de 1.00, sv 0.00 |"


def test_confused_pairs_are_counted_and_sorted() -> None:
    rows = [ranked("a", [("b", 0.9)])] * 3 + [ranked("c", [("d", 0.9)]), ranked("a", [("a", 1)])]
    assert confused_pairs(rows) == [
        {"expected": "a", "got": "b", "count": 3},
        {"expected": "c", "got": "d", "count": 1},
    ]


def test_recommend_keeps_wrong_answers_under_the_target() -> None:
    # Right answers score 0.8; wrong ones 0.65 and 0.72; out-of-scope best scores 0.305-0.485.
    rows = [ranked("a", [("a", 0.8), ("b", 0.2)]) for _ in range(20)]
    rows += [ranked("a", [("b", 0.65), ("a", 0.6)]), ranked("a", [("b", 0.72), ("a", 0.3)])]
    rows += [ranked(None, [("c", 0.305 + 0.02 * i)]) for i in range(10)]
    rec = recommend(rows, target_wrong=0.02, target_oos=0.9)
    assert rec["found"] and rec["wrong_rate"] <= 0.02
    assert 0.72 < rec["answer"] <= 0.8  # admits every right answer, no wrong one
    assert rec["right"] == round(20 / 22, 4)
    # Lowest clarify handing off >= 90% of out-of-scope: nine of the ten scores below it.
    assert rec["clarify"] == 0.47
    assert rec["oos_handed_off"] >= 0.9


def test_recommend_says_when_no_setting_meets_the_target() -> None:
    rows = [ranked("a", [("b", 0.9)]) for _ in range(5)]
    rec = recommend(rows, target_wrong=0.02)
    assert rec["found"] is False and "2.0%" in rec["reason"]


def test_sweep_covers_the_grid_and_is_monotone_in_the_threshold() -> None:
    rows = [ranked("a", [("a", s), ("b", s - 0.1)]) for s in np.linspace(0.3, 0.9, 25)]
    table = sweep(rows)
    assert len(table) == len(ANSWER_GRID) * len(MARGIN_GRID)
    zero = [r for r in table if r["margin"] == 0.0]
    coverage = [r["coverage"] for r in sorted(zero, key=lambda r: r["answer"])]
    assert coverage == sorted(coverage, reverse=True)


def test_read_queries_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"q": "hi", "lang": "en", "expect": null}\n\n{"q": 3}\n')
    with pytest.raises(InputError, match=r"q.jsonl:3:"):
        read_queries(path)
    path.write_text('{"q": "hi", "lang": "en", "expect": "x"}\n{"q": "no", "expect": null}\n')
    assert read_queries(path) == [
        Question("hi", "en", "x"), Question("no", "??", None),
    ]  # fmt: skip


def test_bm25_tokens_split_cjk_into_characters() -> None:
    assert bm25_tokens("Rückgabe, bitte!") == ["rückgabe", "bitte"]
    assert bm25_tokens("退款多久") == ["退", "款", "多", "久"]


def test_bm25_ranks_each_entry_once_by_its_best_phrasing() -> None:
    entries = [
        entry("returns", "how do I return an item", "return policy"),
        entry("shipping", "how long does shipping take", "delivery time"),
        entry("payment", "which payment methods do you accept"),
    ]
    rows = rank_with_bm25([Question("return policy?", "en", "returns")], entries)
    assert rows[0].ids[0] == "returns"
    assert len(set(rows[0].ids)) == len(rows[0].ids)


def test_cached_embedder_returns_the_same_vectors_and_embeds_once(tmp_path: Path) -> None:
    inner = CountingEmbedder(FakeHashEmbedder())
    cached = CachedEmbedder(inner, tmp_path / "v.sqlite")
    first = cached.embed(["alpha", "beta"])
    again = CachedEmbedder(inner, tmp_path / "v.sqlite")
    second = again.embed(["beta", "alpha", "gamma"])
    assert np.array_equal(first[0], second[1]) and np.array_equal(first[1], second[0])
    assert inner.texts == ["alpha", "beta", "gamma"]  # then only gamma was new


@pytest.mark.slow
def test_eval_end_to_end_with_the_real_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq = tmp_path / "faq"
    write_tiny_faq(faq)
    queries = tmp_path / "q.jsonl"
    lines = [
        {"q": "Wie kann ich einen Artikel zurücksenden?", "lang": "de",
         "expect": "returns-window"},
        {"q": "¿Cuándo llega mi paquete?", "lang": "es", "expect": "shipping-time"},
        {"q": "can i pay with paypal", "lang": "en", "expect": "payment-methods"},
        {"q": "What is the weather in Paris tomorrow?", "lang": "en", "expect": None},
    ]
    queries.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    args = ["eval", "--faq-dir", str(faq), "--queries", str(queries), "--model", "use",
            "--cache-dir", str(tmp_path / "cache"), "--json"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("accuracy@1", "mrr@3", "per_language", "in_scope", "out_of_scope",
                "confused_pairs", "sweep", "recommended", "settings"):  # fmt: skip
        assert key in out
    assert out["accuracy@1"] == 1.0
    assert set(out["per_language"]) == {"de", "en", "es"}
    assert out["per_language"]["de"]["accuracy@1"] == 1.0 and out["per_language"]["de"]["n"] == 1
    assert set(out["in_scope"]) >= {"answered_right", "answered_wrong", "clarified", "handed_off"}
    assert out["out_of_scope"]["n"] == 1
    assert out["settings"]["model"] == "use"
    # The eval index goes under the cache, never into the live index/ directory.
    assert (tmp_path / "cache" / "index").is_dir()
    # The table form of the same report (a second run reuses the cached vectors).
    assert main(args[:-1]) == 0
    table = capsys.readouterr().out
    assert "acc@1" in table and "recommended" in table
