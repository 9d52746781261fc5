"""Operators' routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from bot.errors import AuthError
from bot.web.deps import ServicesDep
from bot.web.metrics import CONTENT_TYPE
from bot.web.schemas import Body


# The health and readiness bodies (only these routes use them).
class RemoteStatusOut(Body):
    url: str = Field(description="FAQBOT_FAQ_REMOTE without credentials")
    head: str | None = Field(description="the commit this server's clone is at")
    fetched_at: datetime | None
    error: str | None = Field(description="the last fetch's error, if it failed")


class HealthOut(Body):
    status: Literal["ok"]
    reload_error: str | None
    faq_remote: RemoteStatusOut | None = Field(
        None, description="the FAQ git remote (null without FAQBOT_FAQ_REMOTE)")
    redis: Literal["ok", "down"] | None = Field(
        None, description="Redis for limits and live events (null without FAQBOT_REDIS_URL); "
        "while down, limits count per machine and streams poll the database")


class ReadyOut(Body):
    index: str | None
    database: str


router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthOut)
def health(sv: ServicesDep) -> HealthOut:
    """Say the process is up, with the last reload error and the state of the shared parts."""
    remote = None
    if sv.remote is not None:
        st = sv.remote.status
        remote = RemoteStatusOut(
            url=sv.remote.safe_url, head=st.head, error=st.error,
            fetched_at=datetime.fromtimestamp(st.fetched_at, UTC) if st.fetched_at else None)
    redis: Literal["ok", "down"] | None = None
    if sv.redis is not None:
        redis = "ok" if sv.redis.up and sv.events.live else "down"
    return HealthOut(status="ok", reload_error=sv.bot.status.error, faq_remote=remote,
                     redis=redis)


@router.get("/ready", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def ready(sv: ServicesDep) -> Any:
    """Say whether the index is loaded and the database answers (503 when not)."""
    index = sv.bot.index.version if sv.bot.ready else None
    try:
        sv.db.ping()
        database = "ok"
    except Exception as exc:  # any driver error means not ready
        database = f"error: {type(exc).__name__}"
    body = ReadyOut(index=index, database=database)
    if index is None or database != "ok":
        return JSONResponse(body.model_dump(), status_code=503)
    return body


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text"}})
def metrics(
    sv: ServicesDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Expose the metrics in the Prometheus text format (with FAQBOT_METRICS_KEY: its bearer)."""
    if sv.settings.metrics_key is not None:
        wanted = f"Bearer {sv.settings.metrics_key.get_secret_value()}".encode()
        if not hmac.compare_digest((authorization or "").strip().encode(), wanted):
            raise AuthError("/metrics needs Authorization: Bearer <FAQBOT_METRICS_KEY>")
    return Response(sv.metrics.render(), media_type=CONTENT_TYPE)
