"""The widget while a shopper waits, withdraws and rates, in a real Chromium (issue 16).

One real server (uvicorn subprocess, real model, temp FAQ / SQLite / index); screenshots of
the desktop widget in German and the 360 px phone layout in French go to
artifacts/screenshots/ (triage-*.png) for a person to look at.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import SHOTS, chromium
from tests.support.people import add_to_server
from tests.support.servers import running_server

pytestmark = pytest.mark.browser

FAQ = textwrap.dedent("""\
    entries:
      - id: returns-window
        questions:
          en: [How long do I have to return an item?]
          de: [Wie lange habe ich Zeit für eine Rücksendung?]
          fr: [Combien de temps ai-je pour retourner un article ?]
        answer:
          en: You can return most items within **30 days** of delivery.
          de: Du kannst die meisten Artikel innerhalb von **30 Tagen** zurücksenden.
          fr: Vous pouvez retourner la plupart des articles sous **30 jours**.
    """)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the server's folder (FAQ, database, index)."""
    return tmp_path_factory.mktemp("triage-browser")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[str]:
    (home / "faq").mkdir()
    (home / "faq" / "shop.yaml").write_text(FAQ, encoding="utf-8")
    with running_server(home, {}) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def ask(w: Any, label: str, text: str) -> None:
    box = w.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")


def test_waiting_withdraw_and_rating_in_german(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + "/")
    w = page.locator("faqbot-widget")
    w.get_by_role("button", name="Chat öffnen").click()
    subtitle = w.locator(".subtitle")
    expect(subtitle).to_have_text("Frag in jeder Sprache")

    ask(w, "Deine Frage", "Hallo")  # small talk: a reply, no ticket, no waiting
    expect(w.locator(".msg.bot .bubble").filter(has_text="Wobei kann ich dir helfen?")) \
        .to_be_visible()
    expect(w.locator(".humanbtn").first).to_be_visible()

    w.get_by_role("button", name="Mit einer Person sprechen").click()
    expect(subtitle).to_have_text("Warten auf eine Person · meist innerhalb von 4 Std.")
    expect(w.locator(".avatar.waiting")).to_have_count(1)  # no green "online" dot
    withdraw = w.get_by_role("button", name="Meine Frage ist beantwortet")
    expect(withdraw).to_be_visible()
    expect(w.get_by_role("button", name="Mit einer Person sprechen")).to_be_hidden()

    # While waiting the bot still answers; the header keeps saying a person will come.
    ask(w, "Deine Frage", "Wie lange habe ich Zeit für eine Rücksendung?")
    expect(w.locator(".msg.bot .bubble").filter(has_text="30 Tagen")).to_be_visible()
    expect(subtitle).to_contain_text("Warten auf eine Person")
    page.wait_for_timeout(2500)  # a poll or two: nothing may be shown twice
    expect(w.get_by_text("meist innerhalb von 4 Stunden")).to_have_count(1)
    page.mouse.move(5, 5)
    page.screenshot(path=SHOTS / "triage-01-de-waiting.png")

    withdraw.click()
    expect(w.get_by_text("Schön, dass es geklärt ist!", exact=False)).to_have_count(1)
    expect(subtitle).to_have_text("Frag in jeder Sprache")
    stars = w.locator(".stars button")
    expect(stars).to_have_count(5)
    expect(w.get_by_text("Wie zufrieden warst du mit diesem Gespräch?")).to_be_visible()
    page.screenshot(path=SHOTS / "triage-02-de-withdrawn-rating.png")

    w.get_by_role("button", name="4 von 5").click()  # one tap sends the rating
    expect(w.get_by_text("Danke für deine Bewertung!")).to_be_visible()
    expect(w.locator(".stars button.on")).to_have_count(4)
    comment = w.get_by_label("Möchtest du noch etwas sagen? (optional)")
    comment.fill("Sehr schnell, danke")
    w.locator(".ratecomment button").click()
    expect(comment).to_have_count(0)
    expect(w.get_by_text("Danke für deine Bewertung!")).to_have_count(1)
    page.screenshot(path=SHOTS / "triage-03-de-rated.png")

    sid = page.evaluate("() => JSON.parse(localStorage.getItem("
                        f"'faqbot:{server}')).sid")
    msgs = httpx.get(f"{server}/api/conversations/{sid}/messages").json()
    assert msgs["rated"] is True and msgs["state"] == "resolved"
    # After a reload the conversation is back, and the rating is not asked again.
    page.reload()
    expect(w.locator(".msg.bot .bubble").filter(has_text="30 Tagen")).to_be_visible()
    expect(w.locator(".stars")).to_have_count(0)
    assert errors == []
    ctx.close()


def test_phone_waiting_header_and_rating_after_an_agent_resolves(
    server: str, home: Path, browser: Any
) -> None:
    from playwright.sync_api import expect

    ana = {"Authorization": "Bearer " + add_to_server(home, "Ana", "agent")}

    ctx = browser.new_context(locale="fr-FR", viewport={"width": 360, "height": 740},
                              is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(server + "/")
    w = page.locator("faqbot-widget")
    w.get_by_role("button", name="Ouvrir le chat").click()
    ask(w, "Votre question", "je veux parler à un humain")
    subtitle = w.locator(".subtitle")
    expect(subtitle).to_have_text("En attente d'une personne · généralement sous 4 h")
    expect(w.get_by_role("button", name="J'ai ma réponse")).to_be_visible()
    page.screenshot(path=SHOTS / "triage-04-fr-phone-waiting.png")

    tickets = httpx.get(f"{server}/api/agent/tickets", headers=ana).json()["tickets"]
    tid = tickets[0]["id"]
    assert httpx.post(f"{server}/api/agent/tickets/{tid}/resolve",
                      headers=ana).status_code == 200
    # The widget's next poll shows one "closed" line and the rating prompt.
    expect(w.get_by_text("Comment évalueriez-vous cette conversation ?")).to_be_visible(
        timeout=15_000)
    expect(w.get_by_text("Notre équipe a marqué cette conversation comme résolue",
                         exact=False)).to_have_count(1)
    expect(subtitle).to_have_text("Posez vos questions dans votre langue")
    page.screenshot(path=SHOTS / "triage-05-fr-phone-resolved-rating.png")
    w.get_by_role("button", name="5 sur 5").click()
    expect(w.get_by_text("Merci pour votre évaluation !")).to_be_visible()
    ctx.close()
