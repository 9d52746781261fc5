"""One small base for the server's background threads (hot reload, clustering, retention)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PeriodicJob:
    """Call :meth:`run_once` on a daemon thread at start, then every ``interval_seconds``.

    An interval of 0 runs once only. A failed run is logged and tried again at the next
    interval: a busy database or a broken FAQ edit is temporary and must not kill the thread.
    """

    thread_name = "faqbot-job"

    def __init__(self, interval_seconds: float) -> None:
        self.interval_seconds = interval_seconds
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
                self.run_once()
            except Exception:
                log.exception("%s failed; trying again at the next interval", self.thread_name)
            if self.interval_seconds <= 0 or self._stop.wait(self.interval_seconds):
                return
