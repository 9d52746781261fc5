"""The background job that keeps the lead's clusters of unanswered questions up to date."""

from __future__ import annotations

from pathlib import Path

from bot.errors import ConfigError
from bot.insights.clusters import Insights
from bot.runtime.jobs import PeriodicJob


class ClusterWarmer(PeriodicJob):
    """Assign new unanswered questions to clusters in the background, a little at a time."""

    thread_name = "faq-clusters"

    def __init__(self, insights: Insights, interval_seconds: float = 10.0, batch: int = 8,
                 pause_seconds: float = 0.05, lock_file: Path | None = None) -> None:
        if interval_seconds <= 0 or batch < 1 or pause_seconds < 0:
            raise ConfigError("ClusterWarmer needs interval > 0, batch >= 1, pause >= 0")
        # lock_file: the worker processes of one server take turns instead of embedding
        # the same new questions at the same time (~4 % of a loaded server's CPU).
        super().__init__(interval_seconds, lock_file)
        self.insights = insights
        self.batch = batch
        self.pause_seconds = pause_seconds

    def run_once(self) -> int:
        """Assign everything pending, a batch at a time; return how many were assigned."""
        total = 0
        while not self._stop.is_set() and self.insights.bot.ready:
            # Small batches: the embedder is shared with shoppers' questions and holds a lock
            # while it runs, so a big batch would stall their answers.
            done = self.insights.refresh(limit=self.batch, batch=self.batch,
                                         count_pending=False).assigned
            total += done
            if done < self.batch:
                break
            self._stop.wait(self.pause_seconds)
        return total

