"""Helpers shared by the core tests (FAQ, index, pipeline, CLI): FAQ writing, env isolation.

Import with ``from core_fixtures import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import hashlib
import os
import textwrap
from pathlib import Path

import numpy as np

from bot.matching.embedder import Embedder, Vectors

FIXTURES = Path(__file__).parent / "fixtures"
SHOP_EN = FIXTURES / "shop_en"  # English-only FAQ: 10 entries in 3 files
ROOT = Path(__file__).resolve().parent.parent
# Entries written in several languages; one (gift-cards) only in German.
MIXED_FAQ = """
entries:
  - id: returns-window
    questions:
      en: [How long do I have to return an item?]
      de: [Wie lange habe ich Zeit für eine Rücksendung?]
      sv: [Hur länge har jag på mig att returnera en vara?]
      ja: [返品期限はいつまでですか？]
    answer:
      en: You can return most items within 30 days.
  - id: gift-cards
    questions:
      de: [Verkaufen Sie Geschenkkarten?]
    answer:
      en: Yes, from 10 to 200 euros.
"""


def write_faq(faq_dir: Path, name: str, text: str) -> Path:
    """Write one FAQ file (dedented) into faq_dir and return its path."""
    faq_dir.mkdir(parents=True, exist_ok=True)
    path = faq_dir / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def entry_yaml(entry_id: str, question: str, answer: str, **langs: str) -> str:
    """Return one entry as YAML with an English question and answer (plus other answers)."""
    extra = "".join(f"\n      {lang}: {text}" for lang, text in langs.items())
    return (
        f"  - id: {entry_id}\n"
        f"    questions:\n      en: [{question}]\n"
        f"    answer:\n      en: {answer}{extra}\n"
    )


def clean_env() -> dict[str, str]:
    """Return os.environ without FAQBOT_* variables, so a test's settings are its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    env["HF_HUB_OFFLINE"] = "1"
    return env


class CountingEmbedder:
    """A real embedder that also records every text it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> Vectors:
        self.texts.extend(texts)
        return self.inner.embed(texts)


class HashEmbedder:
    """A fake embedder for tests about bookkeeping, not quality: a text's vector is its hash.

    Equal texts get equal vectors, different texts near-orthogonal ones; no model is loaded.
    """

    name = "fake-hash@1"
    dim = 64

    def embed(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = np.random.default_rng(hash_text(text)).standard_normal(self.dim)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def hash_text(text: str) -> int:
    """Return a stable 64-bit hash of text (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
