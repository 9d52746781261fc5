"""`faqbot bench` in process: the bot's steps timed one by one, and index build times."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.chat.triage import TriageClassifier
from bot.devtools.bench.system import percentiles
from bot.errors import ConfigError, FaqbotError
from bot.matching.bot import FaqBot, Query, normalise_message
from bot.matching.embedder import UseEmbedder
from bot.settings import Settings

FALLBACK_QUESTIONS = [
    "Rückgabe?", "refund??", "track order", "¿Cuánto cuesta el envío?", "delai de livraison",
    "betaling mislukt", "退款多久到账", "注文をキャンセルしたい", "배송 조회",
    "Do you ship to Norway?",
]  # fmt: skip


def load_questions(path: Path | None) -> list[str]:
    """Return the question texts of a labelled JSONL file, or a small built-in mix."""
    if path is None or not path.exists():
        return list(FALLBACK_QUESTIONS)
    texts = [json.loads(line)["q"] for line in path.read_text().splitlines() if line.strip()]
    return texts or list(FALLBACK_QUESTIONS)


def bench_in_process(settings: Settings, questions: Sequence[str], n: int) -> dict[str, Any]:
    """Time FaqBot.ask one question at a time, and each of its steps separately."""
    bot = FaqBot(settings)
    started = time.perf_counter()
    status = bot.reload()
    if not bot.ready:
        raise FaqbotError(f"cannot build the index of {settings.faq_dir}: {status.error}")
    startup = time.perf_counter() - started
    asks = [questions[i % len(questions)] for i in range(n)]
    for q in asks[: min(20, n)]:  # warm caches and lazily built model parts
        bot.ask(q)
    total: list[float] = []
    for q in asks:
        t0 = time.perf_counter()
        bot.ask(q)
        total.append((time.perf_counter() - t0) * 1000)
    # Where the time goes: the steps FaqBot.ask takes, each question in its own lane.
    steps: dict[str, list[float]] = {name: [] for name in
                                     ("detect", "embed", "search", "decide", "reply", "triage")}
    # The chat triages every message before matching, from the same vector (issue 16).
    triage = TriageClassifier.load()
    for lane in bot.lanes:
        triage.prepare(bot.space(lane))
    lanes: dict[str, int] = {}
    for q in asks:
        text = normalise_message(q, settings.max_message_chars)
        t0 = time.perf_counter()
        detection = bot.detect(text)
        t1 = time.perf_counter()
        lane = bot.lane_for(detection.language)
        vector = bot.embed(lane, [Query(text, detection).for_model])[0]
        t2 = time.perf_counter()
        hits = bot.search(lane, vector)
        t3 = time.perf_counter()
        decision = bot.decide(lane, hits, vector)
        t4 = time.perf_counter()
        bot.reply(Query(text, detection), hits, decision)
        t5 = time.perf_counter()
        triage.classify(text, vector, bot.space(lane), hits[0].score if hits else None)
        t6 = time.perf_counter()
        for name, (start, end) in zip(steps, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5),
                                              (t5, t6)), strict=True):
            steps[name].append((end - start) * 1000)
        lanes[lane.embedder.name] = lanes.get(lane.embedder.name, 0) + 1
    # Batching: what one model call costs per question when 8 or 32 arrive together.
    batch: dict[str, float] = {}
    for size in (8, 32):
        chunk = [asks[i % len(asks)] for i in range(size)]
        t0 = time.perf_counter()
        rounds = max(1, min(10, n // size))
        for _ in range(rounds):
            bot.embed(bot.lanes[0], chunk)
        batch[f"embed_ms_per_question_batch{size}"] = round(
            (time.perf_counter() - t0) * 1000 / (rounds * size), 3
        )
    probe: dict[str, Any] = {}
    if settings.model == "use":
        # Profiling probe: the same model with one BLAS thread instead of the default two.
        # A one-sentence forward pass is too small to split; extra threads only add hand-off
        # and spinning, which hurts most when the cores are busy with other requests.
        single = UseEmbedder(threads=1)
        single.embed(["warm up"])
        one: list[float] = []
        for q in asks:
            t0 = time.perf_counter()
            single.embed([q])
            one.append((time.perf_counter() - t0) * 1000)
        probe["embed_ms_use_1_thread"] = percentiles(one)
    index = bot.index
    return {
        **probe,
        "model": bot.embedder.name,
        "entries": len(index.entries),
        "phrasings": index.size,
        "startup_seconds": round(startup, 2),
        "ask_ms": percentiles(total),
        "answers_per_s_one_thread": round(1000 / statistics.fmean(total), 1),
        **{f"{name}_ms": percentiles(samples) for name, samples in steps.items()},
        "questions_per_lane": lanes,
        **batch,
    }


_PRODUCTS = (
    "jacket", "sneakers", "backpack", "watch", "lamp", "sofa", "blender", "headphones",
    "dress", "tent", "bicycle", "kettle", "mattress", "scarf", "camera", "desk", "rug",
    "perfume", "sunglasses", "stroller", "guitar", "drill", "blanket", "helmet", "wallet",
)  # fmt: skip
_ACTIONS = (
    "return", "exchange", "repair", "clean", "assemble", "insure", "gift wrap", "engrave",
    "resize", "recycle", "store", "register", "track", "reorder", "cancel", "upgrade",
    "rent", "reserve", "customise", "insure abroad",
)  # fmt: skip
_KINDS = ("leather", "wooden", "electric", "vintage", "kids", "outdoor", "premium", "travel",
          "wireless", "organic")  # fmt: skip
_TEMPLATES = (
    "How do I {a} my {k} {p}?",
    "Can you help me {a} a {k} {p} I bought?",
    "{a} {k} {p}",
    "Is it possible to {a} the {k} {p} after delivery?",
    "What does it cost to {a} a {k} {p}, and how long does it take?",
)


def synthetic_faq(directory: Path, entries: int, phrasings: int, files: int = 10) -> None:
    """Write a valid FAQ of `entries` entries with `phrasings` distinct phrasings each."""
    if phrasings > len(_TEMPLATES):
        raise ConfigError(f"at most {len(_TEMPLATES)} phrasings per generated entry")
    capacity = len(_PRODUCTS) * len(_ACTIONS) * len(_KINDS)
    if entries > capacity:
        raise ConfigError(f"at most {capacity} generated entries")
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    per_file = -(-entries // files)
    combos = [(p, a, k) for k in _KINDS for a in _ACTIONS for p in _PRODUCTS][:entries]
    for f in range(files):
        chunk = combos[f * per_file : (f + 1) * per_file]
        if not chunk:
            break
        docs = []
        for n, (p, a, k) in enumerate(chunk, f * per_file):
            qs = [t.format(a=a, k=k, p=p) for t in _TEMPLATES[:phrasings]]
            docs.append(
                {
                    "id": f"gen-{n:05d}",
                    "questions": {"en": [q[0].upper() + q[1:] for q in qs]},
                    "answer": {"en": f"To {a} a {k} {p}, open your order and choose '{a}'."},
                }
            )
        (directory / f"topic{f:02d}.yaml").write_text(
            yaml.safe_dump({"entries": docs}, allow_unicode=True, sort_keys=False)
        )


def change_one_entry(directory: Path) -> None:
    """Reword the first phrasing of the first generated entry (as a lead's edit would)."""
    path = sorted(directory.glob("*.yaml"))[0]
    text = path.read_text()
    first = text.index("  - ", text.index("questions:"))
    line_end = text.index("\n", first)
    path.write_text(text[:first] + "  - Reworded by the benchmark, question one?" + text[line_end:])


def bench_build(settings: Settings, entries: int, phrasings: int) -> dict[str, Any]:
    """Build the index of a generated FAQ from scratch, then refresh it after one edit."""
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-build-") as tmp:
        faq_dir, index_dir = Path(tmp) / "faq", Path(tmp) / "index"
        synthetic_faq(faq_dir, entries, phrasings)
        bot = FaqBot(settings.replace(faq_dir=faq_dir, index_dir=index_dir))
        for lane in bot.lanes:  # model loading is startup, not index building
            bot.embed(lane, ["warm up"])
        t0 = time.perf_counter()
        first = bot.reload()
        build = time.perf_counter() - t0
        if not first.ok:
            raise FaqbotError(f"generated FAQ did not build: {first.error}")
        change_one_entry(faq_dir)
        t0 = time.perf_counter()
        second = bot.reload()
        reindex = time.perf_counter() - t0
        if not second.ok:
            raise FaqbotError(f"changed FAQ did not build: {second.error}")
        # Lanes go live one by one (bot/matching/lanes.py): shoppers are answered in every
        # language once the main lane is live; a fallback lane with an index of its own
        # (FAQBOT_FALLBACK_BRIDGE=0) serves its languages only when that build completes.
        lanes = [
            {
                "model": b.model,
                "phrasings": b.embedded + b.reused,
                "build_seconds": round(b.seconds, 2),
                "live_after_seconds": round(b.live_after, 2),
                "reindex_seconds": round(r.seconds, 3),
                "reindex_embedded": r.embedded,
                "bridged": b.bridged,
            }
            for b, r in zip(first.lanes, second.lanes, strict=True)
        ]
        return {
            "entries": entries,
            "phrasings": entries * phrasings,
            "build_seconds": round(build, 2),
            "serve_seconds": lanes[0]["live_after_seconds"],
            "build_embedded": first.embedded,
            "phrasings_per_s": round(first.embedded / build, 1) if build else 0.0,
            "reindex_seconds": round(reindex, 3),
            "reindex_embedded": second.embedded,
            "reindex_reused": second.reused,
            "lanes": lanes,
        }
