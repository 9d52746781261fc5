"""`faqbot bench` over HTTP: a real server process loaded by concurrent shoppers."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.devtools.bench.system import free_port, percentiles, rss_mib
from bot.errors import FaqbotError
from bot.matching.bot import FaqBot
from bot.settings import Settings

APP = "bot.web.app:create_app"  # the app factory the server processes run
# uvicorn's keep-alive timeout is 5 s: after a longer pause a shopper's browser reconnects.
IDLE_RECONNECT_SECONDS = 4.0


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
        cmd = [sys.executable, "-m", "bot.runtime.workers", APP, "127.0.0.1", str(port),
               str(workers), "warning"]
    else:
        cmd = [
            sys.executable, "-m", "uvicorn", APP, "--factory",
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
    settings: Settings,
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
    if not settings.index_dir.exists():
        # Build the index here first: the server then only loads it (a fallback lane built in
        # its background would compete with the load), and several workers never race.
        FaqBot(settings).reload()
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-http-") as tmp:
        work = Path(tmp)
        server = start_server(settings.faq_dir, settings.index_dir, settings.model, work,
                              workers=workers)
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
                   if workers > 1 else f"uvicorn {APP} --factory (1 process)"),
        "think_seconds": think_seconds,
        "levels": runs,
        "saturation": full,
        "rss_idle_mib": idle["rss_mib"],
        **mem,
    }
