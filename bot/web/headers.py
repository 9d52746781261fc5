"""Security headers on every response: no sniffing, a referrer policy, and on the pages a
Content-Security-Policy without inline script; the staff pages cannot be framed.

Issue 14: /agent and /lead could be framed (clickjacking) and sent no CSP or nosniff. The
pages load their script from files (static/*.js, widget.js); an injected <script> or
on*= attribute would not run. Styles may stay inline: the pages and the widget's shadow root
carry their own, and a style cannot run code. The widget itself runs on the shop's page,
under the shop's own policy; it only needs the shop to allow this server in script-src and
connect-src.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The pages only talk to this server; photos are shown from blob: URLs (agent console) and
# previews from blob:/data: (widget).
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'")
# The demo shop page may be framed; every other page (/agent, /lead, also under /static/)
# holds keys and customers' data, and no other site may frame it.
FRAMEABLE_PAGES = ("/", "/static/demo.html")
# FastAPI's API docs run inline script from a CDN: they keep no CSP, but cannot be framed.
DOCS_PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")
# JSON and other non-pages: nothing in them may run or be framed if opened directly.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

_EVERYWHERE = [(b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"strict-origin-when-cross-origin")]


def security_headers(path: str, content_type: bytes) -> list[tuple[bytes, bytes]]:
    """Return the headers a response to ``path`` with ``content_type`` gets."""
    headers = list(_EVERYWHERE)
    if content_type.startswith(b"text/html"):
        csp = PAGE_CSP
        if path not in FRAMEABLE_PAGES:
            csp += "; frame-ancestors 'none'"
            headers.append((b"x-frame-options", b"DENY"))
            headers[1] = (b"referrer-policy", b"same-origin")
        if path not in DOCS_PAGES:
            headers.append((b"content-security-policy", csp.encode()))
    elif content_type.startswith(b"application/json"):
        headers.append((b"content-security-policy", API_CSP.encode()))
    return headers


class SecurityHeadersMiddleware:
    """Add :func:`security_headers` to every HTTP response a route did not set them on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = message.get("headers", [])
                names = {name.lower() for name, _ in present}
                content_type = next((v for n, v in present if n.lower() == b"content-type"), b"")
                extra = [(n, v) for n, v in security_headers(path, content_type.lower())
                         if n not in names]  # a route's own (photos: sandbox) wins
                message["headers"] = [*present, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
