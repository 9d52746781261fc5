"""Background jobs: a lock file lets the worker processes of one server take turns."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bot.runtime.jobs import PeriodicJob, exclusive


class Busy(PeriodicJob):
    """A job whose run takes a while and records how many runs overlap."""

    running = 0
    most = 0
    runs = 0
    guard = threading.Lock()

    def run_once(self) -> None:
        cls = type(self)
        with cls.guard:
            cls.running += 1
            cls.runs += 1
            cls.most = max(cls.most, cls.running)
        time.sleep(0.15)
        with cls.guard:
            cls.running -= 1


def run_two(lock_file: Path | None) -> type[Busy]:
    class Job(Busy):
        running = most = runs = 0

    jobs = [Job(0.01, lock_file), Job(0.01, lock_file)]
    for job in jobs:
        job.start()
    time.sleep(1.2)
    for job in jobs:
        job.stop()
    return Job


def test_jobs_with_one_lock_file_never_run_at_once(tmp_path: Path) -> None:
    job = run_two(tmp_path / "job.lock")
    assert job.most == 1 and job.runs >= 4  # the work goes on, one run at a time


def test_jobs_without_a_lock_file_overlap() -> None:
    assert run_two(None).most == 2


def test_exclusive_says_who_holds_the_lock(tmp_path: Path) -> None:
    with exclusive(tmp_path / "x.lock") as first, exclusive(tmp_path / "x.lock") as second:
        assert first and not second
    with exclusive(tmp_path / "x.lock") as again:
        assert again
    with exclusive(None) as free:
        assert free
