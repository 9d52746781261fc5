"""The lead's loop end to end: logging and feedback through the API, clusters across languages,
acting on a cluster (phrasings, new entry, dismiss), refused edits, history. Real model."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from bot.insights.clusters import Insights, parse_cluster_key
from bot.insights.views import Cluster, ClusterReport
from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Base, QuestionLog, utcnow
from bot.web.app import create_app
from tests.support.people import add_person
from tests.support.settings import make_settings

pytestmark = pytest.mark.slow

# Filled by lead_app with the key of "lena", a lead added to the test's database.
LEAD: dict[str, str] = {}

# Logged questions a shop's bot failed on: three needs in several languages plus noise.
FIXTURE = [
    ("Do you sell gift cards?", "en", "handoff"),
    ("Verkaufen Sie Geschenkgutscheine?", "de", "handoff"),
    ("¿Venden tarjetas regalo?", "es", "clarify"),
    ("Can I buy a gift voucher?", "en", "handoff"),
    ("Vendez-vous des cartes cadeaux ?", "fr", "handoff"),
    ("Can I pick up my order in the store?", "en", "handoff"),
    ("Kann ich die Bestellung im Laden abholen?", "de", "clarify"),
    ("¿Puedo recoger mi pedido en la tienda?", "es", "handoff"),
    ("Is there a student discount?", "en", "handoff"),
    ("Gibt es einen Studentenrabatt?", "de", "handoff"),
    ("you are a stupid bot", "en", "handoff"),
]

# A shop file with the lead's comments: edits must keep them byte for byte.
SHOP_FAQ = textwrap.dedent("""\
    # Shop FAQ - owned by Lena. Keep the most asked entries first.
    entries:
      - id: payment-methods   # linked from checkout
        questions:
          en: [Which payment methods do you accept?, Can I pay with PayPal?]
        answer:
          en: We accept cards, PayPal and bank transfer.

      # Delivery times are checked by logistics every quarter.
      - id: shipping-time
        questions:
          en:
            - How long does delivery take?
            - When will my order arrive?   # shoppers also say "parcel"
        answer:
          en: Delivery takes 2 to 4 working days.
    # end of shop entries
    """)


def log_questions(db: Database, rows: list[tuple[str, str, str]], days_ago: int = 0) -> list[int]:
    """Insert logged questions as the chat would; return their ids."""
    at = utcnow() - timedelta(days=days_ago)
    ids = []
    with db.write() as s:
        for text, language, action in rows:
            q = QuestionLog(text=text, language=language, action=action, score=0.3,
                            reason="low_confidence" if action == "handoff" else None,
                            created_at=at)
            s.add(q)
            s.flush()
            ids.append(q.id)
    return ids


def cluster_of(data: ClusterReport, text: str) -> Cluster:
    for c in data.clusters:
        if any(e.text == text for e in c.examples):
            return c
    raise AssertionError(f"{text!r} is in no cluster: {data.clusters}")


def json_cluster_of(data: dict[str, Any], text: str) -> dict[str, Any]:
    """Return the cluster of ``text`` in a GET /api/lead/clusters body."""
    for c in data["clusters"]:
        if any(e["text"] == text for e in c["examples"]):
            return c  # type: ignore[no-any-return]
    raise AssertionError(f"{text!r} is in no cluster: {data['clusters']}")


# ---- schema ----
def test_insight_tables_match_their_migration(db: Database) -> None:
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


# ---- clustering ----
def test_questions_cluster_by_need_across_languages(db: Database, faqbot: FaqBot) -> None:
    log_questions(db, FIXTURE)
    insights = Insights(db, faqbot)
    report = insights.refresh()
    assert report.assigned == len(FIXTURE) and report.pending == 0
    data = insights.clusters(days=7)
    gift = cluster_of(data, "Verkaufen Sie Geschenkgutscheine?")
    assert {e.text for e in gift.examples} >= {
        "Do you sell gift cards?", "Verkaufen Sie Geschenkgutscheine?", "¿Venden tarjetas regalo?"}
    assert set(gift.languages) >= {"de", "en", "es"}
    pickup = cluster_of(data, "Can I pick up my order in the store?")
    assert set(pickup.languages) == {"de", "en", "es"} and pickup.count == 3
    assert pickup.key != gift.key
    student = cluster_of(data, "Gibt es einen Studentenrabatt?")
    assert student.count == 2 and student.key not in (gift.key, pickup.key)
    rude = cluster_of(data, "you are a stupid bot")
    assert rude.count == 1
    # Largest first, every question counted once, each with its nearest entry and score.
    counts = [c.count for c in data.clusters]
    assert counts == sorted(counts, reverse=True) and data.clusters[0] is gift
    assert data.total_questions == len(FIXTURE) == sum(counts)
    assert gift.nearest.faq_id in faqbot.index.entries
    assert 0 < gift.nearest.score < 1 and len(gift.nearest.alternatives) == 2
    assert gift.kinds["clarify"] == 1 and gift.kinds["handoff"] >= 3


def test_clustering_is_incremental(db: Database, faqbot: FaqBot) -> None:
    log_questions(db, FIXTURE)
    insights = Insights(db, faqbot)
    first = insights.refresh()
    assert insights.refresh().assigned == 0  # nothing new: nothing embedded or assigned
    log_questions(db, [("Habt ihr Geschenkkarten?", "de", "handoff")])
    again = insights.refresh()
    assert (again.assigned, again.new_clusters) == (1, 0)
    # A second process (a fresh cache) sees the same clusters and adds to them.
    other = Insights(db, faqbot)
    log_questions(db, [("¿Tienen tarjetas de regalo?", "es", "handoff")])
    assert other.refresh().new_clusters == 0
    gift = cluster_of(other.clusters(days=7, examples=10), "Habt ihr Geschenkkarten?")
    assert gift.count == first.assigned - 6 + 2  # the five gift questions plus two new


def test_only_the_window_counts_and_old_clusters_keep_their_key(
    db: Database, faqbot: FaqBot
) -> None:
    log_questions(db, FIXTURE[:3], days_ago=40)
    log_questions(db, FIXTURE[:1], days_ago=0)
    insights = Insights(db, faqbot)
    insights.refresh()
    recent = insights.clusters(days=7)
    assert recent.total_questions == 1
    month = insights.clusters(days=60)
    assert month.total_questions == 4
    assert month.clusters[0].key == recent.clusters[0].key


def test_dismissed_clusters_stop_showing(db: Database, faqbot: FaqBot) -> None:
    log_questions(db, FIXTURE)
    insights = Insights(db, faqbot)
    insights.refresh()  # what the background job does; a page load groups only a few
    rude = cluster_of(insights.clusters(days=7), "you are a stupid bot")
    insights.dismiss(rude.key, "lena", "abuse")
    insights.dismiss(rude.key, "lena", "abuse")  # twice is harmless
    log_questions(db, [("you are a stupid bot", "en", "handoff")])  # and it stays hidden
    keys = [c.key for c in insights.clusters(days=7).clusters]
    assert rude.key not in keys and len(keys) >= 3


# ---- through the HTTP API ----
@pytest.fixture
def lead_app(tmp_path: Path, faqbot: FaqBot, db_url: str) -> Iterator[tuple[TestClient, Path]]:
    """An app with the lead routes on its own writable FAQ (the session's FAQ stays as is)."""
    settings: Settings = make_settings(tmp_path, database_url=db_url)
    settings.faq_dir.mkdir(parents=True)
    (settings.faq_dir / "shop.yaml").write_text(SHOP_FAQ, encoding="utf-8")
    bot = FaqBot(settings, embedder=faqbot.embedder)
    assert bot.reload().ok
    app = create_app(settings, bot=bot)
    with TestClient(app) as client:
        LEAD.clear()
        LEAD.update(add_person(settings, "lena", "lead"))
        yield client, settings.faq_dir / "shop.yaml"


def chat(client: TestClient, message: str, **fields: Any) -> dict[str, Any]:
    r = client.post("/api/chat", json={"message": message, **fields})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def clusters(client: TestClient, days: int = 7) -> dict[str, Any]:
    r = client.get(f"/api/lead/clusters?days={days}", headers=LEAD)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_logging_and_feedback_through_the_api_feed_the_clusters(
    lead_app: tuple[TestClient, Path],
) -> None:
    client, _path = lead_app
    for text in ("Verkaufen Sie Geschenkgutscheine?", "Do you sell gift cards?"):
        assert chat(client, text)["action"] in ("handoff", "clarify")
    chat(client, "I want to talk to a human")  # asks for a person: not a gap in the FAQ
    answered = chat(client, "How long does delivery take?")
    assert answered["action"] == "answer"
    r = client.post("/api/feedback", json={"session_id": answered["session_id"],
                                           "message_id": answered["message_id"],
                                           "helpful": False})
    assert r.status_code == 200 and r.json()["offer_handoff"] is True
    data = clusters(client)
    gift = json_cluster_of(data, "Verkaufen Sie Geschenkgutscheine?")
    assert gift["count"] == 2 and set(gift["languages"]) == {"de", "en"}
    unhelpful = json_cluster_of(data, "How long does delivery take?")
    assert unhelpful["kinds"]["not_helpful"] == 1
    assert unhelpful["nearest"]["faq_id"] == "shipping-time"
    texts = {e["text"] for c in data["clusters"] for e in c["examples"]}
    assert "I want to talk to a human" not in texts
    report = client.get("/api/lead/report?days=7", headers=LEAD).json()
    assert report["totals"]["questions"] == 4 and report["totals"]["not_helpful"] == 1
    assert report["totals"]["helpful_share"] == 0.0
    assert report["per_language"]["de"]["questions"] == 1


def test_adding_phrasings_makes_the_bot_answer(lead_app: tuple[TestClient, Path]) -> None:
    client, path = lead_app
    before = path.read_text(encoding="utf-8")
    asked = ["Verkaufen Sie Geschenkgutscheine?", "Do you sell gift cards?"]
    for text in asked:
        assert chat(client, text)["action"] != "answer"
    data = clusters(client)
    gift = json_cluster_of(data, asked[0])
    ids = [e["id"] for e in gift["examples"]]
    assert len(ids) == 2
    r = client.post("/api/lead/clusters/add-phrasings", headers=LEAD,
                    json={"entry_id": "payment-methods", "question_ids": ids,
                          "cluster": gift["key"]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["reload"]["reload_ok"] is True and out["change"]["author"] == "lena"
    assert out["change"]["detail"]["questions"] == {"de": [asked[0]], "en": [asked[1]]}
    # The bot answers both now, in each language.
    for text, lang in ((asked[0], "de"), (asked[1], "en")):
        reply = chat(client, text)
        assert (reply["action"], reply["faq_id"], reply["language"]) == (
            "answer", "payment-methods", lang)
    # Outside the edited entry the lead's file is unchanged byte for byte.
    after = path.read_text(encoding="utf-8")
    tail = before[before.index("\n  # Delivery times"):]
    head = before[: before.index("    questions:")]  # up to the edited entry's questions
    assert after.startswith(head) and after.endswith(tail)
    assert "Verkaufen Sie Geschenkgutscheine?" in after
    # The acted-on cluster stops showing; the change is in the history.
    assert gift["key"] not in [c["key"] for c in clusters(client)["clusters"]]
    history = client.get("/api/lead/history", headers=LEAD).json()["changes"]
    assert [(h["action"], h["entry_id"], h["cluster"]) for h in history] == [
        ("add_phrasings", "payment-methods", gift["key"])]


def test_a_new_entry_from_a_cluster(lead_app: tuple[TestClient, Path]) -> None:
    client, path = lead_app
    for text in ("Verkaufen Sie Geschenkgutscheine?", "Do you sell gift cards?"):
        chat(client, text)
    gift = json_cluster_of(clusters(client), "Do you sell gift cards?")
    r = client.post("/api/lead/clusters/new-entry", headers=LEAD, json={
        "file": "shop", "id": "gift-cards", "category": "payments",
        "questions": {"en": ["Do you sell gift cards?"]},
        "question_ids": [e["id"] for e in gift["examples"]],
        "answer": {"en": "Yes: gift cards from 10 to 200 euros, in the shop and online."},
        "cluster": gift["key"],
    })
    assert r.status_code == 200, r.text
    assert r.json()["reload"]["reload_ok"] is True
    assert "id: gift-cards" in path.read_text(encoding="utf-8")
    reply = chat(client, "Verkaufen Sie Geschenkgutscheine?")
    assert (reply["action"], reply["faq_id"]) == ("answer", "gift-cards")
    assert "# end of shop entries" in path.read_text(encoding="utf-8")


def test_a_refused_edit_leaves_the_file_unchanged(lead_app: tuple[TestClient, Path]) -> None:
    client, path = lead_app
    before = path.read_bytes()
    # A phrasing another entry already has: refused with the reason, nothing written.
    r = client.post("/api/lead/clusters/add-phrasings", headers=LEAD,
                    json={"entry_id": "payment-methods",
                          "questions": ["How long does delivery take?"], "lang": "en"})
    assert r.status_code == 422, r.text
    assert "shop.yaml" in r.json()["detail"] and "nothing was written" in r.json()["detail"]
    assert path.read_bytes() == before
    # Several languages: the German one would land, the English one is refused -> neither.
    chat(client, "Zahlen mit Kreditkarte?")
    question = json_cluster_of(clusters(client), "Zahlen mit Kreditkarte?")["examples"][0]
    r = client.post("/api/lead/clusters/add-phrasings", headers=LEAD,
                    json={"entry_id": "payment-methods", "question_ids": [question["id"]],
                          "questions": ["When will my order arrive?"]})
    assert r.status_code == 422, r.text
    assert path.read_bytes() == before
    # A new entry without the default language's answer, and an unknown entry.
    r = client.post("/api/lead/clusters/new-entry", headers=LEAD, json={
        "file": "shop", "id": "gift-cards", "questions": {"en": ["Gift cards?"]},
        "answer": {"de": "Ja."}})
    assert r.status_code == 422 and path.read_bytes() == before
    r = client.post("/api/lead/clusters/add-phrasings", headers=LEAD,
                    json={"entry_id": "no-such-entry", "questions": ["x y z"], "lang": "en"})
    assert r.status_code == 404
    assert client.get("/api/lead/history", headers=LEAD).json()["changes"] == []


def test_dismiss_and_keys_over_http(lead_app: tuple[TestClient, Path]) -> None:
    client, _path = lead_app
    chat(client, "you are a stupid bot")
    rude = json_cluster_of(clusters(client), "you are a stupid bot")
    r = client.post("/api/lead/clusters/dismiss", headers=LEAD,
                    json={"key": rude["key"], "reason": "abuse"})
    assert r.status_code == 200 and r.json()["author"] == "lena"
    assert rude["key"] not in [c["key"] for c in clusters(client)["clusters"]]
    assert client.post("/api/lead/clusters/dismiss", headers=LEAD,
                       json={"key": "c999999"}).status_code == 404
    assert client.post("/api/lead/clusters/dismiss", headers=LEAD,
                       json={"key": "gift"}).status_code == 400
    for path in ("/api/lead/clusters", "/api/lead/report", "/api/lead/history",
                 "/api/lead/entries"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"X-Lead-Key": "wrong"}).status_code == 401
    entries = client.get("/api/lead/entries", headers=LEAD).json()
    assert entries["files"] == ["shop"]
    assert [e["id"] for e in entries["entries"]] == ["payment-methods", "shipping-time"]


def test_cluster_keys_parse() -> None:
    assert parse_cluster_key("c12") == 12
    for bad in ("", "c", "12", "cx", "c-1"):
        with pytest.raises(Exception, match="cluster key"):
            parse_cluster_key(bad)
