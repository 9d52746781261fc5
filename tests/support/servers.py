"""Real servers for tests: `uvicorn bot.web.app:create_app`, and `faqbot serve --workers 2`.

Each runs in a subprocess on a free 127.0.0.1 port with its FAQ, index and database under the
test's tmp folder, and the environment cleared of the developer's FAQBOT_* variables.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.faqs import ROOT, write_tiny_faq
from tests.support.people import SERVER_SECRET_KEY

APP = "bot.web.app:create_app"


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(tmp: Path, settings: dict[str, str]) -> Iterator[str]:
    """Run `uvicorn bot.web.app:create_app` in ``tmp`` with FAQBOT_* ``settings``; yield its URL.

    The FAQ, index, database and packs live under ``tmp`` (faq/, index/, faqbot.db, packs/).
    """
    (tmp / "packs").mkdir(exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FAQBOT_ENVIRONMENT": "development",
        "FAQBOT_FAQ_DIR": str(tmp / "faq"),
        "FAQBOT_INDEX_DIR": str(tmp / "index"),
        "FAQBOT_DATABASE_URL": f"sqlite:///{tmp / 'faqbot.db'}",
        "FAQBOT_PACKS_DIR": str(tmp / "packs"),  # no translation: replies arrive verbatim
        "FAQBOT_RATE_LIMIT_PER_MINUTE": "1000",
        "FAQBOT_SECRET_KEY": SERVER_SECRET_KEY,  # tests.support.people.add_to_server's
        **settings,
    }
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        # cwd=tmp so a developer's .env in the checkout cannot change the test server.
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", APP,
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # first start embeds the FAQ with the real model
        while True:
            if proc.poll() is not None:
                pytest.fail("server exited:\n" + log_path.read_text(errors="replace")[-3000:])
            try:
                if httpx.get(base + "/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server not ready:\n" + log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def server_env(home: Path, **settings: str) -> dict[str, str]:
    """The environment of a test server under ``home``: no FAQBOT_* but the test's own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FAQBOT_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({
        "FAQBOT_FAQ_DIR": str(home / "faq"),
        "FAQBOT_INDEX_DIR": str(home / "index"),
        "FAQBOT_DATABASE_URL": f"sqlite:///{home / 'data' / 'faqbot.db'}",
        "FAQBOT_RELOAD_POLL_SECONDS": "0",
        "FAQBOT_PACKS_DIR": str(home / "packs"),
        "PYTHONPATH": str(ROOT),
        **settings,
    })  # fmt: skip
    return env


@contextmanager
def two_worker_server(home: Path, **env: str) -> Iterator[int]:
    """Start the server with FAQBOT_* ``env`` on top of test defaults; yield its port."""
    with faqbot_serve(home, 2, **env) as port:
        yield port


@contextmanager
def faqbot_serve(home: Path, workers: int, **env: str) -> Iterator[int]:
    """Run `faqbot serve --workers N` on the tiny FAQ with FAQBOT_* ``env``; yield its port.

    Its log (the JSON access lines included) is ``home``/server.log.
    """
    write_tiny_faq(home / "faq")
    port = free_port()
    environ = server_env(home, FAQBOT_FALLBACK_MODEL="", **env)
    log_path = home / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port),
             "--workers", str(workers)],
            cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "not ready in 180 s"
                try:
                    # Each new connection may reach either worker: wait until both answer.
                    if {httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code
                            for _ in range(8)} == {200}:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def burst(port: int, request: bytes, n: int = 16) -> list[bytes]:
    """Open n connections at once (they spread over the workers), send ``request`` on each.

    ``request`` must ask the server to close the connection: each reply is read to the end.
    """
    conns = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(n)]
    replies = []
    try:
        for conn in conns:
            conn.sendall(request)
            reply = b""
            while chunk := conn.recv(1 << 16):
                reply += chunk
            replies.append(reply)
    finally:
        for conn in conns:
            conn.close()
    return replies


def post_chat(message: str) -> bytes:
    """Return a raw HTTP/1.1 POST /api/chat request (the connection then closes)."""
    body = json.dumps({"message": message}).encode()
    return (b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
            + body)
