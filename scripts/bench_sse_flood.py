"""Chat latency while a flood of event streams is held open against one server (issue 14).

Usage: python scripts/bench_sse_flood.py URL [--streams 1000] [--addresses 1] [--chats 200]

Opens STREAMS server-sent event streams (GET /api/conversations/{id}/events) spread over
250 conversations and ADDRESSES source addresses (127.0.0.1, 127.0.0.2, ...: every
127.x.y.z is this machine), keeps them open, and measures POST /api/chat one at a time:
first with no streams, then under the flood. Prints one JSON line. Bounded: only to
127.0.0.1, and every stream is closed at the end. The server's FAQBOT_RATE_LIMIT_PER_MINUTE
must allow the 250 chats that make the conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
from urllib.parse import urlsplit

import httpx

CONVERSATIONS = 250


def chat_latencies(url: str, n: int) -> list[float]:
    """Return the milliseconds of ``n`` chat turns, one after the other, in one conversation."""
    out = []
    sid = None
    with httpx.Client(base_url=url, timeout=60) as http:
        for i in range(n):
            started = time.perf_counter()
            r = http.post("/api/chat", json={"session_id": sid,
                                             "message": f"how long do I have to return it {i}"})
            out.append((time.perf_counter() - started) * 1000)
            if r.status_code == 200:
                sid = r.json()["session_id"]
    return out


async def _hold(host: str, port: int, path: str, source: str, stop: asyncio.Event,
                statuses: list[int]) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    except OSError:
        statuses.append(0)
        return
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
                 .encode())
    try:
        line = await asyncio.wait_for(reader.readline(), 30)
        statuses.append(int(line.split()[1]) if line.startswith(b"HTTP/") else 0)
        while not stop.is_set():  # drain, so the server never waits on a full socket
            try:
                if not await asyncio.wait_for(reader.read(65536), 0.5):
                    break
            except TimeoutError:
                continue
    except (OSError, TimeoutError, ValueError, IndexError):
        statuses.append(0)
    finally:
        writer.close()


def flood(url: str, sids: list[str], streams: int, addresses: int,
          ready: threading.Event, stop_flag: threading.Event, statuses: list[int]) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80

    async def main() -> None:
        stop = asyncio.Event()
        tasks = []
        for i in range(streams):
            a = i % addresses
            source = f"127.0.{a // 250}.{1 + a % 250}"
            path = f"/api/conversations/{sids[i % len(sids)]}/events?timeout=300"
            tasks.append(asyncio.create_task(_hold(host, port, path, source, stop, statuses)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)  # open them over a second or two, not in one burst
        while len(statuses) < streams:
            await asyncio.sleep(0.1)
        ready.set()
        while not stop_flag.is_set():
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def summary(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"median_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--addresses", type=int, default=1)
    ap.add_argument("--chats", type=int, default=200)
    args = ap.parse_args()
    if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("only a server on this machine (127.0.0.1) may be flooded")
    with httpx.Client(base_url=args.url, timeout=60) as http:
        sids = [http.post("/api/chat", json={"message": "hello"}).json()["session_id"]
                for _ in range(CONVERSATIONS)]
    chat_latencies(args.url, 20)  # warm up
    quiet = chat_latencies(args.url, args.chats)
    ready, stop = threading.Event(), threading.Event()
    statuses: list[int] = []
    t = threading.Thread(target=flood, args=(args.url, sids, args.streams, args.addresses,
                                             ready, stop, statuses), daemon=True)
    t.start()
    ready.wait(300)
    time.sleep(2)
    loaded = chat_latencies(args.url, args.chats)
    stop.set()
    t.join(60)
    counts = {str(s): statuses.count(s) for s in sorted(set(statuses))}
    print(json.dumps({"streams": args.streams, "addresses": args.addresses,
                      "stream_status": counts, "quiet": summary(quiet),
                      "flood": summary(loaded)}))


if __name__ == "__main__":
    main()
