"""Three `faqbot serve` processes behind one address: git remote, PostgreSQL, Redis (issue 19).

Real parts only: a bare git repository on disk is the FAQ remote, the PostgreSQL server on
127.0.0.1:5432 holds the queue (a schema of this module's own), and a private redis-server
counts limits and carries live events (private so the test may stop it). The servers start
together on an empty schema, so they also show that the migrations run once.

The figures the issue asks for (edit propagation, event latency across servers, limit
accuracy) are measured here and printed; FAQBOT_SCALE_FIGURES=path also writes them as JSON.
They are written down, never asserted: timings are not pass/fail (see BENCHMARKS.md).
"""

from __future__ import annotations

import json
import os
import queue
import statistics
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.support.cluster import (
    AGENT,
    LEAD,
    Cluster,
    Server,
    env_figures_path,
    sse_events,
    wait_for,
)
from tests.support.faqs import TINY_FAQ
from tests.support.gitrepo import bare_remote, commit_and_push, lead_clone, remote_file, remote_log
from tests.support.postgres import drop_schema, fresh_schema
from tests.support.redis_server import PrivateRedis

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SCHEMA = f"faqbot_scale_{os.getpid()}"
RATE_LIMIT = 40  # per address per minute, on every server
# Kept short for the suite; FAQBOT_SCALE_FETCH_SECONDS=5 measures the default.
FETCH_SECONDS = float(os.environ.get("FAQBOT_SCALE_FETCH_SECONDS", "2"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("scale")
    remote = bare_remote(root, {"shop.yaml": textwrap.dedent(TINY_FAQ).lstrip()})
    redis_server = PrivateRedis(root / "redis")
    redis_server.start()
    c = Cluster(root, remote, fresh_schema(SCHEMA), redis_server,
                f"faqbot-scale-{uuid.uuid4().hex[:8]}")
    settings = {"FAQBOT_FAQ_FETCH_SECONDS": str(FETCH_SECONDS),
                "FAQBOT_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT)}
    try:
        for name in ("a", "b", "c"):  # together, on an empty schema
            c.start(name, **settings)
        c.wait_ready()
        yield c
    finally:
        c.stop()
        redis_server.stop()
        drop_schema(SCHEMA)
        print("\nscale-out figures:", json.dumps(c.figures, indent=1))
        out = env_figures_path()
        if out is not None:
            out.write_text(json.dumps(c.figures, indent=1), encoding="utf-8")


def servers(cluster: Cluster) -> tuple[Server, Server, Server]:
    a, b, c = cluster.servers
    return a, b, c


def test_servers_started_together_migrated_once(cluster: Cluster) -> None:
    engine = sa.create_engine(cluster.database_url)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1
    for server in cluster.servers:
        health = server.get("/health").json()
        assert health["faq_remote"]["error"] is None
        assert health["faq_remote"]["head"] == remote_log(cluster.remote, "%H")[0]
        assert health["redis"] == "ok"


def test_a_lead_edit_on_a_is_answered_by_b_and_is_the_remote_newest_commit(
    cluster: Cluster,
) -> None:
    a, b, _ = servers(cluster)
    phrase = "Do you ship typewriter ribbons to the Faroe Islands?"
    first = b.ask(phrase, "127.0.1.1")
    assert (first["action"], first["faq_id"]) != ("answer", "shipping-time")
    before = b.index_version()
    edit = a.post("/api/lead/clusters/add-phrasings",
                  {"entry_id": "shipping-time", "questions": [phrase], "lang": "en"},
                  headers=cluster.person("Alice Lead", "lead"))
    assert edit.status_code == 200, edit.text
    acknowledged = time.monotonic()
    assert remote_log(cluster.remote, "%an|%s")[0].startswith("Alice Lead|")
    assert phrase in remote_file(cluster.remote, "shop.yaml")
    wait_for(lambda: b.index_version() != before, timeout=60)
    reply = b.ask(phrase, "127.0.1.2")
    propagation = time.monotonic() - acknowledged
    assert (reply["action"], reply["faq_id"]) == ("answer", "shipping-time")
    cluster.figures["edit_propagation_s"] = round(propagation, 2)
    cluster.figures["fetch_seconds"] = FETCH_SECONDS
    history = a.get("/api/lead/commits", headers=LEAD).json()["commits"]
    assert history[0]["author"] == "Alice Lead"


def test_an_edit_pushed_from_a_lead_clone_reaches_every_server(
    cluster: Cluster, tmp_path: Path
) -> None:
    clone = lead_clone(cluster.remote, tmp_path / "lead")
    (clone / "gifts.yaml").write_text(textwrap.dedent("""
        entries:
          - id: gift-wrap
            questions:
              en: [Can you gift wrap my order?, Do you offer gift wrapping?]
            answer:
              en: Yes, tick "gift wrap" at checkout.
        """).lstrip(), encoding="utf-8")
    commit_and_push(clone, "gift wrapping", author="Gita Lead <gita@example.com>")
    pushed = time.monotonic()
    seconds = []
    for i, server in enumerate(cluster.servers):
        source = f"127.0.2.{i + 1}"
        wait_for(lambda s=server, src=source: s.ask("Do you offer gift wrapping?", src)[
            "faq_id"] == "gift-wrap", timeout=60, every=0.5)
        seconds.append(round(time.monotonic() - pushed, 2))
    cluster.figures["lead_push_to_all_servers_s"] = max(seconds)


def test_concurrent_edits_from_two_servers_lose_nothing(cluster: Cluster) -> None:
    a, b, _ = servers(cluster)
    leads = {tag: cluster.person(f"lead {tag}", "lead") for tag in ("A", "B")}
    acknowledged: list[str] = []
    refused: list[str] = []
    other: list[str] = []

    def edits(server: Server, tag: str) -> None:
        for i in range(4):
            phrase = f"Can I pay with voucher code {tag}{i} from the spring catalogue?"
            entry = "payment-methods" if i % 2 else "returns-window"
            r = server.post("/api/lead/clusters/add-phrasings",
                            {"entry_id": entry, "questions": [phrase], "lang": "en"},
                            headers=leads[tag])
            if r.status_code == 200:
                acknowledged.append(phrase)
            elif r.status_code == 409:  # refused with a reason, nothing saved
                refused.append(phrase)
            else:
                other.append(f"{r.status_code} {r.text}")

    threads = [threading.Thread(target=edits, args=(s, t)) for s, t in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    text = remote_file(cluster.remote, "shop.yaml")
    lost = [p for p in acknowledged if p not in text]
    cluster.figures["concurrent_edits"] = {"acknowledged": len(acknowledged),
                                           "refused_409": len(refused), "lost": len(lost)}
    assert other == []
    assert lost == []
    assert len(acknowledged) >= 4  # retries on the new head let most through


def test_a_ticket_opened_on_a_is_claimed_on_b_and_a_second_claim_on_a_gets_409(
    cluster: Cluster,
) -> None:
    a, b, _ = servers(cluster)
    chat = a.post("/api/chat", {"message": "I want to talk to a person", "human": True},
                  source="127.0.3.1")
    ticket = chat.json()["ticket_id"]
    assert ticket is not None
    won = b.post(f"/api/agent/tickets/{ticket}/claim", headers=cluster.person("bea"))
    assert won.status_code == 200 and won.json()["claimed_by"] == "bea"
    lost = a.post(f"/api/agent/tickets/{ticket}/claim", headers=cluster.person("abe"))
    assert lost.status_code == 409 and "bea" in lost.json()["detail"]


def test_one_address_over_both_servers_meets_one_limit(cluster: Cluster) -> None:
    a, b, _ = servers(cluster)
    statuses = [(a if i % 2 else b).post("/api/chat", {"message": "hello"},
                                          source="127.0.4.1").status_code
                for i in range(2 * RATE_LIMIT)]
    allowed = statuses.count(200)
    assert set(statuses) == {200, 429}
    cluster.figures["limit"] = {"limit_per_minute": RATE_LIMIT, "sent_over_two_servers":
                                len(statuses), "allowed": allowed}
    assert allowed == RATE_LIMIT


class Stream:
    """A shopper's event stream held open on one server, read on a thread."""

    def __init__(self, server: Server, session_id: str, after: int) -> None:
        self.events: queue.Queue[tuple[float, str, dict[str, Any]]] = queue.Queue()
        self._client = server.client("127.0.5.9", timeout=120)
        self._url = f"/api/conversations/{session_id}/events?after={after}&timeout=120"
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with self._client.stream("GET", self._url) as response:
                for event, data in sse_events(response):
                    self.events.put((time.monotonic(), event, data))
        except httpx.HTTPError:
            pass

    def next_agent_message(self, text: str, timeout: float = 30) -> float:
        deadline = time.monotonic() + timeout
        while True:
            at, event, data = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if event == "message" and data.get("role") == "agent" and data["text"] == text:
                return at

    def close(self) -> None:
        self._client.close()


def handed_off(server: Server, source: str) -> tuple[str, int, int]:
    body = server.post("/api/chat", {"message": "I need a human", "human": True},
                       source=source).json()
    return body["session_id"], body["ticket_id"], body["cursor"]


def test_an_agent_reply_through_a_reaches_a_shopper_streaming_from_b(cluster: Cluster) -> None:
    a, b, _ = servers(cluster)
    sid, ticket, cursor = handed_off(a, "127.0.5.1")
    agent = cluster.person("ann")
    assert a.post(f"/api/agent/tickets/{ticket}/claim", headers=agent).status_code == 200
    stream = Stream(b, sid, cursor)
    try:
        time.sleep(0.5)  # let the stream start (not a timing assertion)
        latencies = []
        for i in range(10):
            text = f"Reply number {i}"
            sending = time.monotonic()
            sent = a.post(f"/api/agent/tickets/{ticket}/reply", {"text": text}, headers=agent)
            assert sent.status_code == 200, sent.text
            # From the agent pressing send to the shopper's stream on B having it.
            latencies.append(stream.next_agent_message(text) - sending)
    finally:
        stream.close()
    cluster.figures["event_latency_a_to_b_ms"] = {
        "median": round(statistics.median(latencies) * 1000, 1),
        "max": round(max(latencies) * 1000, 1), "n": len(latencies)}


def test_a_claim_on_a_reaches_an_agent_console_on_b(cluster: Cluster) -> None:
    a, b, _ = servers(cluster)
    arrived: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
    console = b.client(timeout=120)

    def listen() -> None:
        try:
            with console.stream("GET", "/api/agent/events?timeout=60", headers=AGENT) as response:
                for event, data in sse_events(response):
                    if event == "queue":
                        arrived.put((time.monotonic(), data))
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test

    threading.Thread(target=listen, daemon=True).start()
    try:
        time.sleep(0.5)  # let the stream start (not a timing assertion)
        _, ticket, _ = handed_off(a, "127.0.6.1")
        claimed = time.monotonic()
        assert a.post(f"/api/agent/tickets/{ticket}/claim",
                      headers=cluster.person("cat")).status_code == 200
        seen: dict[str, float] = {}
        while "claimed" not in seen:
            at, data = arrived.get(timeout=30)
            if data.get("ticket_id") == ticket:
                seen.setdefault(str(data.get("what")), at)
    finally:
        console.close()
    assert "opened" in seen
    cluster.figures["queue_event_latency_a_to_b_ms"] = round((seen["claimed"] - claimed) * 1000, 1)


def test_redis_stopped_mid_traffic_gives_no_5xx(cluster: Cluster) -> None:
    a, b, _ = servers(cluster)
    redis_server = cluster.redis_server
    sid, ticket, cursor = handed_off(a, "127.0.7.1")
    agent = cluster.person("dan")
    assert b.post(f"/api/agent/tickets/{ticket}/claim", headers=agent).status_code == 200
    stream = Stream(b, sid, cursor)
    statuses: list[int] = []
    stop = threading.Event()

    def traffic() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            server = (a, b)[n % 2]
            try:
                r = server.post("/api/chat", {"message": f"Where is parcel {n}?"},
                                source=f"127.0.8.{n % 200 + 1}")
                statuses.append(r.status_code)
                if r.status_code == 200:
                    own = r.json()["session_id"]
                    statuses.append(server.get(f"/api/conversations/{own}/messages").status_code)
            except httpx.HTTPError:
                statuses.append(0)

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        time.sleep(1.0)
        redis_server.stop()
        time.sleep(3.0)  # traffic goes on without Redis
        reply = a.post(f"/api/agent/tickets/{ticket}/reply", {"text": "while Redis is down"},
                       headers=agent)
        assert reply.status_code == 200
        stream.next_agent_message("while Redis is down")  # by polling the database
        assert b.get("/health").json()["redis"] == "down"
    finally:
        stop.set()
        worker.join()
        redis_server.start()
        stream.close()
    assert statuses and not [s for s in statuses if s >= 500 or s == 0]
    cluster.figures["redis_outage_requests"] = {"total": len(statuses),
                                                "5xx_or_dropped": 0}
    wait_for(lambda: b.get("/health").json()["redis"] == "ok", timeout=60, every=0.2)


def test_kill_9_of_one_server_leaves_the_others_answering_and_loses_nothing(
    cluster: Cluster,
) -> None:
    a, b, c = servers(cluster)
    acknowledged: list[tuple[str, int]] = []
    after_kill: list[int] = []
    killed = threading.Event()
    stop = threading.Event()

    def traffic() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            server = (a, b, c)[n % 3]
            try:
                r = server.post("/api/chat", {"message": f"Please call me about order {n}",
                                              "human": True}, source=f"127.0.9.{n % 200 + 1}")
            except httpx.HTTPError:
                continue  # not acknowledged: the balancer would retry elsewhere
            if killed.is_set() and server is not c:
                after_kill.append(r.status_code)
            if r.status_code == 200:
                acknowledged.append((r.json()["session_id"], r.json()["ticket_id"]))

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        wait_for(lambda: len(acknowledged) >= 15, timeout=120)
        c.kill()
        killed.set()
        wait_for(lambda: len(after_kill) >= 15, timeout=120)
    finally:
        stop.set()
        worker.join()
    assert set(after_kill) == {200}
    for sid, ticket in acknowledged:
        messages = a.get(f"/api/conversations/{sid}/messages").json()["messages"]
        assert any(m["role"] == "shopper" for m in messages), sid
        assert a.get(f"/api/agent/tickets/{ticket}", headers=AGENT).status_code == 200
    cluster.figures["kill_9"] = {"acknowledged_before_and_after": len(acknowledged),
                                 "lost": 0, "answered_after_kill": len(after_kill)}
