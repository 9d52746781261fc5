"""The pages under their Content-Security-Policy, in a real Chromium (issue 14, item 10).

The demo shop with the widget, the agent console and the lead page load and work with no
CSP violation (the browser's `securitypolicyviolation` events and console errors are
collected); another site's page cannot frame the agent console.
"""

from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support.browser import chromium
from tests.support.servers import running_server

pytestmark = pytest.mark.browser

FAQ = textwrap.dedent("""\
    entries:
      - id: returns-window
        questions:
          en: [How long do I have to return an item?]
        answer:
          en: You can return most items within **30 days** of delivery.
    """)

# Every violation the page reports, before any of its own script runs.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI), true);
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("csp-browser")
    (home / "faq").mkdir()
    (home / "faq" / "shop.yaml").write_text(FAQ, encoding="utf-8")
    with running_server(home, {"FAQBOT_FALLBACK_MODEL": ""}) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


class Violations:
    """Collect CSP violations and console errors of one page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(LISTEN)
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.console.append(str(exc)))

    def check(self) -> None:
        seen = self.page.evaluate("() => window.__csp")
        policy = [m for m in self.console if "Content Security Policy" in m]
        assert seen == [] and policy == [], (seen, policy)
        # A signed-out page's key check may log a 401; nothing else may fail.
        others = [m for m in self.console if "Failed to load resource" not in m]
        assert others == [], others


def test_demo_shop_and_widget_work_under_the_csp(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    v = Violations(page)
    page.goto(server + "/")
    assert "script-src 'self'" in (page.evaluate(
        "async () => (await fetch('/')).headers.get('content-security-policy')") or "")
    page.get_by_role("button", name="Oat").click()  # the demo's own script (static/demo.js)
    expect(page.locator("#colour-name")).to_have_text("Oat")
    w = page.locator("faqbot-widget")
    w.get_by_role("button", name="Open chat").click()
    box = w.get_by_label("Your question", exact=True)
    box.fill("How long do I have to return an item?")
    box.press("Enter")
    expect(w.locator(".msg.bot .bubble").filter(has_text="30 days")).to_be_visible()
    v.check()
    page.close()


@pytest.mark.parametrize(("path", "key", "name"), [
    ("/agent", "dev-agent-key", "dev-agent"), ("/lead", "dev-lead-key", "dev-lead")])
def test_staff_pages_sign_in_under_the_csp(
    server: str, browser: Any, path: str, key: str, name: str
) -> None:
    from playwright.sync_api import expect

    httpx.post(server + "/api/chat", json={"message": "a person please", "human": True},
               timeout=60)
    page = browser.new_page()
    v = Violations(page)
    page.goto(server + path)
    page.get_by_label("Your key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(f"Signed in as {name}")
    page.wait_for_timeout(1500)  # the first refresh of the queue / report has run
    v.check()
    page.close()


@contextmanager
def other_site(server: str, path: str) -> Iterator[str]:
    """Serve, from another origin (localhost, not 127.0.0.1), a page framing ``server+path``."""
    page = f'<iframe src="{server}{path}" width="800" height="600"></iframe>'.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}/shop.html"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(("path", "framed"), [("/agent", False), ("/lead", False), ("/", True)])
def test_another_site_may_frame_the_demo_shop_but_not_the_staff_pages(
    server: str, browser: Any, path: str, framed: bool
) -> None:
    page = browser.new_page()
    with other_site(server, path) as shop:
        page.goto(shop)
        page.wait_for_timeout(500)
        frames = [f for f in page.frames if f is not page.main_frame]
        assert len(frames) == 1
        # A refused frame shows Chromium's error page instead of ours.
        assert (frames[0].url == server + path) is framed, frames[0].url
    page.close()


def test_agent_page_headers_forbid_framing(server: str) -> None:
    r = httpx.get(server + "/agent", timeout=30)
    assert r.headers["X-Frame-Options"] == "DENY"


def test_the_widget_offers_a_retry_on_a_database_outage(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(server + "/")
    # What the server answers while its database is away (tests/web/test_db_outage.py
    # checks the server side against a real PostgreSQL cut).
    outage = {"status": 503, "headers": {"Retry-After": "5"}, "content_type": "application/json",
              "body": '{"detail": "the database is not reachable right now; try again in 5 s"}'}
    page.route("**/api/chat", lambda route: route.fulfill(**outage))
    w = page.locator("faqbot-widget")
    w.get_by_role("button", name="Open chat").click()
    box = w.get_by_label("Your question", exact=True)
    box.fill("How long do I have to return an item?")
    box.press("Enter")
    bar = w.get_by_role("alert")
    expect(bar).to_contain_text("can't reach the chat service")
    page.unroute("**/api/chat")
    bar.get_by_role("button", name="Try again").click()
    expect(w.locator(".msg.bot .bubble").filter(has_text="30 days")).to_be_visible()
    page.close()
