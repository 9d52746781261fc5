"""Embedders for tests about something else than answer quality: fakes, named as fakes.

Tests about answers use the real model (the ``faqbot`` fixture, loaded once per session).
"""

from __future__ import annotations

import hashlib

import numpy as np

from bot.matching.embedder import Embedder, Vectors


class CountingEmbedder:
    """A real embedder that also records every text it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.languages = inner.languages
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> Vectors:
        self.texts.extend(texts)
        return self.inner.embed(texts)


class FakeHashEmbedder:
    """A fake embedder for tests about bookkeeping, not quality: a text's vector is its hash.

    Equal texts get equal vectors, different texts near-orthogonal ones; no model is loaded.
    """

    name = "fake-hash@1"
    dim = 64
    languages: frozenset[str] | None = None  # claims every language: no second model

    def embed(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = np.random.default_rng(hash_text(text)).standard_normal(self.dim)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def hash_text(text: str) -> int:
    """Return a stable 64-bit hash of text (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
