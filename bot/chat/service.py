"""Conversations: the chat flow, handoff state, agent replies and shopper feedback.

One shopper message goes through :meth:`ChatService.chat`:

- the conversation is with a person (ticket open or claimed): store it, the bot stays quiet
  ("queued");
- the ticket was resolved: the message reopens it (a "handoff" again);
- the shopper asks for a person (button, or words in any supported language): hand off;
- otherwise the bot answers, asks to clarify, or hands off when it is unsure. An entry
  marked ``handoff: true`` is answered and also opens a ticket.

The message is cleaned and its explicit language checked once, on the way in; its language
is detected once, after the conversation is read (its language and locale are the hints).
The bot's decision is computed before the write transaction, so the database lock is held
only for the inserts; the transaction re-reads the ticket state so a handoff that happened
meanwhile still silences the bot. Every reply is announced on ``ChatService.replied``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from bot.chat.followup import Followup
from bot.chat.inbox import clean_page_url, clean_visitor, noted_untranslated, record
from bot.chat.intents import wants_person
from bot.chat.notices import handoff_notice, notice
from bot.chat.tickets import TicketStore, ticket_guesses, ticket_view
from bot.chat.views import (
    AgentReply,
    ChatRequest,
    ChatResult,
    ConversationView,
    FeedbackResult,
    MessageView,
    PhotoView,
    TicketDetail,
    TicketView,
    TranscriptLine,
)
from bot.errors import FaqbotError, InputError, MessageTooLong, NotFoundError, TranslationError
from bot.events import Event
from bot.matching.bot import FaqBot, Guess, Query, Reply, normalise_message
from bot.matching.language import Detection, supported_language
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import (
    Conversation,
    Feedback,
    Message,
    Photo,
    QuestionLog,
    Ticket,
    utcnow,
)
from bot.translate.cache import TranslationCache
from bot.translate.translator import Translator

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_AGENT_REPLY_CHARS = 5000
MAX_COMMENT_CHARS = 1000
POLL_LIMIT = 200
# Session.info key: the ids of the messages a transaction added, for the cursor.
_ADDED = ADDED_MESSAGES = "faqbot_added_messages"
_MESSAGES = cast(Table, Message.__table__)
_QUESTIONS = cast(Table, QuestionLog.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_TICKETS = cast(Table, Ticket.__table__)


def message_view(m: Message, photos: int = 0) -> MessageView:
    """Return a message as the shopper's side sees it (an agent's name, never their key)."""
    return MessageView(id=m.id, role=m.role, text=m.text, language=m.language,
                       created_at=m.created_at, action=m.action, faq_id=m.faq_id,
                       author=m.author if m.role == "agent" else None, photos=photos)


def conversation_state(ticket: Ticket | None) -> str:
    """Return "bot", "handoff" or "resolved" for a conversation's ticket."""
    if ticket is None:
        return "bot"
    return "resolved" if ticket.state == "resolved" else "handoff"


class ChatService:
    """The shopper's conversation and the agent's side of it, on one database."""

    def __init__(
        self,
        db: Database,
        bot: FaqBot,
        tickets: TicketStore,
        settings: Settings,
        translator: Translator,
        followup: Followup | None = None,
    ) -> None:
        self.db = db
        self.followup = followup  # e-mail follow-up of agents' replies (bot/chat/followup.py)
        self.bot = bot
        self.tickets = tickets
        self.settings = settings
        self.translator = translator
        self.translations = TranslationCache(translator)
        # Every reply to a shopper, after it is stored (metrics listen here).
        self.replied: Event[ChatResult] = Event("ChatService.replied")

    # ---- the chat ----
    def chat(self, req: ChatRequest) -> ChatResult:
        """Take one shopper message and return what the bot (or the queue) says."""
        # Cleaned and checked once, here; the button alone ("talk to a person") has no text.
        text = "" if req.human and not req.message.strip() else normalise_message(
            req.message, self.settings.max_message_chars)
        forced = supported_language(req.language, self.settings.supported_languages) \
            if req.language else None
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
        # The language, decided once: an explicit or locked one, else detected with the
        # conversation's language and the widget's locale as hints.
        detection = Detection(forced, True, "explicit") if forced else \
            self.bot.detect(text, [conv_lang, locale])
        query = Query(text, detection, market)
        mode = "bot" if ticket_state is None else (
            "reopen" if ticket_state == "resolved" else "queued"
        )

        reply: Reply | None = None
        reason: str | None = None
        if mode == "bot":
            if req.suggestion_id and not asks_person:
                reply = self.bot.answer_entry(req.suggestion_id, query)
            if reply is None and text:
                try:
                    reply = self.bot.answer(query)
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
        seen = {"visitor_id": clean_visitor(req.visitor_id),
                "page_url": clean_page_url(req.page_url)}
        result = self._store(sid, text, query.language, forced, locale, market, mode, reply,
                             reason, {k: v for k, v in seen.items() if v})
        self.replied.emit(result)
        return result

    def _store(
        self,
        sid: str,
        text: str,
        language: str,
        forced: str | None,
        locale: str | None,
        market: str | None,
        mode: str,
        reply: Reply | None,
        reason: str | None,
        seen: dict[str, str],  # the widget's visitor id and page, when it sent them
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
                    "visitor_id": None, "page_url": None, **seen,
                })
            else:
                locked = bool(row.language_locked)
                db.execute(
                    update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == sid).values(
                        updated_at=now,
                        language=language if not locked or forced else row.language,
                        language_locked=locked or bool(forced), locale=locale, market=market,
                        **seen,
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
                record(s, ticket.id, "shopper", "reopen")
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
        guesses = reply.guesses if reply else ()
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
            result.suggestions = list(reply.suggestions)
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
        self, s: Session, sid: str, language: str, reason: str, guesses: Sequence[Guess],
        text: str,
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
    def messages(self, sid: str, after: int = 0, limit: int = POLL_LIMIT) -> ConversationView:
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
            shopper = [m.id for m in rows if m.role == "shopper"]
            photos = {} if not shopper else {int(mid): int(n) for mid, n in s.execute(
                select(Photo.message_id, func.count()).where(Photo.message_id.in_(shopper))
                .group_by(Photo.message_id))}
            items = [message_view(m, photos.get(m.id, 0)) for m in rows]
            return ConversationView(
                session_id=sid,
                state=conversation_state(ticket),
                ticket_id=ticket.id if ticket else None,
                language=conv.language,
                messages=items,
                cursor=items[-1].id if items else max(after, 0),
            )

    # ---- feedback ----
    def feedback(
        self, sid: str, message_id: int, helpful: bool, comment: str | None
    ) -> FeedbackResult:
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
            return FeedbackResult(ok=True, offer_handoff=False,
                                  notice=notice("thanks", language, self.translator))
        return FeedbackResult(
            ok=True,
            offer_handoff=not with_person,
            notice=None if with_person else notice("offer_handoff", language, self.translator),
        )

    # ---- the agent's side ----
    def ticket_detail(self, ticket_id: int, agent_language: str) -> TicketDetail:
        """Return a ticket with its transcript, each line also in the agent's language."""
        with self.db.read() as s:
            t = self.tickets.get(s, ticket_id)
            rows = s.scalars(
                select(Message).where(Message.conversation_id == t.conversation_id)
                .order_by(Message.id)
            ).all()
            view = ticket_view(t)
            guesses = ticket_guesses(t)
            email = Followup.contact_email(s, t.conversation_id)
            pictures: dict[int, list[PhotoView]] = {}
            for p in s.scalars(select(Photo).where(Photo.conversation_id == t.conversation_id)
                               .order_by(Photo.id)):
                pictures.setdefault(p.message_id, []).append(PhotoView(
                    id=p.id, content_type=p.content_type, width=p.width, height=p.height,
                    size=p.size, removed=p.removed_at is not None))
        transcript = []
        for m in rows:
            if m.role == "agent" and m.original_text is not None:
                for_agent = m.original_text if m.original_language == agent_language else None
                if for_agent is None:
                    for_agent = self.translations.get(m.original_text, m.original_language,
                                                      agent_language)
            else:
                for_agent = self.translations.get(m.text, m.language, agent_language)
            transcript.append(TranscriptLine(
                id=m.id, role=m.role, text=m.text, language=m.language,
                text_for_agent=for_agent, created_at=m.created_at,
                author=m.author if m.role == "agent" else None,
                photos=pictures.get(m.id, []),
            ))
        return TicketDetail(**vars(view), guesses=guesses,
                            transcript=transcript, email=email)

    def agent_reply(
        self, ticket_id: int, agent: str, text: str, agent_language: str,
        text_language: str | None = None,
    ) -> AgentReply:
        """Send an agent's reply to the shopper, translated when a pack covers the pair.

        ``text_language`` is what the reply is written in (an FAQ answer inserted in the
        shopper's language goes out as written); default: the agent's language. A reply no
        pack can translate goes out as written, followed by a notice in the shopper's language.
        """
        body = text.strip()
        if not body:
            raise InputError("the reply is empty")
        if len(body) > MAX_AGENT_REPLY_CHARS:
            raise MessageTooLong(
                f"the reply is {len(body)} characters; the limit is {MAX_AGENT_REPLY_CHARS}"
            )
        source = text_language or agent_language
        with self.db.read() as s:
            t = self.tickets.check_holder(s, ticket_id, agent)
            target = s.get(Conversation, t.conversation_id)
            shopper_lang = target.language if target else source
        shown, language, translated, untranslated = body, source, False, False
        if shopper_lang != source:
            try:
                shown = self.translator.translate(body, source, shopper_lang)
                language, translated = shopper_lang, True
            except TranslationError as exc:
                untranslated = True
                log.info("agent reply stays in %s: %s", source, exc)
        with self.db.write() as s:
            t = self.tickets.check_holder(s, ticket_id, agent, lock=True)
            self._lock_conversation(s, t.conversation_id)
            msg_id = self._add(s, t.conversation_id, "agent", shown, language, author=agent,
                               original_text=body if translated else None,
                               original_language=source if translated else None)
            item = message_view(s.get_one(Message, msg_id))
            if untranslated and not noted_untranslated(s, t.conversation_id):
                self._add(s, t.conversation_id, "system",
                          notice("untranslated", shopper_lang, self.translator), shopper_lang,
                          action="untranslated")
            mailed = self.followup is not None and self.followup.queue_reply(
                s, t.conversation_id, msg_id)
        return AgentReply(message=item, translated=translated, untranslated=untranslated,
                          session_id=t.conversation_id, may_email=mailed)

    def check_conversation(self, sid: str) -> None:
        """Raise NotFoundError unless the conversation exists (before a costly upload)."""
        with self.db.read() as s:
            if not SESSION_ID.match(sid) or s.get(Conversation, sid) is None:
                raise NotFoundError(f"no conversation {sid!r}: start one with POST /api/chat")

    def resolve(self, ticket_id: int, agent: str) -> TicketView:
        """Resolve a ticket and tell the shopper in their language."""
        with self.db.write() as s:
            t = self.tickets.get(s, ticket_id)
            self._lock_conversation(s, t.conversation_id)
            t = self.tickets.resolve(s, ticket_id, agent)
            record(s, ticket_id, agent, "resolve")
            conv = s.get(Conversation, t.conversation_id)
            language = conv.language if conv else t.language
            self._add(s, t.conversation_id, "system", notice("resolved", language, self.translator),
                      language, action="resolved")
            return ticket_view(t)

    def claim(self, ticket_id: int, agent: str) -> TicketView:
        """Claim a ticket for ``agent``."""
        with self.db.write() as s:
            before = self.tickets.get(s, ticket_id).state
            t = self.tickets.claim(s, ticket_id, agent)
            if before == "open":
                record(s, ticket_id, agent, "claim")
            return ticket_view(t)

    def release(self, ticket_id: int, agent: str) -> TicketView:
        """Put a ticket ``agent`` holds back in the queue."""
        with self.db.write() as s:
            t = self.tickets.release(s, ticket_id, agent)
            record(s, ticket_id, agent, "release")
            return ticket_view(t)

    def list_tickets(
        self, state: str | None, language: str | None, priority: str | None, limit: int,
        claimed_by: str | None = None,
    ) -> list[TicketView]:
        """List tickets for the agent console."""
        now = utcnow()
        with self.db.read() as s:
            return [ticket_view(t, now) for t in
                    self.tickets.list(s, state, language, priority, limit, claimed_by)]

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
