"""Conversations: the chat flow, handoff state, agent replies, shopper feedback and ratings.

One shopper message goes through :meth:`ChatService.chat`:

1. cleaned and its explicit language checked once; the conversation read (its language and
   locale are the detection hints); the language detected once;
2. triaged (bot/chat/triage.py): words first; when they do not decide, or the message is a
   question, it is embedded once with its language's lane and searched, and the triage
   reads that same vector and the FAQ's best score;
3. a question gets the bot's decision (a complaint rule's entry preferred, decide.prefer);
4. in one write transaction, bot/chat/turns.py reads the ticket state, lets
   bot/chat/flow.py decide (small talk, noise, answers while waiting, handoff ...) and
   stores the turn.

The database lock is held only for the inserts. Every reply is announced on
``ChatService.replied``.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from bot.chat.followup import Followup
from bot.chat.inbox import clean_page_url, clean_visitor, noted_untranslated, record
from bot.chat.learning import is_person_chip
from bot.chat.notices import notice
from bot.chat.tickets import TicketStore, ticket_guesses, ticket_view
from bot.chat.triage import TriageClassifier, TriageResult
from bot.chat.turns import ADDED, TurnInput, TurnWriter, add_message, conversation_state
from bot.chat.views import (
    AgentReply,
    ChatRequest,
    ChatResult,
    ConversationView,
    FeedbackResult,
    MessageView,
    PhotoView,
    RatingResult,
    TicketDetail,
    TicketView,
    TranscriptLine,
    WithdrawResult,
)
from bot.errors import (
    ConflictError,
    FaqbotError,
    InputError,
    MessageTooLong,
    NotFoundError,
    TranslationError,
)
from bot.events import Event
from bot.matching.bot import FaqBot, Query, Reply, normalise_message
from bot.matching.decide import prefer
from bot.matching.language import Detection, supported_language
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Conversation, Feedback, Message, Photo, Rating, utcnow
from bot.translate.cache import TranslationCache
from bot.translate.translator import Translator

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_AGENT_REPLY_CHARS = 5000
MAX_COMMENT_CHARS = 1000
POLL_LIMIT = 200
_CONVERSATIONS = cast(Table, Conversation.__table__)
ADDED_MESSAGES = ADDED  # Session.info key of the ids a transaction added (bot/chat/turns.py)


def message_view(m: Message, photos: int = 0) -> MessageView:
    """Return a message as the shopper's side sees it (an agent's name, never their key)."""
    return MessageView(id=m.id, role=m.role, text=m.text, language=m.language,
                       created_at=m.created_at, action=m.action, faq_id=m.faq_id,
                       author=m.author if m.role == "agent" else None, photos=photos)




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
        triage: TriageClassifier | None = None,
    ) -> None:
        self.db = db
        self.followup = followup  # e-mail follow-up of agents' replies (bot/chat/followup.py)
        self.bot = bot
        self.tickets = tickets
        self.settings = settings
        self.translator = translator
        self.translations = TranslationCache(translator)
        # The shipped words plus the shop's (FAQBOT_TRIAGE_FILE); the complaint rules are the
        # tickets' (FAQBOT_TRIAGE_RULES_FILE replaces the shipped ones).
        self.triage = triage or TriageClassifier.load(settings.triage_file,
                                                      rules=tickets.triage.urgent())
        self.turns = TurnWriter(tickets, settings, translator)
        # Every reply to a shopper, after it is stored (metrics listen here).
        self.replied: Event[ChatResult] = Event("ChatService.replied")

    def warm(self) -> None:
        """Embed the triage examples for every lane's model (once per process and model)."""
        for lane in self.bot.lanes:
            self.triage.prepare(self.bot.space(lane))

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
        page_url = clean_page_url(req.page_url)  # http(s), no query or fragment
        sid = req.session_id if req.session_id and SESSION_ID.match(req.session_id) else None
        with self.db.read() as s:
            conv = s.connection().execute(
                select(_CONVERSATIONS.c.language, _CONVERSATIONS.c.language_locked,
                       _CONVERSATIONS.c.market, _CONVERSATIONS.c.locale,
                       _CONVERSATIONS.c.page_url)
                .where(_CONVERSATIONS.c.id == sid)
            ).first() if sid else None
            conv_lang = conv.language if conv else None
            if conv and conv.language_locked and not forced:
                forced = conv.language
            market = market or (conv.market if conv else None)
            locale = locale or (conv.locale if conv else None)
            page_url = page_url or (conv.page_url if conv else None)
        if conv is None:
            # An unknown id (say, the database was reset) starts a fresh conversation rather
            # than failing the widget; the response carries the new id.
            sid = uuid.uuid4().hex
        assert sid is not None
        # The language, decided once: an explicit or locked one, else detected with the
        # conversation's language and the widget's locale as hints.
        detection = Detection(forced, True, "explicit") if forced else \
            self.bot.detect(text, [conv_lang, locale])
        if not forced and conv_lang is None and not detection.confident:
            # A first "merci", "tschüss" or "danke" (on an English page): small talk in one
            # language by the triage word lists beats the default and the page's locale.
            langs = self.triage.language_of(text, self.settings.supported_languages)
            if len(langs) == 1:
                detection = Detection(langs[0], False, "words")
        query = Query(text, detection, market)
        triage, reply, unavailable = self._understand(req, query)
        negative = False
        if req.human or triage.kind == "person":
            # Only a request for a person reads the feedback (one query fewer per message).
            with self.db.read() as s:
                negative = conv is not None and self._last_feedback_negative(s, sid)
        turn = TurnInput(
            sid=sid, text=text, language=query.language, triage=triage, reply=reply,
            button=req.human, answered=bool(text) and self.triage.says_answered(text),
            negative_feedback=negative, bot_unavailable=unavailable, market=market,
            locale=locale, page_url=page_url, visitor_id=clean_visitor(req.visitor_id),
        )
        result = self._store(turn, forced)
        self.replied.emit(result)
        return result

    def _understand(
        self, req: ChatRequest, query: Query
    ) -> tuple[TriageResult, Reply | None, bool]:
        """Triage the message and, for a question, get the bot's decision (one embedding)."""
        text = query.text
        if req.suggestion_id and not req.human:
            picked = self.bot.answer_entry(req.suggestion_id, query)
            if picked is not None:  # a chip from an older index answers the text instead
                return TriageResult("faq", evidence="suggestion"), picked, False
        if not text or (req.human and is_person_chip(text)):
            # The button, or the "none of these — talk to a person" chip: its label is not
            # a question (it stays out of the ticket's topic).
            return TriageResult("person", evidence="button"), None, False
        triage = self.triage.classify(text)
        if triage.evidence != "default" and not triage.substantive:
            return triage, None, False  # the words decided: no model call for "hi" or "human"
        try:
            lane = self.bot.lane_for(query.language)
            vector = self.bot.embed(lane, [query.for_model])[0]
            hits = self.bot.search(lane, vector, query.market)
        except InputError:
            raise
        except (FaqbotError, RuntimeError) as exc:
            # No usable index: a person takes over rather than the shopper seeing an error.
            log.error("bot unavailable, handing off: %s", exc)
            return triage, None, True
        if triage.evidence == "default":
            self.triage.prepare(self.bot.space(lane))
            triage = self.triage.classify(text, vector, self.bot.space(lane),
                                          hits[0].score if hits else None)
        if not triage.substantive:
            return triage, None, False
        decision = prefer(self.bot.decide(lane, hits, vector), hits,
                          self.triage.entries_for(triage), lane.thresholds)
        return triage, self.bot.reply(query, hits, decision), False

    def _store(self, turn: TurnInput, forced: str | None) -> ChatResult:
        now = utcnow()
        sid, language = turn.sid, turn.language
        with self.db.write() as s:
            # One transaction, one commit. FOR UPDATE (ignored by SQLite, whose writers are
            # serialised anyway) keeps one conversation's messages committing in id order,
            # so cursors never skip one.
            db = s.connection()
            row = db.execute(
                select(_CONVERSATIONS.c.language_locked, _CONVERSATIONS.c.language)
                .where(_CONVERSATIONS.c.id == sid).with_for_update()
            ).first()
            if row is None:
                db.execute(insert(_CONVERSATIONS), {
                    "id": sid, "created_at": now, "updated_at": now, "language": language,
                    "language_locked": bool(forced), "locale": turn.locale,
                    "market": turn.market, "page_url": turn.page_url,
                    "visitor_id": turn.visitor_id,
                })
            else:
                locked = bool(row.language_locked)
                db.execute(
                    update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == sid).values(
                        updated_at=now,
                        language=language if not locked or forced else row.language,
                        language_locked=locked or bool(forced), locale=turn.locale,
                        market=turn.market,
                        page_url=turn.page_url,
                        # A conversation is this browser's (a page may show several ids).
                        **({"visitor_id": turn.visitor_id} if turn.visitor_id else {}),
                    )
                )
            result = self.turns.write(s, turn)
            if not result.cursor:
                result.cursor = self._cursor(s, sid)
        self._log_turn(result, turn.text)
        return result

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
            state = conversation_state(ticket)
            rated = s.scalar(select(Rating.id).where(Rating.conversation_id == sid))
            return ConversationView(
                session_id=sid,
                state=state,
                ticket_id=ticket.id if ticket else None,
                language=conv.language,
                messages=items,
                cursor=items[-1].id if items else max(after, 0),
                wait_minutes=self.tickets.sla_minutes[ticket.priority]
                if ticket is not None and state == "handoff" else None,
                rated=rated is not None,
            )

    # ---- the shopper ends the wait, or rates the conversation ----
    def withdraw(self, sid: str) -> WithdrawResult:
        """Close the open ticket as self-served: the shopper's question is answered."""
        with self.db.write() as s:
            conv = self._lock_conversation(s, sid) if SESSION_ID.match(sid) else None
            if conv is None:
                raise NotFoundError(f"no conversation {sid!r}")
            ticket = self.tickets.for_conversation(s, sid, lock=True)
            result = WithdrawResult(state=conversation_state(ticket), notice=None,
                                    message_ids=[], cursor=0)
            if ticket is None or ticket.state == "resolved":
                return result  # nothing waits (resolved meanwhile, or a second click)
            ticket = self.tickets.withdraw(s, ticket.id)
            record(s, ticket.id, "shopper", "withdraw")  # the agents' history of the ticket
            said = notice("withdrawn", conv.language, self.translator)
            add_message(s, sid, "system", said, conv.language, action="withdrawn")
            asked = ChatResult(session_id=sid, message_id=0, action="withdrawn",
                               language=conv.language)
            self.turns.ask_rating(s, sid, conv.language, asked)
            added: list[int] = s.info.get(ADDED, [])
            return WithdrawResult(state=conversation_state(ticket), notice=said,
                                  message_ids=list(added), cursor=max(added),
                                  rate_message_id=asked.rate_message_id,
                                  rate_prompt=asked.rate_prompt, ticket_id=ticket.id)

    def rate(self, sid: str, score: int, comment: str | None) -> RatingResult:
        """Store the conversation's 1-5 rating; a second call may only add the comment."""
        if not 1 <= score <= 5:
            raise InputError(f"score must be 1 to 5, got {score}")
        comment = (comment or "").strip() or None
        if comment and len(comment) > MAX_COMMENT_CHARS:
            raise MessageTooLong(
                f"the comment is {len(comment)} characters; the limit is {MAX_COMMENT_CHARS}"
            )
        with self.db.write() as s:
            conv = self._lock_conversation(s, sid) if SESSION_ID.match(sid) else None
            if conv is None:
                raise NotFoundError(f"no conversation {sid!r}")
            found = s.scalars(select(Rating).where(Rating.conversation_id == sid)).first()
            if found is None:
                ticket = self.tickets.for_conversation(s, sid)
                s.add(Rating(conversation_id=sid, score=score, comment=comment,
                             language=conv.language,
                             agent=ticket.claimed_by if ticket is not None else None,
                             ticket_id=ticket.id if ticket is not None else None,
                             created_at=utcnow()))
            elif found.score == score and comment and found.comment is None:
                found.comment = comment  # the comment that follows the one tap
            else:
                raise ConflictError("this conversation is already rated")
            language = conv.language
        return RatingResult(ok=True, score=score,
                            notice=notice("rated", language, self.translator))

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
            asked = ChatResult(session_id=sid, message_id=0, action="answer", language=language)
            if helpful and msg.action == "answer":
                # A helpful answer may well end the conversation: ask for the rating (once).
                self.turns.ask_rating(s, sid, language, asked)
        with_person = ticket is not None and ticket.state != "resolved"
        if helpful:
            return FeedbackResult(ok=True, offer_handoff=False,
                                  notice=notice("thanks", language, self.translator),
                                  rate_message_id=asked.rate_message_id,
                                  rate_prompt=asked.rate_prompt)
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
        topic = self.translations.get(t.asked_about or "", t.language, agent_language)
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
        return TicketDetail(**vars(view), guesses=guesses, transcript=transcript, email=email,
                            asked_about_for_agent=topic)

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
            msg_id = add_message(s, t.conversation_id, "agent", shown, language, author=agent,
                                 original_text=body if translated else None,
                                 original_language=source if translated else None)
            item = message_view(s.get_one(Message, msg_id))
            if untranslated and not noted_untranslated(s, t.conversation_id):
                add_message(s, t.conversation_id, "system",
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
            add_message(s, t.conversation_id, "system",
                        notice("resolved", language, self.translator), language,
                        action="resolved")
            # The shopper's widget shows the rating prompt with the next poll.
            self.turns.ask_rating(s, t.conversation_id, language, ChatResult(
                session_id=t.conversation_id, message_id=0, action="resolved",
                language=language))
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
