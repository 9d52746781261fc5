"""Hot reload: notice changed FAQ files and rebuild the index in the background.

A thread hashes the FAQ files every ``reload_poll_seconds``; when the hash changes it calls
``FaqBot.reload()``, which builds the new index aside and swaps it in one assignment. A broken
edit leaves the last good index answering and its error (path:line) in ``FaqBot.status``;
the next edit is tried again. The lead's reload call runs the same path at once. With a
git remote, :class:`FaqSync` fetches it on a timer and drives the same check.
"""

from __future__ import annotations

import logging
import threading

from bot.errors import RemoteError
from bot.faq.load import fingerprint
from bot.faq.remote import FaqRemote
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
            return fingerprint(self.bot.settings.faq_files_dir)
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


class FaqSync(PeriodicJob):
    """Fetch the FAQ remote every few seconds and reload the bot when the files changed.

    Used instead of the Reloader's own thread when FAQBOT_FAQ_REMOTE is set: the clone
    changes only through a fetch or an edit, and after either the fingerprint check below
    rebuilds the index (the other worker processes of this machine notice the same clone
    changed at their next turn). A fetch that fails keeps serving the files already there.
    """

    thread_name = "faq-sync"

    def __init__(self, remote: FaqRemote, reloader: Reloader, interval_seconds: float) -> None:
        if interval_seconds <= 0:
            raise ValueError(f"FAQBOT_FAQ_FETCH_SECONDS must be > 0, got {interval_seconds}")
        super().__init__(interval_seconds)
        self.remote = remote
        self.reloader = reloader
        self._cloned = False

    def run_once(self) -> bool:
        """Clone once, fetch, and reload when the files differ from the live index's."""
        if not self._cloned:
            try:
                self.remote.ensure_clone()
            except RemoteError as exc:  # no clone yet and the remote unreachable: not ready
                log.warning("%s; trying again in %g s", exc, self.interval_seconds)
                return False
            self._cloned = True
        try:
            if self.remote.sync():
                log.info("the FAQ remote moved to %s", (self.remote.status.head or "")[:12])
        except RemoteError as exc:
            log.warning("%s; serving the FAQ as last fetched", exc)
        return self.reloader.check()
