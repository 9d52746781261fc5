"""FAQ hot reload: edits go live, broken edits keep the last good index answering."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.matching.bot import FaqBot
from bot.runtime.reloader import Reloader
from bot.settings import Settings
from bot.web.app import create_app
from tests.support.faqs import TINY_FAQ, write_tiny_faq
from tests.support.settings import make_settings

pytestmark = pytest.mark.slow

LEAD = {"X-Lead-Key": "dev-lead-key"}
GIFT_CARDS = """
  - id: gift-cards
    questions:
      en: [Do you sell gift cards?, Can I buy a voucher as a present?]
    answer:
      en: Yes, gift cards from 10 to 200 euros are in the shop.
"""


def wait_for(check: Callable[[], bool], seconds: float = 60.0) -> None:
    """Poll ``check`` until it holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {seconds} s")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    write_tiny_faq(tmp_path / "faq")
    return tmp_path


@pytest.fixture
def settings(home: Path) -> Settings:
    return make_settings(home, reload_poll_seconds=0.2)


@pytest.fixture
def live(settings: Settings, faqbot: FaqBot) -> Iterator[TestClient]:
    bot = FaqBot(settings, embedder=faqbot.embedder)  # the session's model, a fresh index
    with TestClient(create_app(settings, bot=bot)) as c:
        wait_for(lambda: c.get("/ready").status_code == 200)
        yield c


def ask(c: TestClient, text: str) -> dict[str, Any]:
    r = c.post("/api/chat", json={"message": text})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_an_edit_goes_live_without_a_restart(live: TestClient, settings: Settings) -> None:
    before = live.get("/api/lead/status", headers=LEAD).json()["index_version"]
    assert ask(live, "Do you sell gift cards?")["faq_id"] != "gift-cards"
    path = settings.faq_dir / "shop.yaml"
    path.write_text(path.read_text(encoding="utf-8") + GIFT_CARDS.lstrip("\n"), encoding="utf-8")
    wait_for(lambda: live.get("/api/lead/status", headers=LEAD).json()["index_version"] != before)
    r = ask(live, "Do you sell gift cards?")
    assert (r["action"], r["faq_id"]) == ("answer", "gift-cards")
    assert live.get("/api/lead/status", headers=LEAD).json()["entries"] == 5


def test_a_broken_edit_keeps_answers_flowing(live: TestClient, settings: Settings) -> None:
    status = live.get("/api/lead/status", headers=LEAD).json()
    path = settings.faq_dir / "shop.yaml"
    results: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def shopper() -> None:
        while not stop.is_set() and len(results) < 500:
            r = live.post("/api/chat", json={"message": "How long do I have to return an item?"})
            results.append((r.status_code, r.json().get("faq_id")))

    thread = threading.Thread(target=shopper)
    thread.start()
    try:
        # an entry without an answer: the file no longer validates
        path.write_text(TINY_FAQ + "  - id: broken-entry\n    questions:\n      en: [x]\n",
                        encoding="utf-8")
        wait_for(lambda: live.get("/health").json()["reload_error"] is not None)
    finally:
        stop.set()
        thread.join(timeout=60)
    error = live.get("/health").json()["reload_error"]
    assert re.search(r"shop\.yaml:\d+:", error), error
    lead = live.get("/api/lead/status", headers=LEAD).json()
    assert lead["reload_ok"] is False and lead["reload_error"] == error
    assert lead["index_version"] == status["index_version"]
    assert live.get("/ready").status_code == 200
    assert results and all(r == (200, "returns-window") for r in results)
    assert ask(live, "Which payment methods do you accept?")["faq_id"] == "payment-methods"

    write_tiny_faq(settings.faq_dir)  # fixed: the error clears
    wait_for(lambda: live.get("/health").json()["reload_error"] is None)
    assert live.get("/api/lead/status", headers=LEAD).json()["reload_ok"] is True


def test_the_lead_reload_call_reports_a_broken_file(live: TestClient, settings: Settings) -> None:
    (settings.faq_dir / "extra.yaml").write_text("entries:\n  - id: Bad Id\n", encoding="utf-8")
    r = live.post("/api/lead/reload", headers=LEAD)
    assert r.status_code == 200
    body = r.json()
    assert body["reload_ok"] is False and re.search(r"extra\.yaml:\d+:", body["reload_error"])
    assert body["index_version"] is not None
    assert ask(live, "What is the return period?")["faq_id"] == "returns-window"


def test_reloader_check_reloads_only_on_change(home: Path, faqbot: FaqBot) -> None:
    settings = make_settings(home)
    bot = FaqBot(settings, embedder=faqbot.embedder)
    reloader = Reloader(bot, 0)
    reloader.reload_now()
    assert bot.ready and reloader.check() is False
    (settings.faq_dir / "more.yaml").write_text("entries:" + GIFT_CARDS, encoding="utf-8")
    assert reloader.check() is True and "gift-cards" in bot.index.entries
    assert reloader.check() is False
    with pytest.raises(ValueError, match="FAQBOT_RELOAD_POLL_SECONDS"):
        Reloader(bot, -1)


def test_worker_processes_build_one_edit_once(home: Path, faqbot: FaqBot) -> None:
    """Two bots on one index directory (as `serve --workers 2` runs) reload the same edit.

    The build lock makes the second wait and take the first one's build instead of embedding
    everything again on the cores that answer shoppers. The real model, slowed down so the two
    reloads overlap.
    """

    class Slow:
        def __init__(self) -> None:
            inner = faqbot.embedder
            self.name, self.dim, self.languages, self.texts = (
                inner.name, inner.dim, inner.languages, 0
            )

        def embed(self, texts: list[str]) -> Any:
            self.texts += len(texts)
            time.sleep(0.5)
            return faqbot.embedder.embed(texts)

    settings = make_settings(home)
    first = FaqBot(settings, embedder=faqbot.embedder)
    first.reload()
    (settings.faq_dir / "more.yaml").write_text("entries:" + GIFT_CARDS, encoding="utf-8")
    a, b = Slow(), Slow()
    bots = [FaqBot(settings, embedder=a), FaqBot(settings, embedder=b)]
    threads = [threading.Thread(target=bot.reload) for bot in bots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = [bot.status for bot in bots]
    assert all(s.ok for s in statuses), statuses
    assert sorted(s.embedded for s in statuses) == [0, 2]  # the two new phrasings, once
    assert bots[0].index.version == bots[1].index.version
    assert all("gift-cards" in bot.index.entries for bot in bots)
