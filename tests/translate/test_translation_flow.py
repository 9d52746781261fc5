"""An agent and a German shopper talk through the service API, each in their own language.

Tiny real de->en and en->de packs (tests/support/argos_packs.py) sit in the app's packs directory;
the network is blocked. The shopper writes German, the agent reads English next to it,
answers in English, and the shopper receives German while the agent's words stay on record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.translate.packs import install_pack
from bot.translate.translator import ArgosTranslator
from bot.web.app import create_app
from tests.support.argos_packs import DE_EN

# The real default model answers the chat, as in tests/web/test_api.py.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("argos_home", "no_network")]

AGENT = {"Authorization": "Bearer dev-agent-key"}  # the development user dev-agent
EN_DE = {en: de for de, en in DE_EN.items()}


@pytest.fixture
def packs_dir(
    tmp_path: Path, de_en_pack: Path, argos_pack_factory: Callable[..., Path]
) -> Path:
    packs = tmp_path / "packs"
    install_pack(de_en_pack, packs)
    install_pack(argos_pack_factory("en", "de", EN_DE), packs)
    return packs


@pytest.fixture
def client(
    bot_settings: Settings, faqbot: FaqBot, tmp_path: Path, packs_dir: Path
) -> Iterator[TestClient]:
    """Return the whole app on SQLite with the packs installed (the session's model reused)."""
    settings = bot_settings.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'data' / 'faqbot.db'}",
        "packs_dir": packs_dir,
    })
    (tmp_path / "data").mkdir()
    bot = FaqBot(settings, embedder=faqbot.embedder, translator=ArgosTranslator(packs_dir))
    status = bot.reload()
    assert bot.ready, status.error
    with TestClient(create_app(settings, bot=bot)) as c:
        yield c


def chat(client: TestClient, message: str, **fields: Any) -> dict[str, Any]:
    r = client.post("/api/chat", json={"message": message, **fields})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_agent_and_shopper_each_read_their_own_language(client: TestClient) -> None:
    asked = chat(client, "Hallo, wo ist meine Bestellung?", human=True, locale="de-DE")
    assert (asked["action"], asked["language"]) == ("handoff", "de")
    sid, tid = asked["session_id"], asked["ticket_id"]
    assert tid is not None

    # The agent sees the shopper's words as written and in English (the default agent
    # language), word for word through the tiny de->en pack.
    assert client.post(f"/api/agent/tickets/{tid}/claim", headers=AGENT).status_code == 200
    detail = client.get(f"/api/agent/tickets/{tid}", headers=AGENT).json()
    first = detail["transcript"][0]
    assert (first["role"], first["language"]) == ("shopper", "de")
    assert first["text"] == "Hallo, wo ist meine Bestellung?"
    assert first["text_for_agent"] == "Hello, wo is meine Order?"  # "Bestellung": capital kept

    # The English reply reaches the shopper in German ...
    sent = client.post(f"/api/agent/tickets/{tid}/reply",
                       json={"text": "Your order was shipped."}, headers=AGENT)
    assert sent.status_code == 200, sent.text
    reply = sent.json()
    assert reply["translated"] is True
    assert (reply["message"]["text"], reply["message"]["language"]) == (
        "Ihre bestellung wurde versandt.", "de")
    polled = client.get(f"/api/conversations/{sid}/messages",
                        params={"after": asked["cursor"]}).json()
    agent_lines = [m for m in polled["messages"] if m["role"] == "agent"]
    assert [(m["text"], m["language"]) for m in agent_lines] == [
        ("Ihre bestellung wurde versandt.", "de")]

    # ... and the agent's own words are kept in the transcript.
    detail = client.get(f"/api/agent/tickets/{tid}", headers=AGENT).json()
    mine = [m for m in detail["transcript"] if m["role"] == "agent"]
    assert [(m["text"], m["language"], m["text_for_agent"]) for m in mine] == [
        ("Ihre bestellung wurde versandt.", "de", "Your order was shipped.")]


def test_without_a_pack_for_the_pair_the_reply_goes_out_as_written(client: TestClient) -> None:
    asked = chat(client, "Quiero hablar con una persona, por favor.", human=True,
                 language="es")
    tid = asked["ticket_id"]
    assert client.post(f"/api/agent/tickets/{tid}/claim", headers=AGENT).status_code == 200
    detail = client.get(f"/api/agent/tickets/{tid}", headers=AGENT).json()
    assert detail["transcript"][0]["text_for_agent"] is None  # no es->en pack: none shown
    sent = client.post(f"/api/agent/tickets/{tid}/reply", json={"text": "Your order was shipped."},
                       headers=AGENT).json()
    assert sent["translated"] is False
    assert (sent["message"]["text"], sent["message"]["language"]) == (
        "Your order was shipped.", "en")
