"""A real SMTP server process for the e-mail tests (aiosmtpd), and a way to read its mail.

``python tests/support/mailserver.py --port P --maildir D [--refuse N] [--tls CERT KEY]
[--auth USER:PASS]`` runs aiosmtpd until SIGTERM and writes every accepted message to
``D/<n>.eml``. ``--refuse N`` answers the first N messages "451 try again later" (a server
that is busy); a recipient starting with "nobody@" gets "550 no such user". It prints
"ready" once it listens. Tests use :func:`smtp_server`.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass
class SmtpServer:
    """A running test SMTP server: where it listens and what it received."""

    port: int
    maildir: Path

    def url(self, scheme: str = "smtp", query: str = "starttls=off&timeout=10") -> str:
        return f"{scheme}://127.0.0.1:{self.port}?{query}"

    def clear(self) -> None:
        """Forget what was received so far (a server shared by several tests)."""
        for path in self.maildir.glob("*.eml"):
            path.unlink()

    def received(self) -> list[EmailMessage]:
        """Return every message accepted so far, oldest first."""
        out = []
        for path in sorted(self.maildir.glob("*.eml"), key=lambda p: int(p.stem)):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        """Wait until ``count`` messages arrived (a bounded wait, not a timing assertion)."""
        deadline = time.monotonic() + timeout
        while len(got := self.received()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return got


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(maildir: Path, *args: str, port: int | None = None) -> Iterator[SmtpServer]:
    """Start this file as an SMTP server process; stop it at the end."""
    maildir.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "mailserver.py"), "--port", str(port),
         "--maildir", str(maildir), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", line + proc.stdout.read()
        yield SmtpServer(port, maildir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- the server process ----
class _Handler:
    def __init__(self, maildir: Path, refuse: int) -> None:
        self.maildir = maildir
        self.refuse = refuse
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if address.lower().startswith("nobody@"):
            return "550 5.1.1 <" + address + ">: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 busy, try again later"
            self.count += 1
            n = self.count
        tmp = self.maildir / f".{n}.tmp"
        tmp.write_bytes(envelope.original_content or envelope.content)
        os.replace(tmp, self.maildir / f"{n}.eml")
        return "250 OK queued"


def main() -> None:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--refuse", type=int, default=0)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", help="USER:PASS required to send")
    args = parser.parse_args()
    kwargs: dict[str, Any] = {"enable_SMTPUTF8": True}
    if args.tls:
        import ssl

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*args.tls)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs.update(auth_required=True, auth_require_tls=bool(args.tls),
                      authenticator=lambda _s, _ss, _e, _m, creds: _auth(creds, user, password))
    controller = Controller(_Handler(args.maildir, args.refuse), hostname="127.0.0.1",
                            port=args.port, **kwargs)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()


def _auth(creds: Any, user: str, password: str) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(creds, LoginPassword) and (
        creds.login.decode() == user and creds.password.decode() == password)
    return AuthResult(success=ok, handled=False)


if __name__ == "__main__":
    main()
