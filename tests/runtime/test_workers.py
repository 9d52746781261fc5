"""`faqbot serve --workers N`: one listening socket per worker, so connections spread out.

uvicorn's own --workers shares one socket, and a burst of keep-alive connections could all
land on one worker while the other core idled (bot/runtime/workers.py). These tests start the real
supervisor in a subprocess with a fake app that answers with its process id.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.runtime.workers import MAX_AUTO_WORKERS, listening_sockets, worker_count
from tests.support.faqs import ROOT, write_tiny_faq
from tests.support.servers import free_port, server_env


def test_sockets_share_one_port_and_set_nodelay() -> None:
    sockets = listening_sockets("127.0.0.1", 0, 3)
    try:
        assert len(sockets) == 3
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1 and ports != {0}
        for s in sockets:
            assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            assert s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
    finally:
        for s in sockets:
            s.close()


def test_a_taken_port_is_an_error() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(OSError):
            listening_sockets("127.0.0.1", other.getsockname()[1], 2)


@pytest.fixture()
def two_workers(tmp_path: Path) -> Iterator[str]:
    with pid_server(tmp_path) as url:
        yield url


@contextmanager
def pid_server(tmp_path: Path) -> Iterator[str]:
    """Run the supervisor with the fake app and two workers, TMPDIR=``tmp_path``."""
    port = free_port()
    code = ("from bot.runtime.workers import serve; "
            f"serve('tests.support.pid_app:create_app', '127.0.0.1', {port}, 2, 'warning', False)")
    # tests/ on the path by itself: site-packages may hold an unrelated package named tests.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
           # the server's shared directory, which a SIGKILLed supervisor cannot remove
           "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the server exited at start"
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def pids_of_burst(url: str, n: int = 16) -> list[int]:
    """Connect n sockets at once (as a burst of shoppers would), then one request on each."""
    port = int(url.rsplit(":", 1)[1].strip("/"))
    conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
    try:
        pids = []
        for conn in conns:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while not data.endswith(b"\r\n\r\n") and b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += conn.recv(4096)
            pids.append(int(body))
        return pids
    finally:
        for conn in conns:
            conn.close()


def test_a_burst_of_connections_reaches_both_workers(two_workers: str) -> None:
    pids = set(pids_of_burst(two_workers))
    # 16 connections hashed over 2 sockets all land on one with probability 2 / 65,536.
    assert len(pids) == 2


def test_a_dead_worker_is_replaced_on_its_socket(two_workers: str) -> None:
    before = set(pids_of_burst(two_workers))
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    after: set[int] = set()
    while time.monotonic() < deadline:
        try:
            after = set(pids_of_burst(two_workers))
        except OSError:
            after = set()
        if len(after) == 2 and victim not in after:
            break
        time.sleep(0.5)
    assert victim not in after and len(after) == 2


def test_worker_count_defaults_to_the_usable_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert worker_count(0) == max(1, min(cores, MAX_AUTO_WORKERS))
    assert worker_count(3) == 3


def test_workers_stop_when_the_supervisor_is_killed(two_workers: str) -> None:
    workers = set(pids_of_burst(two_workers))
    supervisor = {parent_of(pid) for pid in workers}
    assert len(supervisor) == 1
    os.kill(supervisor.pop(), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)


def test_a_killed_supervisors_folder_is_removed_when_the_next_server_starts(
    tmp_path: Path,
) -> None:
    # A folder some other (older) server made and holds no lock on is not ours to judge.
    foreign = tmp_path / "faqbot-workers-foreign"
    foreign.mkdir()
    with pid_server(tmp_path) as url:
        workers = set(pids_of_burst(url))
        first = {p for p in tmp_path.glob("faqbot-workers-*") if p != foreign}
        assert len(first) == 1
        os.kill(parent_of(min(workers)), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(pid) for pid in workers):
            time.sleep(0.2)
        assert all(p.is_dir() for p in first)  # SIGKILL: nobody could clean up
    with pid_server(tmp_path) as url:
        assert len(set(pids_of_burst(url))) >= 1
        now = {p for p in tmp_path.glob("faqbot-workers-*") if p != foreign}
        assert len(now) == 1 and not now & first, (first, now)
        assert foreign.is_dir()


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited


@pytest.mark.slow
def test_a_broken_setting_stops_the_server_instead_of_restarting_workers(tmp_path: Path) -> None:
    """The real app with a rate-limit file that cannot be opened: exit with the reason."""
    write_tiny_faq(tmp_path / "faq")
    env = server_env(tmp_path, FAQBOT_RATE_LIMIT_FILE="/proc/no-such-dir/limits.sqlite",
                     FAQBOT_FALLBACK_MODEL="")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(free_port()), "--workers", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    assert "FAQBOT_RATE_LIMIT_FILE=/proc/no-such-dir/limits.sqlite cannot be used" in done.stderr
    assert done.stderr.count("failed to start") >= 1
