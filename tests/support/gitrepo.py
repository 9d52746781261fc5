"""A real git remote on disk for the tests: a bare repository, seeded, and clones of it."""

from __future__ import annotations

import subprocess
from pathlib import Path

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "HOME": "/nonexistent",
           "LC_ALL": "C", "PATH": "/usr/local/bin:/usr/bin:/bin"}


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git (no shell) and return its standard output; fail the test on an error."""
    done = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def bare_remote(root: Path, files: dict[str, str], subpath: str = "") -> Path:
    """Make ``root``/remote.git holding ``files`` (under ``subpath``) in one first commit."""
    remote = root / "remote.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    if files:
        seed = lead_clone(remote, root / "seed")
        folder = seed / subpath if subpath else seed
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        commit_and_push(seed, "the shop's FAQ", author="Seed <seed@example.com>")
    return remote


def lead_clone(remote: Path, where: Path) -> Path:
    """Clone ``remote`` as a lead would on their own machine."""
    git("clone", "--quiet", str(remote), str(where))
    git("config", "user.name", "A Lead", cwd=where)
    git("config", "user.email", "lead@example.com", cwd=where)
    return where


def commit_and_push(clone: Path, message: str, author: str = "A Lead <lead@example.com>") -> str:
    """Commit everything in ``clone`` and push it; return the new commit."""
    git("add", "--all", cwd=clone)
    git("commit", "--quiet", f"--author={author}", "-m", message, cwd=clone)
    git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=clone)
    return git("rev-parse", "HEAD", cwd=clone).strip()


def remote_log(remote: Path, fmt: str = "%an|%s") -> list[str]:
    """Return the remote's history, newest first, one formatted line per commit."""
    return git("--git-dir", str(remote), "log", f"--format={fmt}", "main").splitlines()


def remote_file(remote: Path, path: str) -> str:
    """Return a file as the remote's newest commit has it."""
    return git("--git-dir", str(remote), "show", f"main:{path}")
