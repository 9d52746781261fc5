"""Learning from use, the chat side: remember the clarify chip a shopper tapped.

When the bot is unsure it offers chips (bot/chat/turns.py); a shopper who taps one tells us
which entry their own words meant. That tap is stored here as a pending :class:`ChipPick`
with the shopper's question (the one the chips answered). What follows decides whether it
becomes a suggested phrasing on the lead page (bot/insights/learned.py): "helpful", or no
thumbs down and no handoff for a few turns, counts it; a complaint drops it.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.chat.notices import NOTICES
from bot.store.models import ChipPick, QuestionLog, utcnow

_PERSON_CHIP = {" ".join(t.casefold().split()) for t in NOTICES["none_of_these"].values()}


def is_person_chip(text: str) -> bool:
    """Tell whether a message is the "none of these — talk to a person" chip's label."""
    return " ".join(text.casefold().split()) in _PERSON_CHIP


def record_pick(s: Session, sid: str, faq_id: str, answer_id: int) -> bool:
    """Store a chip tap answered by message ``answer_id``; False when no chips were shown.

    The chips belong to the conversation's newest logged question, when the bot clarified
    it and the picked entry was among its best guesses (a stale chip from further up the
    conversation teaches nothing about the question before it).
    """
    last = s.execute(
        select(QuestionLog.text, QuestionLog.language, QuestionLog.action, QuestionLog.reason,
               QuestionLog.guesses)
        .where(QuestionLog.conversation_id == sid).order_by(QuestionLog.id.desc()).limit(1)
    ).first()
    if last is None or last.action != "clarify" or last.reason is not None or not last.text:
        return False
    if faq_id not in {g.get("faq_id") for g in last.guesses or []}:
        return False
    s.execute(insert(ChipPick), {
        "conversation_id": sid, "message_id": answer_id, "faq_id": faq_id,
        "question": last.text, "language": last.language, "state": "pending",
        "created_at": utcnow(),
    })
    return True
