"""The lead's edits through the HTTP API when the FAQ lives in a git remote (one app, in process).

The multi-server behaviour is in test_scale_out.py; this is the edit path's every outcome,
quick: pushed with the lead as author, refused with nothing pushed, remote gone -> 503.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.errors import ConfigError
from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.web.app import create_app
from tests.support.faqs import TINY_FAQ
from tests.support.gitrepo import bare_remote, remote_file, remote_log
from tests.support.people import add_person
from tests.support.settings import make_settings

pytestmark = pytest.mark.slow

# Filled by the client fixture with the key of "Lena Lead", a lead in the app's database.
LEAD: dict[str, str] = {}


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_remote(tmp_path, {"shop.yaml": textwrap.dedent(TINY_FAQ).lstrip()},
                       subpath="faq")


def remote_settings(remote: Path, home: Path, fetch_seconds: float = 60) -> Settings:
    return make_settings(home, faq_remote=str(remote), faq_remote_path="faq",
                         faq_dir=home / "clone", faq_fetch_seconds=fetch_seconds)


def app_on(remote: Path, home: Path, faqbot: FaqBot, fetch_seconds: float = 60) -> TestClient:
    settings = remote_settings(remote, home, fetch_seconds)
    return TestClient(create_app(settings, bot=FaqBot(settings, embedder=faqbot.embedder)))


@pytest.fixture
def client(remote: Path, tmp_path: Path, faqbot: FaqBot) -> Iterator[TestClient]:
    with app_on(remote, tmp_path / "server", faqbot) as c:
        LEAD.clear()
        LEAD.update(add_person(remote_settings(remote, tmp_path / "server"), "Lena Lead", "lead"))
        deadline = time.monotonic() + 120
        while c.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, c.get("/health").json()
            time.sleep(0.1)
        yield c


def add_phrasing(client: TestClient, entry: str, phrase: str) -> Any:
    return client.post("/api/lead/clusters/add-phrasings", headers=LEAD,
                       json={"entry_id": entry, "questions": [phrase], "lang": "en"})


def test_an_edit_is_pushed_with_the_lead_as_author_and_answered(
    client: TestClient, remote: Path
) -> None:
    phrase = "Do you deliver typewriter ribbons to the Faroe Islands?"
    r = add_phrasing(client, "shipping-time", phrase)
    assert r.status_code == 200, r.text
    assert remote_log(remote)[0] == \
        "Lena Lead|faq: 1 phrasing(s) in en added to shipping-time"
    assert phrase in remote_file(remote, "faq/shop.yaml")
    reply = client.post("/api/chat", json={"message": phrase, "language": "en"}).json()
    assert (reply["action"], reply["faq_id"]) == ("answer", "shipping-time")
    commits = client.get("/api/lead/commits", headers=LEAD).json()
    assert commits["remote"] == str(remote)
    assert [c["author"] for c in commits["commits"]] == ["Lena Lead", "Seed"]
    health = client.get("/health").json()
    assert health["faq_remote"]["head"] == commits["commits"][0]["sha"]
    assert health["faq_remote"]["error"] is None and health["redis"] is None


def test_an_answer_edit_is_pushed_not_left_in_the_clone(client: TestClient, remote: Path) -> None:
    """The answer editor's route as the others: a commit on the remote, kept after a fetch."""
    seen = client.get("/api/lead/entries/shipping-time", headers=LEAD)
    assert seen.status_code == 200, seen.text  # read from the FAQ folder inside the clone
    text = "Delivery takes 1 to 3 working days."
    r = client.post("/api/lead/entries/shipping-time/answer", headers=LEAD,
                    json={"language": "en", "text": text, "expected": seen.json()["answer"]["en"]})
    assert r.status_code == 200, r.text
    assert remote_log(remote)[0] == "Lena Lead|faq: en answer of shipping-time saved"
    assert text in remote_file(remote, "faq/shop.yaml")
    assert client.post("/api/lead/reload", headers=LEAD).status_code == 200  # fetch + reset
    assert client.get("/api/lead/entries/shipping-time", headers=LEAD).json()["answer"]["en"] \
        == text


def test_a_refused_edit_pushes_nothing(client: TestClient, remote: Path) -> None:
    before = remote_log(remote)
    # The same phrasing as another entry's: refused by validation, with the reason.
    r = add_phrasing(client, "shipping-time", "Which payment methods do you accept?")
    assert r.status_code == 422 and "nothing was written" in r.json()["detail"]
    assert add_phrasing(client, "no-such-entry", "Anything?").status_code == 404
    assert remote_log(remote) == before


def test_an_unreachable_remote_refuses_the_edit_and_shows_in_health(
    client: TestClient, remote: Path, tmp_path: Path
) -> None:
    remote.rename(tmp_path / "away.git")
    r = add_phrasing(client, "shipping-time", "Can I collect my parcel at the harbour?")
    assert r.status_code == 503
    assert "nothing was saved" in r.json()["detail"]
    history = client.get("/api/lead/history", headers=LEAD).json()["changes"]
    assert history == []  # the history records only edits that were saved
    assert client.post("/api/lead/reload", headers=LEAD).status_code == 200  # fetch fails
    health = client.get("/health").json()
    assert "git fetch failed" in health["faq_remote"]["error"]
    reply = client.post("/api/chat", json={"message": "How long does delivery take?"}).json()
    assert reply["faq_id"] == "shipping-time"  # still answering from what it has


def test_a_folder_of_plain_files_is_not_taken_for_the_clone(
    remote: Path, tmp_path: Path, faqbot: FaqBot
) -> None:
    home = tmp_path / "server"
    (home / "clone").mkdir(parents=True)
    (home / "clone" / "shop.yaml").write_text("entries: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a git clone"), app_on(remote, home, faqbot):
        pass


def test_a_server_started_while_the_remote_is_away_gets_ready_when_it_is_back(
    remote: Path, tmp_path: Path, faqbot: FaqBot
) -> None:
    away = remote.rename(tmp_path / "away.git")
    with app_on(remote, tmp_path / "server", faqbot, fetch_seconds=0.2) as c:
        assert c.get("/ready").status_code == 503
        assert "git clone failed" in c.get("/health").json()["faq_remote"]["error"]
        away.rename(remote)
        deadline = time.monotonic() + 120
        while c.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, c.get("/health").json()
            time.sleep(0.1)
        assert c.get("/health").json()["faq_remote"]["error"] is None
