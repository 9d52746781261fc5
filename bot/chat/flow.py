"""What the bot does with one shopper message, from its triage and the conversation's state.

Pure decisions (no database, no model), so every branch of the flow is testable alone;
ChatService reads the conversation, triages the message, asks the bot when the message is
substantive, calls :func:`plan` and stores what the returned :class:`Turn` says.

With nobody waiting (no ticket, or the last one resolved):

- small talk gets a short reply, never a ticket; thanks or a goodbye right after an answer
  get "you're welcome, anything else?" (or "bye") and the rating prompt;
- noise gets "sorry, I didn't catch that";
- a request for a person opens a ticket (or reopens the last one inside the window);
- a question is answered, clarified or handed off as the bot decides; a complaint always
  reaches a person (urgent), with the FAQ's answer when there is one; one vague word
  ("Paket") that the bot cannot place, or that points at an entry which hands off, is asked
  about ("tell me a bit more") instead of opening a ticket.

While a shopper waits for a person:

- "my question is answered" (button or words) closes the ticket as self-served;
- questions are answered as usual (they land in the transcript the agent reads); what the
  bot cannot answer is for the person, and the first such message is acknowledged once;
- small talk and noise are answered like any time, and never change the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bot.chat.triage import TriageResult

Action = Literal[
    "answer", "clarify", "smalltalk", "noise", "vague", "handoff", "queued", "withdrawn"
]
TicketStep = Literal["open", "retriage", "withdraw"]


class ReplyLike(Protocol):
    """The bot's decision on a question (bot.matching Reply)."""

    @property
    def action(self) -> str: ...

    @property
    def entry_handoff(self) -> bool: ...


@dataclass(frozen=True)
class Context:
    """What the flow needs to know about the conversation."""

    waiting: bool = False  # a ticket is open or claimed
    acknowledged: bool = False  # the shopper was told once that messages are passed on
    after_answer: bool = False  # the bot's last reply was an answer
    button: bool = False  # the "talk to a person" button, not words
    negative_feedback: bool = False  # the last feedback was "not helpful"
    vague: bool = False  # a single word with no question around it ("Paket")
    answered: bool = False  # the shopper says the question is answered ("never mind")
    bot_unavailable: bool = False  # no usable index


@dataclass(frozen=True)
class Turn:
    """What to store and show for one message."""

    action: Action
    notice: str | None = None  # a notice key (bot/chat/notices.py) to reply with
    ticket: TicketStep | None = None
    reason: str | None = None  # why a ticket opens (tickets.REASONS)
    rate: bool = False  # ask for the rating now (once per conversation)
    logged: bool = False  # counts as a question (stats, unanswered list)


_SMALL_TALK_NOTICE = {"greeting": "greeting", "thanks": "welcome", "goodbye": "goodbye"}


def plan(triage: TriageResult, reply: ReplyLike | None, ctx: Context) -> Turn:
    """Decide what one message leads to."""
    if ctx.waiting:
        return _while_waiting(triage, reply, ctx)
    if ctx.button or triage.kind == "person":
        # Logged as a handoff (the lead's counts), with its reason: not an FAQ gap.
        reason = "negative_feedback" if ctx.negative_feedback else "asked_for_person"
        return Turn("handoff", ticket="open", reason=reason, logged=True)
    if triage.small_talk:
        return _small_talk(triage, ctx)
    if triage.kind == "noise":
        return Turn("noise", notice="noise")
    if ctx.bot_unavailable or reply is None:
        return Turn("handoff", ticket="open", reason="bot_unavailable", logged=True)
    complaint = triage.kind == "complaint"
    if reply.action == "answer":
        if reply.entry_handoff and ctx.vague and not complaint:
            # One word ("Paket") that lands on an entry which calls a person: ask first.
            return Turn("vague", notice="vague", logged=True)
        if reply.entry_handoff or complaint:
            reason = "entry_handoff" if reply.entry_handoff else "complaint"
            return Turn("answer", ticket="open", reason=reason, logged=True)
        return Turn("answer", logged=True)
    if complaint:
        return Turn("handoff", ticket="open", reason="complaint", logged=True)
    if reply.action == "clarify":
        return Turn("clarify", logged=True)
    if ctx.vague:
        return Turn("vague", notice="vague", logged=True)
    return Turn("handoff", ticket="open", reason="low_confidence", logged=True)


def _small_talk(triage: TriageResult, ctx: Context) -> Turn:
    if triage.kind == "thanks" and ctx.after_answer:
        return Turn("smalltalk", notice="welcome_more", rate=True)
    if triage.kind == "goodbye" and ctx.after_answer:
        return Turn("smalltalk", notice="goodbye", rate=True)
    return Turn("smalltalk", notice=_SMALL_TALK_NOTICE[triage.kind])


def _while_waiting(triage: TriageResult, reply: ReplyLike | None, ctx: Context) -> Turn:
    if ctx.answered:
        return Turn("withdrawn", notice="withdrawn", ticket="withdraw", rate=True)
    step: TicketStep | None = "retriage" if triage.priority == "urgent" else None
    if triage.small_talk:
        key = "waiting_greeting" if triage.kind == "greeting" else _SMALL_TALK_NOTICE[triage.kind]
        return Turn("smalltalk", notice=key, ticket=step)
    if triage.kind == "noise":
        return Turn("noise", notice="noise")
    if triage.substantive and reply is not None and reply.action in ("answer", "clarify"):
        # The bot helps while the shopper waits; the ticket stays as it is.
        return Turn("answer" if reply.action == "answer" else "clarify", ticket=step,
                    logged=True)
    # For the person: acknowledged once, then quietly added to the transcript. Not logged
    # as a question: the person answers it, and follow-ups ("it is #48213") are not topics.
    return Turn("queued", notice=None if ctx.acknowledged else "queued", ticket=step)
