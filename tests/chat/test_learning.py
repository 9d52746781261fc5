"""Issue 17: the "none of these — talk to a person" chip, and phrasings learned from chips.

Real model (the tiny FAQ), real databases (SQLite and PostgreSQL): a vague question gets
chips and the person chip in the shopper's language; tapping it hands off like the person
button; a chip tapped and then rated helpful (or not complained about) becomes a suggested
phrasing, a complaint or a handoff does not; retention deletes the suggestions' text.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.chat.notices import NOTICES
from bot.chat.service import ChatService
from bot.chat.tickets import TicketStore, Triage
from bot.chat.views import ChatRequest, ChatResult
from bot.insights import learned
from bot.matching.bot import FaqBot
from bot.runtime.retention import purge_text
from bot.settings import SUPPORTED_LANGUAGES, Settings
from bot.store.db import Database
from bot.store.models import ChipPick, LearnedPhrasing, Ticket, utcnow
from bot.translate.translator import NullTranslator

pytestmark = pytest.mark.slow

# A vague question the tiny FAQ's delivery entry is the best guess for, but not sure enough
# (Swedish goes through its bridge, where the English word scores too low to clarify).
VAGUE = "delivery"
# Swedish needs its own vague word: with the bridge map's Swedish step "När kommer leveransen"
# is answered outright (0.71); "leveranstid" still scores in the clarify zone (0.56).
VAGUE_IN = {"sv": "leveranstid"}


@pytest.fixture
def service(db: Database, bot_settings: Settings, faqbot: FaqBot) -> ChatService:
    tickets = TicketStore(Triage.default(), {"urgent": 30, "normal": 240})
    return ChatService(db, faqbot, tickets, bot_settings, NullTranslator())


def ask(service: ChatService, message: str, sid: str | None = None,
        **fields: object) -> ChatResult:
    return service.chat(ChatRequest(session_id=sid, message=message, **fields))  # type: ignore[arg-type]


def tap_chip(service: ChatService, question: str = VAGUE, **fields: object) -> ChatResult:
    """Ask a vague question and tap its first chip; return the answer to the tap."""
    unsure = ask(service, question, **fields)
    assert unsure.action == "clarify", unsure
    chip = unsure.suggestions[0]
    picked = ask(service, chip.question, unsure.session_id, suggestion_id=chip.faq_id,
                 **fields)
    assert (picked.action, picked.faq_id) == ("answer", chip.faq_id)
    return picked


def settle(service: ChatService, minutes_later: float = 0) -> int:
    s = service.settings
    return learned.settle(service.db, s.learn_turns, s.learn_minutes,
                          utcnow() + timedelta(minutes=minutes_later))


# ---- the person chip ----
@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_chips_end_with_the_person_chip_in_the_shoppers_language(
    service: ChatService, lang: str
) -> None:
    r = ask(service, VAGUE_IN.get(lang, VAGUE), language=lang)
    assert r.action == "clarify" and r.suggestions
    assert r.person_chip == NOTICES["none_of_these"][lang]
    assert ask(service, "How long does delivery take?").person_chip is None  # answered


def test_tapping_the_person_chip_opens_a_ticket_with_the_question_and_the_chips(
    service: ChatService,
) -> None:
    unsure = ask(service, VAGUE, language="de")
    assert unsure.action == "clarify" and unsure.person_chip
    r = ask(service, unsure.person_chip, unsure.session_id, human=True)
    assert (r.action, r.state) == ("handoff", "handoff") and r.ticket_id
    with service.db.read() as s:
        ticket = s.get_one(Ticket, r.ticket_id)
        assert (ticket.reason, ticket.kind) == ("asked_for_person", "person")
        assert ticket.preview == VAGUE and ticket.asked_about == VAGUE  # not the chip's label
        shown = {x.faq_id for x in unsure.suggestions}
        assert shown <= {g["faq_id"] for g in ticket.guesses}
    # While a person is on it, no more person chips.
    assert ask(service, VAGUE, r.session_id).person_chip is None


# ---- learning from use ----
def suggestions(service: ChatService) -> list[tuple[str, str, str, int]]:
    return [(x.faq_id, x.question, x.language, x.count) for x in learned.suggestions(service.db)]


def test_a_chip_rated_helpful_becomes_a_suggested_phrasing_counted_once(
    service: ChatService,
) -> None:
    picked = tap_chip(service)
    assert settle(service) == 0 and suggestions(service) == []  # nothing said yet
    service.feedback(picked.session_id, picked.message_id, True, None)
    assert settle(service) == 1
    assert suggestions(service) == [(picked.faq_id, VAGUE, "en", 1)]
    # Another shopper, the same words up to case and punctuation: one row, counted twice.
    again = tap_chip(service, "Delivery!!")
    service.feedback(again.session_id, again.message_id, True, None)
    settle(service)
    assert suggestions(service) == [(picked.faq_id, VAGUE, "en", 2)]


def test_no_complaint_for_a_few_turns_or_the_window_counts_a_chip(service: ChatService) -> None:
    picked = tap_chip(service)
    ask(service, "thanks", picked.session_id)
    assert settle(service) == 0  # one turn of two
    ask(service, "Which payment methods do you accept?", picked.session_id)
    assert settle(service) == 1
    quiet = tap_chip(service, "delivery please")
    assert settle(service, minutes_later=5) == 0
    assert settle(service, minutes_later=service.settings.learn_minutes + 1) == 1
    assert {x.question for x in learned.suggestions(service.db)} == {VAGUE, "delivery please"}
    assert quiet.faq_id


def test_a_thumbs_down_or_a_handoff_after_the_chip_teaches_nothing(service: ChatService) -> None:
    down = tap_chip(service)
    service.feedback(down.session_id, down.message_id, False, None)
    person = tap_chip(service)
    ask(service, "", person.session_id, human=True)
    assert settle(service, minutes_later=service.settings.learn_minutes + 1) == 0
    assert suggestions(service) == []
    with service.db.read() as s:
        states = s.scalars(select(ChipPick.state)).all()
    assert sorted(states) == ["rejected", "rejected"]


def test_retention_deletes_the_learned_questions(service: ChatService) -> None:
    picked = tap_chip(service)
    service.feedback(picked.session_id, picked.message_id, True, None)
    settle(service)
    assert purge_text(service.db, 90).learned == 0  # recent: kept
    report = purge_text(service.db, 90, now=utcnow() + timedelta(days=91))
    assert report.learned == 2  # the pick and the suggestion
    with service.db.read() as s:
        assert s.scalar(select(func.count()).select_from(LearnedPhrasing)) == 0
        assert s.scalar(select(func.count()).select_from(ChipPick)) == 0
