"""Storing one chat turn: the shopper's message, what the bot says, tickets and the rating ask.

:class:`TurnWriter` runs inside ChatService's write transaction, after the conversation row
is locked. It reads the conversation's state there (the newest ticket, whether the shopper
was told their messages are passed on, what the bot last said), lets bot/chat/flow.py
decide, and writes the outcome: messages, a ticket opened or reopened, raised or withdrawn,
the rating prompt, the question log. Plain SQL on the hot path, as before: the ORM's unit of
work cost more than the statements themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select
from sqlalchemy.orm import Session

from bot.chat.flow import Context, Turn, plan
from bot.chat.inbox import record
from bot.chat.learning import record_pick
from bot.chat.notices import handoff_notice, notice
from bot.chat.summary import asked_about, merge_guesses
from bot.chat.tickets import TicketContext, TicketStore
from bot.chat.triage import SUBSTANTIVE, TriageResult
from bot.chat.views import ChatResult
from bot.matching.bot import Guess, Reply
from bot.settings import Settings
from bot.store.models import Message, QuestionLog, Rating, Ticket, utcnow
from bot.translate.translator import Translator

# Session.info key: the ids of the messages a transaction added, for the cursor.
ADDED = "faqbot_added_messages"
_MESSAGES = cast(Table, Message.__table__)
_QUESTIONS = cast(Table, QuestionLog.__table__)
# Bot replies that carry text for the shopper, stored as the bot's message.
_SAID = ("smalltalk", "noise", "vague")


@dataclass(frozen=True)
class TurnInput:
    """One shopper message with everything decided before the write transaction."""

    sid: str
    text: str
    language: str
    triage: TriageResult
    reply: Reply | None
    button: bool = False  # the "talk to a person" button
    answered: bool = False  # the shopper says the question is answered
    negative_feedback: bool = False
    bot_unavailable: bool = False
    market: str | None = None
    locale: str | None = None
    page_url: str | None = None
    visitor_id: str | None = None  # the widget's per-browser id (bot/chat/inbox.py)


def add_message(
    s: Session, sid: str, role: str, text: str, language: str | None, **fields: Any
) -> int:
    """Insert a message and return its id (the conversation row must exist already)."""
    row = s.connection().execute(
        insert(_MESSAGES).returning(_MESSAGES.c.id),
        {"conversation_id": sid, "role": role, "text": text, "language": language,
         "created_at": utcnow(), "action": None, "faq_id": None, "author": None,
         "original_text": None, "original_language": None, **fields},
    ).one()
    msg_id = int(row[0])
    s.info.setdefault(ADDED, []).append(msg_id)
    return msg_id


def conversation_state(ticket: Ticket | None) -> str:
    """Return "bot", "handoff" or "resolved" for a conversation's newest ticket."""
    if ticket is None:
        return "bot"
    return "resolved" if ticket.state == "resolved" else "handoff"


class TurnWriter:
    """Writes a chat turn, and the rating prompt for any end of a conversation."""

    def __init__(self, tickets: TicketStore, settings: Settings, translator: Translator) -> None:
        self.tickets = tickets
        self.settings = settings
        self.translator = translator

    # ---- one shopper message ----
    def write(self, s: Session, t: TurnInput) -> ChatResult:
        """Store the message and the outcome ``flow.plan`` decides for it."""
        ticket = self.tickets.for_conversation(s, t.sid, lock=True)
        waiting = ticket is not None and ticket.state != "resolved"
        after = (not waiting and t.triage.kind in ("thanks", "goodbye")
                 and self._last_bot_action(s, t.sid) == "answer")
        ctx = Context(
            waiting=waiting,
            acknowledged=waiting and ticket is not None and self._acknowledged(s, ticket),
            after_answer=after, button=t.button, negative_feedback=t.negative_feedback,
            vague=t.triage.vague, answered=t.answered, bot_unavailable=t.bot_unavailable,
        )
        turn = plan(t.triage, t.reply, ctx)
        shopper = add_message(s, t.sid, "shopper", t.text, t.language) if t.text else None
        result = ChatResult(session_id=t.sid, message_id=shopper or 0, action=turn.action,
                            language=t.language, kind=t.triage.kind)
        if ticket is not None and turn.ticket == "withdraw":
            ticket = self.tickets.withdraw(s, ticket.id)
            record(s, ticket.id, "shopper", "withdraw")
        elif ticket is not None and waiting and turn.ticket == "retriage":
            self.tickets.retriage(s, ticket, t.text, urgent=True)
        if ticket is not None and waiting and turn.action != "withdrawn" \
                and t.triage.substantive and not t.triage.vague and t.text:
            # The agent's queue shows what the shopper asked meanwhile too.
            self._follow_topic(s, t, ticket)
        if turn.action in ("answer", "clarify") and t.reply is not None:
            self._bot_answer(s, t, result, offer_person=not waiting)
            if t.triage.evidence == "suggestion" and turn.ticket is None and result.faq_id:
                # A chip tap: what follows may teach the entry the shopper's words (issue 17).
                record_pick(s, t.sid, result.faq_id, result.message_id)
        elif turn.action in _SAID and turn.notice:
            said = notice(turn.notice, t.language, self.translator)  # type: ignore[arg-type]
            result.message_id = add_message(s, t.sid, "bot", said, t.language, action=turn.action)
            result.answer = said
        elif turn.action in ("queued", "withdrawn") and turn.notice:
            said = notice(turn.notice, t.language, self.translator)  # type: ignore[arg-type]
            note = add_message(s, t.sid, "system", said, t.language, action=turn.action)
            result.notice = said
            result.message_id = shopper or note
        if turn.ticket == "open":
            ticket = self._open_ticket(s, t, ticket, turn)
            result.ticket_opened = True
            sla = handoff_notice(t.language, self.tickets.sla_minutes[ticket.priority],
                                 self.translator)
            if turn.action == "handoff":
                result.message_id = add_message(s, t.sid, "bot", sla, t.language,
                                                action="handoff")
                result.faq_id = None
            else:  # answered, and a person follows: one notice, stored once
                add_message(s, t.sid, "system", sla, t.language, action="handoff")
            result.notice = sla
        if turn.rate:
            self.ask_rating(s, t.sid, t.language, result)
        if turn.logged and t.text:
            self._log_question(s, t, turn, result, shopper)
        result.state = conversation_state(ticket)
        result.ticket_id = ticket.id if ticket is not None else None
        if result.state == "handoff" and ticket is not None:
            result.wait_minutes = self.tickets.sla_minutes[ticket.priority]
        added: list[int] = s.info.get(ADDED, [])
        result.message_ids = [i for i in added if i != shopper]
        # The conversation row is locked and ids only grow: the newest id is the cursor.
        result.cursor = max(added) if added else 0
        return result

    def _bot_answer(
        self, s: Session, t: TurnInput, result: ChatResult, offer_person: bool = True
    ) -> None:
        reply = t.reply
        assert reply is not None
        result.confidence, result.faq_id = reply.confidence, reply.faq_id
        if reply.action == "answer":
            result.message_id = add_message(s, t.sid, "bot", reply.answer or "",
                                            reply.answer_language, action="answer",
                                            faq_id=reply.faq_id)
            result.answer, result.answer_language = reply.answer, reply.answer_language
            result.machine_translated = reply.machine_translated
            return
        prompt = notice("clarify", t.language, self.translator)
        result.suggestions = list(reply.suggestions)
        if offer_person:
            # The last chip, "none of these — talk to a person": clarifying a question the
            # FAQ does not cover costs the shopper one tap, not a retyped question.
            result.person_chip = notice("none_of_these", t.language, self.translator)
        lines = "\n".join(f"- {x.question}" for x in reply.suggestions)
        result.message_id = add_message(s, t.sid, "bot", f"{prompt}\n{lines}", t.language,
                                        action="clarify", faq_id=reply.faq_id)
        result.notice = prompt

    def hand_off(
        self, s: Session, t: TurnInput, last: Ticket | None, reason: str, result: ChatResult
    ) -> Ticket:
        """Open (or reopen) a ticket outside a chat turn (photos) and say when a person comes."""
        ticket = self._open_ticket(s, t, last, Turn("handoff", ticket="open", reason=reason))
        sla = handoff_notice(t.language, self.tickets.sla_minutes[ticket.priority],
                             self.translator)
        result.message_id = add_message(s, t.sid, "bot", sla, t.language, action="handoff")
        result.action, result.ticket_id, result.notice = "handoff", ticket.id, sla
        result.ticket_opened = True
        return ticket

    def _topic(self, s: Session, t: TurnInput) -> tuple[list[str], list[Guess]]:
        """Return the conversation's substantive texts (with this one) and merged guesses.

        Vague single words ("Paket") are left out: they say nothing the agent can use.
        """
        history = s.execute(
            select(QuestionLog.text, QuestionLog.guesses)
            .where(QuestionLog.conversation_id == t.sid, QuestionLog.kind.in_(SUBSTANTIVE),
                   or_(QuestionLog.reason.is_(None), QuestionLog.reason != "vague"))
            .order_by(QuestionLog.id)
        ).all()
        texts = [h.text for h in history if h.text]
        substantive = t.triage.substantive and bool(t.text) and not t.triage.vague
        if substantive:
            texts.append(t.text)
        now_guesses = [(g.faq_id, g.score) for g in t.reply.guesses] \
            if t.reply is not None and substantive else []
        merged = merge_guesses([*([(g["faq_id"], float(g["score"])) for g in h.guesses or []]
                                  for h in history), now_guesses])
        return texts, [Guess(faq_id, round(score, 4)) for faq_id, score in merged]

    def _open_ticket(self, s: Session, t: TurnInput, last: Ticket | None, turn: Turn) -> Ticket:
        """Reopen the last ticket when it was resolved within the window, else open one."""
        texts, guesses = self._topic(s, t)
        everything = "\n".join([*texts, t.text])
        urgent = t.triage.priority == "urgent" or \
            self.tickets.triage.classify(everything)[0] == "urgent"
        context = TicketContext(
            priority="urgent" if urgent else "normal",
            kind="person" if t.button else t.triage.kind, asked_about=asked_about(texts),
            page_url=t.page_url, locale=t.locale, market=t.market,
        )
        window = timedelta(hours=self.settings.reopen_hours)
        if last is not None and last.state == "resolved" and last.resolved_at is not None \
                and last.resolved_at >= self.tickets.clock() - window:
            ticket = self.tickets.reopen(s, last.id)
            record(s, ticket.id, "shopper", "reopen")  # the agents' history of the ticket
            self.tickets.refresh_context(s, ticket, context, guesses)
            return ticket
        preview = texts[-1] if texts else t.text
        return self.tickets.create(s, t.sid, t.language, turn.reason or "low_confidence",
                                   guesses, preview, everything, context)

    def _follow_topic(self, s: Session, t: TurnInput, ticket: Ticket) -> None:
        """Add a question asked while waiting to the ticket's topic and guesses."""
        texts, guesses = self._topic(s, t)
        self.tickets.refresh_context(s, ticket, TicketContext(
            asked_about=asked_about(texts), page_url=t.page_url), guesses)

    def _log_question(
        self, s: Session, t: TurnInput, turn: Turn, result: ChatResult, shopper: int | None
    ) -> None:
        action = "clarify" if turn.action == "vague" else (
            "handoff" if turn.action in ("handoff", "queued") else turn.action)
        guesses = [{"faq_id": g.faq_id, "score": g.score} for g in t.reply.guesses] \
            if t.reply is not None else None
        s.connection().execute(insert(_QUESTIONS), {
            "conversation_id": t.sid, "message_id": shopper, "text": t.text,
            "language": t.language, "action": action,
            "reason": "vague" if turn.action == "vague" else turn.reason,
            "faq_id": result.faq_id, "score": result.confidence, "market": t.market,
            "created_at": utcnow(), "kind": t.triage.kind, "guesses": guesses,
        })

    # ---- the rating prompt ----
    def ask_rating(self, s: Session, sid: str, language: str, result: Any) -> None:
        """Add the 1-5 rating prompt, unless this conversation was asked or rated before."""
        asked = s.scalar(select(Message.id).where(Message.conversation_id == sid,
                                                  Message.action == "rate").limit(1))
        rated = s.scalar(select(Rating.id).where(Rating.conversation_id == sid))
        if asked is not None or rated is not None:
            return
        prompt = notice("rate", language, self.translator)
        result.rate_message_id = add_message(s, sid, "system", prompt, language, action="rate")
        result.rate_prompt = prompt

    # ---- reads ----
    @staticmethod
    def _last_bot_action(s: Session, sid: str) -> str | None:
        return s.scalar(
            select(Message.action).where(Message.conversation_id == sid, Message.role == "bot")
            .order_by(Message.id.desc()).limit(1)
        )

    @staticmethod
    def _acknowledged(s: Session, ticket: Ticket) -> bool:
        """Tell whether the shopper was told, since the ticket (re)opened, it is passed on."""
        found = s.scalar(
            select(Message.id).where(Message.conversation_id == ticket.conversation_id,
                                     Message.action == "queued",
                                     Message.created_at >= ticket.queued_at).limit(1)
        )
        return found is not None
