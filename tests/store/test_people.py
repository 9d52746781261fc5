"""People and their keys (bot/store/people.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.errors import AuthError, ConfigError, ConflictError, InputError, NotFoundError
from bot.settings import DEV_SECRET_KEY, load_settings
from bot.store.db import Database
from bot.store.models import User, utcnow
from bot.store.people import KEY_PREFIX, People, Person

SECRET = "a-test-secret-of-more-than-32-characters"


@pytest.fixture
def people(db: Database) -> People:
    return People(db, SECRET)


def test_a_key_works_once_added_and_only_its_digest_is_stored(
    db: Database, people: People
) -> None:
    key = people.add("Alice", "agent", language="de")
    assert key.startswith(KEY_PREFIX) and len(key) >= 40
    assert people.authenticate(key) == Person("Alice", "agent", "de")
    with db.read() as s:
        row = s.execute(sa.select(User.__table__)).one()._asdict()
    assert not any(isinstance(v, str) and key in v for v in row.values())
    assert row["key_digest"] == people.digest(key) != key
    assert row["key_hint"] == key[:8]
    # Another secret gives another digest: the database alone cannot check a key.
    assert People(db, SECRET + "x").digest(key) != row["key_digest"]
    with pytest.raises(AuthError, match="unknown key"):
        People(db, SECRET + "x").authenticate(key)


@pytest.mark.parametrize("presented", [None, "", "fqb_wrong", "dev-agent-key"])
def test_missing_or_unknown_keys_are_refused(people: People, presented: str | None) -> None:
    people.add("alice", "agent")
    with pytest.raises(AuthError):
        people.authenticate(presented)


def test_names_are_unique_whatever_the_case_and_checked(people: People) -> None:
    people.add("Élodie", "lead")
    with pytest.raises(ConflictError, match="already"):
        people.add("élodie", "agent")
    for bad in ("", " ", "-dash", "a" * 65, "x<script>"):
        with pytest.raises(InputError, match="name"):
            people.add(bad, "agent")
    for reserved in ("dev-agent", "Dev-Lead", "shopper", "system"):
        with pytest.raises(InputError, match="reserved"):
            people.add(reserved, "agent")
    with pytest.raises(InputError, match="role"):
        people.add("bob", "admin")
    with pytest.raises(InputError, match="language"):
        people.add("bob", "agent", language="german")
    assert [u.name for u in people.list()] == ["Élodie"]


def test_disable_enable_and_rotate(people: People) -> None:
    key = people.add("bob", "agent")
    people.disable("BOB")
    with pytest.raises(AuthError, match="disabled"):
        people.authenticate(key)
    assert people.get("bob").disabled_at is not None
    people.enable("bob")
    assert people.authenticate(key).name == "bob"
    new = people.rotate("bob")
    assert new != key
    with pytest.raises(AuthError, match="unknown"):
        people.authenticate(key)
    assert people.authenticate(new).name == "bob"
    with pytest.raises(NotFoundError, match="no person called 'carol'"):
        people.rotate("carol")


def test_last_seen_is_written_at_most_once_a_minute(db: Database, people: People) -> None:
    key = people.add("alice", "agent")
    assert people.get("alice").last_seen_at is None
    people.authenticate(key)
    first = people.get("alice").last_seen_at
    assert first is not None
    people.authenticate(key)
    assert people.get("alice").last_seen_at == first
    with db.write() as s:
        s.execute(sa.update(User).values(last_seen_at=utcnow() - timedelta(minutes=5)))
    people.authenticate(key)
    later = people.get("alice").last_seen_at
    assert later is not None and later > first - timedelta(minutes=1)


def test_development_keys_name_a_development_user_only_in_development(
    db: Database, tmp_path: Path
) -> None:
    dev = People.from_settings(db, load_settings(environment="development"))
    assert dev.authenticate("dev-agent-key") == Person("dev-agent", "agent", development=True)
    assert dev.authenticate("dev-lead-key").name == "dev-lead"
    prod = People.from_settings(db, load_settings(environment="production", secret_key=SECRET))
    for key in ("dev-agent-key", "dev-lead-key"):
        with pytest.raises(AuthError):
            prod.authenticate(key)


def test_production_needs_a_secret_key_of_its_own() -> None:
    with pytest.raises(ConfigError, match="FAQBOT_SECRET_KEY"):
        load_settings(environment="production")
    with pytest.raises(ConfigError, match="FAQBOT_SECRET_KEY"):
        load_settings(environment="production", secret_key=DEV_SECRET_KEY)
    with pytest.raises(ConfigError, match="FAQBOT_SECRET_KEY"):
        load_settings(environment="production", secret_key="short")
    assert load_settings(environment="production", secret_key=SECRET).environment == "production"
    with pytest.raises(ConfigError, match="FAQBOT_SECRET_KEY"):
        People(Database("sqlite://"), "")


def test_a_lead_may_act_as_an_agent_but_not_the_reverse() -> None:
    assert Person("l", "lead").may("agent") and Person("l", "lead").may("lead")
    assert Person("a", "agent").may("agent") and not Person("a", "agent").may("lead")
