"""Issue 16 over HTTP, in 14 languages: small talk opens no ticket, the bot keeps answering
while a shopper waits and after the ticket is resolved, withdrawing and rating work.

The language loops run on SQLite against one app (real model, an FAQ with a returns entry
in every language); the storage flows (withdraw, rating, reopen window) run on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.chat.notices import NOTICES
from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.web.app import create_app
from tests.support.faqs import write_faq
from tests.support.people import add_person
from tests.support.settings import make_settings

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Staff:
    """Headers with the keys of the desk's agent (alice) and lead (lena)."""

    agent: dict[str, str]
    lead: dict[str, str]


def hire(settings: Settings) -> Staff:
    """Add alice (agent) and lena (lead) to the settings' database."""
    return Staff(add_person(settings, "alice"), add_person(settings, "lena", "lead"))


# One returns question per language, as the FAQ below has it: these are answered for sure,
# so the tests are about the flow, not about matching quality.
RETURNS = {
    "en": "How long do I have to return an item?",
    "de": "Wie lange habe ich Zeit für eine Rücksendung?",
    "es": "¿Cuánto tiempo tengo para devolver un artículo?",
    "fr": "Combien de temps ai-je pour retourner un article ?",
    "it": "Quanto tempo ho per restituire un articolo?",
    "nl": "Hoe lang heb ik om een artikel terug te sturen?",
    "pl": "Ile mam czasu na zwrot produktu?",
    "pt": "Quanto tempo tenho para devolver um artigo?",
    "zh": "退货期限是多久？",
    "ja": "返品期限はどのくらいですか？",
    "ko": "반품 기간이 얼마나 되나요?",
    "ru": "Сколько у меня времени, чтобы вернуть товар?",
    "tr": "Bir ürünü iade etmek için ne kadar sürem var?",
    "sv": "Hur länge har jag på mig att returnera en vara?",
}
FAQ = "entries:\n  - id: returns-window\n    questions:\n" + "".join(
    f"      {lang}: [\"{q}\"]\n" for lang, q in RETURNS.items()
) + "    answer:\n      en: You can return most items within 30 days of delivery.\n"

# greeting, thanks, acknowledgement, goodbye: what shoppers type, in each language.
SMALL_TALK = {
    "en": ["hi there", "thanks!", "ok", "bye"],
    "de": ["Hallo", "danke schön", "alles klar", "tschüss"],
    "es": ["hola", "gracias", "vale", "adiós"],
    "fr": ["bonjour", "merci", "d'accord", "au revoir"],
    "it": ["buongiorno", "grazie", "va bene", "arrivederci"],
    "nl": ["hoi", "bedankt", "oké", "doei"],
    "pl": ["dzień dobry", "dziękuję", "okej", "do widzenia"],
    "pt": ["olá", "obrigado", "certo", "tchau"],
    "zh": ["你好", "谢谢", "好的", "再见"],
    "ja": ["こんにちは", "ありがとう", "了解です", "さようなら"],
    "ko": ["안녕하세요", "감사합니다", "네 알겠습니다", "안녕히 계세요"],
    "ru": ["привет", "спасибо", "понятно", "пока"],
    "tr": ["merhaba", "teşekkürler", "tamam", "görüşürüz"],
    "sv": ["hej", "tack", "okej", "hej då"],
}
EMOJI = ["👍", "🙏", "👋", "😊"]


def chat(client: TestClient, message: str = "", **fields: Any) -> dict[str, Any]:
    r = client.post("/api/chat", json={"message": message, **fields})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def open_tickets(client: TestClient, staff: Staff) -> int:
    r = client.get("/api/agent/tickets", headers=staff.agent)
    assert r.status_code == 200
    return len(r.json()["tickets"])


@pytest.fixture(scope="module")
def world_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home: Path = tmp_path_factory.mktemp("world")
    write_faq(home / "faq", "returns.yaml", FAQ)
    return make_settings(home)


@pytest.fixture(scope="module")
def world_bot(world_settings: Settings, faqbot: FaqBot) -> FaqBot:
    bot = FaqBot(world_settings)  # the session's models (the embedders are shared)
    assert bot.reload().ok
    return bot


@pytest.fixture(scope="module")
def world(world_settings: Settings, world_bot: FaqBot) -> Iterator[TestClient]:
    with TestClient(create_app(world_settings, bot=world_bot)) as c:
        yield c


@pytest.fixture(scope="module")
def staff(world: TestClient, world_settings: Settings) -> Staff:
    """The people of the world app (added once its database is migrated)."""
    return hire(world_settings)


@pytest.fixture
def both(world_settings: Settings, world_bot: FaqBot, db_url: str
         ) -> Iterator[tuple[TestClient, Staff]]:
    """The same app on a fresh SQLite file or PostgreSQL schema, and its people."""
    settings = world_settings.model_copy(update={"database_url": db_url})
    with TestClient(create_app(settings, bot=world_bot)) as c:
        yield c, hire(settings)


@pytest.mark.parametrize("lang", list(SMALL_TALK))
def test_small_talk_and_emoji_open_no_ticket(world: TestClient, lang: str, staff: Staff) -> None:
    before = open_tickets(world, staff)
    sid = None
    for i, text in enumerate([*SMALL_TALK[lang], *EMOJI]):
        r = chat(world, text, session_id=sid, locale=lang)
        sid = r["session_id"]
        assert (r["action"], r["ticket_id"], r["state"]) == ("smalltalk", None, "bot"), text
        assert r["answer"], text
        if i == 0:  # the greeting is answered in the shopper's language
            assert (r["kind"], r["language"]) == ("greeting", lang)
            assert r["answer"] == NOTICES["greeting"][lang]
    assert open_tickets(world, staff) == before
    unanswered = world.get("/api/lead/unanswered?days=1", headers=staff.lead).json()["questions"]
    assert not any(q["text"] in SMALL_TALK[lang] for q in unanswered)


@pytest.mark.parametrize(("text", "locale", "lang", "notice"), [
    ("merci", None, "fr", "welcome"), ("tschüss", None, "de", "goodbye"),
    ("adiós", None, "es", "goodbye"), ("danke", "en", "de", "welcome"),
    ("gracias", "en-GB", "es", "welcome"), ("tamam", None, "tr", "welcome"),
])
def test_a_first_small_talk_word_is_answered_in_its_language(
    world: TestClient, text: str, locale: str | None, lang: str, notice: str
) -> None:
    # Too short for detection, which fell back on the default or the English page's locale;
    # the small-talk word lists know the language.
    r = chat(world, text, locale=locale)
    assert (r["action"], r["language"], r["answer"]) == ("smalltalk", lang, NOTICES[notice][lang])


def test_small_talk_keeps_the_conversations_language(world: TestClient) -> None:
    first = chat(world, RETURNS["en"], locale="en")
    r = chat(world, "merci", session_id=first["session_id"])
    assert (r["kind"], r["language"]) == ("thanks", "en")


@pytest.mark.parametrize("lang", list(RETURNS))
def test_questions_are_answered_while_waiting_and_after_resolution(
    world: TestClient, lang: str, staff: Staff
) -> None:
    person = chat(world, human=True, locale=lang)
    sid, tid = person["session_id"], person["ticket_id"]
    assert (person["action"], person["state"]) == ("handoff", "handoff") and tid
    waiting = chat(world, RETURNS[lang], session_id=sid)
    assert (waiting["action"], waiting["faq_id"]) == ("answer", "returns-window"), lang
    assert (waiting["state"], waiting["ticket_id"]) == ("handoff", tid)
    assert world.post(f"/api/agent/tickets/{tid}/claim", headers=staff.agent).status_code == 200
    detail = world.get(f"/api/agent/tickets/{tid}", headers=staff.agent).json()
    texts = [unicodedata.normalize("NFKC", m["text"]) for m in detail["transcript"]]
    assert unicodedata.normalize("NFKC", RETURNS[lang]) in texts  # the agent sees it
    assert world.post(f"/api/agent/tickets/{tid}/resolve", headers=staff.agent).status_code == 200
    after = chat(world, RETURNS[lang], session_id=sid)
    assert (after["action"], after["faq_id"], after["state"]) == (
        "answer", "returns-window", "resolved")
    ticket = world.get(f"/api/agent/tickets/{tid}", headers=staff.agent).json()
    assert ticket["state"] == "resolved"  # the question did not reopen it


def test_messages_for_the_person_are_acknowledged_once(world: TestClient) -> None:
    person = chat(world, "Ich möchte mit einem Mitarbeiter sprechen", locale="de")
    sid = person["session_id"]
    first = chat(world, "Meine Nachbarin Frau Okafor hat das Paket angenommen", session_id=sid)
    second = chat(world, "Sie wohnt in Hausnummer 14", session_id=sid)
    assert (first["action"], second["action"]) == ("queued", "queued")
    assert first["notice"] == NOTICES["queued"]["de"] and second["notice"] is None
    msgs = world.get(f"/api/conversations/{sid}/messages").json()
    assert [m["action"] for m in msgs["messages"]].count("queued") == 1
    assert (msgs["state"], msgs["wait_minutes"]) == ("handoff", 240)


def test_the_ticket_carries_the_topic_not_the_request_for_a_person(
    world: TestClient, staff: Staff
) -> None:
    first = chat(world, RETURNS["de"], locale="de", page_url="https://shop.example/de/hilfe")
    sid = first["session_id"]
    person = chat(world, "Ich möchte mit einer Person sprechen", session_id=sid)
    detail = world.get(f"/api/agent/tickets/{person['ticket_id']}", headers=staff.agent).json()
    assert detail["asked_about"] == RETURNS["de"]
    assert detail["guesses"][0]["faq_id"] == "returns-window"
    assert (detail["kind"], detail["priority"], detail["locale"]) == ("person", "normal", "de")
    assert detail["page_url"] == "https://shop.example/de/hilfe"


def test_the_page_address_loses_its_query(world: TestClient, staff: Staff) -> None:
    r = chat(world, "I want a human", page_url="https://shop.example/cart?token=s3cret#pay")
    detail = world.get(f"/api/agent/tickets/{r['ticket_id']}", headers=staff.agent).json()
    assert detail["page_url"] == "https://shop.example/cart"


def test_withdraw_by_button_and_words_and_one_rating(both: tuple[TestClient, Staff]) -> None:
    client, staff = both
    person = chat(client, human=True, locale="fr")
    sid, tid = person["session_id"], person["ticket_id"]
    w = client.post(f"/api/conversations/{sid}/withdraw", json={})
    assert w.status_code == 200
    body = w.json()
    assert body["state"] == "resolved" and body["notice"] == NOTICES["withdrawn"]["fr"]
    assert body["rate_prompt"] == NOTICES["rate"]["fr"] and body["rate_message_id"]
    ticket = client.get(f"/api/agent/tickets/{tid}", headers=staff.agent).json()
    assert (ticket["state"], ticket["resolution"]) == ("resolved", "self_served")
    # The agents' history says who closed it.
    assert [(e["kind"], e["actor"]) for e in ticket["events"]] == [("withdraw", "shopper")]
    again = client.post(f"/api/conversations/{sid}/withdraw", json={}).json()
    assert again["notice"] is None  # a second click changes nothing
    rate = f"/api/conversations/{sid}/rating"
    assert client.post(rate, json={"score": 5}).json()["notice"] == NOTICES["rated"]["fr"]
    assert client.post(rate, json={"score": 5, "comment": "Très rapide"}).status_code == 200
    assert client.post(rate, json={"score": 3}).status_code == 409
    assert client.post(rate, json={"score": 6}).status_code == 422
    assert client.post("/api/conversations/no-such-conversation/rating",
                     json={"score": 4}).status_code == 404
    msgs = client.get(f"/api/conversations/{sid}/messages").json()
    assert msgs["rated"] is True
    assert [m["action"] for m in msgs["messages"]].count("rate") == 1

    # Words work as the button does.
    other = chat(client, "I want to talk to a person", locale="en")
    said = chat(client, "never mind, I found it", session_id=other["session_id"])
    assert (said["action"], said["state"]) == ("withdrawn", "resolved") and said["rate_prompt"]
    ticket = client.get(f"/api/agent/tickets/{other['ticket_id']}", headers=staff.agent).json()
    assert [e["kind"] for e in ticket["events"]] == ["withdraw"]


def test_ratings_are_reported_per_language_agent_and_bot(both: tuple[TestClient, Staff]) -> None:
    client, staff = both
    answered = chat(client, RETURNS["en"], locale="en")
    good = client.post("/api/feedback", json={"session_id": answered["session_id"],
                                            "message_id": answered["message_id"],
                                            "helpful": True}).json()
    assert good["rate_prompt"] == NOTICES["rate"]["en"]  # a helpful answer asks once
    assert client.post(f"/api/conversations/{answered['session_id']}/rating",
                     json={"score": 4}).status_code == 200
    person = chat(client, "Quiero hablar con una persona", locale="es")
    tid = person["ticket_id"]
    client.post(f"/api/agent/tickets/{tid}/claim", headers=staff.agent)
    client.post(f"/api/agent/tickets/{tid}/resolve", headers=staff.agent)
    msgs = client.get(f"/api/conversations/{person['session_id']}/messages").json()
    assert [m["action"] for m in msgs["messages"]][-2:] == ["resolved", "rate"]
    assert client.post(f"/api/conversations/{person['session_id']}/rating",
                     json={"score": 2}).status_code == 200
    csat = client.get("/api/lead/report?days=1", headers=staff.lead).json()["csat"]
    assert (csat["totals"]["ratings"], csat["totals"]["average"]) == (2, 3.0)
    assert csat["bot_only"]["ratings"] == 1 and csat["bot_only"]["average"] == 4.0
    assert csat["per_agent"]["alice"]["scores"]["2"] == 1
    assert set(csat["per_language"]) == {"en", "es"}
    metrics = client.get("/metrics").text
    assert 'faqbot_csat_ratings{agent="bot",language="en"} 1.0' in metrics
    assert 'faqbot_csat_score_sum{agent="alice",language="es"} 2.0' in metrics


def test_thanks_after_an_answer_asks_for_anything_else_and_a_rating(world: TestClient) -> None:
    answered = chat(world, RETURNS["it"], locale="it")
    thanks = chat(world, "grazie mille!", session_id=answered["session_id"])
    assert thanks["answer"] == NOTICES["welcome_more"]["it"] and thanks["rate_prompt"]
    bye = chat(world, "ciao, buona giornata", session_id=answered["session_id"])
    assert bye["action"] == "smalltalk" and bye["rate_prompt"] is None  # never twice


def test_a_vague_word_is_asked_about_instead_of_a_ticket(world: TestClient) -> None:
    r = chat(world, "Paket", locale="de")
    assert (r["action"], r["ticket_id"]) == ("vague", None)
    assert r["answer"] == NOTICES["vague"]["de"]


def test_questions_asked_while_waiting_join_the_topic_and_vague_words_do_not(
    world: TestClient, staff: Staff
) -> None:
    first = chat(world, "Paket", locale="de")  # vague: asked about, not a topic
    sid = first["session_id"]
    person = chat(world, "Mitarbeiter bitte", session_id=sid)
    assert person["action"] == "handoff"
    chat(world, RETURNS["de"], session_id=sid)
    detail = world.get(f"/api/agent/tickets/{person['ticket_id']}", headers=staff.agent).json()
    assert detail["asked_about"] == RETURNS["de"]
    assert detail["guesses"][0]["faq_id"] == "returns-window"
