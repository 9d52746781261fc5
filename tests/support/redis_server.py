"""Redis for the tests: the shared server (unique key prefixes) or a private one to stop.

The shared server on 127.0.0.1:6379 is used by other test runs at the same time, so every
test names its own prefix and never flushes or stops it. A test that needs Redis to go away
starts its own ``redis-server`` on a free port (no persistence) and stops that one.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.support.servers import free_port

SHARED_URL = "redis://127.0.0.1:6379/0"


def unique_prefix(name: str = "t") -> str:
    """Return a key prefix no other test run uses."""
    return f"faqbot-test:{name}:{uuid.uuid4().hex[:10]}"


def require_shared_redis() -> str:
    """Return the shared Redis URL, or skip (a failure in CI) when it does not answer."""
    try:
        redis.Redis.from_url(SHARED_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {SHARED_URL} does not answer: {exc}")
    return SHARED_URL


class PrivateRedis:
    """A redis-server of the test's own, which the test may stop and start again."""

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
        self.exe = exe
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server on its port and wait until it answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                client.close()
                return
            except redis.RedisError:
                assert self.proc.poll() is None, "redis-server exited at start"
                assert time.monotonic() < deadline, "redis-server not answering after 30 s"
                time.sleep(0.05)

    def stop(self) -> None:
        """Kill the server at once (as a crash would) and wait for it to go."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=30)
            self.proc = None


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    """Run a private redis-server for the block."""
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
