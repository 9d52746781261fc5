"""Write an edited FAQ file safely: one edit at a time, validated, swapped in only unchanged.

bot/faq/edit.py decides what an edit changes; this module writes it:

- :func:`edit_lock` -- a thread lock and a file lock (flock, bot/store/locks.py) beside the
  FAQ folder, held from reading the file to replacing it, so the worker processes of
  `faqbot serve --workers N` and a `faqbot translate` run take turns. With thread locks only,
  2 workers lost 5 of 529 acknowledged edits and refused edits of other entries of the same
  file with 422 (each saw the other's change as its own);
- :func:`commit` -- validate the new text as the file (plus the cross-file checks), check it
  changed exactly what was asked, then a compare-and-swap: replace the file (``os.replace``)
  only if it still holds the bytes the edit read;
- :func:`retrying` -- when those bytes changed (a writer outside the lock: a lead saving by
  hand, another machine on a shared disk), run the edit again on the new bytes, up to
  :data:`CAS_ATTEMPTS` tries in all; only a real conflict remains ConflictError (HTTP 409),
  and nobody's work is overwritten.

With FAQBOT_FAQ_REMOTE, bot/faq/remote.py runs the same edits inside its git lock as well.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bot.errors import ConflictError, FaqError, Problem

# cross_checks: the same duplicate id/phrasing checks load_faq runs, on the would-be files.
from bot.faq.load import Entry, cross_checks, faq_files, parse_bytes, parse_file
from bot.store.locks import file_lock

logger = logging.getLogger(__name__)

# Tries of one edit whose file changes between reading and replacing it, before 409. Only
# writers outside the lock (a hand save) change it meanwhile; three changes within one edit
# (milliseconds) mean someone is saving over and over: let the lead look first.
CAS_ATTEMPTS = 3
CHANGED_MEANWHILE = "the FAQ changed meanwhile; reload and try again"

_LOCK = threading.RLock()  # threads of this process; the file lock holds off the others
_HELD: set[Path] = set()  # lock files this process holds (guarded by _LOCK)


class Changed(Exception):
    """The file's bytes changed between reading and replacing it: run the edit again."""


def edit_lock_path(faq_dir: Path) -> Path:
    """Return the FAQ folder's lock file: beside it, as the git lock sits beside a clone.

    Beside, not inside: a file inside would be a change in a git clone of the folder. When
    the parent is read-only (a FAQ volume mounted into a container), inside it is.
    """
    folder = faq_dir.resolve()  # one lock for every path that names the folder
    if not os.access(folder.parent, os.W_OK):
        return folder / ".faqbot-edit.lock"
    return folder.parent / f".{folder.name}.edit.lock"


@contextmanager
def edit_lock(faq_dir: Path) -> Iterator[None]:
    """Hold the FAQ folder's edit lock against other threads and processes of this machine.

    Re-entrant within a thread: an edit made of edits (several languages) holds it once.
    """
    path = edit_lock_path(faq_dir)
    with _LOCK:
        if path in _HELD:  # this thread holds it already (flock is per open file)
            yield
            return
        with file_lock(path):
            _HELD.add(path)
            try:
                yield
            finally:
                _HELD.discard(path)


def retrying(faq_dir: Path, once: Callable[[bool], Path]) -> Path:
    """Run ``once(again)`` under the edit lock until its compare-and-swap succeeds."""
    with edit_lock(faq_dir):
        for attempt in range(1, CAS_ATTEMPTS + 1):
            try:
                return once(attempt > 1)
            except Changed as exc:
                logger.info("%s changed on disk during an edit; editing it again (try %d of %d)",
                            exc, attempt + 1, CAS_ATTEMPTS)
    raise ConflictError(CHANGED_MEANWHILE)


def _norm_problem(p: Problem) -> tuple[str, str]:
    # Line numbers move when an entry grows, so compare problems without them.
    return p.path, re.sub(r":\d+\b", ":#", p.message)


def _validate(
    faq_dir: Path, path: Path, original: bytes | None, candidate: Path, default_language: str
) -> tuple[list[Problem], list[Entry]]:
    """Return the errors the edit would add to the FAQ dir, and the candidate's entries."""
    display = str(path)
    others: list[Entry] = []
    before_entries: list[Entry] = []
    before_problems: list[Problem] = []
    after_problems: list[Problem] = []
    for other in faq_files(faq_dir):
        if other == path:
            continue
        res = parse_file(other, default_language)
        others.extend(res.entries)
        before_problems.extend(res.errors)
        after_problems.extend(res.errors)
    if original is not None:  # the file as the edit read it, not as it may be now
        old = parse_bytes(original, display, default_language)
        before_entries = old.entries
        before_problems.extend(old.errors)
    new = parse_file(candidate, default_language, display=display)
    after_problems.extend(new.errors)
    before_problems.extend(cross_checks([*others, *before_entries]))
    after_problems.extend(cross_checks([*others, *new.entries]))
    known = {_norm_problem(p) for p in before_problems if p.severity == "error"}
    added = [p for p in after_problems if p.severity == "error" and _norm_problem(p) not in known]
    return added, new.entries


def _strip_place(entry: Entry) -> Entry:
    return dataclasses.replace(entry, line=0, path="")


def commit(
    faq_dir: Path,
    path: Path,
    original: bytes | None,
    new_text: str,
    default_language: str,
    expect: Mapping[str, Entry | None],
) -> None:
    """Validate ``new_text`` as ``path`` and swap it in atomically, or raise and leave it be.

    ``expect`` maps entry ids to what they must be after the edit (None: must not change).
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new_text.encode("utf-8"))
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        problems, entries = _validate(faq_dir, path, original, tmp, default_language)
        if problems:
            raise FaqError(problems)
        _check_expected(path, original, entries, expect, default_language)
        # The compare-and-swap: under the edit lock only a writer outside it (a hand save)
        # can change the file, and this check is microseconds before the replace.
        current = path.read_bytes() if path.exists() else None
        if current != original:
            raise Changed(str(path))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _check_expected(
    path: Path,
    original: bytes | None,
    entries: list[Entry],
    expect: Mapping[str, Entry | None],
    default_language: str,
) -> None:
    """Make sure the file holds exactly the intended change (a guard on the splicing)."""
    before: dict[str, Entry] = {}
    if original is not None:
        before = {e.id: e for e in parse_bytes(original, str(path), default_language).entries}
    after = {e.id: e for e in entries}
    wanted = {k: _strip_place(v) for k, v in before.items()}
    for entry_id, entry in expect.items():
        if entry is not None:
            wanted[entry_id] = _strip_place(entry)
    got = {k: _strip_place(v) for k, v in after.items()}
    if got != wanted:
        differ = sorted(k for k in set(got) | set(wanted) if got.get(k) != wanted.get(k))
        raise FaqError(
            [Problem(str(path), 0, "the edit would change more than intended "
                     f"(entries {', '.join(differ)}); edit this file by hand")]
        )


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path``'s bytes with ``data`` at once (a reader sees the old or the new)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
