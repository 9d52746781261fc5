"""The chat flow's decisions, branch by branch (no database, no model)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.chat.flow import Context, Turn, plan
from bot.chat.triage import TriageClassifier, TriageResult


@dataclass(frozen=True)
class R:
    """A fake of the bot's decision: only the two fields the flow reads."""

    action: str
    entry_handoff: bool = False


ANSWER, CLARIFY, HANDOFF = R("answer"), R("clarify"), R("handoff")
TRIAGE = TriageClassifier.load()


def kind(name: str, **kw: object) -> TriageResult:
    return TriageResult(name, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("name, notice", [
    ("greeting", "greeting"), ("thanks", "welcome"), ("goodbye", "goodbye"),
])
def test_small_talk_gets_a_reply_and_never_a_ticket(name: str, notice: str) -> None:
    assert plan(kind(name), None, Context()) == Turn("smalltalk", notice=notice)


@pytest.mark.parametrize("name, notice", [("thanks", "welcome_more"), ("goodbye", "goodbye")])
def test_thanks_or_goodbye_after_an_answer_asks_for_the_rating(name: str, notice: str) -> None:
    turn = plan(kind(name), None, Context(after_answer=True))
    assert (turn.action, turn.notice, turn.rate, turn.ticket) == ("smalltalk", notice, True, None)


def test_a_greeting_after_an_answer_is_just_a_greeting() -> None:
    assert plan(kind("greeting"), None, Context(after_answer=True)).rate is False


def test_noise_is_asked_again_without_a_ticket() -> None:
    assert plan(kind("noise"), None, Context()) == Turn("noise", notice="noise")


def test_asking_for_a_person_opens_a_ticket() -> None:
    assert plan(kind("person"), None, Context()).reason == "asked_for_person"
    assert plan(kind("faq"), ANSWER, Context(button=True)).ticket == "open"
    turn = plan(kind("person"), None, Context(negative_feedback=True))
    assert (turn.ticket, turn.reason) == ("open", "negative_feedback")


def test_questions_are_answered_clarified_or_handed_off() -> None:
    assert plan(kind("faq"), ANSWER, Context()) == Turn("answer", logged=True)
    assert plan(kind("faq"), CLARIFY, Context()) == Turn("clarify", logged=True)
    turn = plan(kind("faq"), HANDOFF, Context())
    assert (turn.action, turn.ticket, turn.reason) == ("handoff", "open", "low_confidence")


def test_one_vague_word_is_asked_about_instead_of_a_ticket() -> None:
    paket = TRIAGE.classify("Paket")
    assert paket.vague
    assert plan(paket, R("answer", entry_handoff=True), Context(vague=True)).action == "vague"
    assert plan(paket, HANDOFF, Context(vague=True)).action == "vague"
    assert plan(paket, ANSWER, Context(vague=True)).action == "answer"


def test_a_complaint_always_reaches_a_person() -> None:
    damaged = TRIAGE.classify("Ürün hasarlı geldi")
    turn = plan(damaged, R("answer", entry_handoff=True), Context())
    assert (turn.action, turn.ticket, turn.reason) == ("answer", "open", "entry_handoff")
    turn = plan(damaged, CLARIFY, Context())
    assert (turn.action, turn.ticket, turn.reason) == ("handoff", "open", "complaint")
    turn = plan(damaged, ANSWER, Context())
    assert (turn.action, turn.ticket, turn.reason) == ("answer", "open", "complaint")


def test_while_waiting_questions_are_answered_and_the_ticket_stays() -> None:
    ctx = Context(waiting=True)
    assert plan(kind("faq"), ANSWER, ctx) == Turn("answer", logged=True)
    assert plan(kind("faq"), CLARIFY, ctx) == Turn("clarify", logged=True)


def test_while_waiting_messages_for_the_person_are_acknowledged_once() -> None:
    first = plan(kind("faq"), HANDOFF, Context(waiting=True))
    later = plan(kind("person"), None, Context(waiting=True, acknowledged=True))
    assert (first.action, first.notice) == ("queued", "queued")
    assert (later.action, later.notice, later.ticket) == ("queued", None, None)


def test_while_waiting_small_talk_and_noise_leave_the_ticket_alone() -> None:
    ctx = Context(waiting=True)
    assert plan(kind("greeting"), None, ctx) == Turn("smalltalk", notice="waiting_greeting")
    assert plan(kind("thanks"), None, ctx) == Turn("smalltalk", notice="welcome")
    assert plan(kind("noise"), None, ctx) == Turn("noise", notice="noise")


def test_while_waiting_an_urgent_message_raises_the_ticket() -> None:
    turn = plan(TRIAGE.classify("you charged me twice!"), ANSWER, Context(waiting=True))
    assert (turn.action, turn.ticket) == ("answer", "retriage")


def test_saying_it_is_answered_closes_the_ticket_and_asks_for_the_rating() -> None:
    turn = plan(kind("faq"), None, Context(waiting=True, answered=True))
    assert turn == Turn("withdrawn", notice="withdrawn", ticket="withdraw", rate=True)


def test_no_index_hands_off() -> None:
    turn = plan(kind("faq"), None, Context(bot_unavailable=True))
    assert (turn.ticket, turn.reason) == ("open", "bot_unavailable")
