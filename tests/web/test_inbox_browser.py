"""The agent console's inbox in a real Chromium: people sign in with their own keys, an FAQ
answer goes into a German conversation, a note stays internal, a ticket changes hands.

One real server (uvicorn subprocess, real model, temp FAQ / SQLite / index, the shipped
canned replies); Debian's /usr/bin/chromium through Playwright. Screenshots go to
artifacts/screenshots/inbox-*.png (desktop and a 360 px phone).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import SHOTS, chromium
from tests.support.faqs import ROOT
from tests.support.people import add_to_server
from tests.support.servers import running_server

pytestmark = pytest.mark.browser

FAQ = textwrap.dedent("""\
    entries:
      - id: returns-window
        questions:
          en: [How long do I have to return an item?]
          de: [Wie lange habe ich Zeit für eine Rücksendung?]
        answer:
          en: You can return most items within **30 days** of delivery.
          de: Sie können die meisten Artikel innerhalb von **30 Tagen** nach Lieferung zurücksenden.
      - id: gift-wrapping
        questions:
          en: [Do you offer gift wrapping?]
        answer:
          en: Yes, choose **Gift wrap** at checkout.
    """)
NOTE = "Kundin hat schon zweimal angerufen, bitte bevorzugt behandeln"
# Records desktop notifications and sounds, which a headless browser cannot show or play.
SPY = """
window.__notified = [];
window.__beeps = 0;
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notified.push(title + " | " + (options.body || "")); }
  close() {}
};
const RealContext = window.AudioContext;
window.AudioContext = class extends RealContext {
  createOscillator() { window.__beeps += 1; return super.createOscillator(); }
};
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the server's folder (FAQ, database, index)."""
    return tmp_path_factory.mktemp("inbox-browser")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[str]:
    """Start uvicorn on a free port with its own FAQ and database, and the shipped canned
    replies."""
    (home / "faq").mkdir()
    (home / "faq" / "shop.yaml").write_text(FAQ, encoding="utf-8")
    with running_server(home, {"FAQBOT_CANNED_DIR": str(ROOT / "canned_replies")}) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright."""
    with chromium() as b:
        yield b


def sign_in(page: Any, server: str, key: str, name: str) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/agent")
    page.get_by_label("Your key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(f"Signed in as {name}")


def test_sign_in_insert_a_german_faq_answer_note_and_take_over(
    server: str, home: Path, browser: Any
) -> None:
    from playwright.sync_api import expect

    alice_key, bob_key = add_to_server(home, "Alice", "agent"), add_to_server(home, "Bob", "agent")
    errors: list[str] = []

    # Alice signs in with her own key and opts in to sound and desktop alerts.
    alice_ctx = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 860})
    alice_ctx.add_init_script(SPY)
    console = alice_ctx.new_page()
    console.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(console, server, alice_key, "Alice")
    console.get_by_label("Sound").check()
    console.get_by_label("Desktop alerts").check()
    expect(console.locator("#count")).to_contain_text("0 open tickets")
    beeps_before = console.evaluate("window.__beeps")

    # A German shopper asks, then wants a person.
    shop_ctx = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 860})
    shop = shop_ctx.new_page()
    shop.on("pageerror", lambda exc: errors.append(str(exc)))
    shop.goto(server + "/")
    w = shop.locator("faqbot-widget")
    w.get_by_role("button", name="Chat öffnen").click()
    box = w.get_by_label("Deine Frage", exact=True)
    box.fill("Wie lange habe ich Zeit für eine Rücksendung?")
    box.press("Enter")
    expect(w.locator(".msg.bot strong").last).to_have_text("30 Tagen")
    box.fill("Ich möchte mit einem Mitarbeiter sprechen")
    box.press("Enter")
    expect(w.locator(".msg.bot").last).to_contain_text("Person")

    row = console.locator("button.ticket").filter(has_text="Rücksendung")
    expect(row).to_be_visible(timeout=15_000)
    notified = console.evaluate("window.__notified")
    assert len(notified) == 1 and notified[0].startswith("New ticket #"), notified
    assert "German" in notified[0] and "Rücksendung" in notified[0]
    assert console.evaluate("window.__beeps") > beeps_before
    row.click()
    # The bot's answer is rendered as Markdown in the console too (same renderer).
    expect(console.locator("#transcript .m.bot strong").first).to_have_text("30 Tagen")
    expect(console.locator("#context")).to_contain_text("de-DE")
    console.get_by_role("button", name="Claim").click()
    expect(console.locator("#d-holder")).to_have_text("You hold this ticket.")

    # An FAQ answer, found by searching, goes in in the shopper's language, editable.
    console.get_by_role("button", name="Insert FAQ answer").click()
    console.get_by_label("Search FAQ entries").fill("Rücksendung")
    console.locator("#faq-list button[data-faq='returns-window']").click()
    reply = console.get_by_label("Reply to the shopper")
    expect(reply).to_have_value(
        "Sie können die meisten Artikel innerhalb von **30 Tagen** nach Lieferung zurücksenden.")
    expect(console.locator("#tline")).to_have_text("Goes out in German as written.")
    reply.press("End")
    reply.type(" Viele Grüße, Alice")
    console.screenshot(path=SHOTS / "inbox-1-german-faq-answer-inserted.png")
    console.get_by_role("button", name="Send reply").click()
    expect(w.locator(".msg.agent .bubble").last).to_contain_text("Viele Grüße, Alice",
                                                                 timeout=15_000)
    expect(w.locator(".msg.agent .bubble strong").last).to_have_text("30 Tagen")

    # An entry with no German answer: the English one, and the console says what happens.
    console.get_by_role("button", name="Insert FAQ answer").click()
    console.get_by_label("Search FAQ entries").fill("gift")
    console.locator("#faq-list button[data-faq='gift-wrapping']").click()
    expect(console.locator("#insert-note")).to_contain_text(
        "No German answer is written for “Do you offer gift wrapping?”: inserted the English one")
    expect(console.locator("#tline")).to_contain_text(
        "Will not be translated: no English→German language pack is installed")
    console.screenshot(path=SHOTS / "inbox-2-no-german-answer-untranslated-warning.png")
    reply.fill("")

    # A canned reply in German.
    console.get_by_role("button", name="Canned reply").click()
    console.get_by_label("Search canned replies").fill("Bestellnummer")
    console.locator("#canned-list button[data-canned='ask-order-number']").click()
    expect(reply).to_have_value(
        "Könnten Sie mir Ihre **Bestellnummer** schicken? Sie finden sie in der "
        "Bestellbestätigung per E-Mail.")
    reply.fill("")

    # An internal note: in the console, marked, never in the shopper's chat.
    console.get_by_role("tab", name="Internal note").click()
    console.get_by_label("Internal note (only agents see it)").fill(NOTE)
    console.get_by_role("button", name="Add note").click()
    expect(console.locator("#transcript .m.note")).to_contain_text(NOTE)
    expect(console.locator("#transcript .m.note")).to_contain_text("Alice")
    console.get_by_role("tab", name="Reply to shopper").click()
    console.get_by_label("Language of your reply").select_option("de")
    reply.fill("Ich prüfe das gleich für Sie.")
    console.get_by_role("button", name="Send reply").click()
    # The reply written after the note has arrived: the note would have come before it.
    expect(w.locator(".msg.agent .bubble").last).to_have_text("Ich prüfe das gleich für Sie.",
                                                              timeout=15_000)
    expect(w.get_by_text("zweimal angerufen")).to_have_count(0)
    shop.screenshot(path=SHOTS / "inbox-3-shopper-sees-replies-not-the-note.png")
    sid = shop.evaluate("JSON.parse(localStorage.getItem('faqbot:' + location.origin)).sid")
    polled = httpx.get(f"{server}/api/conversations/{sid}/messages", timeout=10).json()
    assert not any("zweimal" in m["text"] for m in polled["messages"])
    assert [m["author"] for m in polled["messages"] if m["role"] == "agent"] == ["Alice"] * 2
    console.screenshot(path=SHOTS / "inbox-4-note-and-history.png")

    # Bob, on a phone, takes the ticket over; both consoles show who did what.
    bob_ctx = browser.new_context(locale="en-GB", viewport={"width": 360, "height": 780},
                                  is_mobile=True, has_touch=True)
    phone = bob_ctx.new_page()
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(phone, server, bob_key, "Bob")
    phone.get_by_role("tab", name="Claimed").click()
    phone.locator("button.ticket").filter(has_text="Rücksendung").click()
    expect(phone.locator("#d-holder")).to_have_text("Held by Alice")
    expect(phone.locator("#transcript .m.note")).to_contain_text(NOTE)
    phone.get_by_role("button", name="Take over").click()
    expect(phone.locator("#d-holder")).to_have_text("You hold this ticket.")
    expect(phone.locator("#transcript")).to_contain_text("You took the ticket from Alice")
    phone.screenshot(path=SHOTS / "inbox-5-phone-360-taken-over.png", full_page=True)
    expect(console.locator("#transcript")).to_contain_text("Bob took the ticket from Alice",
                                                           timeout=15_000)
    expect(console.locator("#d-holder")).to_have_text("Held by Bob")

    # Signing out forgets the key.
    phone.get_by_role("button", name="Sign out").click()
    expect(phone.get_by_label("Your key")).to_be_visible()
    assert phone.evaluate("sessionStorage.getItem('faqbot.agentKey')") is None
    assert errors == []
    for ctx in (alice_ctx, shop_ctx, bob_ctx):
        ctx.close()
