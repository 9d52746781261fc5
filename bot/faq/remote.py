"""Keep the FAQ in a git remote: a clone per server, fetched often; edits become pushed commits.

With FAQBOT_FAQ_REMOTE set, every server keeps its own clone of that repository in
FAQBOT_FAQ_DIR (the YAML at its root, or under FAQBOT_FAQ_REMOTE_PATH) and:

- :meth:`FaqRemote.sync` fetches and moves the clone to the remote's head; the reloader then
  rebuilds the index as it does for any change of the files (a broken commit keeps the last
  good index and shows path:line in /health);
- :meth:`FaqRemote.commit_edit` runs a lead's edit on the remote's newest head, commits it
  with the lead as author and pushes at once. A push refused because another server pushed
  first is fetched, the edit is run again on the new head (a rebase of one commit) and pushed
  again; an edit that cannot be applied there, or a remote that cannot be reached, is
  refused with the reason and the clone goes back to the remote's head: nothing is ever
  left behind unpushed, so nothing is lost silently.

The clone is the server's, not a place to edit by hand: anything in it that is not on the
remote is reset away at the next sync. Leads edit in a clone of their own and push.

Git runs without a shell, in a session of its own (no terminal to prompt on), with
GIT_TERMINAL_PROMPT=0 and a timeout on every call; a URL's credentials are never logged
(:func:`redact`). One lock file beside the clone serialises the git work of every process
of this machine (`faqbot serve --workers N` shares one clone).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from bot.errors import ConfigError, ConflictError, RemoteError
from bot.store.locks import file_lock

log = logging.getLogger(__name__)

T = TypeVar("T")

# A fetch or push that takes longer than this is a network problem, not a slow disk.
NETWORK_TIMEOUT_SECONDS = 30.0
LOCAL_TIMEOUT_SECONDS = 15.0
# Pushes refused because another server pushed first, before the edit is refused (409).
PUSH_ATTEMPTS = 5
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_FIELD = "\x1f"


@dataclass(frozen=True)
class Commit:
    """One commit of the FAQ history."""

    sha: str
    author: str
    email: str
    at: datetime
    subject: str


@dataclass
class SyncStatus:
    """What the last fetch did, for /health (errors carry no credentials)."""

    head: str | None = None
    fetched_at: float = 0.0
    error: str | None = None


def redact(text: str, url: str | None = None) -> str:
    """Remove credentials from ``text``: any ``scheme://user:secret@`` and the URL itself."""
    if url:
        text = text.replace(url, _USERINFO.sub(r"\g<scheme>***@", url))
    return _USERINFO.sub(r"\g<scheme>***@", text)


def author_line(name: str) -> str:
    """Return git's ``Name <email>`` for a lead's name (a name that is an address is both)."""
    clean = re.sub(r"[<>\n\r]", "", name).strip() or "lead"
    email = clean if re.fullmatch(r"[^@\s]+@[^@\s]+", clean) else ""
    return f"{clean} <{email}>"


class FaqRemote:
    """A server's clone of the FAQ repository, and the git work done on it."""

    def __init__(
        self,
        url: str,
        clone_dir: Path,
        subpath: str = "",
        *,
        git: str = "git",
        network_timeout: float = NETWORK_TIMEOUT_SECONDS,
        push_attempts: int = PUSH_ATTEMPTS,
    ) -> None:
        if not url.strip():
            raise ConfigError("FAQBOT_FAQ_REMOTE is empty: give a URL git can push to")
        found = shutil.which(git)
        if found is None:
            raise ConfigError(
                "FAQBOT_FAQ_REMOTE needs the git program, which is not on PATH: install git "
                "(Debian: apt-get install git) or unset FAQBOT_FAQ_REMOTE"
            )
        if push_attempts < 1:
            raise ValueError(f"push_attempts must be at least 1, got {push_attempts}")
        self.url = url.strip()
        self.clone_dir = clone_dir.absolute()
        self.subpath = subpath
        self.git = found
        self.network_timeout = network_timeout
        self.push_attempts = push_attempts
        self.status = SyncStatus()
        self._lock_file = self.clone_dir.parent / f".{self.clone_dir.name}.git.lock"
        self._thread_lock = threading.RLock()
        self._branch: str | None = None

    @property
    def files_dir(self) -> Path:
        """Return the folder of the clone that holds the YAML files."""
        return self.clone_dir / self.subpath if self.subpath else self.clone_dir

    @property
    def safe_url(self) -> str:
        """Return the remote's URL without credentials, for logs and pages."""
        return redact(self.url)

    # ---- running git ----
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "GIT_TERMINAL_PROMPT": "0",  # fail instead of asking for a password
            "LC_ALL": "C",  # messages parsed below are git's English ones
            "GIT_CONFIG_NOSYSTEM": "1",
        })  # fmt: skip
        return env

    def _run(
        self, *args: str, timeout: float = LOCAL_TIMEOUT_SECONDS, cwd: Path | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run one git command (no shell, bounded in time); raise RemoteError when it fails."""
        cmd = [self.git, *args]
        where = cwd or self.clone_dir
        # A session of its own: no terminal for ssh or a credential helper to prompt on, and
        # on a timeout the whole group (git and its ssh) is killed, not only git.
        try:
            proc = subprocess.Popen(
                cmd, cwd=where, env=self._env(), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True,
            )
        except OSError as exc:  # the clone folder vanished, git was uninstalled ...
            raise RemoteError(f"git {args[0]} could not run in {where}: {exc}") from None
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with _quiet():
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RemoteError(
                f"git {args[0]} on the FAQ remote {self.safe_url} took over {timeout:g} s "
                "and was stopped"
            ) from None
        result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
        if check and proc.returncode != 0:
            raise RemoteError(
                f"git {args[0]} failed for the FAQ remote {self.safe_url}: "
                f"{redact((err or out).strip(), self.url)[-500:]}"
            )
        return result

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Threads of this process, then the processes of this machine.
        with self._thread_lock, file_lock(self._lock_file):
            yield

    # ---- the clone ----
    def is_clone(self) -> bool:
        """Tell whether the clone folder is a git work tree of its own (not a sub-folder)."""
        if not (self.clone_dir / ".git").exists():
            return False
        top = self._run("rev-parse", "--show-toplevel", check=False)
        return top.returncode == 0 and Path(top.stdout.strip()).resolve() == \
            self.clone_dir.resolve()

    def ensure_clone(self) -> None:
        """Clone the remote into the clone folder, or check the clone that is there."""
        with self._locked():
            if self.is_clone():
                current = self._run("remote", "get-url", "origin", check=False).stdout.strip()
                if current != self.url:
                    # The setting changed (a new host, a rotated token): follow it.
                    self._run("remote", "set-url", "origin", self.url)
                    log.info("FAQ clone %s now follows %s", self.clone_dir, self.safe_url)
            elif self.clone_dir.exists() and any(self.clone_dir.iterdir()):
                raise ConfigError(
                    f"FAQBOT_FAQ_DIR={self.clone_dir} holds files but is not a git clone; with "
                    "FAQBOT_FAQ_REMOTE set each server keeps its own clone there: point "
                    "FAQBOT_FAQ_DIR at an empty or missing folder (push the files to the "
                    "remote first, see docs/deploy.md)"
                )
            else:
                self.clone_dir.parent.mkdir(parents=True, exist_ok=True)
                try:
                    self._run("clone", "--quiet", "--", self.url, str(self.clone_dir),
                              cwd=self.clone_dir.parent, timeout=self.network_timeout)
                except RemoteError as exc:
                    self.status.error = str(exc)
                    self.status.fetched_at = time.time()
                    raise
                log.info("cloned the FAQ remote %s into %s", self.safe_url, self.clone_dir)
            # The committer is this server; the author of each edit is the lead.
            self._run("config", "user.name", "faqbot")
            self._run("config", "user.email", f"faqbot@{socket.gethostname()}")
            self._branch = self._current_branch()
            self.status.head = self.head()

    def _current_branch(self) -> str:
        out = self._run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
        remote_head = self._run("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD",
                                check=False).stdout.strip()
        return remote_head.removeprefix("origin/") or "main"

    @property
    def branch(self) -> str:
        """Return the branch the clone follows (the remote's default branch)."""
        if self._branch is None:
            self._branch = self._current_branch()
        return self._branch

    def head(self) -> str | None:
        """Return the clone's commit, or None while the repository has none."""
        out = self._run("rev-parse", "--verify", "--quiet", "HEAD", check=False)
        return out.stdout.strip() or None

    def _remote_head(self) -> str | None:
        out = self._run("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{self.branch}",
                        check=False)
        return out.stdout.strip() or None

    def _fetch(self) -> None:
        self._run("fetch", "--quiet", "--prune", "origin", timeout=self.network_timeout)

    def _reset_to_remote(self) -> None:
        """Make the work tree exactly the remote's head (dropping anything not pushed)."""
        target = self._remote_head()
        if target is not None:
            self._run("reset", "--quiet", "--hard", target)
        else:  # an empty remote: no commit yet
            self._run("checkout", "--quiet", "--orphan", self.branch, check=False)
            self._run("rm", "-r", "-q", "--cached", "--ignore-unmatch", ".")
        # Untracked files left by an edit that was refused (a new YAML file, say).
        self._run("clean", "-f", "-d", "-q", "--", self.subpath or ".")

    def _status(self) -> str:
        """Return git's short status of the FAQ files (not of the clone's other files).

        With FAQBOT_FAQ_REMOTE_PATH the edit lock of bot/faq/swap.py lies in the clone, beside
        the FAQ folder; it is never a change to push or to reset.
        """
        return self._run("status", "--porcelain", "--", self.subpath or ".").stdout.strip()

    def sync(self) -> bool:
        """Fetch, then move the clone to the remote's head; return whether the files changed."""
        with self._locked():
            try:
                before = self.head()
                self._fetch()
                dirty = bool(self._status())
                target = self._remote_head()
                if target != before or dirty:
                    if dirty:
                        log.warning("the FAQ clone %s had changes that are not on the remote; "
                                    "they were reset (edit in a clone of your own and push)",
                                    self.clone_dir)
                    self._reset_to_remote()
                self.status.head = self.head()
                self.status.error = None
                return self.status.head != before or dirty
            except RemoteError as exc:
                self.status.error = str(exc)
                raise
            finally:
                self.status.fetched_at = time.time()

    # ---- edits ----
    def commit_edit(self, apply: Callable[[], T], author: str, message: str) -> T:
        """Run ``apply`` on the remote's newest head, commit it as ``author`` and push it.

        ``apply`` edits the files in :attr:`files_dir` and returns what the caller needs. It
        runs again on the new head when another server pushed first (so it must read the
        files each time); whatever it raises is raised here, with the clone reset.
        """
        with self._locked():
            try:
                for attempt in range(1, self.push_attempts + 1):
                    self._fetch()
                    self._reset_to_remote()
                    result = apply()
                    self._run("add", "--all", "--", self.subpath or ".")
                    if not self._status():
                        return result  # the edit changed nothing: nothing to commit
                    self._run("commit", "--quiet", "--no-verify", f"--author={author_line(author)}",
                              "-m", message)
                    pushed = self._run("push", "--porcelain", "origin",
                                       f"HEAD:refs/heads/{self.branch}",
                                       timeout=self.network_timeout, check=False)
                    if pushed.returncode == 0:
                        self.status.head = self.head()
                        return result
                    if not lost_race(f"{pushed.stdout}\n{pushed.stderr}"):
                        raise RemoteError(
                            f"the FAQ remote {self.safe_url} refused the push: "
                            f"{redact((pushed.stderr or pushed.stdout).strip(), self.url)}"
                        )
                    log.info("another server pushed first; editing the new head (try %d of %d)",
                             attempt + 1, self.push_attempts)
                raise ConflictError(
                    f"the FAQ changed {self.push_attempts} times while this edit was being "
                    "saved; nothing was saved, try again"
                )
            except RemoteError as exc:
                with _quiet():
                    self._reset_to_remote()
                raise RemoteError(f"the edit was not saved (nothing was saved): {exc}") from None
            except BaseException:
                # Never keep an unpushed commit or a half-written file in the clone.
                with _quiet():
                    self._reset_to_remote()
                raise

    # ---- history ----
    def log(self, limit: int = 50) -> list[Commit]:
        """Return the newest commits that touched the FAQ files, newest first."""
        fmt = _FIELD.join(["%H", "%an", "%ae", "%aI", "%s"])
        with self._thread_lock:
            out = self._run("log", f"-n{int(limit)}", f"--format={fmt}", "--",
                            self.subpath or ".", check=False)
        commits = []
        for line in out.stdout.splitlines():
            parts = line.split(_FIELD)
            if len(parts) == 5:
                sha, name, email, at, subject = parts
                commits.append(Commit(sha, name, email, datetime.fromisoformat(at), subject))
        return commits


# How git says another push got there first: before ours started ("fetch first",
# "non-fast-forward"), or while the remote was updating the branch for both ("cannot lock
# ref ... but expected", "incorrect old value" from some hosting servers).
_RACE_SIGNS = ("fetch first", "non-fast-forward", "cannot lock ref", "failed to update ref",
               "incorrect old value")


def lost_race(output: str) -> bool:
    """Tell, from git push's output, a push refused because the remote moved on."""
    refused = "[rejected]" in output or "[remote rejected]" in output
    return refused and any(sign in output for sign in _RACE_SIGNS)


@contextmanager
def _quiet() -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # cleaning up after an error: report the first error only
        log.warning("cleaning up the FAQ clone failed: %s", exc)
