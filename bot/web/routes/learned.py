"""Suggested phrasings learned from use (issue 17), for support leads (a lead's own key).

    GET  /api/lead/learned?state=suggested&limit=200   chips shoppers picked, as phrasings
    POST /api/lead/learned/{id}/accept                 add it to its entry (FAQ edit, reload)
    POST /api/lead/learned/{id}/dismiss                stop suggesting it

A shopper's question whose clarify chip they tapped, followed by "helpful" or no complaint,
is suggested as a phrasing of the entry they picked (bot/insights/learned.py). Accepting
goes through the same FAQ edit path as the clusters' "add phrasings" (bot/faq/edit.py, a
commit with FAQBOT_FAQ_REMOTE) and is written in the lead's history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from bot.faq import edit as faq_edit
from bot.insights import learned
from bot.web.deps import LeadName, ServicesDep, require_lead
from bot.web.inputs import LearnedId
from bot.web.routes.lead import edited, run_edit, saved
from bot.web.schemas import ERRORS, Body, EditOut

router = APIRouter(prefix="/api/lead/learned", tags=["lead"], responses=ERRORS,
                   dependencies=[Depends(require_lead)])


class LearnedOut(Body):
    id: int
    faq_id: str
    title: str | None  # the entry's first phrasing in the default language (None: gone)
    question: str  # the shopper's question, in their words and language
    language: str
    count: int  # how many picks confirmed it (helpful, or no complaint)
    state: Literal["suggested", "accepted", "dismissed"]
    first_seen: datetime
    last_seen: datetime
    decided_by: str | None
    decided_at: datetime | None


class LearnedListOut(Body):
    state: str
    suggestions: list[LearnedOut]


def _out(sv: ServicesDep, item: learned.Learned) -> LearnedOut:
    bot = sv.bot
    entry = bot.index.entries.get(item.faq_id) if bot.ready else None
    title = bot.question_in(entry, sv.settings.default_language) if entry else None
    return LearnedOut(title=title, **vars(item))


@router.get("", response_model=LearnedListOut)
def lead_learned(
    sv: ServicesDep,
    state: Literal["suggested", "accepted", "dismissed"] = "suggested",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> LearnedListOut:
    """List phrasings learned from chips shoppers picked (pending picks are judged first)."""
    s = sv.settings
    learned.settle(sv.db, s.learn_turns, s.learn_minutes)
    items = learned.suggestions(sv.db, state, limit)
    return LearnedListOut(state=state, suggestions=[_out(sv, i) for i in items])


@router.post("/{learned_id}/accept", response_model=EditOut)
def lead_learned_accept(learned_id: LearnedId, sv: ServicesDep, author: LeadName) -> EditOut:
    """Add the shopper's question as a phrasing of its entry (validated), then reload."""
    s = sv.settings
    item = learned.get(sv.db, learned_id)
    summary = f"1 {item.language} phrasing learned from use added to {item.faq_id}"
    path = saved(sv, lambda: run_edit(lambda: faq_edit.add_phrasings(
        s.faq_files_dir, item.faq_id, item.language, [item.question], author,
        default_language=s.default_language)), author, f"faq: {summary}")
    learned.decide(sv.db, learned_id, "accepted", author)
    change = sv.insights.record_change(
        author, "add_phrasings", path.name, item.faq_id, None, summary,
        {"questions": {item.language: [item.question]}, "learned_id": learned_id,
         "count": item.count},
    )
    return edited(sv, change)


@router.post("/{learned_id}/dismiss", response_model=LearnedOut)
def lead_learned_dismiss(learned_id: LearnedId, sv: ServicesDep, author: LeadName) -> LearnedOut:
    """Stop suggesting this phrasing (it keeps counting quietly, and is not shown again)."""
    return _out(sv, learned.decide(sv.db, learned_id, "dismissed", author))
