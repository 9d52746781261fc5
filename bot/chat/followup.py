"""E-mail follow-up: the shopper's address, whether they are still here, and the mail itself.

After a handoff the widget offers to leave an address (``set_contact``). When an agent
replies, ``queue_reply`` (inside the reply's transaction) puts the reply in the outbox,
due after FAQBOT_EMAIL_AFTER_SECONDS; replies written before that mail goes join it. The
widget's polls from a visible page (``on_poll``) record what the shopper was shown, so
the outbox (bot/runtime/outbox.py) mails only replies nobody read in the chat, and waits
while the shopper is still on the page. ``compose`` writes the mail in the shopper's
language with a link back to the conversation: the widget reopens it from the link.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.chat.mail_text import mail_text
from bot.chat.views import FollowupView
from bot.errors import ConflictError, InputError, NotFoundError
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Conversation, ConversationContact, MailOutbox, Message, Ticket, utcnow

# A visible widget polls every 2 s (10 s in a background tab, which does not count); one
# poll within this window means the shopper is on the page and will see a reply there.
CONNECTED_SECONDS = 30.0
# Presence is written at most this often per conversation (plus when new messages show).
SEEN_WRITE_SECONDS = 10.0
# The fragment the widget reads to reopen a conversation; a fragment never reaches a
# server log, and the session id is the key to the conversation.
LINK_FRAGMENT = "faqbot="


@dataclass(frozen=True)
class PendingMail:
    """What one outbox row mails: the address, the link and the replies not yet read."""

    outbox_id: int
    conversation_id: str
    email: str
    link: str
    language: str
    replies: list[tuple[str | None, str]]  # (agent name, text)


class Followup:
    """Contacts, presence and follow-up mails of one database."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.enabled = settings.smtp is not None
        self.delay = timedelta(seconds=settings.email_after_seconds)
        self.shop = settings.shop_name
        self.mail_from = settings.mail_from
        self.origins = {_origin(o) for o in settings.cors_origins} - {None}

    # ---- the shopper's address ----
    def set_contact(self, sid: str, email: str, page: str | None, base_url: str) -> dict[str, Any]:
        """Keep ``email`` for the conversation's follow-up; the mail links back to ``page``.

        ``page`` is used only when it is on this server or an origin in FAQBOT_CORS_ORIGINS
        (a mail from the shop must not link elsewhere); otherwise the link goes to
        ``base_url``.
        """
        if not self.enabled:
            raise ConflictError("e-mail follow-up is not set up on this server "
                                "(FAQBOT_SMTP_URL and FAQBOT_MAIL_FROM)")
        address = check_email(email)
        return_url = self._return_url(page, base_url)
        now = utcnow()
        with self.db.write() as s:
            if s.get(Conversation, sid) is None:
                raise NotFoundError(f"no conversation {sid!r}")
            state = s.scalar(select(Ticket.state).where(Ticket.conversation_id == sid))
            if state not in ("open", "claimed"):
                raise ConflictError("an address can be left once the conversation is with "
                                    "a person (after a handoff)")
            contact = s.get(ConversationContact, sid)
            if contact is None:
                s.add(ConversationContact(conversation_id=sid, email=address,
                                          return_url=return_url, created_at=now,
                                          updated_at=now, seen_at=now, delivered_id=0))
            else:
                contact.email, contact.return_url, contact.updated_at = address, return_url, now
        return {"email": address}

    def forget(self, sid: str) -> None:
        """Delete the conversation's address; mails not sent yet are dropped."""
        with self.db.write() as s:
            contact = s.get(ConversationContact, sid)
            if contact is None:
                if s.get(Conversation, sid) is None:
                    raise NotFoundError(f"no conversation {sid!r}")
                return
            s.delete(contact)

    def _return_url(self, page: str | None, base_url: str) -> str:
        base = base_url.rstrip("/") + "/"
        if not page:
            return base
        try:
            parts = urlsplit(page.strip())
        except ValueError:
            return base
        origin = _origin(page)
        if parts.scheme not in ("http", "https") or origin is None or len(page) > 2000:
            return base
        if origin != _origin(base) and origin not in self.origins:
            return base
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))

    # ---- presence ----
    def on_poll(self, sid: str, cursor: int, state: str, visible: bool) -> FollowupView:
        """Record that a visible page was shown messages up to ``cursor``; say what to offer.

        Writes only when something changed or every SEEN_WRITE_SECONDS, so a poll of a
        conversation without an address costs one primary-key read (none with mail off).
        """
        if not self.enabled:
            return FollowupView(email_offer=False, email=None)
        with self.db.read() as s:
            row = s.execute(
                select(ConversationContact.email, ConversationContact.seen_at,
                       ConversationContact.delivered_id)
                .where(ConversationContact.conversation_id == sid)
            ).first()
        now = utcnow()
        if row is not None and visible and (
            cursor > row.delivered_id or row.seen_at is None
            or (now - row.seen_at).total_seconds() >= SEEN_WRITE_SECONDS
        ):
            with self.db.write() as s:
                s.execute(
                    update(ConversationContact)
                    .where(ConversationContact.conversation_id == sid)
                    .values(seen_at=now, delivered_id=max(cursor, row.delivered_id))
                )
        email = row.email if row is not None else None
        return FollowupView(email_offer=state == "handoff" and email is None, email=email)

    @staticmethod
    def contact_email(s: Session, sid: str) -> str | None:
        """Return the address a conversation's unread replies go to, if any."""
        return s.scalar(select(ConversationContact.email)
                        .where(ConversationContact.conversation_id == sid))

    def left(self, sid: str) -> None:
        """Record that the shopper's page closed: a reply from now on may be mailed at once."""
        if not self.enabled:
            return
        with self.db.write() as s:
            s.execute(update(ConversationContact)
                      .where(ConversationContact.conversation_id == sid).values(seen_at=None))

    # ---- the outbox ----
    def queue_reply(self, s: Session, sid: str, message_id: int) -> bool:
        """Put an agent's reply in the outbox (in the caller's transaction) if mail is on.

        A reply joins a mail still waiting for this conversation; otherwise a new mail is
        due FAQBOT_EMAIL_AFTER_SECONDS from now. Returns whether the reply may go by mail.
        """
        if not self.enabled or s.get(ConversationContact, sid) is None:
            return False
        waiting = s.scalars(
            select(MailOutbox).where(MailOutbox.conversation_id == sid,
                                     MailOutbox.state == "pending")
            .order_by(MailOutbox.id.desc()).limit(1).with_for_update()
        ).first()
        if waiting is not None:
            waiting.last_message_id = max(waiting.last_message_id, message_id)
            return True
        now = utcnow()
        s.add(MailOutbox(conversation_id=sid, first_message_id=message_id,
                         last_message_id=message_id, state="pending", attempts=0,
                         due_at=now + self.delay, created_at=now))
        return True

    def pending_mail(self, s: Session, row: MailOutbox) -> tuple[PendingMail | None, str]:
        """Return what ``row`` should mail now, or None with the reason it should not."""
        contact = s.get(ConversationContact, row.conversation_id)
        if contact is None:
            return None, "no address (forgotten or past retention)"
        conv = s.get(Conversation, row.conversation_id)
        language = conv.language if conv is not None else "en"
        replies = s.execute(
            select(Message.author, Message.text)
            .where(Message.conversation_id == row.conversation_id, Message.role == "agent",
                   Message.id >= row.first_message_id, Message.id <= row.last_message_id,
                   Message.id > contact.delivered_id)
            .order_by(Message.id)
        ).all()
        if not replies:
            return None, "read in the chat"
        link = contact.return_url + "#" + LINK_FRAGMENT + row.conversation_id
        return PendingMail(row.id, row.conversation_id, contact.email, link, language,
                           [(a, t) for a, t in replies]), ""

    def shopper_here(self, s: Session, sid: str, now: datetime) -> bool:
        """Tell whether a visible page polled the conversation within CONNECTED_SECONDS."""
        seen = s.scalar(select(ConversationContact.seen_at)
                        .where(ConversationContact.conversation_id == sid))
        return seen is not None and (now - seen).total_seconds() < CONNECTED_SECONDS

    def compose(self, mail: PendingMail, now: datetime | None = None) -> EmailMessage:
        """Write the follow-up mail in the shopper's language (text and HTML parts)."""
        lang = mail.language
        agents = [a for a, _t in mail.replies if a]
        agent = agents[-1] if agents else None
        intro = (mail_text("intro", lang, agent=agent, shop=self.shop) if agent
                 else mail_text("intro_team", lang, shop=self.shop))
        cta = mail_text("cta", lang)
        quoted = "\n\n".join(_quote(text) for _a, text in mail.replies)
        body = (f"{mail_text('greeting', lang)}\n\n{intro}\n\n{quoted}\n\n{cta}:\n{mail.link}"
                f"\n\n-- \n{mail_text('footer', lang)}\n")
        msg = EmailMessage()
        msg["Subject"] = mail_text("subject", lang, shop=self.shop)
        msg["From"] = self.mail_from
        msg["To"] = formataddr(("", mail.email))
        msg["Date"] = format_datetime(now or utcnow())
        # Stable per outbox row: a mail sent twice after a crash is one mail to the reader.
        tag = hashlib.sha256(mail.conversation_id.encode()).hexdigest()[:12]
        msg["Message-ID"] = f"<faqbot.{mail.outbox_id}.{tag}@{_domain(self.mail_from)}>"
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
        msg.set_content(body)
        msg.add_alternative(self._html(lang, intro, cta, mail), subtype="html")
        msg["Content-Language"] = lang  # after the parts: set_content drops Content-* headers
        return msg

    def _html(self, lang: str, intro: str, cta: str, mail: PendingMail) -> str:
        e = html.escape
        replies = "".join(
            '<blockquote style="margin:12px 0;padding:8px 12px;border-left:3px solid #2454d6;'
            f'background:#f5f7fb">{e(text).replace(chr(10), "<br>")}</blockquote>'
            for _a, text in mail.replies
        )
        return (
            f'<!doctype html><html lang="{e(lang)}"><body style="font-family:system-ui,sans-serif;'
            'color:#1c2330;line-height:1.5">'
            f"<p>{e(mail_text('greeting', lang))}</p><p>{e(intro)}</p>{replies}"
            f'<p><a href="{e(mail.link)}" style="display:inline-block;padding:10px 16px;'
            f'background:#2454d6;color:#fff;border-radius:8px;text-decoration:none">{e(cta)}</a></p>'
            f'<p style="color:#5d6675;font-size:12px">{e(mail_text("footer", lang))}</p>'
            "</body></html>"
        )


def check_email(email: str) -> str:
    """Return the address normalised, or raise InputError saying what is wrong with it."""
    text = (email or "").strip()
    if not text:
        raise InputError("email: enter an e-mail address")
    if len(text) > 254:
        raise InputError("email: an address has at most 254 characters")
    try:
        # Syntax only: a DNS lookup per request would be slow and fail offline.
        return str(validate_email(text, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise InputError(f"email: {exc}") from None


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    return address.rpartition("@")[2] or "faqbot.invalid"


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.strip().splitlines())
