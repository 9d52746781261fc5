"""Every request and response body of the HTTP API, in one place: the contract the widget,
the agent console and the lead page are written against (tests/web/test_openapi.py checks it).

Routes fill the response bodies from the services' dataclasses with
``Model.model_validate(value, from_attributes=True)``: the fields have the same names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.web.inputs import (
    CLUSTER,
    COMMENT_CHARS,
    MESSAGE_CHARS,
    NOT_BLANK,
    REPLY_CHARS,
    Id,
    check_text,
)


class Body(BaseModel):
    """Base of the bodies: read from the services' dataclasses by attribute."""

    model_config = ConfigDict(from_attributes=True)


class In(Body):
    """Base of the request bodies: every text in them is checked once, here."""

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return check_text(value)


# ---- shoppers ----
class ChatIn(In):
    session_id: str | None = Field(None, max_length=128)
    message: str = Field(
        "", json_schema_extra={"maxLength": MESSAGE_CHARS},
        description=f"1..{MESSAGE_CHARS} characters after trimming and Unicode NFKC "
        "normalisation (else 400/413); no NUL")
    language: str | None = Field(None, max_length=35, description="explicit switch: forces it")
    locale: str | None = Field(None, max_length=35, description="browser locale, a hint only")
    market: str | None = Field(None, max_length=8)
    suggestion_id: str | None = Field(None, max_length=200)
    human: bool = False
    visitor_id: str | None = Field(
        None, max_length=64,
        description="a random id the widget keeps per browser: agents see this shopper's "
        "earlier conversations",
    )
    page_url: str | None = Field(None, max_length=2000,
                                 description="the shop page the widget is on (http/https; "
                                 "query and fragment dropped, kept to 500)")


class SuggestionOut(Body):
    faq_id: str
    question: str
    confidence: float


class ChatOut(Body):
    session_id: str
    message_id: int
    action: Literal["answer", "clarify", "handoff", "queued", "smalltalk", "noise", "vague",
                    "withdrawn"]
    language: str
    faq_id: str | None
    confidence: float
    answer: str | None = Field(description="the answer, or the bot's short reply to small "
                                           "talk, noise or a vague word")
    answer_language: str | None
    machine_translated: bool
    suggestions: list[SuggestionOut]
    person_chip: str | None = Field(
        None, description="with suggestions: the label of the last chip, \"none of these — "
        "talk to a person\", in the shopper's language; tapping it sends this label with "
        "human=true (a ticket opens, as with the talk-to-a-person button)")
    ticket_id: int | None
    notice: str | None
    cursor: int
    kind: str | None = Field(description="what the triage made of the message: greeting, "
                                         "thanks, goodbye, person, complaint, order, faq, noise")
    state: Literal["bot", "handoff", "resolved"]
    wait_minutes: int | None = Field(description="while waiting: a person usually replies "
                                                 "within this")
    message_ids: list[int] = Field(description="every message this turn stored (show once)")
    rate_message_id: int | None = Field(description="the rating prompt this turn asks")
    rate_prompt: str | None


class MessageOut(Body):
    id: int
    role: Literal["shopper", "bot", "agent", "system"]
    text: str
    language: str | None
    created_at: datetime
    action: str | None
    faq_id: str | None
    author: str | None = Field(None, description="agent replies: the agent's name")
    photos: int = Field(0, description="photos sent with it (shown to agents only)")


class FollowupOut(Body):
    email_offer: bool = Field(description="offer to leave an e-mail address now")
    email: str | None = Field(description="the address replies go to when unread here")


class MessagesOut(Body):
    session_id: str
    state: Literal["bot", "handoff", "resolved"]
    ticket_id: int | None
    language: str
    messages: list[MessageOut]
    cursor: int
    followup: FollowupOut | None = None
    wait_minutes: int | None
    rated: bool


class ContactIn(In):
    email: str = Field(max_length=320)
    page: str | None = Field(None, max_length=2000,
                             description="the page the chat is on; the e-mail links back to it")


class ContactOut(Body):
    email: str


class PhotoMessageOut(Body):
    session_id: str
    message_id: int
    action: Literal["handoff", "queued"]
    language: str
    ticket_id: int | None
    notice: str | None
    cursor: int
    photos: int


class WithdrawOut(Body):
    state: Literal["bot", "handoff", "resolved"]
    notice: str | None
    message_ids: list[int]
    cursor: int
    rate_message_id: int | None
    rate_prompt: str | None


class RatingIn(In):
    score: int = Field(ge=1, le=5, description="1 (bad) to 5 (great)")
    comment: str | None = Field(None, json_schema_extra={"maxLength": COMMENT_CHARS},
                                description=f"up to {COMMENT_CHARS} characters (else 413)")


class RatingOut(Body):
    ok: bool
    score: int
    notice: str


class FeedbackIn(In):
    session_id: str = Field(max_length=128)
    message_id: Id
    helpful: bool
    comment: str | None = Field(None, json_schema_extra={"maxLength": COMMENT_CHARS},
                                description=f"up to {COMMENT_CHARS} characters (else 413)")


class FeedbackOut(Body):
    ok: bool
    offer_handoff: bool
    notice: str | None
    rate_message_id: int | None
    rate_prompt: str | None


# ---- agents ----
class TicketOut(Body):
    id: int
    state: Literal["open", "claimed", "resolved"]
    priority: Literal["urgent", "normal"]
    language: str
    reason: str
    created_at: datetime
    due_at: datetime
    sla_breached: bool
    waiting_seconds: int
    claimed_by: str | None
    preview: str
    spam: bool = False
    kind: str | None = Field(description="the triage kind that opened it")
    asked_about: str = Field(description="the shopper's substantive messages, their words")
    page_url: str | None
    locale: str | None
    market: str | None
    resolution: Literal["agent", "self_served"] | None


class TicketsOut(Body):
    tickets: list[TicketOut]


class GuessOut(Body):
    faq_id: str
    score: float
    title: str | None = Field(None, description="the entry's first phrasing, your language")


class PhotoOut(Body):
    id: int
    content_type: str
    width: int
    height: int
    size: int
    removed: bool = Field(description="deleted after the retention period")


class TranscriptLine(Body):
    id: int
    role: Literal["shopper", "bot", "agent", "system"]
    text: str
    language: str | None
    text_for_agent: str | None
    created_at: datetime
    author: str | None = None
    photos: list[PhotoOut] = Field(default_factory=list)


class EventOut(Body):
    id: int
    kind: Literal["note", "claim", "release", "assign", "resolve", "spam", "reopen",
                  "withdraw"]
    actor: str
    text: str | None
    target: str | None = Field(description="assign: who got the ticket")
    previous: str | None = Field(description="assign: who held it before")
    created_at: datetime


class EarlierOut(Body):
    session_id: str
    started_at: datetime
    language: str
    ticket_id: int | None
    ticket_state: str | None
    first_message: str


class CustomerOut(Body):
    session_id: str
    language: str
    locale: str | None
    market: str | None
    page_url: str | None
    started_at: datetime
    email: str | None = Field(None, description="the address the shopper left: replies they "
                              "do not read in the chat are mailed there")
    earlier: list[EarlierOut] = Field(description="this shopper's other conversations "
                                      "(same widget visitor id), newest first")


class TicketDetailOut(TicketOut):
    session_id: str
    guesses: list[GuessOut]
    transcript: list[TranscriptLine]
    email: str | None = Field(None, description="where unread replies are e-mailed")
    events: list[EventOut] = Field(description="internal notes and history")
    customer: CustomerOut
    shopper_language: str
    agent_language: str
    translation_sources: list[str] = Field(
        description="languages a reply can be machine-translated from into the shopper's; "
        "a reply in any other language goes out untranslated")
    asked_about_for_agent: str | None


class ReplyIn(In):
    text: str = Field(json_schema_extra={"maxLength": REPLY_CHARS, "pattern": NOT_BLANK},
                      description=f"1..{REPLY_CHARS} characters after trimming (else 400/413)")
    language: str | None = Field(
        None, max_length=8,
        description="what the text is written in (default: yours); an FAQ answer inserted "
        "in the shopper's language goes out as written")


class ReplyOut(Body):
    message: MessageOut
    translated: bool
    may_email: bool = Field(False, description="the shopper left an address: unread, it is mailed")
    untranslated: bool = Field(
        False, description="no pack for the pair: sent as written, the shopper told so")


# ---- leads: status, stats, unanswered ----
class StatusOut(Body):
    index_version: str | None
    model: str
    entries: int
    phrasings: int
    reload_ok: bool
    reload_error: str | None
    reloaded_at: datetime | None


class DayStats(Body):
    date: str
    questions: int
    answered: int
    clarified: int
    handed_off: int


class StatsOut(Body):
    days: int
    since: datetime
    totals: dict[str, int]
    per_language: dict[str, dict[str, int]]
    per_day: list[DayStats]


class QuestionOut(Body):
    id: int
    text: str | None
    language: str
    action: str
    reason: str | None
    faq_id: str | None
    score: float
    created_at: datetime


class UnansweredOut(Body):
    questions: list[QuestionOut]


class ErrorOut(Body):
    detail: str
    code: str | None = Field(None, description="for photos: photo_type, photo_too_large ...")
    filename: str | None = Field(None, description="for photos: the file refused")



# ---- what the pages read from the server ----
class ConfigOut(Body):
    default_language: str
    languages: list[str] = Field(description="the supported languages, default first")


# ---- leads: report, clusters, edits ----
class Block(Body):
    questions: int
    answered: int
    clarified: int
    handed_off: int
    helpful: int
    not_helpful: int
    helpful_share: float | None = Field(description="helpful / rated, null when none rated")
    tickets: int
    sla_breaches: int
    first_response_median_s: float | None
    first_response_p90_s: float | None
    resolution_median_s: float | None
    resolution_p90_s: float | None


class DayRow(Body):
    date: str
    questions: int
    answered: int
    clarified: int
    handed_off: int
    helpful: int
    not_helpful: int
    tickets: int
    sla_breaches: int


class CsatBlock(Body):
    ratings: int
    average: float | None = Field(description="mean 1-5 score, null when nobody rated")
    satisfied_share: float | None = Field(description="share of 4 and 5 (CSAT %)")
    scores: dict[str, int] = Field(description='"1".."5" -> how many ratings')


class CsatOut(Body):
    totals: CsatBlock
    per_language: dict[str, CsatBlock]
    per_agent: dict[str, CsatBlock] = Field(description="by the agent on the ticket")
    bot_only: CsatBlock = Field(description="conversations that never reached a person")


class ReportOut(Body):
    days: int
    since: datetime
    languages: list[str]
    totals: Block
    per_language: dict[str, Block]
    per_day: list[DayRow]
    per_day_by_language: dict[str, list[DayRow]]
    csat: CsatOut


class EntryRef(Body):
    faq_id: str
    score: float
    category: str
    file: str | None
    question: str


class NearestOut(EntryRef):
    alternatives: list[EntryRef]


class ExampleOut(Body):
    id: int
    text: str
    language: str
    kind: str = Field(description="clarify | handoff | not_helpful")
    created_at: datetime | None
    repeats: int = Field(1, description="times asked in these same words (recent ones)")


class ClusterOut(Body):
    key: str = Field(description="stable cluster key, e.g. 'c12'")
    count: int
    languages: dict[str, int]
    kinds: dict[str, int]
    last_seen: datetime | None
    examples: list[ExampleOut]
    nearest: NearestOut | None


class ClustersOut(Body):
    days: int
    since: datetime
    model: str
    threshold: float
    total_clusters: int
    total_questions: int
    pending: int = Field(description="unanswered questions not grouped yet (background job)")
    clusters: list[ClusterOut]
    elapsed_ms: float


class AddPhrasingsIn(In):
    entry_id: str = Field(max_length=200)
    question_ids: list[Id] = Field(default_factory=list, max_length=200,
                                   description="logged questions (their language is known)")
    questions: list[str] = Field(default_factory=list, max_length=200,
                                 description="free texts (language: `lang`, else detected)")
    lang: str | None = Field(None, max_length=8, description="force one language for all")
    cluster: str | None = Field(None, max_length=32, json_schema_extra=CLUSTER,
                                description="the cluster acted on")


class NewEntryIn(In):
    file: str = Field(max_length=100, description="file stem in faq_data/, e.g. 'payments'")
    id: str = Field(max_length=200)
    category: str | None = Field(None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=20)
    questions: dict[str, list[str]] = Field(default_factory=dict)
    question_ids: list[Id] = Field(default_factory=list, max_length=200)
    answer: dict[str, str]
    cluster: str | None = Field(None, max_length=32, json_schema_extra=CLUSTER)


class DismissIn(In):
    key: str = Field(max_length=32, json_schema_extra=CLUSTER)
    reason: str | None = Field(None, max_length=200)


class DismissOut(Body):
    key: str
    author: str
    reason: str | None
    created_at: datetime


class ReloadOut(Body):
    reload_ok: bool
    reload_error: str | None
    index_version: str | None


class ChangeOut(Body):
    id: int
    created_at: datetime
    author: str
    action: str
    file: str
    entry_id: str
    cluster: str | None
    summary: str
    detail: dict[str, Any]


class EditOut(Body):
    change: ChangeOut
    reload: ReloadOut


class HistoryOut(Body):
    changes: list[ChangeOut]


class EntryListItem(Body):
    id: str
    category: str
    file: str | None
    question: str = Field(description="its title: the first phrasing in the default language")
    answer_languages: list[str] = Field(default_factory=list)


class EntryDetailOut(Body):
    id: str
    file: str
    category: str
    title: str
    questions: dict[str, list[str]]
    answer: dict[str, str]
    drafts: list[str] = Field(description="answers that are unreviewed machine drafts")


class AnswerIn(In):
    language: str = Field(max_length=8)
    text: str = Field(max_length=5000, description="Markdown subset, as in the YAML")
    expected: str | None = Field(
        None, max_length=5000,
        description="the answer as the lead last saw it; 409 when someone changed it since")


class EntryFeedbackOut(Body):
    faq_id: str
    title: str | None
    answered: int
    helpful: int
    not_helpful: int


class EntryFeedbackListOut(Body):
    days: int
    entries: list[EntryFeedbackOut]


class CommitOut(Body):
    sha: str
    author: str
    email: str
    at: datetime
    subject: str


class CommitsOut(Body):
    remote: str | None = Field(description="FAQBOT_FAQ_REMOTE without credentials; null "
                                           "when the FAQ is a plain folder (no history)")
    commits: list[CommitOut]


class EntriesOut(Body):
    default_language: str
    languages: list[str]
    files: list[str]
    entries: list[EntryListItem]



ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 415, 422, 429)
}
