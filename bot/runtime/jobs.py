"""One small base for the server's background threads (hot reload, clustering, retention)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.store.locks import file_lock

log = logging.getLogger(__name__)


class PeriodicJob:
    """Call :meth:`run_once` on a daemon thread at start, then every ``interval_seconds``.

    An interval of 0 runs once only. A failed run is logged and tried again at the next
    interval: a busy database or a broken FAQ edit is temporary and must not kill the thread.

    With ``lock_file``, a run happens only while this process holds that file's lock; a
    worker process that finds another one's run in progress skips its turn. The worker
    processes of one server share the work that way instead of each doing all of it.
    """

    thread_name = "faqbot-job"

    def __init__(self, interval_seconds: float, lock_file: Path | None = None) -> None:
        self.interval_seconds = interval_seconds
        self.lock_file = lock_file
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:
        """Do one round of the job."""
        raise NotImplementedError

    def enabled(self) -> bool:
        """Tell whether :meth:`start` should start the thread at all."""
        return True

    def start(self) -> None:
        """Start the thread (first run at once); does nothing when running or disabled."""
        if self._thread is not None or not self.enabled():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread; a run in progress finishes first (up to ``timeout``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            try:
                with exclusive(self.lock_file) as mine:
                    if mine:
                        self.run_once()
            except Exception:
                log.exception("%s failed; trying again at the next interval", self.thread_name)
            if self.interval_seconds <= 0 or self._stop.wait(self.interval_seconds):
                return


@contextmanager
def exclusive(path: Path | None) -> Iterator[bool]:
    """Try to hold ``path``'s lock without waiting; yield whether this process has it.

    No path: always True (each process runs on its own).
    """
    if path is None:
        yield True
        return
    with file_lock(path, wait=False) as mine:
        yield mine
