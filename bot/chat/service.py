"""Conversations: the chat flow, handoff state, agent replies and shopper feedback.

One shopper message goes through :meth:`ChatService.chat`:

- the conversation is with a person (ticket open or claimed): store it, the bot stays quiet
  ("queued");
- the ticket was resolved: the message reopens it (a "handoff" again);
- the shopper asks for a person (button, or words in any supported language): hand off;
- otherwise the bot answers, asks to clarify, or hands off when it is unsure. An entry
  marked ``handoff: true`` is answered and also opens a ticket.

The bot's decision is computed before the write transaction, so the database lock is held
only for the inserts; the transaction re-reads the ticket state so a handoff that happened
meanwhile still silences the bot.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from bot.chat.notices import handoff_notice, notice
from bot.chat.tickets import TicketStore, ticket_dict
from bot.errors import FaqbotError, InputError, NotFoundError, TranslationError
from bot.matching.bot import FaqBot, Reply, Suggestion, normalise_message
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Conversation, Feedback, Message, QuestionLog, Ticket, utcnow
from bot.translate.translator import Translator

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_AGENT_REPLY_CHARS = 5000
MAX_COMMENT_CHARS = 1000
POLL_LIMIT = 200
# Session.info key: the ids of the messages a transaction added, for the cursor.
_ADDED = "faqbot_added_messages"
_MESSAGES = cast(Table, Message.__table__)
_QUESTIONS = cast(Table, QuestionLog.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_TICKETS = cast(Table, Ticket.__table__)


class MessageTooLong(InputError):
    """A message or comment over the length limit -> 413."""

    http_status = 413


# ---- asking for a person, in every supported language ----
# Phrases count anywhere in a message; single words only when the message is that short
# ("human", "Mitarbeiter bitte"), so "is the person who signs for the parcel ..." is not one.
_PERSON_PHRASES = [
    # en
    "talk to a human", "talk to a person", "talk to someone", "talk to an agent",
    "talk to a real", "speak to a human", "speak to a person", "speak to someone",
    "speak to an agent", "speak to a real", "speak with a human", "speak with a person",
    "speak with someone", "talk with a human", "talk with a person", "talk with someone",
    "real person", "real human", "human agent", "live agent", "i want a human",
    "i need a human", "customer service representative", "connect me to an agent",
    # de
    "mit einem menschen", "mit einer person", "mit einem mitarbeiter", "mit einer mitarbeiterin",
    "echten menschen", "echte person", "echten person", "mitarbeiter sprechen",
    # es
    "hablar con una persona", "hablar con un humano", "hablar con alguien",
    "hablar con un agente", "hablar con un operador", "persona real",
    # fr
    "parler à quelqu'un", "parler à une personne", "parler à un humain",
    "parler avec un humain", "parler à un conseiller", "parler avec un conseiller",
    "parler à un agent", "vrai humain", "vraie personne",
    # it
    "parlare con una persona", "parlare con un operatore", "parlare con qualcuno",
    "parlare con un umano", "persona reale", "persona vera", "operatore umano",
    # nl
    "met een mens", "met een persoon", "met een medewerker", "echt persoon", "echte persoon",
    "echt mens", "medewerker spreken",
    # pl
    "z człowiekiem", "z konsultantem", "z konsultantką", "z pracownikiem", "z prawdziwą osobą",
    "z żywym człowiekiem",
    # pt
    "falar com uma pessoa", "falar com um humano", "falar com alguém", "falar com um atendente",
    "falar com um agente", "falar com um operador", "pessoa real", "atendimento humano",
    # zh / ja / ko
    "人工客服", "转人工", "真人", "人工服务", "找人工", "オペレーター", "担当者と話", "人と話",
    "スタッフと話", "有人対応", "상담원", "상담사", "사람과 이야기", "사람이랑", "직원과",
    # ru
    "с человеком", "с оператором", "с сотрудником", "с живым", "с менеджером",
    "живой человек", "живого человека",
    # tr
    "bir insanla", "temsilci ile", "temsilciyle", "canlı destek", "müşteri temsilcisi",
    "yetkiliyle", "gerçek bir kişi",
    # sv
    "med en människa", "med en person", "med någon", "med en handläggare", "riktig person",
]
_PERSON_WORDS = {
    "human", "person", "agent", "operator", "representative", "mensch", "mitarbeiter",
    "mitarbeiterin", "humano", "persona", "agente", "operador", "humain", "conseiller",
    "conseillère", "opérateur", "operatore", "umano", "mens", "medewerker", "konsultant",
    "człowiek", "pracownik", "atendente", "pessoa", "人工", "客服", "担当者", "人間", "사람",
    "оператор", "человек", "сотрудник", "temsilci", "insan", "människa", "handläggare",
}
_POLITE = {"please", "bitte", "por favor", "s'il vous plaît", "per favore", "alstublieft",
           "proszę", "пожалуйста", "lütfen", "tack", "请", "please!"}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        " " if unicodedata.category(c)[0] in "PSZ" and c != "'" else c for c in text
    )
    return " ".join(text.split())


_PHRASES = [_fold(p) for p in _PERSON_PHRASES]


def wants_person(text: str) -> bool:
    """Tell whether the shopper asks for a person, in any supported language."""
    folded = _fold(text)
    if not folded:
        return False
    padded = f" {folded} "
    for phrase in _PHRASES:
        if phrase.isascii() or " " in phrase:
            if f" {phrase} " in padded or (not phrase.isascii() and phrase in folded):
                return True
        elif phrase in folded:
            return True
    words = [w for w in folded.split() if w not in _POLITE]
    if 0 < len(words) <= 3:
        rest = [w for w in words if w not in {"a", "an", "the", "ein", "un", "une", "un'", "uno"}]
        if any(w in _PERSON_WORDS for w in rest) and len(rest) <= 2:
            return True
        if len(folded) <= 12 and any(w in folded for w in ("人工", "客服", "担当者")):
            return True
    return False


# ---- results ----
@dataclass
class ChatRequest:
    """One message from the widget."""

    session_id: str | None
    message: str
    language: str | None = None
    locale: str | None = None
    market: str | None = None
    suggestion_id: str | None = None
    human: bool = False


@dataclass
class ChatResult:
    """What the widget shows for one message (the /api/chat response)."""

    session_id: str
    message_id: int
    action: str
    language: str
    faq_id: str | None = None
    confidence: float = 0.0
    answer: str | None = None
    answer_language: str | None = None
    machine_translated: bool = False
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    ticket_id: int | None = None
    notice: str | None = None
    cursor: int = 0


def message_dict(m: Message) -> dict[str, Any]:
    """Return a message as the shopper's side sees it."""
    return {
        "id": m.id, "role": m.role, "text": m.text, "language": m.language,
        "created_at": m.created_at, "action": m.action, "faq_id": m.faq_id,
    }


def conversation_state(ticket: Ticket | None) -> str:
    """Return "bot", "handoff" or "resolved" for a conversation's ticket."""
    if ticket is None:
        return "bot"
    return "resolved" if ticket.state == "resolved" else "handoff"


class TranslationCache:
    """Remember translations shown to agents so a transcript is translated once."""

    def __init__(self, translator: Translator, size: int = 4096) -> None:
        self.translator = translator
        self.size = size
        self._items: OrderedDict[tuple[str, str, str], str | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, source: str | None, target: str) -> str | None:
        """Return ``text`` in ``target``, or None when it is already or cannot be."""
        if not source or source == target or not text:
            return None
        key = (text, source, target)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        try:
            out: str | None = self.translator.translate(text, source, target)
        except TranslationError:
            out = None
        except Exception as exc:  # a broken pack must not break the agent console
            log.warning("translation %s->%s failed: %s", source, target, exc)
            out = None
        with self._lock:
            self._items[key] = out
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return out


class ChatService:
    """The shopper's conversation and the agent's side of it, on one database."""

    def __init__(
        self,
        db: Database,
        bot: FaqBot,
        tickets: TicketStore,
        settings: Settings,
        translator: Translator,
    ) -> None:
        self.db = db
        self.bot = bot
        self.tickets = tickets
        self.settings = settings
        self.translator = translator
        self.translations = TranslationCache(translator)

    # ---- validation ----
    def clean_message(self, text: str, allow_empty: bool = False) -> str:
        """Normalise a shopper message; empty -> 400, over the limit -> 413."""
        limit = self.settings.max_message_chars
        if allow_empty and not text.strip():
            return ""
        # Normalise against a generous cap first, so the size error names the real length.
        cleaned = normalise_message(text, max(limit, len(text)))
        if len(cleaned) > limit:
            raise MessageTooLong(f"the message is {len(cleaned)} characters; the limit is {limit}")
        return cleaned

    def check_language(self, language: str | None) -> str | None:
        """Return a supported language code, or None; reject unsupported ones."""
        if not language:
            return None
        code = language.strip().split("-")[0].split("_")[0].lower()
        if code not in self.settings.supported_languages:
            supported = ", ".join(self.settings.supported_languages)
            raise InputError(f"language {language!r} is not supported; use one of: {supported}")
        return code

    # ---- the chat ----
    def chat(self, req: ChatRequest) -> ChatResult:
        """Take one shopper message and return what the bot (or the queue) says."""
        text = self.clean_message(req.message, allow_empty=req.human)
        forced = self.check_language(req.language)
        market = (req.market or "").strip().upper()[:8] or None
        locale = (req.locale or "").strip()[:35] or None
        sid = req.session_id if req.session_id and SESSION_ID.match(req.session_id) else None
        asks_person = req.human or wants_person(text)

        with self.db.read() as s:
            # The conversation and its ticket's state (one ticket at most) in one query.
            conv = s.connection().execute(
                select(_CONVERSATIONS.c.language, _CONVERSATIONS.c.language_locked,
                       _CONVERSATIONS.c.market, _CONVERSATIONS.c.locale,
                       _TICKETS.c.state.label("ticket_state"))
                .select_from(_CONVERSATIONS.outerjoin(
                    _TICKETS, _TICKETS.c.conversation_id == _CONVERSATIONS.c.id))
                .where(_CONVERSATIONS.c.id == sid)
            ).first() if sid else None
            # Only a request for a person reads the feedback (one query fewer per message).
            last_negative = (
                asks_person and conv is not None and sid is not None
                and self._last_feedback_negative(s, sid)
            )
            conv_lang = conv.language if conv else None
            if conv and conv.language_locked and not forced:
                forced = conv.language
            market = market or (conv.market if conv else None)
            locale = locale or (conv.locale if conv else None)
        ticket_state = conv.ticket_state if conv else None
        if conv is None:
            # An unknown id (say, the database was reset) starts a fresh conversation rather
            # than failing the widget; the response carries the new id.
            sid = uuid.uuid4().hex
        assert sid is not None
        hints = [conv_lang, locale]
        mode = "bot" if ticket_state is None else (
            "reopen" if ticket_state == "resolved" else "queued"
        )

        reply: Reply | None = None
        reason: str | None = None
        if mode == "bot":
            if req.suggestion_id and not asks_person:
                reply = self._answer_suggestion(req.suggestion_id, text, forced, hints)
            if reply is None and text:
                try:
                    reply = self.bot.ask(text, market=market, hints=hints, language=forced)
                except InputError:
                    raise
                except (FaqbotError, RuntimeError) as exc:
                    # No usable index: a person takes over rather than the shopper seeing an error.
                    log.error("bot unavailable, handing off: %s", exc)
                    reason = "bot_unavailable"
            if asks_person:
                reason = "negative_feedback" if last_negative else "asked_for_person"
            elif reply is not None and reply.action == "handoff":
                reason = "low_confidence"
            elif reply is not None and reply.entry_handoff:
                reason = "entry_handoff"
        language = reply.language if reply is not None else (
            forced or self.bot.detect(text, hints).language
        )
        return self._store(sid, req, text, language, forced, locale, market, mode, reply, reason)

    def _answer_suggestion(
        self, faq_id: str, text: str, forced: str | None, hints: list[str | None]
    ) -> Reply | None:
        try:
            entry = self.bot.index.entries.get(faq_id)
        except Exception:  # no index: fall through to the normal path, which hands off
            return None
        if entry is None:
            return None  # chip from an older index: answer the text instead
        lang = forced or self.bot.detect(text, hints).language
        answer, answer_lang, machine = self.bot.localise(entry, lang)
        return Reply(text, lang, "answer", entry.id, 1.0, answer, answer_lang, [],
                     "suggestion", machine, entry.handoff, [{"faq_id": entry.id, "score": 1.0}])

    def _store(
        self,
        sid: str,
        req: ChatRequest,
        text: str,
        language: str,
        forced: str | None,
        locale: str | None,
        market: str | None,
        mode: str,
        reply: Reply | None,
        reason: str | None,
    ) -> ChatResult:
        now = utcnow()
        with self.db.write() as s:
            # One transaction, one commit. Plain SQL on the hot path: the ORM's unit of work
            # cost more than the statements themselves.
            # FOR UPDATE (ignored by SQLite, whose writers are serialised anyway) keeps one
            # conversation's messages committing in id order, so cursors never skip one.
            db = s.connection()
            row = db.execute(
                select(_CONVERSATIONS.c.language_locked, _CONVERSATIONS.c.language)
                .where(_CONVERSATIONS.c.id == sid).with_for_update()
            ).first()
            ticket = self.tickets.for_conversation(s, sid, lock=True) if row else None
            if row is None:
                db.execute(insert(_CONVERSATIONS), {
                    "id": sid, "created_at": now, "updated_at": now, "language": language,
                    "language_locked": bool(forced), "locale": locale, "market": market,
                })
            else:
                locked = bool(row.language_locked)
                db.execute(
                    update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == sid).values(
                        updated_at=now,
                        language=language if not locked or forced else row.language,
                        language_locked=locked or bool(forced), locale=locale, market=market,
                    )
                )
            # The ticket may have appeared since the decision (an agent, another tab).
            if ticket is not None and ticket.state != "resolved":
                mode = "queued"
            elif ticket is not None:
                mode = "reopen"
            shopper = self._add(s, sid, "shopper", text, language) if text else None
            result = ChatResult(session_id=sid, message_id=0, action="queued", language=language)
            if mode == "queued":
                assert ticket is not None
                if text:
                    self.tickets.retriage(s, ticket, text)
                result.ticket_id = ticket.id
                result.notice = notice("queued", language, self.translator)
                s.flush()
                result.message_id = shopper if shopper else self._cursor(s, sid)
            elif mode == "reopen":
                assert ticket is not None
                ticket = self.tickets.reopen(s, ticket.id)
                if text:
                    self.tickets.retriage(s, ticket, text)
                self._handoff_reply(s, result, ticket, language)
            else:
                self._bot_reply(s, result, sid, text, language, market, reply, reason, shopper)
            s.flush()
            # The conversation row is locked and ids only grow, so the newest message this
            # transaction inserted is the conversation's newest: no MAX(id) query.
            added: list[int] = s.info.get(_ADDED, [])
            result.cursor = max(added) if added else self._cursor(s, sid)
        self._log_turn(result, text)
        return result

    def _bot_reply(
        self,
        s: Session,
        result: ChatResult,
        sid: str,
        text: str,
        language: str,
        market: str | None,
        reply: Reply | None,
        reason: str | None,
        shopper: int | None,
    ) -> None:
        guesses = reply.guesses if reply else []
        if reply is not None:
            result.confidence = reply.confidence
            result.faq_id = reply.faq_id
        if reply is not None and reply.action == "answer" and reason in (None, "entry_handoff"):
            result.message_id = self._add(s, sid, "bot", reply.answer or "",
                                          reply.answer_language, action="answer",
                                          faq_id=reply.faq_id)
            result.action = "answer"
            result.answer = reply.answer
            result.answer_language = reply.answer_language
            result.machine_translated = reply.machine_translated
            if reason == "entry_handoff":
                ticket = self._open_ticket(s, sid, language, reason, guesses, text)
                result.ticket_id = ticket.id
                result.notice = self._sla_notice(ticket, language)
                self._add(s, sid, "system", result.notice, language, action="handoff")
        elif reply is not None and reply.action == "clarify" and reason is None:
            prompt = notice("clarify", language, self.translator)
            result.suggestions = [_suggestion(x) for x in reply.suggestions]
            lines = "\n".join(f"- {x.question}" for x in reply.suggestions)
            result.message_id = self._add(s, sid, "bot", f"{prompt}\n{lines}", language,
                                          action="clarify", faq_id=reply.faq_id)
            result.action = "clarify"
            result.notice = prompt
        else:
            reason = reason or "low_confidence"
            result.faq_id = None
            ticket = self._open_ticket(s, sid, language, reason, guesses, text)
            self._handoff_reply(s, result, ticket, language)
        if text:
            s.connection().execute(insert(_QUESTIONS), {
                "conversation_id": sid, "message_id": shopper, "text": text,
                "language": language,
                "action": "handoff" if result.action == "handoff" else result.action,
                "reason": reason, "faq_id": result.faq_id, "score": result.confidence,
                "market": market, "created_at": utcnow(),
            })

    def _open_ticket(
        self, s: Session, sid: str, language: str, reason: str,
        guesses: list[dict[str, Any]], text: str,
    ) -> Ticket:
        history = s.scalars(
            select(Message.text).where(Message.conversation_id == sid,
                                       Message.role == "shopper").order_by(Message.id)
        ).all()
        everything = "\n".join(history) or text
        asked = [h for h in history if not wants_person(h)]
        preview = (asked or list(history) or [text])[-1]
        return self.tickets.create(s, sid, language, reason, guesses, preview, everything)

    def _handoff_reply(self, s: Session, result: ChatResult, ticket: Ticket, language: str) -> None:
        text = self._sla_notice(ticket, language)
        result.message_id = self._add(s, ticket.conversation_id, "bot", text, language,
                                      action="handoff")
        result.action = "handoff"
        result.ticket_id = ticket.id
        result.notice = text
        result.answer = None

    def _sla_notice(self, ticket: Ticket, language: str) -> str:
        return handoff_notice(language, self.tickets.sla_minutes[ticket.priority], self.translator)

    def _log_turn(self, result: ChatResult, text: str) -> None:
        extra = f" text={text!r}" if self.settings.log_message_text else ""
        log.info(
            "chat session=%s action=%s lang=%s faq=%s confidence=%.3f ticket=%s%s",
            result.session_id[:8], result.action, result.language, result.faq_id,
            result.confidence, result.ticket_id, extra,
        )

    # ---- reading a conversation ----
    def messages(self, sid: str, after: int = 0, limit: int = POLL_LIMIT) -> dict[str, Any]:
        """Return the conversation's messages after the cursor, with its state."""
        with self.db.read() as s:
            conv = s.get(Conversation, sid) if SESSION_ID.match(sid) else None
            if conv is None:
                raise NotFoundError(f"no conversation {sid!r}: start one with POST /api/chat")
            ticket = self.tickets.for_conversation(s, sid)
            rows = s.scalars(
                select(Message).where(Message.conversation_id == sid, Message.id > after)
                .order_by(Message.id).limit(limit)
            ).all()
            items = [message_dict(m) for m in rows]
            return {
                "session_id": sid,
                "state": conversation_state(ticket),
                "ticket_id": ticket.id if ticket else None,
                "language": conv.language,
                "messages": items,
                "cursor": items[-1]["id"] if items else max(after, 0),
            }

    # ---- feedback ----
    def feedback(
        self, sid: str, message_id: int, helpful: bool, comment: str | None
    ) -> dict[str, Any]:
        """Record helpful / not helpful on a bot reply; not helpful offers a person."""
        if comment is not None:
            comment = comment.strip() or None
        if comment and len(comment) > MAX_COMMENT_CHARS:
            raise MessageTooLong(
                f"the comment is {len(comment)} characters; the limit is {MAX_COMMENT_CHARS}"
            )
        with self.db.write() as s:
            conv = self._lock_conversation(s, sid) if SESSION_ID.match(sid) else None
            if conv is None:
                raise NotFoundError(f"no conversation {sid!r}")
            msg = s.get(Message, message_id)
            if msg is None or msg.conversation_id != sid or msg.role != "bot":
                raise NotFoundError(f"no bot message {message_id} in this conversation")
            s.add(Feedback(conversation_id=sid, message_id=message_id, helpful=helpful,
                           comment=comment, created_at=utcnow()))
            ticket = self.tickets.for_conversation(s, sid)
            language = conv.language
        with_person = ticket is not None and ticket.state != "resolved"
        if helpful:
            return {"ok": True, "offer_handoff": False,
                    "notice": notice("thanks", language, self.translator)}
        return {
            "ok": True,
            "offer_handoff": not with_person,
            "notice": None if with_person else notice("offer_handoff", language, self.translator),
        }

    # ---- the agent's side ----
    def ticket_detail(self, ticket_id: int, agent_language: str) -> dict[str, Any]:
        """Return a ticket with its transcript, each line also in the agent's language."""
        with self.db.read() as s:
            t = self.tickets.get(s, ticket_id)
            rows = s.scalars(
                select(Message).where(Message.conversation_id == t.conversation_id)
                .order_by(Message.id)
            ).all()
            out = ticket_dict(t)
            out["session_id"] = t.conversation_id
            out["guesses"] = list(t.guesses or [])
        transcript = []
        for m in rows:
            if m.role == "agent" and m.original_text is not None:
                for_agent = m.original_text if m.original_language == agent_language else None
                if for_agent is None:
                    for_agent = self.translations.get(m.original_text, m.original_language,
                                                      agent_language)
            else:
                for_agent = self.translations.get(m.text, m.language, agent_language)
            transcript.append({
                "id": m.id, "role": m.role, "text": m.text, "language": m.language,
                "text_for_agent": for_agent, "created_at": m.created_at,
            })
        out["transcript"] = transcript
        return out

    def agent_reply(
        self, ticket_id: int, agent: str, text: str, agent_language: str
    ) -> dict[str, Any]:
        """Send an agent's reply to the shopper, translated when a pack exists."""
        body = text.strip()
        if not body:
            raise InputError("the reply is empty")
        if len(body) > MAX_AGENT_REPLY_CHARS:
            raise MessageTooLong(
                f"the reply is {len(body)} characters; the limit is {MAX_AGENT_REPLY_CHARS}"
            )
        with self.db.read() as s:
            t = self.tickets.check_holder(s, ticket_id, agent)
            target = s.get(Conversation, t.conversation_id)
            shopper_lang = target.language if target else agent_language
        shown, language, translated = body, agent_language, False
        if shopper_lang != agent_language:
            try:
                shown = self.translator.translate(body, agent_language, shopper_lang)
                language, translated = shopper_lang, True
            except TranslationError as exc:
                log.info("agent reply stays in %s: %s", agent_language, exc)
        with self.db.write() as s:
            t = self.tickets.check_holder(s, ticket_id, agent, lock=True)
            msg_id = self._add(s, t.conversation_id, "agent", shown, language, author=agent,
                               original_text=body if translated else None,
                               original_language=agent_language if translated else None)
            item = message_dict(s.get_one(Message, msg_id))
        return {"message": item, "translated": translated}

    def resolve(self, ticket_id: int, agent: str) -> dict[str, Any]:
        """Resolve a ticket and tell the shopper in their language."""
        with self.db.write() as s:
            t = self.tickets.get(s, ticket_id)
            self._lock_conversation(s, t.conversation_id)
            t = self.tickets.resolve(s, ticket_id, agent)
            conv = s.get(Conversation, t.conversation_id)
            language = conv.language if conv else t.language
            self._add(s, t.conversation_id, "system", notice("resolved", language, self.translator),
                      language, action="resolved")
            return ticket_dict(t)

    def claim(self, ticket_id: int, agent: str) -> dict[str, Any]:
        """Claim a ticket for ``agent``."""
        with self.db.write() as s:
            return ticket_dict(self.tickets.claim(s, ticket_id, agent))

    def release(self, ticket_id: int, agent: str) -> dict[str, Any]:
        """Put a ticket ``agent`` holds back in the queue."""
        with self.db.write() as s:
            return ticket_dict(self.tickets.release(s, ticket_id, agent))

    def list_tickets(
        self, state: str | None, language: str | None, priority: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """List tickets for the agent console."""
        now = utcnow()
        with self.db.read() as s:
            return [ticket_dict(t, now) for t in
                    self.tickets.list(s, state, language, priority, limit)]

    # ---- helpers ----
    def _lock_conversation(self, s: Session, sid: str) -> Conversation | None:
        # FOR UPDATE (ignored by SQLite, whose writers are serialised anyway) keeps the
        # messages of one conversation committing in id order, so cursors never skip one.
        return s.scalars(
            select(Conversation).where(Conversation.id == sid).with_for_update()
        ).first()

    @staticmethod
    def _add(
        s: Session, sid: str, role: str, text: str, language: str | None, **fields: Any
    ) -> int:
        """Insert a message and return its id.

        A plain INSERT ... RETURNING on the session's connection: the ORM's unit of work
        cost more than the insert itself on every chat turn (cProfile: _store was ~45 % of
        a message). The conversation row must exist already (flushed by the caller).
        """
        row = s.connection().execute(
            insert(_MESSAGES).returning(_MESSAGES.c.id),
            {"conversation_id": sid, "role": role, "text": text, "language": language,
             "created_at": utcnow(), "action": None, "faq_id": None, "author": None,
             "original_text": None, "original_language": None, **fields},
        ).one()
        msg_id = int(row[0])
        s.info.setdefault(_ADDED, []).append(msg_id)
        return msg_id

    @staticmethod
    def _cursor(s: Session, sid: str) -> int:
        return int(s.scalar(select(func.max(Message.id)).where(Message.conversation_id == sid))
                   or 0)

    @staticmethod
    def _last_feedback_negative(s: Session, sid: str) -> bool:
        last = s.scalars(
            select(Feedback.helpful).where(Feedback.conversation_id == sid)
            .order_by(Feedback.id.desc()).limit(1)
        ).first()
        return last is False


def _suggestion(x: Suggestion) -> dict[str, Any]:
    return {"faq_id": x.faq_id, "question": x.question, "confidence": x.confidence}



# ---- what the lead sees ----
def _window_start(days: int) -> datetime:
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


def stats(db: Database, days: int) -> dict[str, Any]:
    """Count questions, answers, clarifications and handoffs per language and per day."""
    since = _window_start(days)
    kinds = {"answer": "answered", "clarify": "clarified", "handoff": "handed_off"}

    def blank() -> dict[str, int]:
        return {"questions": 0, "answered": 0, "clarified": 0, "handed_off": 0}

    totals = blank()
    per_language: dict[str, dict[str, int]] = {}
    per_day = {(since + timedelta(days=i)).date().isoformat(): blank() for i in range(days)}
    with db.read() as s:
        day = func.date(QuestionLog.created_at)
        rows = s.execute(
            select(day, QuestionLog.language, QuestionLog.action, func.count())
            .where(QuestionLog.created_at >= since)
            .group_by(day, QuestionLog.language, QuestionLog.action)
        ).all()
        feedback = {bool(helpful): int(n) for helpful, n in s.execute(
            select(Feedback.helpful, func.count()).where(Feedback.created_at >= since)
            .group_by(Feedback.helpful)
        )}
        tickets = s.scalar(select(func.count()).select_from(Ticket)
                           .where(Ticket.created_at >= since)) or 0
    for date, language, action, count in rows:
        key = str(date)[:10]
        buckets = [totals, per_language.setdefault(language, blank()),
                   per_day.setdefault(key, blank())]
        for bucket in buckets:
            bucket["questions"] += count
            if action in kinds:
                bucket[kinds[action]] += count
    return {
        "days": days,
        "since": since,
        "totals": {**totals, "tickets": int(tickets),
                   "feedback_helpful": int(feedback.get(True, 0)),
                   "feedback_not_helpful": int(feedback.get(False, 0))},
        "per_language": dict(sorted(per_language.items())),
        "per_day": [{"date": d, **v} for d, v in sorted(per_day.items())],
    }


def unanswered(db: Database, days: int, limit: int) -> list[dict[str, Any]]:
    """List recent questions the bot did not answer outright (clarified or handed off)."""
    since = _window_start(days)
    with db.read() as s:
        rows = s.scalars(
            select(QuestionLog)
            .where(QuestionLog.created_at >= since, QuestionLog.action.in_(("clarify", "handoff")))
            .order_by(QuestionLog.id.desc()).limit(limit)
        ).all()
        return [
            {"id": q.id, "text": q.text, "language": q.language, "action": q.action,
             "reason": q.reason, "faq_id": q.faq_id, "score": q.score,
             "created_at": q.created_at}
            for q in rows
        ]
