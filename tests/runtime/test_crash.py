"""A server killed with SIGKILL mid-handoff restarts with every acknowledged ticket present."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.faqs import write_tiny_faq
from tests.support.servers import server_env

pytestmark = pytest.mark.slow

AGENT = {"Authorization": "Bearer dev-agent-key"}  # the development user dev-agent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A real `uvicorn bot.web.app:create_app --factory` process on a free port."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = server_env(home, FAQBOT_RATE_LIMIT_PER_MINUTE="100000")
        self.log = (home / f"server-{self.port}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bot.web.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=home, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, seconds: float = 180.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready within {seconds} s")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    write_tiny_faq(tmp_path / "faq")
    yield tmp_path


def test_sigkill_during_handoffs_loses_no_acknowledged_ticket(home: Path) -> None:
    first = Server(home)
    acknowledged: dict[int, str] = {}  # ticket id -> the shopper's words
    lock = threading.Lock()
    stop = threading.Event()
    try:
        first.wait_ready()

        def shopper(n: int) -> None:
            with httpx.Client(base_url=first.url, timeout=10) as http:
                for i in range(200):  # bounded: the kill ends it much sooner
                    if stop.is_set():
                        return
                    text = f"talk to a human about order {n}-{i}"
                    try:
                        r = http.post("/api/chat", json={"message": text})
                    except httpx.HTTPError:
                        return  # the server is gone: this request was never acknowledged
                    if r.status_code == 200:
                        body = r.json()
                        assert body["action"] == "handoff"
                        with lock:
                            acknowledged[body["ticket_id"]] = text

        threads = [threading.Thread(target=shopper, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        first.kill()  # SIGKILL while the shoppers are still sending
        stop.set()
        for t in threads:
            t.join(timeout=30)
    finally:
        stop.set()
        first.kill()
    assert len(acknowledged) >= 40

    second = Server(home)
    try:
        second.wait_ready()
        with httpx.Client(base_url=second.url, timeout=10, headers=AGENT) as http:
            listed = http.get("/api/agent/tickets", params={"limit": 1000}).json()["tickets"]
            present = {t["id"] for t in listed}
            assert set(acknowledged) <= present
            for tid in list(acknowledged)[:5]:
                detail = http.get(f"/api/agent/tickets/{tid}").json()
                assert detail["transcript"][0]["text"] == acknowledged[tid]
                assert detail["reason"] == "asked_for_person"
    finally:
        second.kill()
