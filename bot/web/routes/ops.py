"""Operators' routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from bot.web.deps import ServicesDep
from bot.web.metrics import CONTENT_TYPE
from bot.web.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthOut)
def health(sv: ServicesDep) -> HealthOut:
    """Say the process is up, with the last reload error if any."""
    return HealthOut(status="ok", reload_error=sv.bot.status.error)


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
def metrics(sv: ServicesDep) -> Response:
    """Expose the metrics in the Prometheus text format."""
    return Response(sv.metrics.render(), media_type=CONTENT_TYPE)
