"""Every error faqbot raises on purpose, in one tree.

    FaqbotError                   base; ``str()`` is a message a person can act on
    ├── ConfigError               a bad setting (names the FAQBOT_* variable)
    ├── FaqError                  FAQ files that do not validate (``problems``: path:line: msg)
    ├── IndexStateError           index missing, stale, corrupt or built by another model
    ├── EmbedderError             an embedding model could not be loaded or run
    ├── TranslationError          no pack / unsupported pair / model failure (callers degrade)
    ├── RemoteError               the FAQ git remote unreachable or refusing: nothing saved -> 503
    ├── ServiceBusy               this server is at a capacity limit (event streams) -> 503
    ├── InputError                a bad request value (empty message, unknown language ...) -> 400
    │   ├── MessageTooLong        a message or comment over its length limit -> 413
    │   ├── RateLimited           too many requests from one client or conversation -> 429
    │   └── EditRefused           an FAQ edit that does not validate; nothing written -> 422
    ├── AuthError                 missing, unknown or disabled key -> 401
    ├── ForbiddenError            a valid key without the right: agent key, lead route -> 403
    ├── NotFoundError             unknown ticket, conversation or entry -> 404
    └── ConflictError             a state change that lost a race or is not allowed -> 409

The HTTP layer maps the tree to status codes in one handler (bot/web/errors.py); any other
FaqbotError is the service's fault, not the request's (503).
"""

from __future__ import annotations

from dataclasses import dataclass


class FaqbotError(Exception):
    """Base of every deliberate faqbot error."""


class ConfigError(FaqbotError):
    """A setting is missing or has a value that cannot be used."""


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about a FAQ file: where it is and what is wrong."""

    path: str
    line: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        return f"{self.path}:{self.line}: {prefix}{self.message}"


class FaqError(FaqbotError):
    """The FAQ files have errors; ``problems`` lists each as path:line: message."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class IndexStateError(FaqbotError):
    """The index on disk is missing, stale, corrupt or from another model."""


class EmbedderError(FaqbotError):
    """An embedding model could not be loaded or run."""


class TranslationError(FaqbotError):
    """A translation could not be made (no pack, unsupported pair, model failure)."""


class RemoteError(FaqbotError):
    """The FAQ's git remote cannot be reached or refused a push: nothing was saved."""


class ServiceBusy(FaqbotError):
    """This server is at one of its capacity limits; try again in ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InputError(FaqbotError):
    """A request value is unusable (empty or oversized message, unknown language ...)."""


class MessageTooLong(InputError):
    """A message, comment or reply is over its length limit."""


class RateLimited(InputError):
    """Too many requests from one client or conversation; try again in ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EditRefused(InputError):
    """An FAQ edit that does not validate: nothing was written (the message gives reasons)."""


class AuthError(FaqbotError):
    """An API key is missing or wrong."""


class ForbiddenError(FaqbotError):
    """A known person asks for something their role does not allow, or to act as another."""


class NotFoundError(FaqbotError):
    """A ticket, conversation or entry does not exist."""


class ConflictError(FaqbotError):
    """A state change is not allowed now (already claimed, already resolved ...)."""
