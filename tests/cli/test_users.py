"""`faqbot users`: add, list, rotate, disable people's keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import AuthError
from bot.store.db import Database
from bot.store.people import KEY_PREFIX, People

SECRET = "a-test-secret-of-more-than-32-characters"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> str:
    for name in list(os.environ):
        if name.startswith("FAQBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAQBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("FAQBOT_SECRET_KEY", SECRET)
    return db_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_users_commands(capsys: pytest.CaptureFixture[str], cli_env: str) -> None:
    code, out, err = run(capsys, "users", "add", "alice", "--role", "agent", "--language", "de")
    assert code == 0 and "shown only now" in err
    key = out.strip()
    assert key.startswith(KEY_PREFIX) and "\n" not in key  # stdout holds the key alone
    db = Database(cli_env)
    try:
        assert People(db, SECRET).authenticate(key).name == "alice"
        code, out, err = run(capsys, "users", "add", "Alice", "--role", "lead")
        assert code == 1 and "already a person called 'Alice'" in err and out == ""
        code, out, _ = run(capsys, "users", "list")
        assert code == 0 and "alice" in out and "agent (de)" in out and key[:8] in out
        assert key not in out
        code, out, _ = run(capsys, "users", "rotate", "alice")
        new = out.strip()
        assert code == 0 and new != key
        with pytest.raises(AuthError):
            People(db, SECRET).authenticate(key)
        code, out, _ = run(capsys, "users", "disable", "alice")
        assert code == 0 and "disabled alice" in out
        with pytest.raises(AuthError, match="disabled"):
            People(db, SECRET).authenticate(new)
        code, out, _ = run(capsys, "users", "list", "--json")
        assert '"active": false' in out
        code, _, err = run(capsys, "users", "disable", "nobody")
        assert code == 1 and "no person called 'nobody'" in err
    finally:
        db.dispose()
