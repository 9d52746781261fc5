"""Hot reload: notice changed FAQ files and rebuild the index in the background.

A thread hashes the FAQ files every ``reload_poll_seconds``; when the hash changes it calls
``FaqBot.reload()``, which builds the new index aside and swaps it in one assignment. A broken
edit leaves the last good index answering and its error (path:line) in ``FaqBot.status``;
the next edit is tried again. The lead's reload call runs the same path at once.
"""

from __future__ import annotations

import logging
import threading

from bot.faq.load import fingerprint
from bot.matching.bot import FaqBot
from bot.matching.lanes import ReloadStatus
from bot.runtime.jobs import PeriodicJob

log = logging.getLogger(__name__)


class Reloader(PeriodicJob):
    """Polls the FAQ fingerprint and reloads the bot when it changes."""

    thread_name = "faq-reloader"

    def __init__(self, bot: FaqBot, poll_seconds: float) -> None:
        if poll_seconds < 0:
            raise ValueError(
                f"FAQBOT_RELOAD_POLL_SECONDS must be >= 0 (0 = off), got {poll_seconds}"
            )
        super().__init__(poll_seconds)
        self.bot = bot
        self.poll_seconds = poll_seconds
        self._seen: str | None = None
        self._loaded = False
        self._lock = threading.Lock()

    def _fingerprint(self) -> str | None:
        try:
            return fingerprint(self.bot.settings.faq_dir)
        except OSError as exc:  # the folder is being replaced, or unreadable for a moment
            log.warning("cannot read the FAQ folder: %s", exc)
            return None

    def reload_now(self) -> ReloadStatus:
        """Reload at once (the lead's reload call, and the first load at start)."""
        with self._lock:
            self._seen = self._fingerprint()
            return self.bot.reload()

    def check(self) -> bool:
        """Reload if the FAQ files changed since the last look; return whether it did."""
        current = self._fingerprint()
        if current is None or current == self._seen:
            return False
        log.info("FAQ files changed, rebuilding the index in the background")
        self.reload_now()
        return True

    def run_once(self) -> bool:
        """Load the index the first time, then reload only when the FAQ files changed."""
        if not self._loaded:
            self._loaded = True
            self.reload_now()
            return True
        return self.check()
