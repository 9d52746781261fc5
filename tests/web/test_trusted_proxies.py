"""X-Forwarded-For is believed only from FAQBOT_TRUSTED_PROXIES (issue 14, item 11).

The per-address limit (1 a minute here) tells whose address counted: two requests naming two
forwarded addresses both pass only when the peer is a trusted proxy. The default (none
trusted) is tested against a real `faqbot serve` in test_ops_hardening.py.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.web.app import create_app

SID = "0123456789abcdef0123456789abcdef"  # the shape of an id, of no conversation


def statuses(settings: Settings, faqbot: FaqBot, peer: str) -> list[int]:
    app = create_app(settings, bot=faqbot)
    with TestClient(app, client=(peer, 40000)) as http:
        return [http.post(f"/api/conversations/{SID}/withdraw",
                          headers={"X-Forwarded-For": forwarded}).status_code
                for forwarded in ("198.51.100.1", "198.51.100.2")]


@pytest.mark.parametrize(("trusted", "peer", "expect"), [
    (["10.0.0.5"], "10.0.0.5", [404, 404]),   # the proxy's shoppers count apart
    (["10.0.0.5"], "10.0.0.9", [404, 429]),   # anyone else: the peer counts
    ([], "10.0.0.5", [404, 429]),             # the default trusts nobody
])
def test_forwarded_addresses_count_only_from_trusted_proxies(
    app_settings: Settings, faqbot: FaqBot, trusted: list[str], peer: str, expect: list[int]
) -> None:
    settings = app_settings.replace(trusted_proxies=trusted, rate_limit_per_minute=1)
    assert statuses(settings, faqbot, peer) == expect
