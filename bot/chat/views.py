"""What the chat service takes and returns: typed values, turned into JSON only at the web edge.

The web layer maps each of these onto its pydantic body of the same fields
(bot/web/schemas.py, ``model_validate(..., from_attributes=True)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.matching.bot import Guess, Suggestion


@dataclass(frozen=True)
class ChatRequest:
    """One message from the widget."""

    session_id: str | None
    message: str
    language: str | None = None  # an explicit switch: forces the language
    locale: str | None = None  # the browser's locale: a hint only
    market: str | None = None
    suggestion_id: str | None = None  # a suggestion chip the shopper clicked
    human: bool = False  # the "talk to a person" button
    visitor_id: str | None = None  # the widget's per-browser id (earlier conversations)
    page_url: str | None = None  # the shop page the widget is on (no query string)


@dataclass
class ChatResult:
    """What the widget shows for one message (the /api/chat response)."""

    session_id: str
    message_id: int
    # answer | clarify | handoff | queued | smalltalk | noise | vague | withdrawn
    action: str
    language: str
    faq_id: str | None = None
    confidence: float = 0.0
    answer: str | None = None
    answer_language: str | None = None
    machine_translated: bool = False
    suggestions: list[Suggestion] = field(default_factory=list)
    # With suggestions: the label of the last chip, "none of these — talk to a person".
    person_chip: str | None = None
    ticket_id: int | None = None
    notice: str | None = None
    cursor: int = 0
    kind: str | None = None  # what the triage made of the message
    state: str = "bot"  # the conversation after it: bot | handoff | resolved
    wait_minutes: int | None = None  # while waiting: how long a person usually takes
    message_ids: list[int] = field(default_factory=list)  # everything this turn stored
    rate_message_id: int | None = None  # the rating prompt, when this turn asks for one
    rate_prompt: str | None = None
    ticket_opened: bool = False  # this turn opened or reopened a ticket (not in the JSON)


@dataclass(frozen=True)
class MessageView:
    """One message as the shopper's side sees it."""

    id: int
    role: str  # shopper | bot | agent | system
    text: str
    language: str | None
    created_at: datetime
    action: str | None
    faq_id: str | None
    author: str | None = None  # the agent's name, on agent replies
    photos: int = 0  # photos sent with it (the shopper's side sees how many, not them)


@dataclass(frozen=True)
class ConversationView:
    """A conversation's messages after a cursor, with its state (poll with ``cursor``)."""

    session_id: str
    state: str  # bot | handoff | resolved
    ticket_id: int | None
    language: str
    messages: list[MessageView]
    cursor: int
    wait_minutes: int | None = None  # while waiting: how long a person usually takes
    rated: bool = False  # the conversation has its rating (the prompt is not shown again)


@dataclass(frozen=True)
class FeedbackResult:
    """The answer to helpful / not helpful: "not helpful" may offer a person."""

    ok: bool
    offer_handoff: bool
    notice: str | None
    rate_message_id: int | None = None  # "helpful" ends on a good answer: the rating prompt
    rate_prompt: str | None = None


@dataclass(frozen=True)
class WithdrawResult:
    """The shopper's "my question is answered": the ticket closed as self-served."""

    state: str
    notice: str | None
    message_ids: list[int]
    cursor: int
    rate_message_id: int | None = None
    rate_prompt: str | None = None
    ticket_id: int | None = None  # the ticket it closed (not in the JSON)


@dataclass(frozen=True)
class RatingResult:
    """A rating stored (or its comment added)."""

    ok: bool
    score: int
    notice: str


@dataclass(frozen=True)
class TicketView:
    """A ticket as the agent console lists it."""

    id: int
    state: str  # open | claimed | resolved
    priority: str  # urgent | normal
    language: str
    reason: str
    created_at: datetime
    due_at: datetime
    sla_breached: bool
    waiting_seconds: int
    claimed_by: str | None
    preview: str
    spam: bool = False  # closed as spam (state "resolved")
    session_id: str = ""  # the conversation: where live events for this ticket go
    kind: str | None = None  # the triage kind that opened it: person | complaint | order | faq
    asked_about: str = ""  # the shopper's substantive messages, in their words
    page_url: str | None = None
    locale: str | None = None
    market: str | None = None
    resolution: str | None = None  # agent | self_served, once resolved


@dataclass(frozen=True)
class PhotoView:
    """A shopper's photo as an agent's transcript lists it (fetched by id with the key)."""

    id: int
    content_type: str
    width: int
    height: int
    size: int
    removed: bool  # deleted after the retention period


@dataclass(frozen=True)
class TranscriptLine:
    """One line of a ticket's conversation, also in the agent's language where it differs."""

    id: int
    role: str
    text: str
    language: str | None
    text_for_agent: str | None
    created_at: datetime
    author: str | None = None
    photos: list[PhotoView] = field(default_factory=list)


@dataclass(frozen=True)
class TicketDetail(TicketView):
    """A ticket with its conversation and the bot's best guesses."""

    guesses: list[Guess] = field(default_factory=list)
    transcript: list[TranscriptLine] = field(default_factory=list)
    email: str | None = None  # where replies the shopper does not read here are mailed
    asked_about_for_agent: str | None = None  # the topic in the agent's language (a pack)


@dataclass(frozen=True)
class AgentReply:
    """An agent's reply as stored in the conversation, and whether it was translated."""

    message: MessageView
    translated: bool
    session_id: str = ""  # the conversation: where the live event goes (not in the API)
    may_email: bool = False  # the shopper left an address: unread, the reply is mailed
    # No pack for the pair: sent as written, and the shopper was told so.
    untranslated: bool = False


@dataclass(frozen=True)
class FollowupView:
    """What the widget offers about e-mail: leave an address now, or the one left."""

    email_offer: bool
    email: str | None


@dataclass(frozen=True)
class PhotoMessageResult:
    """The answer to a photo upload: the shopper's message, and whether it went to a person."""

    session_id: str
    message_id: int
    action: str  # handoff | queued
    language: str
    ticket_id: int | None
    notice: str | None
    cursor: int
    photos: int


@dataclass(frozen=True)
class EventView:
    """One line of a ticket's history for agents: an internal note, a claim, an assignment."""

    id: int
    kind: str  # note | claim | release | assign | resolve | spam | reopen | withdraw
    actor: str
    text: str | None
    target: str | None  # assign: who got the ticket
    previous: str | None  # assign: who held it before
    created_at: datetime


@dataclass(frozen=True)
class EarlierConversation:
    """Another conversation of the same shopper (same widget visitor id)."""

    session_id: str
    started_at: datetime
    language: str
    ticket_id: int | None
    ticket_state: str | None
    first_message: str


@dataclass(frozen=True)
class CustomerView:
    """What the agent sees of a conversation's shopper, beside the transcript."""

    session_id: str
    language: str
    locale: str | None
    market: str | None
    page_url: str | None
    started_at: datetime
    email: str | None = None  # left for replies the shopper does not read in the chat
    earlier: list[EarlierConversation] = field(default_factory=list)
