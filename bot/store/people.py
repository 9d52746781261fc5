"""People who sign in (agents and leads), each with a key of their own.

A key is ``fqb_`` plus 43 URL-safe characters from ``secrets`` (256 random bits), printed
once by ``faqbot users add`` / ``rotate`` and never stored. The database keeps
HMAC-SHA256(``FAQBOT_SECRET_KEY``, key):

- a **fast** hash is right here, unlike for passwords: a key is 256 random bits, so nobody
  can try enough guesses to find one whatever the hash costs; bcrypt or argon2 exist to
  slow guessing of low-entropy passwords and would only add ~50-100 ms of CPU to every
  request the console makes;
- **keyed** (HMAC with a secret kept in the environment, not in the database), so a copy of
  the database alone (a backup, a replica, an injection) cannot be used to check a guessed
  or leaked key;
- **unsalted** (deterministic), so a request finds its person with one indexed lookup of the
  digest instead of hashing against every stored row; the digest of an unknown key is
  unpredictable, so the lookup's timing tells an attacker nothing.

The shared development keys (FAQBOT_AGENT_KEY / FAQBOT_LEAD_KEY) sign in as the users
``dev-agent`` and ``dev-lead`` in development only; in production they are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import AuthError, ConfigError, ConflictError, InputError, NotFoundError
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import User, utcnow

log = logging.getLogger(__name__)

ROLES = ("agent", "lead")
KEY_PREFIX = "fqb_"
KEY_HINT_CHARS = 8
NAME_RE = re.compile(r"^\w[\w .@-]{0,63}$")
DEV_AGENT = "dev-agent"
DEV_LEAD = "dev-lead"
# Names that stand for someone other than a person with a key, in the ticket history.
RESERVED_NAMES = frozenset({DEV_AGENT, DEV_LEAD, "shopper", "system", "bot"})
# last_seen_at is written at most this often per person (one small write a minute, not one
# per console poll).
SEEN_EVERY = timedelta(seconds=60)
_LANG_RE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True)
class Person:
    """Who made a request: the owner of the key it carried."""

    name: str
    role: str  # agent | lead
    language: str | None = None  # the language they read; None = FAQBOT_AGENT_LANGUAGE
    development: bool = False  # signed in with a shared development key

    def may(self, role: str) -> bool:
        """Tell whether this person may use the routes of ``role`` (a lead may act as agent)."""
        return self.role == role or self.role == "lead"


@dataclass(frozen=True)
class UserInfo:
    """One person as ``faqbot users list`` shows them (never the key)."""

    name: str
    role: str
    language: str | None
    active: bool
    key_hint: str
    created_at: datetime
    key_created_at: datetime
    disabled_at: datetime | None
    last_seen_at: datetime | None


def new_key() -> str:
    """Return a fresh random key (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    """Return the trimmed name, or raise InputError saying what a name may hold."""
    cleaned = " ".join(name.split())
    if not NAME_RE.match(cleaned):
        raise InputError(
            f"name {name!r}: use 1 to 64 letters, digits, spaces, '.', '@', '-' or '_', "
            "starting with a letter or digit"
        )
    if cleaned.casefold() in RESERVED_NAMES:
        raise InputError(f"name {cleaned!r} is reserved; choose another")
    return cleaned


def check_role(role: str) -> str:
    """Return the role, or raise InputError naming the roles."""
    if role not in ROLES:
        raise InputError(f"role {role!r}: use one of {', '.join(ROLES)}")
    return role


def _check_language(language: str | None) -> str | None:
    if language is None:
        return None
    code = language.strip().lower()
    if not _LANG_RE.match(code):
        raise InputError(f"language {language!r}: use a two-letter code such as 'de'")
    return code


class People:
    """Add, list, disable and rotate people's keys; find who a presented key belongs to."""

    def __init__(
        self,
        db: Database,
        secret_key: str,
        dev_keys: dict[str, str] | None = None,
    ) -> None:
        """Keep the database and the HMAC secret; ``dev_keys`` maps role -> development key."""
        if not secret_key:
            raise ConfigError("FAQBOT_SECRET_KEY is empty: set a random secret")
        self.db = db
        self._secret = secret_key.encode("utf-8")
        # Digests of the development keys, compared in constant time (they are short).
        self._dev = [
            (self._hmac(key), Person(DEV_LEAD if role == "lead" else DEV_AGENT, role,
                                     development=True))
            for role, key in (dev_keys or {}).items() if key
        ]

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> People:
        """Build from the settings: the development keys count only in development."""
        dev: dict[str, str] = {}
        if settings.environment == "development":
            dev = {"agent": settings.agent_key.get_secret_value(),
                   "lead": settings.lead_key.get_secret_value()}
        return cls(db, settings.secret_key.get_secret_value(), dev)

    def digest(self, key: str) -> str:
        """Return the stored form of a key: hex HMAC-SHA256 under the secret."""
        return self._hmac(key).hex()

    def _hmac(self, key: str) -> bytes:
        return hmac.new(self._secret, key.encode("utf-8"), hashlib.sha256).digest()

    # ---- who is asking ----
    def authenticate(self, key: str | None) -> Person:
        """Return the person a key belongs to; AuthError when missing, unknown or disabled."""
        if not key:
            raise AuthError("missing key: send it as 'Authorization: Bearer KEY'")
        mac = self._hmac(key)
        for dev_mac, person in self._dev:
            if hmac.compare_digest(mac, dev_mac):
                return person
        with self.db.read() as s:
            user = s.scalars(select(User).where(User.key_digest == mac.hex())).first()
        if user is None:
            raise AuthError("unknown key: check it, or ask a lead for a new one")
        if not user.active:
            raise AuthError(f"the key of {user.name} is disabled; ask a lead to enable it")
        now = utcnow()
        if user.last_seen_at is None or now - user.last_seen_at >= SEEN_EVERY:
            self._touch(user.id, now)
        return Person(user.name, user.role, user.language)

    def _touch(self, user_id: int, now: datetime) -> None:
        try:
            with self.db.write() as s:
                s.execute(update(User).where(User.id == user_id).values(last_seen_at=now))
        except Exception as exc:  # bookkeeping only: never refuse a request over it
            log.warning("could not record when a person was last seen: %s", exc)

    # ---- managing people ----
    def add(self, name: str, role: str, language: str | None = None) -> str:
        """Add a person and return their new key (shown once, stored only as a digest)."""
        name, role, language = check_name(name), check_role(role), _check_language(language)
        key = new_key()
        now = utcnow()
        try:
            with self.db.write() as s:
                if self._find(s, name) is not None:
                    raise ConflictError(f"there is already a person called {name!r}")
                s.add(User(name=name, role=role, language=language, key_digest=self.digest(key),
                           key_hint=key[:KEY_HINT_CHARS], active=True, created_at=now,
                           key_created_at=now))
        except IntegrityError:  # a concurrent add of the same name
            raise ConflictError(f"there is already a person called {name!r}") from None
        return key

    def rotate(self, name: str) -> str:
        """Give a person a new key (the old one stops working at once); return it."""
        key = new_key()
        with self.db.write() as s:
            user = self._get(s, name)
            user.key_digest = self.digest(key)
            user.key_hint = key[:KEY_HINT_CHARS]
            user.key_created_at = utcnow()
        return key

    def disable(self, name: str) -> UserInfo:
        """Stop a person's key from working (their name stays in the history)."""
        with self.db.write() as s:
            user = self._get(s, name)
            if user.active:
                user.active = False
                user.disabled_at = utcnow()
            return _info(user)

    def enable(self, name: str) -> UserInfo:
        """Let a disabled person's key work again."""
        with self.db.write() as s:
            user = self._get(s, name)
            user.active = True
            user.disabled_at = None
            return _info(user)

    def list(self, active_only: bool = False) -> list[UserInfo]:
        """Return everyone, by name."""
        with self.db.read() as s:
            q = select(User)
            if active_only:
                q = q.where(User.active.is_(True))
            users = sorted(s.scalars(q), key=lambda u: u.name.casefold())
            return [_info(u) for u in users]

    def get(self, name: str) -> UserInfo:
        """Return one person by name (case-insensitive); NotFoundError when unknown."""
        with self.db.read() as s:
            return _info(self._get(s, name))

    @staticmethod
    def _find(s: Session, name: str) -> User | None:
        # Compared in Python: SQLite's lower() folds ASCII only ("Élodie" != "élodie"), and
        # the table holds a team, not a crowd.
        wanted = " ".join(name.split()).casefold()
        return next((u for u in s.scalars(select(User)) if u.name.casefold() == wanted), None)

    def _get(self, s: Session, name: str) -> User:
        user = self._find(s, name)
        if user is None:
            raise NotFoundError(f"no person called {name!r} (see `faqbot users list`)")
        return user


def _info(u: User) -> UserInfo:
    return UserInfo(u.name, u.role, u.language, u.active, u.key_hint, u.created_at,
                    u.key_created_at, u.disabled_at, u.last_seen_at)
