"""The pages under their Content-Security-Policy, in a real Chromium (issue 14, item 10).

The demo shop with the widget, the agent console and the lead page load and work with no
CSP violation (the browser's `securitypolicyviolation` events and console errors are
collected); another site's page cannot frame the agent console.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
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


def test_another_site_cannot_frame_the_agent_console(server: str, browser: Any) -> None:
    page = browser.new_page()
    shop = "http://shop.test/frame.html"
    page.route(shop, lambda route: route.fulfill(
        body=f'<iframe src="{server}/agent" width="800" height="600"></iframe>',
        content_type="text/html"))
    page.goto(shop)
    page.wait_for_timeout(1500)
    framed = [f for f in page.frames if f is not page.main_frame]
    assert framed
    for frame in framed:
        assert frame.locator("#who").count() == 0  # the console never rendered
    page.close()


def test_agent_page_headers_forbid_framing(server: str, tmp_path: Path) -> None:
    r = httpx.get(server + "/agent", timeout=30)
    assert r.headers["X-Frame-Options"] == "DENY"
