"""The pages: the demo shop with the widget, the widget script, the agent console, the lead
page, and their static files (bot/web/static/). Not part of the API description."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from bot.errors import NotFoundError

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    path = STATIC_DIR / name
    if not path.is_file():
        raise NotFoundError(f"{name} is not installed in {STATIC_DIR}")
    return FileResponse(path)


@router.get("/")
def page_demo() -> FileResponse:
    return _page("demo.html")


@router.get("/widget.js")
def page_widget() -> Response:
    # The Markdown renderer is shared with the agent console (static/markdown.js); the
    # widget gets it inside its own closure, so the shop's page gains no global.
    parts = [STATIC_DIR / "markdown.js", STATIC_DIR / "widget.js"]
    if not all(p.is_file() for p in parts):
        raise NotFoundError(f"widget.js or markdown.js is not installed in {STATIC_DIR}")
    body = "(() => {\n" + "\n".join(p.read_text(encoding="utf-8") for p in parts) + "\n})();\n"
    return Response(body, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


@router.get("/agent")
def page_agent() -> FileResponse:
    return _page("agent.html")


@router.get("/lead")
def page_lead() -> FileResponse:
    return _page("lead.html")


@router.get("/static/{path:path}")
def page_static(path: str) -> FileResponse:
    if "\x00" in path:  # Path.resolve() raises ValueError on it: no file has one
        raise NotFoundError(f"no static file {path!r}")
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFoundError(f"no static file {path!r}")
    return FileResponse(target)
