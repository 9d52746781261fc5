"""Support leads' routes (a lead's own key; the history names the key's owner).

    POST /api/lead/reload                        rebuild the index from the FAQ files now
    GET  /api/lead/status                        the live index and the last reload
    GET  /api/lead/report?days=7                 period report per language and per day
    GET  /api/lead/stats?days=7                  its short form (totals, per language, per day)
    GET  /api/lead/unanswered?days=30            recent questions not answered outright
    GET  /api/lead/clusters?days=30&limit=50     unanswered questions grouped by need
    POST /api/lead/clusters/add-phrasings        questions become phrasings of an entry
    POST /api/lead/clusters/new-entry            a new entry from a cluster's questions
    POST /api/lead/clusters/dismiss              "not for the FAQ": the cluster stops showing
    GET  /api/lead/history?limit=100             every change made here: who, when, what
    GET  /api/lead/commits?limit=50              the FAQ's git history (with FAQBOT_FAQ_REMOTE)
    GET  /api/lead/entries                       FAQ files and live entries (for pickers)
    GET  /api/lead/entries/{id}                  one entry as written in its file
    POST /api/lead/entries/{id}/answer           write or rewrite its answer in a language
    GET  /api/lead/feedback?days=30              answers and thumbs up / down per entry

The page itself is bot/web/static/lead.html (GET /lead). Edits go through bot/faq/edit.py
(round-trip YAML, validated before anything is written) and are followed by a reload, so the
bot answers the new phrasings as soon as the call returns. With FAQBOT_FAQ_REMOTE each edit
is a commit authored by the lead and pushed before the call returns (bot/faq/remote.py); the
other servers fetch it within FAQBOT_FAQ_FETCH_SECONDS.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from bot.errors import EditRefused, FaqError, InputError, RemoteError
from bot.faq import edit as faq_edit
from bot.faq.load import faq_files
from bot.insights.feedback import entry_feedback
from bot.insights.report import period_report, stats, unanswered
from bot.insights.views import Change
from bot.insights.window import MAX_DAYS
from bot.web.deps import LeadName, Services, ServicesDep, require_lead
from bot.web.schemas import (
    ERRORS,
    AddPhrasingsIn,
    AnswerIn,
    ChangeOut,
    ClustersOut,
    CommitOut,
    CommitsOut,
    DismissIn,
    DismissOut,
    EditOut,
    EntriesOut,
    EntryDetailOut,
    EntryFeedbackListOut,
    EntryFeedbackOut,
    EntryListItem,
    HistoryOut,
    NewEntryIn,
    QuestionOut,
    ReloadOut,
    ReportOut,
    StatsOut,
    StatusOut,
    UnansweredOut,
)

router = APIRouter(prefix="/api/lead", tags=["lead"], responses=ERRORS,
                   dependencies=[Depends(require_lead)])


# ---- the index ----
def _status(sv: Services) -> StatusOut:
    bot = sv.bot
    index = bot.index if bot.ready else None
    at = bot.status.at
    return StatusOut(
        index_version=index.version if index else None,
        model=index.model if index else sv.settings.model,
        entries=len(index.entries) if index else 0,
        phrasings=index.size if index else 0,
        reload_ok=bot.status.ok,
        reload_error=bot.status.error,
        reloaded_at=datetime.fromtimestamp(at, UTC) if at else None,
    )


@router.post("/reload", response_model=StatusOut)
def lead_reload(sv: ServicesDep) -> StatusOut:
    """Rebuild the index from the FAQ files now (fetched first from the git remote, if any)."""
    if sv.remote is not None:
        # A failed fetch shows in /health; the files already here still load.
        with suppress(RemoteError):
            sv.remote.sync()
    sv.reloader.reload_now()
    return _status(sv)


@router.get("/status", response_model=StatusOut)
def lead_status(sv: ServicesDep) -> StatusOut:
    """Return the live index version and the last reload's outcome."""
    return _status(sv)


# ---- numbers ----
@router.get("/report", response_model=ReportOut)
def lead_report(sv: ServicesDep, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 7) -> ReportOut:
    """Report the period per language and per day: outcomes, feedback, tickets and SLA."""
    return ReportOut.model_validate(period_report(sv.db, days))


@router.get("/stats", response_model=StatsOut)
def lead_stats(sv: ServicesDep, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 7) -> StatsOut:
    """Count questions, answers, clarifications and handoffs per language and per day."""
    return StatsOut.model_validate(stats(period_report(sv.db, days)))


@router.get("/unanswered", response_model=UnansweredOut)
def lead_unanswered(
    sv: ServicesDep,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> UnansweredOut:
    """List recent questions that were clarified or handed off, newest first."""
    return UnansweredOut(
        questions=[QuestionOut.model_validate(q) for q in unanswered(sv.db, days, limit)]
    )


# ---- clusters and FAQ edits ----
@router.get("/clusters", response_model=ClustersOut)
def lead_clusters(
    sv: ServicesDep,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    examples: Annotated[int, Query(ge=1, le=50)] = 6,
) -> ClustersOut:
    """Group what the bot could not answer by need, across languages, largest first."""
    return ClustersOut.model_validate(sv.insights.clusters(days, limit, examples))


def run_edit(run: Callable[[], Path]) -> Path:
    """Run one FAQ edit, turning a refused edit into a 422 with its reasons."""
    try:
        return run()
    except FaqError as exc:
        raise EditRefused(f"the edit was refused, nothing was written:\n{exc}") from None


def saved(sv: Services, edit: Callable[[], Path], author: str, message: str) -> Path:
    """Run an FAQ edit where the FAQ lives: the folder, or a commit pushed to the git remote.

    With a remote the edit runs on its newest head and is pushed before this returns; it is
    run again if another server pushed first, and refused (nothing saved) if it cannot be.
    """
    if sv.remote is None:
        return edit()
    return sv.remote.commit_edit(edit, author, message)


def edited(sv: Services, change: Change) -> EditOut:
    """Reload after an edit; return the change and how the reload went."""
    status = sv.reloader.reload_now()
    version = sv.bot.index.version if sv.bot.ready else None
    return EditOut(
        change=ChangeOut.model_validate(change),
        reload=ReloadOut(reload_ok=status.ok, reload_error=status.error, index_version=version),
    )


@router.post("/clusters/add-phrasings", response_model=EditOut)
def lead_add_phrasings(body: AddPhrasingsIn, sv: ServicesDep, author: LeadName) -> EditOut:
    """Add chosen questions (any languages) as phrasings of an existing entry, then reload."""
    insights, s = sv.insights, sv.settings
    cluster_id = insights.check_cluster(body.cluster)
    by_lang = insights.questions_by_language(body.question_ids, body.questions, body.lang)
    if not by_lang:
        raise InputError("choose at least one question to add")
    count = sum(len(v) for v in by_lang.values())
    summary = f"{count} phrasing(s) in {', '.join(sorted(by_lang))} added to {body.entry_id}"
    path = saved(sv, lambda: run_edit(lambda: faq_edit.add_phrasings_in_languages(
        s.faq_files_dir, body.entry_id, by_lang, author, default_language=s.default_language)),
        author, f"faq: {summary}")
    change = insights.record_change(
        author, "add_phrasings", path.name, body.entry_id, cluster_id, summary,
        {"questions": by_lang, "question_ids": body.question_ids},
    )
    return edited(sv, change)


@router.post("/clusters/new-entry", response_model=EditOut)
def lead_new_entry(body: NewEntryIn, sv: ServicesDep, author: LeadName) -> EditOut:
    """Start a new entry from a cluster's questions and the lead's answer, then reload."""
    insights, s = sv.insights, sv.settings
    cluster_id = insights.check_cluster(body.cluster)
    questions: dict[str, list[str]] = {
        lang: [q.strip() for q in qs if q.strip()] for lang, qs in body.questions.items()
    }
    for lang, texts in insights.questions_by_language(body.question_ids, []).items():
        questions.setdefault(lang, []).extend(t for t in texts if t not in questions[lang])
    questions = {lang: qs for lang, qs in questions.items() if qs}
    if not questions:
        raise InputError("a new entry needs at least one question")
    # The entry as it is written into the YAML file (bot/faq/edit.py checks it).
    entry: dict[str, Any] = {"id": body.id.strip(), "questions": questions,
                             "answer": dict(body.answer)}
    if body.category:
        entry["category"] = body.category.strip()
    if body.tags:
        entry["tags"] = body.tags
    count = sum(len(q) for q in questions.values())
    path = saved(sv, lambda: run_edit(lambda: faq_edit.add_entry(
        s.faq_files_dir, body.file.strip(), entry, author, default_language=s.default_language)),
        author, f"faq: new entry {entry['id']} ({count} question(s))")
    change = insights.record_change(
        author, "new_entry", path.name, entry["id"], cluster_id,
        f"new entry {entry['id']} in {path.name} ({count} question(s))", {"entry": entry},
    )
    return edited(sv, change)


@router.post("/clusters/dismiss", response_model=DismissOut)
def lead_dismiss(body: DismissIn, sv: ServicesDep, author: LeadName) -> DismissOut:
    """Mark a cluster "not for the FAQ" (abuse, jokes ...) so it stops showing."""
    return DismissOut.model_validate(sv.insights.dismiss(body.key, author, body.reason))


@router.get("/history", response_model=HistoryOut)
def lead_history(
    sv: ServicesDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> HistoryOut:
    """List the FAQ changes made through the lead page or API, newest first."""
    return HistoryOut(changes=[ChangeOut.model_validate(c) for c in sv.insights.history(limit)])


@router.get("/commits", response_model=CommitsOut)
def lead_commits(
    sv: ServicesDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> CommitsOut:
    """List the FAQ's git history, newest first: edits made here and pushed from elsewhere."""
    if sv.remote is None:
        return CommitsOut(remote=None, commits=[])
    return CommitsOut(remote=sv.remote.safe_url,
                      commits=[CommitOut.model_validate(c) for c in sv.remote.log(limit)])


@router.get("/entries", response_model=EntriesOut)
def lead_entries(sv: ServicesDep) -> EntriesOut:
    """List the FAQ files and the live entries, for the page's pickers."""
    s, bot = sv.settings, sv.bot
    entries = []
    if bot.ready:
        for e in sorted(bot.index.entries.values(), key=lambda x: x.id):
            entries.append(EntryListItem(
                id=e.id, category=e.category, file=Path(e.path).stem if e.path else None,
                question=bot.question_in(e, s.default_language),
                answer_languages=sorted(e.answer),
            ))
    return EntriesOut(
        default_language=s.default_language,
        languages=list(s.supported_languages),
        files=sorted(p.stem for p in faq_files(s.faq_files_dir)),
        entries=entries,
    )


@router.get("/entries/{entry_id}", response_model=EntryDetailOut)
def lead_entry(entry_id: str, sv: ServicesDep) -> EntryDetailOut:
    """Return one entry as its file holds it now (the page edits from this)."""
    s = sv.settings
    path, e = faq_edit.read_entry(s.faq_files_dir, entry_id, s.default_language)
    titles = e.questions.get(s.default_language) or next(iter(e.questions.values()), ())
    return EntryDetailOut(id=e.id, file=path.stem, category=e.category,
                          title=titles[0] if titles else e.id,
                          questions={k: list(v) for k, v in e.questions.items()},
                          answer=dict(e.answer), drafts=list(e.drafts))


@router.post("/entries/{entry_id}/answer", response_model=EditOut)
def lead_edit_answer(entry_id: str, body: AnswerIn, sv: ServicesDep,
                     author: LeadName) -> EditOut:
    """Write or rewrite an entry's answer in one language (validated, comments kept), reload."""
    s = sv.settings
    lang = body.language.strip().lower()
    if lang not in s.supported_languages:
        raise InputError(f"language {lang!r} is not supported here; use one of: "
                         f"{', '.join(s.supported_languages)}")
    text = body.text.strip()
    if not text:
        raise InputError("the answer is empty; write the text shoppers should get")
    path, before = _edit_answer(sv, entry_id, lang, text, author, body.expected)
    verb = "written" if before is None else ("reviewed" if before == text else "edited")
    change = sv.insights.record_change(
        author, "edit_answer", path.name, entry_id, None, f"{lang} answer of {entry_id} {verb}",
        {"language": lang, "before": before, "after": text},
    )
    return edited(sv, change)


def _edit_answer(sv: Services, entry_id: str, lang: str, text: str, author: str,
                 expected: str | None) -> tuple[Path, str | None]:
    # Where the FAQ lives, as every other edit: with FAQBOT_FAQ_REMOTE a pushed commit (an
    # answer written only into the clone was reset away at the next fetch: acknowledged, lost).
    s = sv.settings
    before: list[str | None] = [None]

    def run() -> Path:
        path, before[0] = faq_edit.edit_answer(
            s.faq_files_dir, entry_id, lang, text, author, expected=expected,
            default_language=s.default_language)
        return path

    path = saved(sv, lambda: run_edit(run), author, f"faq: {lang} answer of {entry_id} saved")
    return path, before[0]


@router.get("/feedback", response_model=EntryFeedbackListOut)
def lead_feedback(
    sv: ServicesDep, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30
) -> EntryFeedbackListOut:
    """Count answers and thumbs up / down per entry, most "not helpful" first."""
    bot = sv.bot
    live = bot.index.entries if bot.ready else {}
    rows = []
    for r in entry_feedback(sv.db, days):
        e = live.get(r["faq_id"])
        title = bot.question_in(e, sv.settings.default_language) if e else None
        rows.append(EntryFeedbackOut(title=title, **r))
    return EntryFeedbackListOut(days=days, entries=rows)
