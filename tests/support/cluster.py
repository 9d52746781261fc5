"""Several real `faqbot serve` processes sharing a git remote, PostgreSQL and Redis.

Each server has its own FAQ clone and index folder, as machines behind a load balancer do;
they share a bare git repository on disk (the remote), one PostgreSQL schema and a private
redis-server (so a test may stop it). Requests can come from any 127.0.0.x address, which
lets a test be "one shopper" for the per-address limit without the other tests' traffic.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.store.db import Database
from bot.store.people import People
from tests.support.faqs import ROOT
from tests.support.people import SERVER_SECRET_KEY
from tests.support.redis_server import PrivateRedis
from tests.support.servers import free_port, server_env

# The development users (dev-agent, dev-lead), where who acts does not matter.
AGENT = {"X-Agent-Key": "dev-agent-key"}
LEAD = {"X-Lead-Key": "dev-lead-key"}


@dataclass
class Server:
    """One `faqbot serve` process (one worker) with its own clone and index."""

    name: str
    home: Path
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    # One kept-alive client per source address: a new client per request costs more than
    # the request (its set-up showed in every figure).
    clients: dict[str, httpx.Client] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, source: str = "127.0.0.1", timeout: float = 60) -> httpx.Client:
        """Return a client whose requests come from ``source`` (any 127.0.0.x address)."""
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=self.url, transport=transport, timeout=timeout)

    def kept(self, source: str = "127.0.0.1") -> httpx.Client:
        """Return this server's kept-alive client for ``source`` (thread-safe)."""
        with self.lock:
            if source not in self.clients:
                self.clients[source] = self.client(source)
            return self.clients[source]

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.kept().get(path, **kw)

    def post(self, path: str, body: object = None, source: str = "127.0.0.1",
             **kw: Any) -> httpx.Response:
        return self.kept(source).post(path, json=body, **kw)

    def index_version(self) -> str | None:
        version: str | None = self.get("/api/lead/status", headers=LEAD).json()["index_version"]
        return version

    def ask(self, question: str, source: str = "127.0.0.1") -> dict[str, Any]:
        reply = self.post("/api/chat", {"message": question, "language": "en"}, source=source)
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    def kill(self) -> None:
        """kill -9: no shutdown of any kind."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        for client in self.clients.values():
            client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


@dataclass
class Cluster:
    """The servers and what they share."""

    root: Path
    remote: Path
    database_url: str
    redis_server: PrivateRedis
    redis_prefix: str
    servers: list[Server] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def start(self, name: str, **env: str) -> Server:
        """Start a server (its clone and index under root/name); do not wait for it."""
        home = self.root / name
        home.mkdir(parents=True, exist_ok=True)
        port = free_port()
        environ = server_env(
            home,
            FAQBOT_DATABASE_URL=self.database_url,
            FAQBOT_FAQ_REMOTE=str(self.remote),
            FAQBOT_REDIS_URL=self.redis_server.url,
            FAQBOT_REDIS_PREFIX=self.redis_prefix,
            FAQBOT_FALLBACK_MODEL="",
            FAQBOT_SECRET_KEY=SERVER_SECRET_KEY,
            **env,
        )
        log = home / "server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--workers", "1"],
                cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT,
            )
        server = Server(name, home, port, proc, log)
        self.servers.append(server)
        return server

    def wait_ready(self, timeout: float = 240) -> None:
        """Wait until every server answers /ready with 200."""
        deadline = time.monotonic() + timeout
        waiting = list(self.servers)
        while waiting:
            for server in list(waiting):
                assert server.proc.poll() is None, server.log.read_text(errors="replace")
                try:
                    if server.get("/ready", timeout=2).status_code == 200:
                        waiting.remove(server)
                except httpx.HTTPError:
                    pass
            assert time.monotonic() < deadline, f"not ready: {[s.name for s in waiting]}"
            time.sleep(0.2)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def person(self, name: str, role: str = "agent") -> dict[str, str]:
        """Add a person to the shared database; return headers with their key."""
        db = Database(self.database_url)
        try:
            key = People(db, SERVER_SECRET_KEY).add(name, role)
        finally:
            db.dispose()
        return {"Authorization": f"Bearer {key}"}


def wait_for(check: Any, timeout: float = 60, every: float = 0.05) -> float:
    """Call ``check`` until it returns true; return the seconds that took (fail at timeout)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"not true after {timeout} s: {check}"
        time.sleep(every)
    return time.monotonic() - started


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (event, data) pairs from a server-sent events response as they arrive."""
    event, data = "message", ""
    for line in response.iter_lines():
        if not line:
            if data:
                yield event, json.loads(data)
            event, data = "message", ""
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


def env_figures_path() -> Path | None:
    """Where to write the measured figures, when FAQBOT_SCALE_FIGURES names a file."""
    name = os.environ.get("FAQBOT_SCALE_FIGURES")
    return Path(name) if name else None
