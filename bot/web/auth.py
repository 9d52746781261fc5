"""API key checks: keys are kept only as SHA-256 digests and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

from bot.errors import AuthError, ConfigError
from bot.settings import DEV_AGENT_KEY, DEV_LEAD_KEY, Settings


def digest(key: str) -> bytes:
    """Return the SHA-256 digest of a key."""
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyCheck:
    """Checks one role's key; the plain key is not kept after construction."""

    def __init__(self, role: str, secret: SecretStr, default: str, environment: str) -> None:
        key = secret.get_secret_value()
        if not key:
            raise ConfigError(f"FAQBOT_{role.upper()}_KEY is empty: set a secret key")
        if environment != "development" and key == default:
            # Settings refuse this too; checked again so no code path builds an open desk.
            raise ConfigError(
                f"FAQBOT_{role.upper()}_KEY still has the public development default; "
                "set a secret of at least 16 characters"
            )
        self.role = role
        self._digest = digest(key)

    def check(self, presented: str | None) -> None:
        """Raise AuthError unless ``presented`` is the key."""
        if not presented:
            header = f"X-{self.role.title()}-Key"
            raise AuthError(f"missing {self.role} key: send it in the {header} header")
        # Comparing digests keeps the comparison constant-time whatever the presented length.
        if not hmac.compare_digest(digest(presented), self._digest):
            raise AuthError(f"wrong {self.role} key")


class Keys:
    """The agent and lead key checks of one app."""

    def __init__(self, settings: Settings) -> None:
        env = settings.environment
        self.agent = KeyCheck("agent", settings.agent_key, DEV_AGENT_KEY, env)
        self.lead = KeyCheck("lead", settings.lead_key, DEV_LEAD_KEY, env)
