"""`faqbot bench`: how fast the bot answers, builds and re-indexes, and how much memory it uses.

Parts (each can be skipped):
- in process: ``FaqBot.ask`` on the shipped FAQ, one question at a time, with a breakdown of
  where the time goes (embedding, search, decision and answer);
- over HTTP: a real ``uvicorn bot.web.app:create_app --factory`` on a free 127.0.0.1 port with a
  temporary SQLite database, loaded by 1, 8 and 32 concurrent shoppers (asyncio keep-alive
  connections, each shopper starting a new conversation every few messages), bounded by a
  request count and a number of seconds; then the server's resident memory;
- build: a generated FAQ of 5,000 entries x 5 phrasings indexed from scratch, then one entry
  changed and the index refreshed (only that entry is embedded again).

Budgets come from the design (../shared/DESIGN.md); a miss is reported, never an error:
timings depend on the machine, so they are a report, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from bot.errors import ConfigError, FaqbotError

BUDGETS = {
    "in_process_median_ms": 5.0,
    "http_median_ms_c8": 15.0,
    "http_p95_ms_c8": 50.0,
    "http_answers_per_s": 200.0,
    "build_seconds": 60.0,
    "reindex_seconds": 2.0,
    "rss_mib": 1024.0,
}
# uvicorn's keep-alive timeout is 5 s: after a longer pause a shopper's browser reconnects.
IDLE_RECONNECT_SECONDS = 4.0
FALLBACK_QUESTIONS = [
    "Rückgabe?", "refund??", "track order", "¿Cuánto cuesta el envío?", "delai de livraison",
    "betaling mislukt", "退款多久到账", "注文をキャンセルしたい", "배송 조회",
    "Do you ship to Norway?",
]  # fmt: skip


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """Return n, mean, median, p95 and p99 (nearest-rank) of latencies in milliseconds."""
    if not samples_ms:
        return {"n": 0, "mean": 0.0, "median": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(samples_ms)

    def rank(p: float) -> float:
        # Nearest-rank: the smallest sample with at least p% of samples at or below it.
        idx = max(0, min(len(ordered) - 1, int(np.ceil(p / 100 * len(ordered))) - 1))
        return round(ordered[idx], 3)

    return {
        "n": len(ordered),
        "mean": round(statistics.fmean(ordered), 3),
        "median": round(statistics.median(ordered), 3),
        "p95": rank(95),
        "p99": rank(99),
        "max": round(ordered[-1], 3),
    }


def machine() -> dict[str, Any]:
    """Describe the machine the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        # Other work on the machine skews every timing: record how busy it was.
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpu": cpu,
        "cores": usable,
        "load_average": load,
        "speed_probe_ms": speed_probe_ms(),
        "memory_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def speed_probe_ms() -> float:
    """Time a fixed pure-Python loop (best of 3): how fast this machine is right now.

    A shared virtual machine's speed drifts (the same code measured 1.5-2x slower an hour
    apart here), so numbers from two runs compare only alongside this probe.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def rss_mib(pid: int) -> dict[str, float]:
    """Return the resident (VmRSS) and peak resident (VmHWM) memory of a process, in MiB.

    With several workers, the largest process (the budget is per server process) counts.
    """
    out = {"rss_mib": 0.0, "peak_rss_mib": 0.0}
    for proc in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out["rss_mib"] = max(out["rss_mib"], round(int(line.split()[1]) / 1024, 1))
                elif line.startswith("VmHWM:"):
                    value = round(int(line.split()[1]) / 1024, 1)
                    out["peak_rss_mib"] = max(out["peak_rss_mib"], value)
        except OSError:
            pass
    return out


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def load_questions(path: Path | None) -> list[str]:
    """Return the question texts of a labelled JSONL file, or a small built-in mix."""
    if path is None or not path.exists():
        return list(FALLBACK_QUESTIONS)
    texts = [json.loads(line)["q"] for line in path.read_text().splitlines() if line.strip()]
    return texts or list(FALLBACK_QUESTIONS)


# ---------------------------------------------------------------- in process


def bench_in_process(
    faq_dir: Path, index_dir: Path, model: str, questions: Sequence[str], n: int
) -> dict[str, Any]:
    """Time FaqBot.ask one question at a time, and each step of it separately."""
    from bot.matching.bot import FaqBot
    from bot.matching.decide import decide
    from bot.settings import load_settings

    settings = load_settings(faq_dir=faq_dir, index_dir=index_dir, model=model)
    bot = FaqBot(settings)
    started = time.perf_counter()
    status = bot.reload()
    if not bot.ready:
        raise FaqbotError(f"cannot build the index of {faq_dir}: {status.error}")
    startup = time.perf_counter() - started
    asks = [questions[i % len(questions)] for i in range(n)]
    for q in asks[: min(20, n)]:  # warm caches and lazily built model parts
        bot.ask(q)
    total: list[float] = []
    for q in asks:
        t0 = time.perf_counter()
        bot.ask(q)
        total.append((time.perf_counter() - t0) * 1000)
    # Where the time goes: the same steps FaqBot.ask takes, timed one by one.
    detect_ms: list[float] = []
    embed_ms: list[float] = []
    search_ms: list[float] = []
    decide_ms: list[float] = []
    index = bot.index
    for q in asks:
        tl = time.perf_counter()
        bot.detect(q)
        detect_ms.append((time.perf_counter() - tl) * 1000)
        t0 = time.perf_counter()
        vector = bot.embedder.embed([q])[0]
        t1 = time.perf_counter()
        hits = index.search(vector, k=5)
        t2 = time.perf_counter()
        decide(hits, bot.thresholds)
        t3 = time.perf_counter()
        embed_ms.append((t1 - t0) * 1000)
        search_ms.append((t2 - t1) * 1000)
        decide_ms.append((t3 - t2) * 1000)
    # Batching: what one model call costs per question when 8 or 32 arrive together.
    batch: dict[str, float] = {}
    for size in (8, 32):
        chunk = [asks[i % len(asks)] for i in range(size)]
        t0 = time.perf_counter()
        rounds = max(1, min(10, n // size))
        for _ in range(rounds):
            bot.embedder.embed(chunk)
        batch[f"embed_ms_per_question_batch{size}"] = round(
            (time.perf_counter() - t0) * 1000 / (rounds * size), 3
        )
    probe: dict[str, Any] = {}
    if model == "use":
        # Profiling probe: the same model with one BLAS thread instead of the default two.
        # A one-sentence forward pass is too small to split; extra threads only add hand-off
        # and spinning, which hurts most when the cores are busy with other requests.
        from bot.matching.embedder import UseEmbedder

        single = UseEmbedder(threads=1)
        single.embed(["warm up"])
        one: list[float] = []
        for q in asks:
            t0 = time.perf_counter()
            single.embed([q])
            one.append((time.perf_counter() - t0) * 1000)
        probe["embed_ms_use_1_thread"] = percentiles(one)
    return {
        **probe,
        "model": bot.embedder.name,
        "entries": len(index.entries),
        "phrasings": index.size,
        "startup_seconds": round(startup, 2),
        "ask_ms": percentiles(total),
        "answers_per_s_one_thread": round(1000 / statistics.fmean(total), 1),
        "detect_ms": percentiles(detect_ms),
        "embed_ms": percentiles(embed_ms),
        "search_ms": percentiles(search_ms),
        "decide_ms": percentiles(decide_ms),
        **batch,
    }


# ---------------------------------------------------------------- over HTTP


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A uvicorn subprocess serving bot.web.app on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        """Stop the server gracefully, then for certain."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(
    faq_dir: Path,
    index_dir: Path,
    model: str,
    workdir: Path,
    timeout: float = 180.0,
    workers: int = 1,
) -> Server:
    """Start uvicorn with a temporary SQLite database and wait until /ready answers 200."""
    import httpx

    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "FAQBOT_FAQ_DIR": str(faq_dir.resolve()),
            "FAQBOT_INDEX_DIR": str(index_dir.resolve()),
            "FAQBOT_MODEL": model,
            "FAQBOT_DATABASE_URL": f"sqlite:///{(workdir / 'bench.db').resolve()}",
            # A load shopper sends back to back, far more than a person would.
            "FAQBOT_RATE_LIMIT_PER_MINUTE": "100000000",
            "FAQBOT_ENVIRONMENT": "development",
        }
    )
    log = workdir / "server.log"
    if workers > 1:
        # What `faqbot serve --workers N` runs: a listening socket per worker
        # (bot/runtime/workers.py).
        cmd = [sys.executable, "-m", "bot.runtime.workers", "127.0.0.1", str(port), str(workers),
               "warning"]
    else:
        cmd = [
            sys.executable, "-m", "uvicorn", "bot.web.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            "--no-access-log",
        ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FaqbotError(f"the server exited at start: {log.read_text()[-2000:]}")
        try:
            if httpx.get(server.url + "/ready", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    server.stop()
    raise FaqbotError(f"the server was not ready within {timeout:.0f}s: {log.read_text()[-2000:]}")


def load(
    url: str,
    questions: Sequence[str],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    messages_per_session: int = 5,
    think_seconds: float = 0.0,
) -> dict[str, Any]:
    """Send chat messages from `concurrency` shoppers until the count or the time runs out.

    ``think_seconds`` > 0: after each answer a shopper reads and types for a random time
    (exponential, that mean) before the next message, as people do; 0: back to back, which
    saturates the server and measures its capacity.

    Each shopper is one keep-alive HTTP/1.1 connection driven by asyncio with plain sockets:
    the load generator shares the server's cores, and threads with httpx cost it ~1 ms of CPU
    a request (measured), which the server then did not get.
    """
    return asyncio.run(
        _load(url, questions, concurrency, max_requests, max_seconds, messages_per_session,
              think_seconds)
    )


async def _load(
    url: str,
    questions: Sequence[str],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    messages_per_session: int,
    think_seconds: float,
) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    errors: list[str] = []
    actions: dict[str, int] = {}
    sent = 0
    deadline = time.monotonic() + max_seconds

    def take() -> int | None:
        nonlocal sent
        if sent >= max_requests or time.monotonic() >= deadline:
            return None
        sent += 1
        return sent

    async def connect(n: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        # Each shopper from an address of its own, as on the internet: the server counts
        # rate limits per address (all of 127.0.0.0/8 is this machine).
        local = (f"127.0.{n // 250}.{n % 250 + 2}", 0) if host == "127.0.0.1" else None
        return await asyncio.open_connection(host, port, local_addr=local)

    async def shopper(n: int) -> None:
        session: str | None = None
        count = 0
        pace = random.Random(n)
        reader, writer = await connect(n)
        try:
            if think_seconds > 0:  # shoppers arrive spread out, not all in the same instant
                await asyncio.sleep(pace.uniform(0, think_seconds))
            while (ticket := take()) is not None:
                if count % messages_per_session == 0:
                    session = None  # a new shopper arrives
                body = json.dumps(
                    {"session_id": session, "message": questions[(ticket + n) % len(questions)]}
                ).encode()
                head = (
                    f"POST /api/chat HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode()
                t0 = time.perf_counter()
                try:
                    writer.write(head + body)
                    status, data = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    errors.append(type(exc).__name__)
                    writer.close()
                    reader, writer = await connect(n)
                    continue
                ms = (time.perf_counter() - t0) * 1000
                count += 1
                if status != 200:
                    errors.append(str(status))
                    continue
                latencies.append(ms)
                reply = json.loads(data)
                session = reply.get("session_id")
                action = reply.get("action", "?")
                actions[action] = actions.get(action, 0) + 1
                if think_seconds > 0:
                    pause = pace.expovariate(1.0 / think_seconds)
                    await asyncio.sleep(pause)
                    if pause > IDLE_RECONNECT_SECONDS:
                        # uvicorn closes a connection idle for 5 s; a browser opens a new one.
                        writer.close()
                        reader, writer = await connect(n)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(shopper(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "think_seconds": think_seconds,
        "seconds": round(elapsed, 2),
        "latency_ms": percentiles(latencies),
        "answers_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "actions": dict(sorted(actions.items())),
    }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one HTTP/1.1 response with a Content-Length body (what the chat route sends)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        raise ValueError("response without Content-Length")
    return status, await reader.readexactly(length)


def bench_http(
    faq_dir: Path,
    index_dir: Path,
    model: str,
    questions: Sequence[str],
    levels: Sequence[int],
    max_requests: int,
    max_seconds: float,
    workers: int = 1,
    think_seconds: float = 1.0,
    saturation: Sequence[int] = (8, 32),
) -> dict[str, Any]:
    """Load a real uvicorn server and read its memory afterwards.

    Latency: shoppers at each level chat at a person's pace (``think_seconds`` between
    messages). Capacity: ``saturation`` levels send back to back. Both are needed: with no
    pause, N clients wait N / throughput on average (Little's law), so "15 ms at 8 shoppers"
    read as back-to-back clients would need 530 answers/s, not the 200 the design asks for.
    """
    try:
        import bot.web.app  # noqa: F401  (only to tell whether the service exists here)
    except ImportError as exc:
        return {"skipped": f"bot.web.app is not importable ({exc})"}
    if not index_dir.exists():
        # Build the index here first: the server then only loads it (a fallback lane built in
        # its background would compete with the load), and several workers never race.
        from bot.matching.bot import FaqBot
        from bot.settings import load_settings

        FaqBot(load_settings(faq_dir=faq_dir, index_dir=index_dir, model=model)).reload()
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-http-") as tmp:
        work = Path(tmp)
        server = start_server(faq_dir, index_dir, model, work, workers=workers)
        try:
            idle = rss_mib(server.process.pid)
            # Warm-up: the first requests load the model and open database connections.
            load(server.url, questions, 2, min(40, max_requests), 10.0)
            runs = [
                load(server.url, questions, c, max_requests, max_seconds,
                     think_seconds=think_seconds)
                for c in levels
            ]
            full = [load(server.url, questions, c, max_requests, max_seconds) for c in saturation]
            mem = rss_mib(server.process.pid)
        finally:
            server.stop()
    return {
        "server": (f"faqbot serve: {workers} worker processes, a listening socket each"
                   if workers > 1 else "uvicorn bot.web.app:create_app --factory (1 process)"),
        "think_seconds": think_seconds,
        "levels": runs,
        "saturation": full,
        "rss_idle_mib": idle["rss_mib"],
        **mem,
    }


# ---------------------------------------------------------------- build and re-index

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


def bench_build(model: str, entries: int, phrasings: int) -> dict[str, Any]:
    """Build the index of a generated FAQ from scratch, then refresh it after one edit."""
    from bot.matching.bot import FaqBot
    from bot.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="faqbot-bench-build-") as tmp:
        faq_dir, index_dir = Path(tmp) / "faq", Path(tmp) / "index"
        synthetic_faq(faq_dir, entries, phrasings)
        settings = load_settings(faq_dir=faq_dir, index_dir=index_dir, model=model)
        bot = FaqBot(settings)
        for lane in bot.lanes:  # model loading is startup, not index building
            lane.embedder.embed(["warm up"])
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
        # Lanes go live one by one (pipeline.FaqBot.reload): shoppers are answered in every
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


# ---------------------------------------------------------------- report


def verdicts(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Return (what, measured, budget, verdict) rows for the budgets that were measured."""
    rows: list[tuple[str, str, str, str]] = []

    def row(
        what: str, value: float, budget: float, unit: str, lower_is_better: bool = True
    ) -> None:
        ok = value <= budget if lower_is_better else value >= budget
        sign = "<" if lower_is_better else ">="
        rows.append(
            (what, f"{value:g} {unit}", f"{sign} {budget:g} {unit}", "ok" if ok else "MISSED")
        )

    ip = result.get("in_process")
    if ip:
        row("answer in process, median", ip["ask_ms"]["median"], BUDGETS["in_process_median_ms"],
            "ms")  # fmt: skip
    http = result.get("http") or {}
    for lvl in http.get("levels", []):
        if lvl["concurrency"] == 8:
            row("HTTP median at 8 shoppers", lvl["latency_ms"]["median"],
                BUDGETS["http_median_ms_c8"], "ms")  # fmt: skip
            row("HTTP p95 at 8 shoppers", lvl["latency_ms"]["p95"], BUDGETS["http_p95_ms_c8"],
                "ms")  # fmt: skip
    if http.get("saturation"):
        best = max(lvl["answers_per_s"] for lvl in http["saturation"])
        row("HTTP answers per second (back to back, best level)", best,
            BUDGETS["http_answers_per_s"], "/s", lower_is_better=False)  # fmt: skip
    if "rss_mib" in http:
        row("server resident memory", http["rss_mib"], BUDGETS["rss_mib"], "MiB")
    b = result.get("build")
    if b:
        size = f"{b['entries']}x{b['phrasings'] // max(1, b['entries'])}"
        # A bridged lane searches the main index: it has nothing to build (bot/bridge.py).
        lanes = [lane for lane in b.get("lanes", []) if not lane.get("bridged")]
        every = ", all lanes" if len(lanes) > 1 else ""
        if len(lanes) > 1:
            row(f"index {size} until every language is answered (main lane live)",
                b["serve_seconds"], BUDGETS["build_seconds"], "s")  # fmt: skip
        row(f"index build {size}{every}", b["build_seconds"], BUDGETS["build_seconds"], "s")
        row(f"re-index one changed entry{every}", b["reindex_seconds"],
            BUDGETS["reindex_seconds"], "s")  # fmt: skip
        for lane in lanes if len(lanes) > 1 else []:
            row(f"  of which the {lane['model'].split('@')[0]} lane", lane["reindex_seconds"],
                BUDGETS["reindex_seconds"], "s")  # fmt: skip
    return rows


def render(result: dict[str, Any]) -> str:
    """Format a bench result as Markdown tables."""
    m = result["machine"]
    lines = [
        f"# faqbot bench ({result['started']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} usable cores, {m['memory_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}, load average {m.get('load_average')} at start, speed probe "
        f"{m.get('speed_probe_ms', '?')} ms (a 1M-step Python loop; lower is faster). "
        f"Model: {result['model']}.",
        "",
    ]
    rows = verdicts(result)
    if rows:
        lines += ["| measure | measured | budget | |", "|---|---|---|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
        lines.append("")
    ip = result.get("in_process")
    if ip:
        lines += [
            f"In process ({ip['entries']} entries, {ip['phrasings']} phrasings, {ip['model']}):",
            "",
            "| step | median ms | p95 ms | p99 ms |",
            "|---|---|---|---|",
        ]
        for key, label in (("ask_ms", "FaqBot.ask (all)"), ("detect_ms", "  detect language"),
                           ("embed_ms", "  embed query"),
                           ("search_ms", "  index search"), ("decide_ms", "  decide")):  # fmt: skip
            if key in ip:
                p = ip[key]
                lines.append(f"| {label} | {p['median']} | {p['p95']} | {p['p99']} |")
        if "embed_ms_use_1_thread" in ip:
            p = ip["embed_ms_use_1_thread"]
            lines.append(
                f"| (probe) embed query, USE with 1 BLAS thread | {p['median']} | {p['p95']} "
                f"| {p['p99']} |"
            )
        lines += [
            "",
            f"One thread: {ip['answers_per_s_one_thread']} answers/s. Embedding cost per question "
            f"when batched: 8 -> {ip['embed_ms_per_question_batch8']} ms, "
            f"32 -> {ip['embed_ms_per_question_batch32']} ms.",
            "",
        ]
    http = result.get("http")
    if http and "skipped" in http:
        lines += [f"HTTP: skipped ({http['skipped']}).", ""]
    elif http:
        lines += [
            f"HTTP ({http['server']}, POST /api/chat; a new conversation every 5 messages):",
            "",
            "| shoppers | pace | requests | median ms | p95 ms | p99 ms | answers/s | errors |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for lvl in [*http["levels"], *http.get("saturation", [])]:
            p = lvl["latency_ms"]
            think = lvl.get("think_seconds", 0.0)
            pace = f"~{think:g} s between messages" if think else "back to back"
            lines.append(
                f"| {lvl['concurrency']} | {pace} | {p['n']} | {p['median']} | {p['p95']} | "
                f"{p['p99']} | {lvl['answers_per_s']} | {lvl['errors']} |"
            )
        lines += [
            "",
            f"Server memory: {http['rss_idle_mib']} MiB idle, {http['rss_mib']} MiB after load, "
            f"peak {http['peak_rss_mib']} MiB.",
            "",
        ]
    b = result.get("build")
    if b:
        lines += [
            f"Build: {b['entries']} entries, {b['phrasings']} phrasings in {b['build_seconds']} s "
            f"({b['build_embedded']} embedded, {b['phrasings_per_s']} /s); one changed entry "
            f"re-indexed in {b['reindex_seconds']} s ({b['reindex_embedded']} embedded, "
            f"{b['reindex_reused']} reused).",
            "",
        ]
        if b.get("lanes"):
            lines += [
                "| lane (live in this order) | phrasings | build s | live after s "
                "| re-index s | re-embedded |",
                "|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {lane['model']} | "
                f"{'(main index)' if lane.get('bridged') else lane['phrasings']} | "
                f"{lane['build_seconds']} | "
                f"{lane['live_after_seconds']} | {lane['reindex_seconds']} | "
                f"{lane['reindex_embedded']} |"
                for lane in b["lanes"]
            ]
            lines.append("")
    return "\n".join(lines)


def run(
    faq_dir: Path,
    model: str,
    questions_path: Path | None,
    quick: bool = False,
    parts: Sequence[str] = ("in_process", "http", "build"),
    levels: Sequence[int] = (1, 8, 32),
    requests: int | None = None,
    seconds: float | None = None,
    entries: int | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    think_seconds: float = 1.0,
    saturation: Sequence[int] = (8, 32),
) -> dict[str, Any]:
    """Run the chosen parts and return one result dictionary."""
    say = progress or (lambda _msg: None)
    questions = load_questions(questions_path)
    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "model": model,
        "quick": quick,
        "budgets": BUDGETS,
    }
    tmp = Path(tempfile.mkdtemp(prefix="faqbot-bench-"))
    try:
        index_dir = tmp / "index"
        if "in_process" in parts:
            say("in process ...")
            result["in_process"] = bench_in_process(
                faq_dir, index_dir, model, questions, 100 if quick else 1000
            )
        if "http" in parts:
            say("over HTTP ...")
            result["http"] = bench_http(
                faq_dir,
                index_dir,
                model,
                questions,
                levels if not quick else [c for c in levels if c <= 8] or [1],
                requests or (40 if quick else 2000),
                seconds or (5.0 if quick else 30.0),
                workers,
                think_seconds,
                [c for c in saturation if c <= 8] or [1] if quick else saturation,
            )
        if "build" in parts:
            say("index build ...")
            result["build"] = bench_build(model, entries or (200 if quick else 5000), 5)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def _levels(text: str, flag: str) -> list[int]:
    try:
        levels = [int(c) for c in text.split(",") if c.strip()]
    except ValueError as exc:
        raise ConfigError(f"{flag} takes numbers like 1,8,32, got {text}") from exc
    if not levels or min(levels) < 1:
        raise ConfigError(f"{flag} needs at least one level of 1 or more")
    return levels


def cmd_bench(args: argparse.Namespace) -> int:
    """Run `faqbot bench`."""
    from bot.settings import load_settings

    s = load_settings()
    parts = [p for p in ("in_process", "http", "build") if p not in (args.skip or [])]
    levels = _levels(args.concurrency, "--concurrency")
    if args.think < 0:
        raise ConfigError("--think needs 0 seconds or more")
    from bot.runtime.workers import MAX_WORKERS, worker_count

    if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
        raise ConfigError(f"--workers needs 0 (one per usable core) to {MAX_WORKERS}")

    workers = worker_count(s.workers if args.workers is None else args.workers)
    queries = Path(args.queries) if args.queries else Path("tests/data/shop_questions_test.jsonl")
    result = run(
        Path(args.faq_dir) if args.faq_dir else s.faq_dir,
        args.model or s.model,
        queries,
        quick=args.quick,
        parts=parts,
        levels=levels,
        requests=args.requests,
        seconds=args.seconds,
        entries=args.entries,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        workers=workers,
        think_seconds=args.think,
        saturation=_levels(args.saturation, "--saturation"),
    )
    text = json.dumps(result, ensure_ascii=False, sort_keys=True) if args.json else render(result)
    print(text)
    if args.out:
        Path(args.out).write_text(render(result) + "\n")
    return 0


def register(sub: Any) -> None:
    """Add the `bench` subcommand to the faqbot CLI."""
    p = sub.add_parser("bench", help="speed report: latency, throughput, build time, memory")
    p.add_argument("--faq-dir", help="FAQ to answer from (default FAQBOT_FAQ_DIR)")
    p.add_argument("--model", help="use, e5, use+e5 or st:<path> (default FAQBOT_MODEL)")
    p.add_argument(
        "--queries", help="JSONL of questions to send (default tests/data/shop_questions_test)"
    )
    p.add_argument("--quick", action="store_true", help="a small, fast run (smoke test)")
    p.add_argument(
        "--skip", action="append", choices=["in_process", "http", "build"], help="skip a part"
    )
    p.add_argument("--concurrency", default="1,8,32", help="concurrent shoppers (default 1,8,32)")
    p.add_argument(
        "--think", type=float, default=1.0,
        help="mean seconds a shopper reads and types between messages (default 1; people "
        "take 10-60)",
    )  # fmt: skip
    p.add_argument(
        "--saturation", default="8,32",
        help="clients sending back to back, for capacity in answers/s (default 8,32)",
    )  # fmt: skip
    p.add_argument("--requests", type=int, help="requests per level (default 2000)")
    p.add_argument("--seconds", type=float, help="time limit per level (default 30)")
    p.add_argument(
        "--workers", type=int,
        help="server processes for the HTTP part, as `faqbot serve` (default FAQBOT_WORKERS: "
        "one per usable core, at most 4)",
    )  # fmt: skip
    p.add_argument("--entries", type=int, help="entries in the generated FAQ (default 5000)")
    p.add_argument("--out", help="also write the Markdown report to this file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_bench)
