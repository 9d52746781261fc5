"""A file lock that the processes of one machine share (flock), for work one process does.

Used where the worker processes of `faqbot serve` would otherwise repeat each other: building
the index after an edit (wait for the builder, then load its build) and background jobs
(skip a turn while another process runs one). SQLite writers use their own long-lived lock
(bot/store/db.py WriterLock), taken hundreds of times a second.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, each process does its own work
    fcntl = None  # type: ignore[assignment]


@contextmanager
def file_lock(path: Path, wait: bool = True) -> Iterator[bool]:
    """Hold ``path``'s lock; yield True, or False at once when ``wait`` is off and it is taken.

    The file is created (with its folder) when missing. Without flock: always True.
    """
    if fcntl is None:
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock
