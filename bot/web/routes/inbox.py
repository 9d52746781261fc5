"""The agent console's inbox routes: who am I, notes, assignment, spam, bulk actions, FAQ
answers and canned replies to insert, and a shopper's earlier conversations.

Every route needs a person's key (bot/web/deps.py); the name on every note, assignment and
resolution is the key's owner. Bodies used only here are declared here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from bot.chat.entries import answer_for, text_matches, title_of
from bot.errors import FaqbotError, InputError, NotFoundError
from bot.matching.bot import Reply
from bot.store.people import DEV_AGENT, DEV_LEAD
from bot.web.deps import (
    AgentDep,
    AgentLanguage,
    PersonDep,
    Services,
    ServicesDep,
    reading_language,
    require_agent,
)
from bot.web.inputs import NOT_BLANK, NOTE_CHARS, Id, TicketId
from bot.web.schemas import (
    ERRORS,
    Body,
    EventOut,
    In,
    MessageOut,
    TicketOut,
)

MAX_BULK = 200


# ---- bodies ----
class MeOut(Body):
    name: str
    role: Literal["agent", "lead"]
    language: str = Field(description="the language machine translations are shown in")
    development: bool = Field(description="signed in with a shared development key")


class PersonOut(Body):
    name: str
    role: Literal["agent", "lead"]


class PeopleOut(Body):
    people: list[PersonOut]


class NoteIn(In):
    text: str = Field(json_schema_extra={"maxLength": NOTE_CHARS, "pattern": NOT_BLANK},
                      description=f"1..{NOTE_CHARS} characters after trimming (else 400); "
                      "only agents ever see it")


class AssignIn(In):
    to: str = Field(max_length=64, description="an active person's name")
    from_: str | None = Field(
        None, alias="from", max_length=64,
        description="who you saw holding it (null: open); if given and it changed -> 409",
    )


class BulkIn(In):
    ids: list[Id] = Field(min_length=1, max_length=MAX_BULK)
    action: Literal["resolve", "spam"]


class BulkResult(Body):
    id: int
    ok: bool
    detail: str | None = None


class BulkOut(Body):
    results: list[BulkResult]


class EntryHit(Body):
    faq_id: str
    title: str = Field(description="the entry's first phrasing in your language")
    category: str
    score: float | None = Field(description="the model's similarity; null for text matches")


class EntriesOut(Body):
    entries: list[EntryHit]


class AnswerOut(Body):
    faq_id: str
    text: str
    language: str = Field(description="the language the text is written in")
    wanted_language: str
    default_language: str
    draft: bool = Field(description="an unreviewed machine draft: check it")
    fallback: bool = Field(description="no answer written in wanted_language")


class CannedOut(Body):
    id: str
    title: str
    text: str
    language: str
    fallback: bool


class CannedListOut(Body):
    language: str
    replies: list[CannedOut]
    problems: list[str] = Field(description="path:line: what is wrong (those parts skipped)")


class ConversationOut(Body):
    session_id: str
    language: str
    started_at: datetime
    messages: list[MessageOut]


router = APIRouter(prefix="/api", responses=ERRORS)
agent_only = [Depends(require_agent)]


@router.get("/me", response_model=MeOut, tags=["people"])
def get_me(sv: ServicesDep, person: PersonDep) -> MeOut:
    """Say whose key this is: name, role, reading language (the console's sign-in)."""
    return MeOut.model_validate({
        "name": person.name, "role": person.role, "development": person.development,
        "language": reading_language(person, sv.settings.agent_language)})


@router.get("/agent/people", response_model=PeopleOut, tags=["agent"], dependencies=agent_only)
def list_people(sv: ServicesDep, person: AgentDep) -> PeopleOut:
    """List the people a ticket can be assigned to (active agents and leads)."""
    found = [PersonOut.model_validate(u) for u in sv.people.list(active_only=True)]
    if person.development:  # the development users exist only while their keys work
        found += [PersonOut(name=DEV_AGENT, role="agent"), PersonOut(name=DEV_LEAD, role="lead")]
    return PeopleOut(people=found)


@router.post("/agent/tickets/{ticket_id}/notes", response_model=EventOut, tags=["agent"],
             dependencies=agent_only)
def add_note(ticket_id: TicketId, body: NoteIn, sv: ServicesDep, person: AgentDep) -> EventOut:
    """Add an internal note: in the console's transcript, never shown to the shopper."""
    note = sv.inbox.add_note(ticket_id, person.name, body.text)
    sv.announce(ticket_id=ticket_id, what="note")  # other consoles only: never the shopper
    return EventOut.model_validate(note)


@router.post("/agent/tickets/{ticket_id}/assign", response_model=TicketOut, tags=["agent"],
             dependencies=agent_only)
def assign(ticket_id: TicketId, body: AssignIn, sv: ServicesDep, person: AgentDep) -> TicketOut:
    """Give a ticket to someone (yourself: take it over); 409 if it moved meanwhile."""
    to = _assignee(sv, body.to, person.development)
    moved = sv.inbox.assign(ticket_id, person.name, to, body.from_,
                            check="from_" in body.model_fields_set)
    sv.announce(ticket_id=ticket_id, what="assigned")
    return TicketOut.model_validate(moved.ticket)


def _assignee(sv: Services, name: str, development: bool) -> str:
    if development and name in (DEV_AGENT, DEV_LEAD):
        return name
    try:
        info = sv.people.get(name)
    except NotFoundError:
        raise InputError(f"cannot assign to {name!r}: there is no such person") from None
    if not info.active:
        raise InputError(f"cannot assign to {info.name}: their key is disabled")
    return info.name


@router.post("/agent/tickets/{ticket_id}/spam", response_model=TicketOut, tags=["agent"],
             dependencies=agent_only)
def mark_spam(ticket_id: TicketId, sv: ServicesDep, person: AgentDep) -> TicketOut:
    """Close a ticket as spam: no notice to the shopper, left out of response times."""
    ticket = sv.inbox.mark_spam(ticket_id, person.name)
    sv.announce(ticket_id=ticket_id, what="resolved")
    return TicketOut.model_validate(ticket)


@router.post("/agent/tickets/bulk", response_model=BulkOut, tags=["agent"],
             dependencies=agent_only)
def bulk(body: BulkIn, sv: ServicesDep, person: AgentDep) -> BulkOut:
    """Resolve or mark as spam many tickets; each succeeds or says why not."""
    results: list[BulkResult] = []
    for ticket_id in dict.fromkeys(body.ids):
        try:
            if body.action == "resolve":
                done = sv.chat.resolve(ticket_id, person.name)
                sv.announce(done.session_id, ticket_id, "resolved")  # the shopper is told
            else:
                sv.inbox.mark_spam(ticket_id, person.name)
                sv.announce(ticket_id=ticket_id, what="resolved")
            results.append(BulkResult(id=ticket_id, ok=True))
        except FaqbotError as exc:  # one ticket's refusal does not stop the others
            results.append(BulkResult(id=ticket_id, ok=False, detail=str(exc)))
    return BulkOut(results=results)


@router.get("/agent/faq", response_model=EntriesOut, tags=["agent"], dependencies=agent_only)
def search_faq(
    sv: ServicesDep,
    language: AgentLanguage,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 12,
) -> EntriesOut:
    """Find FAQ entries to insert: by meaning (the bot's model) and by words, any language;
    titles come in your language."""
    s = sv.settings
    entries = sv.bot.index.entries
    strong: list[tuple[str, float | None]] = []
    weak: list[tuple[str, float | None]] = []
    if q.strip():
        reply: Reply | None
        try:
            reply = sv.bot.ask(q)
        except FaqbotError:
            reply = None
        for g in reply.guesses if reply else []:
            (strong if g.score >= s.clarify_threshold else weak).append((g.faq_id, g.score))
    words = text_matches(entries.values(), q)
    order: list[tuple[str, float | None]] = [
        *strong, *((e.id, None) for r, e in words if r == 0), *weak,
        *((e.id, None) for r, e in words if r == 1),
    ]
    if not q.strip():
        order = [(i, None) for i in sorted(entries)]
    hits: dict[str, EntryHit] = {}
    for faq_id, similarity in order:
        entry = entries.get(faq_id)
        if entry is None or faq_id in hits:
            continue
        hits[faq_id] = EntryHit(faq_id=faq_id, title=title_of(entry, language, s.default_language),
                                category=entry.category, score=similarity)
    return EntriesOut(entries=list(hits.values())[:limit])


@router.get("/agent/faq/{faq_id}", response_model=AnswerOut, tags=["agent"],
            dependencies=agent_only)
def faq_answer(
    faq_id: str, sv: ServicesDep, language: Annotated[str, Query(max_length=8)]
) -> AnswerOut:
    """Return an entry's answer in ``language`` when written, else the default language's."""
    entry = sv.bot.index.entries.get(faq_id)
    if entry is None:
        raise NotFoundError(f"no FAQ entry {faq_id!r} in the live index")
    default = sv.settings.default_language
    return AnswerOut(**answer_for(entry, language, default).as_dict(), default_language=default)


@router.get("/agent/canned", response_model=CannedListOut, tags=["agent"],
            dependencies=agent_only)
def canned(
    sv: ServicesDep,
    language: Annotated[str, Query(max_length=8)],
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CannedListOut:
    """Search the canned replies in ``language`` (default-language ones where none written)."""
    replies = [CannedOut(id=m.reply.id, title=m.reply.title, text=m.reply.text,
                         language=m.reply.language, fallback=m.fallback)
               for m in sv.canned.search(language, q, limit)]
    return CannedListOut(language=language, replies=replies,
                         problems=[str(p) for p in sv.canned.problems()])


@router.get("/agent/conversations/{session_id}", response_model=ConversationOut,
            tags=["agent"], dependencies=agent_only)
def conversation(session_id: str, sv: ServicesDep) -> ConversationOut:
    """Return one of a shopper's conversations (an earlier one, from the customer panel)."""
    data = sv.chat.messages(session_id, 0, limit=1000)
    started = sv.inbox.customer(session_id).started_at
    return ConversationOut(session_id=session_id, language=data.language, started_at=started,
                           messages=[MessageOut.model_validate(m) for m in data.messages])
