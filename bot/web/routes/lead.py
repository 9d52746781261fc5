"""The support lead's loop over HTTP: report, clusters, FAQ edits, history; plus /metrics.

``install(app)`` adds, to an app built by :func:`bot.api.create_app`:

- the lead routes below (header ``X-Lead-Key``; ``X-Lead-Name`` names who made a change):

      GET  /api/lead/report?days=7                 period report per language and per day
      GET  /api/lead/clusters?days=30&limit=50     unanswered questions grouped by need
      POST /api/lead/clusters/add-phrasings        questions become phrasings of an entry
      POST /api/lead/clusters/new-entry            a new entry from a cluster's questions
      POST /api/lead/clusters/dismiss              "not for the FAQ": the cluster stops showing
      GET  /api/lead/history?limit=100             every change made here: who, when, what
      GET  /api/lead/entries                       FAQ files and live entries (for pickers)

- ``GET /metrics`` (Prometheus text format) and the middleware that feeds it;
- the retention job (text older than FAQBOT_RETENTION_DAYS goes, counts stay) and the
  background clustering of new questions, both started and stopped with the app.

The page itself is bot/static/lead.html, served at GET /lead by bot.api.
Edits go through bot.faq.edit (round-trip YAML, validated before anything is written) and
are followed by a reload, so the bot answers the new phrasings as soon as the call returns.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from bot.errors import FaqError, InputError
from bot.faq import edit as faq_edit
from bot.faq.load import faq_files
from bot.insights.clusters import MAX_DAYS, ClusterWarmer, Insights, period_report
from bot.runtime.retention import RetentionJob
from bot.web.metrics import CONTENT_TYPE, Metrics, install_metrics

if TYPE_CHECKING:
    from bot.web.app import Services

_LEAD_NAME = re.compile(r"^[\w .@-]{1,64}$")
_edit_lock = threading.Lock()


class EditRefused(InputError):
    """An FAQ edit that does not validate: nothing was written (422, with the reasons)."""

    http_status = 422


# ---- request and response bodies ----
class LeadErrorOut(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": LeadErrorOut} for code in (400, 401, 404, 409, 422)
}


class Block(BaseModel):
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


class DayRow(BaseModel):
    date: str
    questions: int
    answered: int
    clarified: int
    handed_off: int
    helpful: int
    not_helpful: int
    tickets: int
    sla_breaches: int


class ReportOut(BaseModel):
    days: int
    since: datetime
    languages: list[str]
    totals: Block
    per_language: dict[str, Block]
    per_day: list[DayRow]
    per_day_by_language: dict[str, list[DayRow]]


class EntryRef(BaseModel):
    faq_id: str
    score: float
    category: str
    file: str | None
    question: str


class NearestOut(EntryRef):
    alternatives: list[EntryRef]


class ExampleOut(BaseModel):
    id: int
    text: str
    language: str
    kind: str = Field(description="clarify | handoff | not_helpful")
    created_at: datetime | None


class ClusterOut(BaseModel):
    key: str = Field(description="stable cluster key, e.g. 'c12'")
    count: int
    languages: dict[str, int]
    kinds: dict[str, int]
    last_seen: datetime | None
    examples: list[ExampleOut]
    nearest: NearestOut | None


class ClustersOut(BaseModel):
    days: int
    since: datetime
    model: str
    threshold: float
    total_clusters: int
    total_questions: int
    pending: int = Field(description="unanswered questions not grouped yet (background job)")
    clusters: list[ClusterOut]
    elapsed_ms: float


class AddPhrasingsIn(BaseModel):
    entry_id: str = Field(max_length=200)
    question_ids: list[int] = Field(default_factory=list, max_length=200,
                                    description="logged questions (their language is known)")
    questions: list[str] = Field(default_factory=list, max_length=200,
                                 description="free texts (language: `lang`, else detected)")
    lang: str | None = Field(None, max_length=8, description="force one language for all")
    cluster: str | None = Field(None, max_length=32, description="the cluster acted on")


class NewEntryIn(BaseModel):
    file: str = Field(max_length=100, description="file stem in faq_data/, e.g. 'payments'")
    id: str = Field(max_length=200)
    category: str | None = Field(None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=20)
    questions: dict[str, list[str]] = Field(default_factory=dict)
    question_ids: list[int] = Field(default_factory=list, max_length=200)
    answer: dict[str, str]
    cluster: str | None = Field(None, max_length=32)


class DismissIn(BaseModel):
    key: str = Field(max_length=32)
    reason: str | None = Field(None, max_length=200)


class DismissOut(BaseModel):
    key: str
    author: str
    reason: str | None
    created_at: datetime


class ReloadOut(BaseModel):
    reload_ok: bool
    reload_error: str | None
    index_version: str | None


class ChangeOut(BaseModel):
    id: int
    created_at: datetime
    author: str
    action: str
    file: str
    entry_id: str
    cluster: str | None
    summary: str
    detail: dict[str, Any]


class EditOut(BaseModel):
    change: ChangeOut
    reload: ReloadOut


class HistoryOut(BaseModel):
    changes: list[ChangeOut]


class EntryListItem(BaseModel):
    id: str
    category: str
    file: str | None
    question: str


class EntriesOut(BaseModel):
    default_language: str
    languages: list[str]
    files: list[str]
    entries: list[EntryListItem]


# ---- dependencies ----
_lead_key = APIKeyHeader(name="X-Lead-Key", auto_error=False, scheme_name="LeadKey")


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _insights(request: Request) -> Insights:
    insights: Insights = request.app.state.insights
    return insights


def require_lead(request: Request, key: Annotated[str | None, Depends(_lead_key)]) -> None:
    """Check the lead key with the service's key check (bot.web.auth)."""
    _services(request).keys.lead.check(key)


def lead_name(x_lead_name: Annotated[str | None, Header()] = None) -> str:
    """Return who is making a change (header X-Lead-Name, default "lead")."""
    name = (x_lead_name or "lead").strip() or "lead"
    if not _LEAD_NAME.match(name):
        raise InputError("X-Lead-Name: use up to 64 letters, digits, spaces, '.', '@' or '-'")
    return name


LeadName = Annotated[str, Depends(lead_name)]
router = APIRouter(prefix="/api/lead", tags=["lead"], responses=ERRORS,
                   dependencies=[Depends(require_lead)])
ops = APIRouter(tags=["operations"])


# ---- routes ----
@router.get("/report", response_model=ReportOut)
def lead_report(
    request: Request, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 7
) -> dict[str, Any]:
    """Report the period per language and per day: outcomes, feedback, tickets and SLA."""
    return period_report(_services(request).db, days)


@router.get("/clusters", response_model=ClustersOut)
def lead_clusters(
    request: Request,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    examples: Annotated[int, Query(ge=1, le=50)] = 6,
) -> dict[str, Any]:
    """Group what the bot could not answer by need, across languages, largest first."""
    return _insights(request).clusters(days, limit, examples)


def _reload(sv: Services) -> dict[str, Any]:
    status = sv.reloader.reload_now()
    version = sv.bot.index.version if sv.bot.ready else None
    return {"reload_ok": status.ok, "reload_error": status.error, "index_version": version}


def _write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _edit(run: Callable[[], Path]) -> Path:
    """Run one faq_edit call, turning a refused edit into a 422 with its reasons."""
    try:
        return run()
    except FaqError as exc:
        raise EditRefused(f"the edit was refused, nothing was written:\n{exc}") from None


def add_phrasings_all(
    sv: Services, entry_id: str, by_lang: dict[str, list[str]], author: str
) -> Path:
    """Add phrasings in several languages to an entry: all of them, or none.

    bot.faq.edit writes one language per call; if a later language is refused, the file
    goes back to the bytes it had before the first call (unless someone changed it since).
    """
    faq_dir = sv.settings.faq_dir
    default = sv.settings.default_language
    with _edit_lock:
        before = {p: p.read_bytes() for p in faq_files(faq_dir)}
        written: tuple[Path, bytes] | None = None
        try:
            for lang, texts in by_lang.items():
                path = _edit(partial(faq_edit.add_phrasings, faq_dir, entry_id, lang, texts,
                                     author, default_language=default))
                written = (path, path.read_bytes())
        except Exception:
            if written is not None:
                path, ours = written
                if path in before and path.read_bytes() == ours:
                    _write_bytes(path, before[path])
            raise
    assert written is not None
    return written[0]


def _group_questions(
    sv: Services, insights: Insights, ids: list[int], texts: list[str], lang: str | None
) -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = {}
    for _qid, body, language in insights.questions(ids):
        by_lang.setdefault(lang or language, []).append(body)
    for body in texts:
        body = body.strip()
        if body:
            by_lang.setdefault(lang or sv.bot.detect(body).language, []).append(body)
    return by_lang


@router.post("/clusters/add-phrasings", response_model=EditOut)
def lead_add_phrasings(body: AddPhrasingsIn, request: Request, author: LeadName) -> Any:
    """Add chosen questions (any languages) as phrasings of an existing entry, then reload."""
    sv, insights = _services(request), _insights(request)
    cluster_id = insights.check_cluster(body.cluster)
    by_lang = _group_questions(sv, insights, body.question_ids, body.questions, body.lang)
    if not by_lang:
        raise InputError("choose at least one question to add")
    path = add_phrasings_all(sv, body.entry_id, by_lang, author)
    count = sum(len(v) for v in by_lang.values())
    change = insights.record_change(
        author, "add_phrasings", path.name, body.entry_id, cluster_id,
        f"{count} phrasing(s) in {', '.join(sorted(by_lang))} added to {body.entry_id}",
        {"questions": by_lang, "question_ids": body.question_ids},
    )
    return {"change": change, "reload": _reload(sv)}


@router.post("/clusters/new-entry", response_model=EditOut)
def lead_new_entry(body: NewEntryIn, request: Request, author: LeadName) -> Any:
    """Start a new entry from a cluster's questions and the lead's answer, then reload."""
    sv, insights = _services(request), _insights(request)
    cluster_id = insights.check_cluster(body.cluster)
    questions: dict[str, list[str]] = {
        lang: [q.strip() for q in qs if q.strip()] for lang, qs in body.questions.items()
    }
    for lang, texts in _group_questions(sv, insights, body.question_ids, [], None).items():
        questions.setdefault(lang, []).extend(t for t in texts if t not in questions[lang])
    questions = {lang: qs for lang, qs in questions.items() if qs}
    if not questions:
        raise InputError("a new entry needs at least one question")
    entry: dict[str, Any] = {"id": body.id.strip(), "questions": questions,
                             "answer": {k: v for k, v in body.answer.items()}}
    if body.category:
        entry["category"] = body.category.strip()
    if body.tags:
        entry["tags"] = body.tags
    faq_dir = sv.settings.faq_dir
    with _edit_lock:
        path = _edit(partial(faq_edit.add_entry, faq_dir, body.file.strip(), entry, author,
                             default_language=sv.settings.default_language))
    change = insights.record_change(
        author, "new_entry", path.name, entry["id"], cluster_id,
        f"new entry {entry['id']} in {path.name} "
        f"({sum(len(q) for q in questions.values())} question(s))",
        {"entry": entry},
    )
    return {"change": change, "reload": _reload(sv)}


@router.post("/clusters/dismiss", response_model=DismissOut)
def lead_dismiss(body: DismissIn, request: Request, author: LeadName) -> dict[str, Any]:
    """Mark a cluster "not for the FAQ" (abuse, jokes ...) so it stops showing."""
    return _insights(request).dismiss(body.key, author, body.reason)


@router.get("/history", response_model=HistoryOut)
def lead_history(
    request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    """List the FAQ changes made through the lead page or API, newest first."""
    return {"changes": _insights(request).history(limit)}


@router.get("/entries", response_model=EntriesOut)
def lead_entries(request: Request) -> dict[str, Any]:
    """List the FAQ files and the live entries, for the page's pickers."""
    sv = _services(request)
    s = sv.settings
    entries = []
    if sv.bot.ready:
        for e in sorted(sv.bot.index.entries.values(), key=lambda x: x.id):
            entries.append({"id": e.id, "category": e.category,
                            "file": Path(e.path).stem if e.path else None,
                            "question": sv.bot.question_in(e, s.default_language)})
    return {
        "default_language": s.default_language,
        "languages": list(s.supported_languages),
        "files": sorted(p.stem for p in faq_files(s.faq_dir)),
        "entries": entries,
    }


@ops.get("/metrics", response_class=Response,
         responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text"}})
def metrics(request: Request) -> Response:
    """Expose the metrics in the Prometheus text format."""
    m: Metrics = request.app.state.metrics
    return Response(m.render(), media_type=CONTENT_TYPE)


# ---- wiring ----
def install(
    app: FastAPI,
    *,
    retention_interval_seconds: float = 24 * 3600.0,
    cluster_interval_seconds: float = 10.0,
) -> None:
    """Add the lead routes, /metrics, its middleware, retention and background clustering."""
    if getattr(app.state, "insights", None) is not None:
        return
    sv = _app_services(app)
    insights = Insights(sv.db, sv.bot)
    app.state.insights = insights
    install_metrics(app)
    app.include_router(router)
    app.include_router(ops)
    retention = RetentionJob(sv.db, sv.settings.retention_days, retention_interval_seconds)
    warmer = ClusterWarmer(insights, cluster_interval_seconds,
                           lock_file=sv.settings.index_dir / ".clusters.lock")
    app.state.retention = retention
    app.state.cluster_warmer = warmer
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        # The service's own start migrates the database first; the jobs need its tables.
        async with inner(a) as state:
            retention.start()
            warmer.start()
            try:
                yield state
            finally:
                warmer.stop()
                retention.stop()

    app.router.lifespan_context = lifespan


def _app_services(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services
