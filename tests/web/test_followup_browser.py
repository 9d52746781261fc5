"""Photos, the e-mail follow-up and the lead's answer editor in a real Chromium.

One real server (uvicorn subprocess, real model, temp FAQ / SQLite / index) with e-mail
going to a real SMTP server process; Debian's Chromium through Playwright. Shoppers in
German and French, on a desktop and on a 360 px phone; axe-core checks what they see.
Screenshots go to artifacts/screenshots/followup-*.png.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.axe import axe_violations
from tests.support.browser import SHOTS, chromium
from tests.support.images import exif_with_gps_and_rotation, photo_bytes
from tests.support.mailserver import SmtpServer, smtp_server
from tests.support.people import add_to_server
from tests.support.servers import running_server

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

FAQ = textwrap.dedent("""\
    # Shop FAQ, kept by Lena.
    entries:
      - id: damaged-item
        handoff: true
        questions:
          en: [My item arrived damaged, The product I received is broken]
          de: [Mein Artikel ist beschädigt angekommen]
          fr: [Mon article est arrivé abîmé]
        answer:
          en: Sorry! Please send us a **photo of the damage** here in the chat.
          de: Das tut uns leid! Schick uns bitte hier im Chat ein **Foto vom Schaden**.
          fr: Désolés ! Envoyez-nous ici un **photo du dommage**.
      - id: shipping-time
        questions:
          en: [How long does delivery take?, When will my order arrive?]
        answer:
          en: Delivery takes 2 to 4 working days.
      - id: payment-methods   # linked from checkout
        questions:
          en: [Which payment methods do you accept?, Can I pay with PayPal?]
        answer:
          en: We accept cards, PayPal and bank transfer.
    """)


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("mail")) as server:
        yield server


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the server's folder (FAQ, database, index)."""
    return tmp_path_factory.mktemp("followup-browser")


@pytest.fixture(scope="module")
def server(home: Path, mailbox: SmtpServer) -> Iterator[str]:
    (home / "faq").mkdir()
    (home / "faq" / "shop.yaml").write_text(FAQ, encoding="utf-8")
    with running_server(home, {
        "FAQBOT_SMTP_URL": mailbox.url(), "FAQBOT_MAIL_FROM": "Example Shop <help@shop.test>",
        "FAQBOT_EMAIL_AFTER_SECONDS": "0", "FAQBOT_SHOP_NAME": "Example Shop",
    }) as base:
        yield base


@pytest.fixture(scope="module")
def keys(server: str, home: Path) -> dict[str, str]:
    """Return the keys of the people on the desk: Alice (agent) and Lena (lead)."""
    return {"Alice": add_to_server(home, "Alice", "agent"),
            "Lena": add_to_server(home, "Lena", "lead")}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("uploads")
    out = {
        "damage.jpg": photo_bytes("JPEG", size=(640, 480), exif=exif_with_gps_and_rotation()),
        "label.png": photo_bytes("PNG", size=(400, 300)),
        "funny.gif": photo_bytes("GIF"),
    }
    for name, data in out.items():
        (d / name).write_bytes(data)
    return {name: d / name for name in out}


def widget(page: Any) -> Any:
    return page.locator("faqbot-widget")


def open_chat(page: Any, base: str) -> Any:
    page.goto(base + "/")
    w = widget(page)
    w.locator("button.launcher").click()
    return w


def ask(w: Any, text: str) -> None:
    w.locator("input.input").fill(text)
    w.locator("input.input").press("Enter")


def agent_console(ctx: Any, base: str, key: str, name: str = "Alice") -> Any:
    """Open the agent console signed in with a person's own key."""
    from playwright.sync_api import expect

    page = ctx.new_page()
    page.goto(base + "/agent")
    page.get_by_label("Your key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_have_text(f"Signed in as {name}")
    return page


def settle(page: Any) -> None:
    """Wait for running CSS animations (the panel's pop-in) before a screenshot."""
    page.evaluate("() => Promise.all(document.getAnimations().map((a) => a.finished))")


def check(page: Any, errors: list[str]) -> None:
    assert errors == [], errors
    violations = axe_violations(page)
    assert violations == [], "\n".join(violations)


def test_german_shopper_sends_photos_and_the_agent_sees_them(
    server: str, keys: dict[str, str], browser: Any, files: dict[str, Path]
) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport=DESKTOP, locale="de-DE")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    w = open_chat(page, server)
    ask(w, "Mein Artikel ist beschädigt angekommen")
    expect(w.locator(".msg.bot", has_text="Foto vom Schaden")).to_be_visible(timeout=20_000)
    offer = w.locator(".followup")
    expect(offer).to_contain_text("Falls du gehst", timeout=10_000)

    attach = w.get_by_role("button", name="Fotos anhängen")
    expect(attach).to_be_visible()
    w.locator("input[type=file]").set_input_files(
        [files["damage.jpg"], files["label.png"], files["funny.gif"]])
    expect(w.locator(".error")).to_contain_text("funny.gif können wir nicht annehmen")
    expect(w.locator(".staged img")).to_have_count(2)
    expect(w.get_by_role("button", name="Foto damage.jpg entfernen")).to_be_visible()
    settle(page)
    page.screenshot(path=str(SHOTS / "followup-photos-staged-de.png"))
    check(page, errors)

    ask(w, "So kam das Paket an")
    thumbs = w.locator(".msg.shopper .thumbs img")
    expect(thumbs).to_have_count(2, timeout=20_000)
    expect(w.locator(".staged")).to_be_hidden()
    expect(w.locator(".notice", has_text="weitergeleitet")).to_be_visible()
    page.screenshot(path=str(SHOTS / "followup-photos-sent-de.png"))

    console = agent_console(ctx, server, keys["Alice"])
    console.locator("button.ticket", has_text="beschädigt").click()
    photos = console.locator(".photos img")
    expect(photos).to_have_count(2, timeout=20_000)
    expect(photos.first).to_have_attribute("src", re.compile("^blob:"))
    console.wait_for_function(
        "() => [...document.querySelectorAll('.photos img')].every((i) => i.naturalWidth > 0)")
    sizes = console.eval_on_selector_all(".photos img", "els => els.map(e => e.naturalWidth)")
    assert sorted(sizes) == [400, 480]  # the JPEG stands upright (EXIF turned), the PNG as is
    console.screenshot(path=str(SHOTS / "followup-agent-photos.png"))
    assert errors == []
    ctx.close()


def test_french_shopper_on_a_phone_gets_the_reply_by_email_and_comes_back(
    server: str, keys: dict[str, str], browser: Any, mailbox: SmtpServer, files: dict[str, Path]
) -> None:
    from playwright.sync_api import expect

    mailbox.clear()
    ctx = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    w = open_chat(page, server)
    w.get_by_role("button", name="Parler à une personne").click()
    offer = w.locator(".followup")
    expect(offer).to_contain_text("Si vous partez", timeout=20_000)
    field = w.get_by_label("Votre adresse e-mail")
    field.fill("lea@")
    w.get_by_role("button", name="Me prévenir").click()
    expect(offer).to_contain_text("Veuillez vérifier l'adresse e-mail.")
    settle(page)
    page.screenshot(path=str(SHOTS / "followup-email-offer-fr-phone.png"))
    field.fill("lea@example.fr")
    w.get_by_role("button", name="Me prévenir").click()
    expect(w.locator(".followup.saved")).to_contain_text("Nous écrirons à lea@example.fr")
    # A photo staged on the phone, then taken back.
    w.locator("input[type=file]").set_input_files([files["damage.jpg"]])
    expect(w.locator(".staged img")).to_have_count(1)
    settle(page)
    page.screenshot(path=str(SHOTS / "followup-email-saved-fr-phone.png"))
    check(page, errors)
    w.get_by_role("button", name="Retirer la photo damage.jpg").click()
    expect(w.locator(".staged")).to_be_hidden()
    sid = page.evaluate("() => JSON.parse(localStorage.getItem("
                        "Object.keys(localStorage).find(k => k.startsWith('faqbot:')))).sid")

    page.goto("about:blank")  # the shopper leaves; the widget says so with a beacon
    agent = agent_console(browser.new_context(viewport=DESKTOP), server, keys["Alice"])
    agent.locator("button.ticket", has_text="personne").click()
    # The address the shopper left shows in the customer panel beside the transcript.
    expect(agent.locator("#context")).to_contain_text("lea@example.fr")
    agent.get_by_role("button", name="Claim").click()
    agent.get_by_label("Reply to the shopper").fill(
        "Bonjour Léa, nous vous envoyons un **remplacement** dès demain.")
    agent.get_by_role("button", name="Send reply").click()

    [mail] = mailbox.wait_for(1)
    assert mail["To"] == "lea@example.fr"
    assert mail["Subject"] == "Nouvelle réponse de Example Shop"
    body = mail.get_body(("plain",)).get_content()
    assert "Alice, de Example Shop, a répondu à votre message :" in body
    assert "remplacement" in body
    link = re.search(r"http://\S+#faqbot=\S+", body)
    assert link and link.group(0).endswith(sid) and link.group(0).startswith(server)

    back = ctx.new_page()
    back.goto(link.group(0))
    w = widget(back)
    reply = w.locator(".msg.agent")
    expect(reply).to_contain_text("remplacement", timeout=20_000)
    expect(reply.locator(".who")).to_have_text("Alice · Équipe support")
    expect(reply.locator("strong")).to_have_text("remplacement")
    assert "#faqbot" not in back.url  # the key to the conversation leaves the address bar
    settle(back)
    back.screenshot(path=str(SHOTS / "followup-back-from-email-fr-phone.png"))
    assert errors == []
    ctx.close()


def test_lead_edits_a_german_answer_and_reads_the_charts(
    server: str, keys: dict[str, str], browser: Any
) -> None:
    from playwright.sync_api import expect

    for question, helpful in [("Which payment methods do you accept?", False),
                              ("Can I pay with PayPal?", False),
                              ("How long does delivery take?", True)]:
        r = httpx.post(server + "/api/chat", json={"message": question}, timeout=30).json()
        httpx.post(server + "/api/feedback", json={"session_id": r["session_id"],
                   "message_id": r["message_id"], "helpful": helpful}, timeout=30)
    for width, tag in ((DESKTOP, "desktop"), (PHONE, "phone")):
        ctx = browser.new_context(viewport=width)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
        page.goto(server + "/lead")
        page.get_by_label("Your key").fill(keys["Lena"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#who")).to_have_text("Signed in as Lena")

        rows = page.locator("#entry-feedback tbody tr")
        expect(rows.first).to_contain_text("Which payment methods do you accept?", timeout=20_000)
        expect(rows.first.locator("td").nth(3)).to_have_text("2")

        chart = page.locator("#chart-days svg")
        expect(chart.locator("text.tick").first).to_be_visible()
        chart.focus()
        page.keyboard.press("End")
        tip = page.locator("#chart-days .charttip")
        expect(tip).to_contain_text(re.compile(r"\d+ in all · \d+ answered"))
        page.keyboard.press("ArrowLeft")
        expect(tip).to_contain_text(re.compile(r"0 in all"))
        page.screenshot(path=str(SHOTS / f"followup-lead-overview-{tag}.png"), full_page=True)

        picker = page.get_by_role("combobox", name="Entry to edit")
        picker.fill("deliv")
        expect(page.get_by_role("option", name=re.compile("How long does delivery take"))
               ).to_be_visible()
        picker.press("Enter")
        page.get_by_label("Answer language").select_option("de")
        area = page.get_by_label("Answer in German")
        if tag == "desktop":
            expect(area).to_have_value("")
            expect(page.locator("#answer-note")).to_contain_text("get the English answer")
            area.fill("Die Lieferung dauert **2 bis 4 Werktage**.")
        else:
            expect(area).to_have_value("Die Lieferung dauert **2 bis 4 Werktage**.")
            area.fill("Die Lieferung dauert 2 bis 4 Werktage, nach Österreich 3 bis 5.")
        page.get_by_role("button", name="Save answer").click()
        expect(page.locator("#answer-status")).to_contain_text("live now", timeout=30_000)
        expect(page.locator("#history")).to_contain_text("Lena")
        expect(page.locator("#history")).to_contain_text("de answer of shipping-time")
        page.locator("#answers-title").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"followup-lead-edit-{tag}.png"), full_page=True)
        check(page, errors)
        ctx.close()

    reply = httpx.post(server + "/api/chat", json={
        "message": "Wie lange dauert die Lieferung?", "language": "de"}, timeout=30).json()
    assert reply["answer"] == "Die Lieferung dauert 2 bis 4 Werktage, nach Österreich 3 bis 5."
