"""Drive the chat widget, the demo page and the agent console in a real Chromium.

One real server (uvicorn subprocess, real model, temp FAQ / SQLite / index) serves every test
in this module; Debian's /usr/bin/chromium is driven through Playwright. Screenshots go to
artifacts/screenshots/ so a person can look at what the shopper and the agent saw.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import SHOTS, chromium, goto_test_page
from tests.support.people import add_to_server
from tests.support.servers import running_server

pytestmark = pytest.mark.browser

LANGUAGES = ["en", "de", "es", "fr", "ja", "sv"]

# German answers, two shipping entries close enough to need a clarify (with the margin set
# below), and an entry whose answer carries markup that must never run.
FAQ = textwrap.dedent("""\
    entries:
      - id: returns-window
        questions:
          en:
            - How long do I have to return an item?
            - What is the return period?
          de:
            - Wie lange habe ich Zeit für eine Rücksendung?
            - Wie lange kann ich Artikel zurückgeben?
        answer:
          en: You can return most items within **30 days** of delivery.
          de: Du kannst die meisten Artikel innerhalb von **30 Tagen** nach Lieferung zurücksenden.
      - id: shipping-austria
        questions:
          en:
            - How long does delivery to Austria take?
          de:
            - Wie lange dauert der Versand nach Österreich?
        answer:
          en: Delivery to Austria takes 2-3 working days.
          de: Der Versand nach Österreich dauert 2-3 Werktage.
      - id: shipping-switzerland
        questions:
          en:
            - How long does delivery to Switzerland take?
          de:
            - Wie lange dauert der Versand in die Schweiz?
        answer:
          en: Delivery to Switzerland takes 3-5 working days.
          de: |-
            Der Versand in die Schweiz dauert **3-5 Werktage**:
            - Zoll ist inklusive
            - Sendungsverfolgung per [E-Mail](mailto:hilfe@example.com)
      - id: gift-wrapping
        questions:
          en:
            - Do you offer gift wrapping?
            - Can you wrap my order as a gift?
        answer:
          en: >-
            Yes <img src=x onerror=alert(1)> <script>alert(1)</script>
            <img src=y onerror="window.__xss=1"> choose **Gift wrap** at checkout.
            [Details](https://example.com/gift) or [click](javascript:alert(1)).
    """)

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the server's folder (FAQ, database, index)."""
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[str]:
    """Start `uvicorn bot.web.app:create_app` on a free port with its own FAQ, database, index."""
    tmp = home
    (tmp / "faq").mkdir()
    (tmp / "faq" / "shop.yaml").write_text(FAQ, encoding="utf-8")
    with running_server(tmp, {
        # Fewer languages than the default: the widget and the console must list these.
        "FAQBOT_SUPPORTED_LANGUAGES": ",".join(LANGUAGES),
        # A wide margin turns "Wie lange dauert der Versand?" (Austria vs Switzerland) into
        # a clarify; exact phrasings still score 1.0 and are answered.
        "FAQBOT_MARGIN": "0.15",
    }) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright."""
    with chromium() as b:
        yield b


class Watch:
    """Collect dialogs (alert() would mean injected script ran) and uncaught page errors."""

    def __init__(self, page: Any) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def check(self) -> None:
        assert self.dialogs == [], f"a dialog opened: injected script ran: {self.dialogs}"
        assert self.errors == [], f"uncaught errors in the page: {self.errors}"


def widget(page: Any) -> Any:
    """Return a locator scoped to the widget's (open) shadow root."""
    return page.locator("faqbot-widget")


def ask(page: Any, label: str, text: str) -> None:
    """Type a question into the widget and press Enter, as a shopper would."""
    box = widget(page).get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")


def shadow_eval(page: Any, script: str) -> Any:
    """Evaluate ``script`` with ``root`` bound to the widget's shadow root."""
    return page.evaluate(
        f"() => {{ const root = document.querySelector('faqbot-widget').shadowRoot; {script} }}"
    )


def test_german_shopper_answer_suggestion_not_helpful_and_reload(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    watch = Watch(page)
    page.goto(server + "/")
    w = widget(page)
    page.screenshot(path=SHOTS / "00-demo-shop-page.png")
    # The widget follows the browser language: German labels without any page setting.
    w.get_by_role("button", name="Chat öffnen").click()
    expect(w.get_by_text("Frag mich einfach, in deiner Sprache.")).to_be_visible()
    assert shadow_eval(page, "return root.activeElement && root.activeElement.tagName") == "INPUT"

    ask(page, "Deine Frage", "Wie lange habe ich Zeit für eine Rücksendung?")
    answer = w.locator(".msg.bot .bubble").filter(has_text="30 Tagen")
    expect(answer).to_be_visible()
    expect(answer.locator("strong")).to_have_text("30 Tagen")  # Markdown bold as a node

    ask(page, "Deine Frage", "Wie lange dauert der Versand?")
    chip = w.get_by_role("button", name="Wie lange dauert der Versand in die Schweiz?")
    expect(chip).to_be_visible()
    austria = w.get_by_role("button", name="Wie lange dauert der Versand nach Österreich?")
    expect(austria).to_be_visible()
    chip.click()
    swiss = w.locator(".msg.bot .bubble").filter(has_text="Zoll ist inklusive")
    expect(swiss).to_be_visible()
    expect(swiss.locator("li")).to_have_count(2)
    mail = swiss.get_by_role("link", name="E-Mail")
    expect(mail).to_have_attribute("href", "mailto:hilfe@example.com")
    expect(mail).to_have_attribute("rel", "noopener noreferrer")

    w.get_by_role("button", name="Nicht hilfreich").last.click()
    expect(w.get_by_text("Danke für dein Feedback!").last).to_be_visible()
    offer = w.locator(".chip.person")
    expect(offer).to_be_visible()
    expect(offer).to_have_text("Mit einer Person sprechen")
    page.mouse.move(5, 5)
    page.screenshot(path=SHOTS / "01-de-answer-clarify-not-helpful.png")

    offer.click()
    expect(w.locator(".msg.bot").filter(has_text="Team")).to_have_count(1)
    expect(w.locator(".humanbtn")).to_be_hidden()  # already with a person

    # The conversation survives a reload: the stored session id brings it back.
    page.reload()
    expect(w.locator(".msg.bot .bubble").filter(has_text="Zoll ist inklusive")).to_be_visible()
    asked = w.locator(".msg.shopper").filter(has_text="Wie lange dauert der Versand?")
    expect(asked).to_have_count(1)
    expect(w.get_by_text("Danke für dein Feedback!").first).to_be_visible()
    watch.check()
    ctx.close()


def test_handoff_agent_claims_and_replies_shopper_sees_it(
    server: str, home: Path, browser: Any
) -> None:
    from playwright.sync_api import expect

    # The agent signs in first, so the ticket has to appear in the console by itself.
    key = add_to_server(home, "Ana", "agent")
    agent_ctx = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 820})
    console = agent_ctx.new_page()
    agent_watch = Watch(console)
    console.goto(server + "/agent")
    console.get_by_label("Your key").fill("wrong-key")
    console.get_by_role("button", name="Sign in").click()
    expect(console.locator("#login-error")).to_contain_text("unknown key")
    console.get_by_label("Your key").fill(key)
    # Signed in, the console listens to the queue's live events (the poll is the fallback).
    with console.expect_response(lambda r: "/api/agent/events" in r.url) as stream:
        console.get_by_role("button", name="Sign in").click()
    assert stream.value.status == 200
    assert stream.value.headers["content-type"].startswith("text/event-stream")
    expect(console.get_by_text("Signed in as Ana")).to_be_visible()
    # The queue's language filter lists the languages the server supports, named in English.
    options = console.locator("#f-lang option")
    expect(options).to_have_count(1 + len(LANGUAGES))
    assert options.evaluate_all("os => os.map(o => o.value)") == ["", *LANGUAGES]
    expect(options.nth(2)).to_have_text("German")

    shop_ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 820})
    shop = shop_ctx.new_page()
    shop_watch = Watch(shop)
    shop.goto(server + "/")
    w = widget(shop)
    w.get_by_role("button", name="Open chat").click()
    question = "My dog chewed the remote control of my sofa, what can I do?"
    ask(shop, "Your question", question)
    expect(w.locator(".msg.bot").last).to_contain_text("person")
    expect(w.locator(".humanbtn")).to_be_hidden()
    w.locator(".head").get_by_role("button", name="Close chat").click()  # browses on

    row = console.locator("button.ticket").filter(has_text="My dog chewed the remote")
    expect(row).to_be_visible(timeout=15_000)  # arrived by itself, no reload
    expect(row).to_contain_text("EN")
    expect(row).to_contain_text("due in")
    expect(row).to_contain_text("new")
    console.screenshot(path=SHOTS / "02-agent-queue-new-ticket.png")
    row.click()
    expect(console.locator("#transcript")).to_contain_text(question)
    console.get_by_role("button", name="Claim").click()
    expect(console.get_by_text("You hold this ticket.")).to_be_visible()

    reply = f"Hi! Sorry about your sofa. {HOSTILE} {HOSTILE_SCRIPT} We'll send a new remote."
    console.get_by_label("Reply to the shopper").fill(reply)
    console.get_by_role("button", name="Send reply").click()
    expect(console.locator("#transcript .m.agent .text")).to_have_text(reply)
    console.screenshot(path=SHOTS / "03-agent-console-claimed-and-replied.png")

    # The shopper's widget shows the reply without a reload, as text; while the chat was
    # closed, the launcher counted it.
    expect(w.locator(".badge")).to_have_text("1", timeout=15_000)
    shop.screenshot(path=SHOTS / "04a-shopper-unread-badge.png")
    w.get_by_role("button", name="Open chat, 1 new messages").click()
    expect(w.locator(".badge")).to_be_hidden()
    agent_bubble = w.locator(".msg.agent .bubble")
    expect(agent_bubble).to_have_text(reply, timeout=15_000)
    expect(agent_bubble.locator("img, script")).to_have_count(0)
    shop.mouse.move(5, 5)
    shop.screenshot(path=SHOTS / "04-shopper-sees-agent-reply.png")

    console.get_by_role("button", name="Resolve").click()
    expect(console.locator("#d-title")).to_contain_text("resolved")
    # One "closed" line (the server's, no second one from the widget), then the rating ask.
    closed = w.get_by_text("Our team marked this conversation as resolved.", exact=False)
    expect(closed).to_be_visible(timeout=15_000)
    expect(closed).to_have_count(1)
    expect(w.get_by_text("How would you rate this conversation?")).to_be_visible()
    expect(w.locator(".humanbtn")).to_be_visible()
    assert shop.evaluate("window.__xss") is None
    assert console.evaluate("window.__xss") is None
    shop_watch.check()
    agent_watch.check()
    agent_ctx.close()
    shop_ctx.close()


def test_markup_in_answers_is_text_and_never_runs(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 760})
    page = ctx.new_page()
    watch = Watch(page)
    page.goto(server + "/")
    w = widget(page)
    w.get_by_role("button", name="Open chat").click()
    ask(page, "Your question", "Do you offer gift wrapping?")
    bubble = w.locator(".msg.bot .bubble").filter(has_text="Gift wrap")
    expect(bubble).to_be_visible()
    expect(bubble).to_contain_text(HOSTILE)
    expect(bubble).to_contain_text(HOSTILE_SCRIPT)
    expect(bubble.locator("img, script, iframe")).to_have_count(0)
    expect(bubble.locator("strong")).to_have_text("Gift wrap")
    link = bubble.get_by_role("link", name="Details")
    expect(link).to_have_attribute("href", "https://example.com/gift")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    # A javascript: link stays text: no anchor is built for it.
    expect(bubble.get_by_role("link")).to_have_count(1)
    expect(bubble).to_contain_text("[click](javascript:alert(1))")
    page.wait_for_timeout(500)  # give a (wrongly) inserted <img> time to fail and fire onerror
    assert page.evaluate("window.__xss") is None
    assert shadow_eval(page, "return root.querySelectorAll('img, script').length") == 0
    page.screenshot(path=SHOTS / "05-markup-shown-as-text.png")
    watch.check()
    ctx.close()


def test_hostile_css_page_and_phone_screen(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 720})
    page = ctx.new_page()
    watch = Watch(page)
    goto_test_page(page, server, "hostile.html")
    w = widget(page)
    launcher = w.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    assert box is not None and round(box["width"]) == 60 and round(box["height"]) == 60
    assert box["x"] + box["width"] == pytest.approx(1024 - 20, abs=1)
    launcher.click()
    ask(page, "Your question", "How long do I have to return an item?")
    expect(w.locator(".msg.bot .bubble").filter(has_text="30 days")).to_be_visible()
    page.wait_for_timeout(400)  # let the panel's 0.18 s pop animation finish before measuring
    panel = w.locator(".panel").bounding_box()
    assert panel is not None and round(panel["width"]) == 380
    styles = shadow_eval(page, """
        const cs = (sel) => getComputedStyle(root.querySelector(sel));
        return {font: cs('.input').fontSize, transform: cs('.panel').transform,
                upper: cs('.bubble').textTransform, send: cs('.send').width,
                opacity: getComputedStyle(root.host).opacity};
    """)
    assert styles == {"font": "15px", "transform": "none", "upper": "none", "send": "42px",
                      "opacity": "1"}
    page.mouse.move(5, 5)
    page.screenshot(path=SHOTS / "06-hostile-css-page.png")
    watch.check()
    ctx.close()

    phone = browser.new_context(
        locale="en-US", viewport={"width": 360, "height": 740}, device_scale_factor=2,
        is_mobile=True, has_touch=True,
    )
    page = phone.new_page()
    watch = Watch(page)
    page.goto(server + "/")
    w = widget(page)
    expect(w.get_by_role("button", name="Open chat")).to_be_visible()
    page.screenshot(path=SHOTS / "07-phone-360-shop-page.png")
    w.get_by_role("button", name="Open chat").tap()
    ask(page, "Your question", "Wie lange dauert der Versand in die Schweiz?")
    expect(w.locator(".msg.bot .bubble").filter(has_text="Zoll ist inklusive")).to_be_visible()
    # The panel opens with a short scale/slide animation: measure once it has settled.
    page.wait_for_timeout(400)  # the pop animation lasts 0.18 s
    panel = w.locator(".panel").bounding_box()
    # Full-screen on a phone: the whole width, give or take sub-pixel rounding.
    assert panel is not None and panel["width"] >= 355
    assert panel["x"] >= -0.5 and panel["x"] + panel["width"] <= 360.5
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    send = w.get_by_role("button", name="Send").bounding_box()
    assert send is not None and send["x"] + send["width"] <= 360
    page.screenshot(path=SHOTS / "08-phone-360-chat-open.png")
    watch.check()
    phone.close()


def test_keyboard_only_and_server_unreachable(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    watch = Watch(page)
    goto_test_page(page, server, "hostile.html")  # a page with nothing else focusable
    w = widget(page)
    launcher = w.get_by_role("button", name="Ouvrir le chat")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(w.get_by_role("dialog", name="Help")).to_be_visible()
    focused = "return root.activeElement && root.activeElement.getAttribute('aria-label')"
    assert shadow_eval(page, "return root.activeElement.id").startswith("fb-input-")

    # The server cannot be reached: a localised message and a retry that works.
    page.route("**/api/chat", lambda route: route.abort("connectionrefused"))
    page.keyboard.type("What is the return period?")
    page.keyboard.press("Enter")
    alert = w.get_by_role("alert")
    expect(alert).to_contain_text("Impossible de joindre le service de chat")
    page.screenshot(path=SHOTS / "09-offline-message-fr.png")
    page.unroute("**/api/chat")
    w.get_by_role("button", name="Réessayer").click()
    expect(alert).to_be_hidden()
    expect(w.locator(".msg.bot .bubble").filter(has_text="30")).to_be_visible()

    # The language menu lists the server's languages (GET /api/config), each in its own.
    menu = w.get_by_label("Langue", exact=True).locator("option")
    expect(menu).to_have_count(len(LANGUAGES))
    assert menu.evaluate_all("os => os.map(o => o.value)") == LANGUAGES
    assert menu.evaluate_all("os => os.map(o => o.textContent)")[:4] == [
        "English", "Deutsch", "Español", "Français"]
    # The shopper switches language: the widget's strings change and the choice is sent.
    w.get_by_label("Langue", exact=True).select_option("de")
    expect(w.get_by_placeholder("Deine Frage…")).to_be_visible()
    with page.expect_request("**/api/chat") as sent:
        ask(page, "Deine Frage", "Rückgabe?")
    assert sent.value.post_data_json["language"] == "de"
    assert sent.value.post_data_json["locale"] == "fr-FR"
    expect(w.locator(".send")).to_be_enabled()  # the reply is in
    w.get_by_label("Sprache", exact=True).select_option("fr")

    # Tab order after the input: send button.
    w.get_by_label("Votre question", exact=True).focus()
    page.keyboard.press("Tab")
    assert shadow_eval(page, focused) == "Envoyer"
    page.keyboard.press("Escape")
    expect(w.get_by_role("dialog")).to_be_hidden()
    assert shadow_eval(page, "return root.activeElement === root.querySelector('.launcher')")
    watch.check()
    ctx.close()


def test_page_locale_wins_over_browser_language(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(locale="ja-JP")
    page = ctx.new_page()
    watch = Watch(page)
    # A shop page served from the same origin, with the widget's options on its tag.
    html = (
        '<!doctype html><html><head><meta charset="utf-8"><title>Tienda</title></head>'
        '<body><h1>Tienda</h1><script src="/widget.js" data-locale="es-ES" data-market="EU"'
        ' data-title="Ayuda de la tienda" data-color="#ffd400"></script></body></html>'
    )
    page.route("**/tienda.html", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=html))
    page.goto(server + "/tienda.html")
    w = widget(page)
    w.get_by_role("button", name="Abrir chat").click()
    expect(w.get_by_role("dialog", name="Ayuda de la tienda")).to_be_visible()
    expect(w.get_by_placeholder("Escribe tu pregunta…")).to_be_visible()
    # A light brand colour gets dark text on it, so the header stays readable.
    assert shadow_eval(page, "return getComputedStyle(root.querySelector('.head')).color") == (
        "rgb(20, 26, 36)"
    )
    with page.expect_request("**/api/chat") as sent:
        ask(page, "Tu pregunta", "What is the return period?")
    body = sent.value.post_data_json
    assert (body["locale"], body["market"], body["language"]) == ("es-ES", "EU", None)
    expect(w.locator(".msg.bot .bubble").filter(has_text="30 days")).to_be_visible()
    watch.check()
    ctx.close()
