"""Several server processes on one port, each with its own listening socket.

`uvicorn --workers N` shares one listening socket between its processes. When several
connections arrive together, whichever process is awake accepts all of them, and keep-alive
connections (browsers, a reverse proxy's upstream pool) stay where they landed. Measured with
`faqbot bench`: 8 shoppers' connections all went to one of two workers in 2 of 3 runs; the
other core idled (38 % of the machine) and capacity fell from ~200 to ~120 answers/s.

Here every worker listens on its own socket bound with SO_REUSEPORT, and the kernel spreads
new connections over the sockets by a hash of their addresses. The supervisor is uvicorn's
(`Multiprocess`: health checks, restarts, signals); only which socket a worker gets differs.
The parent keeps every socket open, so connections queued for a worker that died wait for
its replacement instead of being refused. Outside Linux (no spreading SO_REUSEPORT) the
workers share one socket as uvicorn does.

The workers also count rate limits together, in a SQLite file made for this server
(FAQBOT_RATE_LIMIT_FILE, bot/runtime/limits.py): a shopper's connections are spread over the
workers, and counting apart would allow N times the limit. For the same reason their
Prometheus counters are summed (PROMETHEUS_MULTIPROC_DIR, bot/web/metrics.py).
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

try:  # POSIX; elsewhere no directory is known to be stale and none is removed
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

PR_SET_PDEATHSIG = 1  # linux/prctl.h

logger = logging.getLogger("uvicorn.error")

MAX_AUTO_WORKERS = 4
# The folder the workers share (below), and the lock its supervisor holds while it runs.
SHARED_DIR_PREFIX = "faqbot-workers-"
SUPERVISOR_LOCK = "supervisor.lock"
MAX_WORKERS = 64  # as FAQBOT_WORKERS allows: each worker holds the models (~400 MiB)


def worker_count(requested: int) -> int:
    """Return ``requested``, or for 0 one worker per usable core, at most MAX_AUTO_WORKERS."""
    if requested > 0:
        return requested
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_AUTO_WORKERS))


def listening_sockets(host: str, port: int, count: int, backlog: int = 2048) -> list[socket.socket]:
    """Bind `count` sockets to one address (SO_REUSEPORT), or one shared socket without it.

    Port 0 picks a free port for the first socket; the others join it. TCP_NODELAY is set on
    the listening sockets because accepted connections inherit it: without it every response
    waited ~40 ms for the client's delayed ACK (measured).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Linux spreads connections over SO_REUSEPORT sockets; macOS and the BSDs give them all
    # to one socket, so elsewhere the workers share one socket as uvicorn's do.
    reuse_port = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT") and count > 1
    sockets: list[socket.socket] = []
    try:
        for _ in range(count if reuse_port else 1):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class Worker(Process):
    """A uvicorn worker that stops (gracefully, SIGTERM) when its supervisor dies.

    uvicorn's workers outlive a supervisor that was killed (SIGKILL, the OOM killer) and go
    on answering on the port with whatever they had loaded; a restarted server would then
    share the port with them. Linux can signal a child when its parent goes.
    """

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.supervisor = os.getpid()  # pickled with the worker when it is spawned

    def target(self, sockets: list[socket.socket] | None = None) -> None:
        _stop_with_parent(self.supervisor)
        try:
            super().target(sockets)
        except Exception:
            if self.server.started:
                raise
            # It never served: the app or a setting is broken, and every restart would fail
            # the same way. STARTUP_FAILURE tells the supervisor to stop instead of looping.
            logger.exception("worker failed to start")
            sys.exit(STARTUP_FAILURE)


def _stop_with_parent(supervisor: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the worker outlives a killed supervisor
        return
    if os.getppid() != supervisor:  # it died before the request above took effect
        os.kill(os.getpid(), signal.SIGTERM)


class BalancedMultiprocess(Multiprocess):
    """uvicorn's worker supervisor, giving worker i the socket i (or all the one socket)."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.per_worker = len(sockets) == config.workers
        self.failed = False  # a worker could not start: serve() exits non-zero

    def _process(self, idx: int) -> Process:
        own = [self.sockets[idx]] if self.per_worker else self.sockets
        return Worker(self.config, own)

    def init_processes(self) -> None:
        for idx in range(self.processes_num):
            process = self._process(idx)
            process.start()
            self.processes.append(process)

    def restart_all(self) -> None:
        """SIGHUP: replace each worker, the new one serving before the old one stops."""
        for idx, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._process(idx)
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    logger.error("new worker [%s] was not ready in time; keeping [%s]",
                                 new.pid, old.pid)
                return
            old.terminate()
            old.join()
            self.processes[idx] = new

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung: kill it
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # It failed before serving (app, settings or socket broken): a restart would too.
                logger.error("worker [%s] failed to start, stopping", process.pid)
                self.failed = True
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info("worker [%s] died; starting another", process.pid)
            replacement = self._process(idx)
            replacement.start()
            self.processes[idx] = replacement


def hold_shared_dir(shared_dir: Path) -> int | None:
    """Lock ``shared_dir`` for this supervisor's life; return the lock's descriptor.

    The kernel drops an flock with its process, SIGKILL included, so a folder whose lock
    can be taken is one nobody runs in any more.
    """
    if fcntl is None:
        return None
    # Locked before it gets its name: no other supervisor can find it free in between.
    making = shared_dir / f".{SUPERVISOR_LOCK}"
    fd = os.open(making, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    making.rename(shared_dir / SUPERVISOR_LOCK)
    return fd


def remove_stale_shared_dirs(parent: Path | None = None) -> list[Path]:
    """Remove the shared folders of supervisors that were killed (SIGKILL, OOM); return them.

    Issue 14: each `faqbot serve -w N` killed with SIGKILL left its folder (the rate-limit
    file, the Prometheus files) in the temp folder for good. Only this user's folders whose
    supervisor lock is free are removed; a folder with no lock file is some other version's
    (or being made right now) and stays.
    """
    if fcntl is None:
        return []
    removed = []
    parent = parent or Path(tempfile.gettempdir())
    for folder in sorted(parent.glob(SHARED_DIR_PREFIX + "*")):
        try:
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue
            fd = os.open(folder / SUPERVISOR_LOCK, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # its supervisor is alive
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    if removed:
        logger.info("removed %d shared folder(s) of killed servers: %s", len(removed),
                    ", ".join(str(f) for f in removed))
    return removed


def serve(app: str, host: str, port: int, workers: int, log_level: str = "info",
          access_log: bool = False, environment: Mapping[str, str] | None = None) -> None:
    """Run ``app`` (an import string of an app factory) in ``workers`` processes on host:port.

    The workers are fresh interpreters that build the app from the environment, as
    ``uvicorn server:app`` does: ``environment`` (the command line's overrides) and what they
    share on this machine (below) are set for the supervisor's run and removed after it.
    multiprocessing's spawn gives each worker the supervisor's environment, and
    prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is first imported, which in a
    worker can be before any code of ours runs; so the environment is the one channel.
    """
    # proxy_headers=False: the app believes X-Forwarded-For only from FAQBOT_TRUSTED_PROXIES.
    config = Config(app, factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, access_log=access_log, proxy_headers=False)
    try:
        sockets = listening_sockets(host, port, workers)
    except OSError as exc:
        logger.error("cannot listen on %s:%s: %s", host, port, exc)
        sys.exit(STARTUP_FAILURE)
    bound = sockets[0].getsockname()[1]
    logger.info("faqbot running on http://%s:%d with %d workers (%s) (Press CTRL+C to quit)",
                host, bound, workers,
                "a socket each" if len(sockets) == workers else "one shared socket")
    # What the workers share on this machine, for this server's lifetime: the rate-limit
    # counts (bot/runtime/limits.py) and the Prometheus counters (bot/web/metrics.py).
    remove_stale_shared_dirs()
    shared_dir = Path(tempfile.mkdtemp(prefix=SHARED_DIR_PREFIX))
    lock = hold_shared_dir(shared_dir)
    (shared_dir / "metrics").mkdir()
    shared = {
        "FAQBOT_RATE_LIMIT_FILE": str(shared_dir / "ratelimit.sqlite"),
        "PROMETHEUS_MULTIPROC_DIR": str(shared_dir / "metrics"),
    }
    wanted = {**{k: v for k, v in shared.items() if not os.environ.get(k)}, **(environment or {})}
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    supervisor = BalancedMultiprocess(config, sockets)
    try:
        supervisor.run()
    finally:
        for sock in sockets:
            sock.close()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(shared_dir, ignore_errors=True)
        if lock is not None:
            os.close(lock)
    if supervisor.failed:
        sys.exit(STARTUP_FAILURE)


def main(argv: list[str] | None = None) -> None:
    """`python -m bot.runtime.workers APP HOST PORT WORKERS [LOG_LEVEL]`: what the bench runs.

    APP is the import string of an app factory (bot.web.app:create_app).
    """
    args = sys.argv[1:] if argv is None else argv
    serve(args[0], args[1], int(args[2]), int(args[3]),
          log_level=args[4] if len(args) > 4 else "info", access_log=False)


if __name__ == "__main__":
    main()
