"""The FAQ in a git remote (bot/faq_remote.py), on a real bare repository on disk."""

from __future__ import annotations

import logging
import stat
import time
from pathlib import Path

import pytest

from bot.errors import ConfigError, ConflictError, FaqError, Problem, RemoteError
from bot.faq.remote import FaqRemote, author_line, lost_race, redact
from tests.support.gitrepo import (
    bare_remote,
    commit_and_push,
    git,
    lead_clone,
    remote_file,
    remote_log,
)

FAQ = "entries:\n  - id: a\n    questions:\n      en: [Question a?]\n    answer:\n      en: A.\n"


def append_line(remote: FaqRemote, line: str, name: str = "shop.yaml") -> Path:
    """Edit: add a comment line at the end of a file (read fresh on every call)."""
    path = remote.files_dir / name
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(text + f"# {line}\n", encoding="utf-8")
    return path


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_remote(tmp_path, {"shop.yaml": FAQ})


def server_clone(remote: Path, where: Path, subpath: str = "", **kw: object) -> FaqRemote:
    clone = FaqRemote(str(remote), where, subpath, **kw)  # type: ignore[arg-type]
    clone.ensure_clone()
    return clone


def test_clones_and_follows_the_remote(remote: Path, tmp_path: Path) -> None:
    a = server_clone(remote, tmp_path / "a" / "faq")
    assert (a.files_dir / "shop.yaml").read_text(encoding="utf-8") == FAQ
    assert a.branch == "main"
    lead = lead_clone(remote, tmp_path / "lead")
    (lead / "shop.yaml").write_text(FAQ + "# pushed by a lead\n", encoding="utf-8")
    pushed = commit_and_push(lead, "lead's own edit")
    assert a.sync() is True
    assert a.head() == pushed == a.status.head
    assert (a.files_dir / "shop.yaml").read_text(encoding="utf-8").endswith("by a lead\n")
    assert a.sync() is False  # nothing new
    assert a.status.error is None and a.status.fetched_at > 0


def test_an_existing_clone_is_reused_and_follows_a_new_url(remote: Path, tmp_path: Path) -> None:
    server_clone(remote, tmp_path / "faq")
    moved = remote.rename(tmp_path / "moved.git")
    again = server_clone(moved, tmp_path / "faq")
    assert git("remote", "get-url", "origin", cwd=tmp_path / "faq").strip() == str(moved)
    assert again.sync() is False


def test_a_folder_of_files_that_is_not_a_clone_is_refused(remote: Path, tmp_path: Path) -> None:
    faq = tmp_path / "faq_data"
    faq.mkdir()
    (faq / "shop.yaml").write_text(FAQ, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"FAQBOT_FAQ_DIR=.*not a git clone"):
        FaqRemote(str(remote), faq).ensure_clone()
    assert (faq / "shop.yaml").read_text(encoding="utf-8") == FAQ  # untouched


def test_a_folder_inside_another_repository_is_not_taken_for_a_clone(
    remote: Path, tmp_path: Path
) -> None:
    outer = tmp_path / "project"
    git("init", "--quiet", str(outer))
    (outer / "faq").mkdir()
    (outer / "faq" / ".git").mkdir()  # looks like a clone, is not one
    assert not FaqRemote(str(remote), outer / "faq").is_clone()


def test_an_edit_becomes_the_remote_newest_commit_with_the_lead_as_author(
    remote: Path, tmp_path: Path
) -> None:
    a = server_clone(remote, tmp_path / "a")
    path = a.commit_edit(lambda: append_line(a, "added by Alice"), "Alice Example",
                         "faq: a phrasing for a")
    assert path == a.files_dir / "shop.yaml"
    newest = remote_log(remote, "%an <%ae>|%s|%cn")[0]
    assert newest == "Alice Example <>|faq: a phrasing for a|faqbot"
    assert remote_file(remote, "shop.yaml").endswith("# added by Alice\n")
    assert a.head() == git("--git-dir", str(remote), "rev-parse", "main").strip()
    assert [c.author for c in a.log()] == ["Alice Example", "Seed"]


def test_an_edit_that_changes_nothing_makes_no_commit(remote: Path, tmp_path: Path) -> None:
    a = server_clone(remote, tmp_path / "a")
    a.commit_edit(lambda: None, "Alice", "nothing")
    assert len(remote_log(remote)) == 1


def test_a_push_that_lost_the_race_is_rebased_and_both_edits_are_kept(
    remote: Path, tmp_path: Path
) -> None:
    a = server_clone(remote, tmp_path / "a")
    b = server_clone(remote, tmp_path / "b")
    calls = []

    def b_edit() -> Path:
        calls.append(1)
        if len(calls) == 1:
            # While B prepares its edit, server A pushes one: B's push is refused.
            a.commit_edit(lambda: append_line(a, "from A"), "Alice", "edit on A")
        return append_line(b, "from B")

    b.commit_edit(b_edit, "Bob", "edit on B")
    assert len(calls) == 2  # B's edit ran again on A's commit
    text = remote_file(remote, "shop.yaml")
    assert "# from A\n" in text and "# from B\n" in text
    assert remote_log(remote)[:2] == ["Bob|edit on B", "Alice|edit on A"]


def test_an_edit_that_keeps_losing_is_refused_and_nothing_is_left(
    remote: Path, tmp_path: Path
) -> None:
    a = server_clone(remote, tmp_path / "a")
    b = server_clone(remote, tmp_path / "b", push_attempts=2)

    def b_edit() -> Path:
        a.commit_edit(lambda: append_line(a, f"A {time.monotonic()}"), "Alice", "edit on A")
        return append_line(b, "from B")

    with pytest.raises(ConflictError, match=r"changed 2 times .* nothing was saved"):
        b.commit_edit(b_edit, "Bob", "edit on B")
    assert "from B" not in remote_file(remote, "shop.yaml")
    assert b.head() in remote_log(remote, "%H")  # no commit of its own left in the clone
    assert git("status", "--porcelain", cwd=b.clone_dir) == ""


def test_a_refused_edit_leaves_the_clone_at_the_remote_head(remote: Path, tmp_path: Path) -> None:
    a = server_clone(remote, tmp_path / "a")
    before = a.head()

    def bad_edit() -> None:
        append_line(a, "half written")
        (a.files_dir / "new.yaml").write_text("entries: [", encoding="utf-8")
        raise FaqError([Problem("new.yaml", 1, "YAML syntax error")])

    with pytest.raises(FaqError, match=r"new.yaml:1"):
        a.commit_edit(bad_edit, "Alice", "bad")
    assert a.head() == before and len(remote_log(remote)) == 1
    assert not (a.files_dir / "new.yaml").exists()
    assert (a.files_dir / "shop.yaml").read_text(encoding="utf-8") == FAQ


def test_an_unreachable_remote_refuses_the_edit_with_the_reason(
    remote: Path, tmp_path: Path
) -> None:
    a = server_clone(remote, tmp_path / "a")
    remote.rename(tmp_path / "gone.git")
    with pytest.raises(RemoteError, match=r"nothing was saved.*git fetch failed .* not appear"):
        a.commit_edit(lambda: append_line(a, "lost?"), "Alice", "edit")
    assert "lost?" not in (a.files_dir / "shop.yaml").read_text(encoding="utf-8")
    with pytest.raises(RemoteError):
        a.sync()
    assert a.status.error is not None and "git fetch failed" in a.status.error


def test_a_push_refused_by_the_remote_is_not_retried(remote: Path, tmp_path: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'frozen for the sale' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    a = server_clone(remote, tmp_path / "a")
    calls = []

    def edit() -> Path:
        calls.append(1)
        return append_line(a, "x")

    with pytest.raises(RemoteError, match=r"nothing was saved.*refused the push.*frozen for"):
        a.commit_edit(edit, "Alice", "edit")
    assert calls == [1]
    assert git("status", "--porcelain", cwd=a.clone_dir) == ""


def test_the_sync_resets_changes_made_in_the_server_clone(
    remote: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a = server_clone(remote, tmp_path / "a")
    (a.files_dir / "shop.yaml").write_text("edited on the server by hand\n", encoding="utf-8")
    (a.files_dir / "stray.yaml").write_text("entries: []\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.faq.remote"):
        assert a.sync() is True
    assert "changes that are not on the remote" in caplog.text
    assert (a.files_dir / "shop.yaml").read_text(encoding="utf-8") == FAQ
    assert not (a.files_dir / "stray.yaml").exists()


def test_the_yaml_may_live_in_a_sub_folder(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path, {"shop.yaml": FAQ}, subpath="support/faq")
    a = server_clone(remote, tmp_path / "a", subpath="support/faq")
    assert a.files_dir == tmp_path / "a" / "support" / "faq"
    a.commit_edit(lambda: append_line(a, "in the sub-folder"), "Alice", "edit")
    assert remote_file(remote, "support/faq/shop.yaml").endswith("# in the sub-folder\n")


def test_the_first_edit_of_an_empty_remote(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path, {})
    a = server_clone(remote, tmp_path / "a")
    assert a.head() is None and a.sync() is False
    a.commit_edit(lambda: append_line(a, "first"), "Alice", "first entry")
    assert remote_log(remote) == ["Alice|first entry"]


def test_credentials_in_the_url_never_reach_a_message(tmp_path: Path) -> None:
    url = "https://faq-bot:s3cret-token@127.0.0.1:9/shop/faq.git"
    assert "s3cret" not in redact(f"fatal: unable to access '{url}/': refused", url)
    assert redact("ssh://git@host/x.git") == "ssh://***@host/x.git"
    remote = FaqRemote(url, tmp_path / "faq", network_timeout=20)
    with pytest.raises(RemoteError) as caught:
        remote.ensure_clone()
    assert "s3cret" not in str(caught.value) and "127.0.0.1" in str(caught.value)
    assert "s3cret" not in remote.safe_url


def test_every_git_call_is_bounded_in_time(remote: Path, tmp_path: Path) -> None:
    # A fake git (named as one): it hangs, as git does on a remote that never answers.
    fake = tmp_path / "hanging-git"
    fake.write_text("#!/bin/sh\nsleep 60 &\nwait\n", encoding="utf-8")
    fake.chmod(0o755)
    a = FaqRemote(str(remote), tmp_path / "a", git=str(fake), network_timeout=0.5)
    with pytest.raises(RemoteError, match=r"took over 0.5 s and was stopped"):
        a._run("fetch", timeout=0.5, cwd=tmp_path)


def test_author_lines() -> None:
    assert author_line("Alice Example") == "Alice Example <>"
    assert author_line("bob@example.com") == "bob@example.com <bob@example.com>"
    assert author_line("<evil>\nname") == "evilname <>"
    assert author_line("  ") == "lead <>"


@pytest.mark.parametrize(("output", "race"), [
    ("!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone", True),
    ("!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)\nDone", True),
    # Two pushes reaching the remote at once (seen with two servers on a bare repository).
    ("!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)\nremote: error: "
     "cannot lock ref 'refs/heads/main': is at d8a1 but expected 43c4", True),
    ("!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)", False),
    ("fatal: Authentication failed for 'https://***@host/faq.git/'", False),
])
def test_a_lost_race_is_told_from_other_refusals(output: str, race: bool) -> None:
    assert lost_race(output) is race
