"""/metrics: Prometheus names and labels, route templates, answers, tickets, reloads, index."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.metrics import Metrics, MetricsMiddleware, route_of
from tests.support.faqs import write_tiny_faq
from tests.support.servers import burst, post_chat, two_worker_server
from tests.support.settings import make_settings

LEAD = {"X-Lead-Key": "dev-lead-key"}
SECRET = "my parcel 4711 never came, call me on 0151 2345678"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse the exposition into {(sample name, sorted labels): value}."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def names_and_labels(text: str) -> str:
    """Return every family name, help text, sample name and label value: all but the numbers."""
    families = list(text_string_to_metric_families(text))
    return " ".join(
        [f"{f.name} {f.documentation}" for f in families]
        + [" ".join([s.name, *s.labels.values()]) for f in families for s in f.samples]
    )


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


# ---- the middleware alone (no model) ----
def test_requests_are_labelled_by_route_template_not_path() -> None:
    app = FastAPI()
    metrics = Metrics()

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    app.add_middleware(MetricsMiddleware, metrics=metrics)
    with TestClient(app) as client:
        for i in range(3):
            assert client.get(f"/items/{i}").status_code == 200
        assert client.get("/items/nope").status_code == 422
        assert client.get("/no/such/path/4711").status_code == 404
    text = metrics.render().decode()
    assert value(text, "faqbot_http_requests_total", method="GET", route="/items/{item_id}",
                 status="200") == 3
    assert value(text, "faqbot_http_requests_total", method="GET", route="/items/{item_id}",
                 status="422") == 1
    assert value(text, "faqbot_http_requests_total", method="GET", route="unmatched",
                 status="404") == 1
    assert value(text, "faqbot_http_request_duration_seconds_count", method="GET",
                 route="/items/{item_id}") == 4
    # No raw path in any name or label. (Sample values are numbers that may hold any digits:
    # process_start_time_seconds 1.7334711e+09 once failed a check of the whole text.)
    assert "4711" not in names_and_labels(text) and "/items/1" not in names_and_labels(text)
    assert route_of({"type": "http"}) == "unmatched"


def test_the_path_check_reads_labels_not_sample_values() -> None:
    text = ('# HELP process_start_time_seconds Start time.\n'
            '# TYPE process_start_time_seconds gauge\n'
            'process_start_time_seconds 1.7334711e+09\n')
    assert "4711" in text and "4711" not in names_and_labels(text)


# ---- the whole app, real model ----
@pytest.fixture
def own_settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings on a FAQ of this test's own (a test below breaks it on purpose)."""
    write_tiny_faq(tmp_path / "faq")
    return make_settings(tmp_path, database_url=db_url)


@pytest.fixture
def own_bot(own_settings: Settings, faqbot: FaqBot) -> FaqBot:
    bot = FaqBot(own_settings, embedder=faqbot.embedder)  # the session's model, loaded once
    assert bot.reload().ok
    return bot


@pytest.fixture
def app_client(own_settings: Settings, own_bot: FaqBot) -> Iterator[TestClient]:
    app = create_app(own_settings, bot=own_bot)
    with TestClient(app) as client:
        yield client


@pytest.mark.slow
def test_metrics_of_the_service(app_client: TestClient, own_bot: FaqBot) -> None:
    client = app_client
    answered = client.post("/api/chat", json={"message": "How long do I have to return an item?"})
    assert answered.json()["action"] == "answer"
    german = client.post("/api/chat",
                         json={"message": "Wie lange habe ich Zeit für eine Rücksendung?"})
    assert german.json()["language"] == "de"
    handed = client.post("/api/chat", json={"message": SECRET}).json()
    assert handed["action"] == "handoff"
    sid = handed["session_id"]
    assert client.get(f"/api/conversations/{sid}/messages").status_code == 200
    assert client.post("/api/lead/reload", headers=LEAD).status_code == 200
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text

    assert value(text, "faqbot_answers_total", action="answer", language="en") == 1
    assert value(text, "faqbot_answers_total", action="answer", language="de") == 1
    assert value(text, "faqbot_answers_total", action="handoff", language="en") == 1
    assert value(text, "faqbot_tickets", state="open") == 1
    assert value(text, "faqbot_tickets", state="resolved") == 0
    assert value(text, "faqbot_index_reloads_total", outcome="success") >= 1
    assert value(text, "faqbot_index_reloads_total", outcome="failure") == 0
    assert value(text, "faqbot_index_phrasings") == own_bot.index.size > 0
    assert value(text, "faqbot_index_entries") == len(own_bot.index.entries)
    assert value(text, "faqbot_index_reload_ok") == 1
    assert value(text, "faqbot_http_requests_total", method="POST", route="/api/chat",
                 status="200") == 3
    assert value(text, "faqbot_http_requests_total", method="GET",
                 route="/api/conversations/{session_id}/messages", status="200") == 1
    assert value(text, "process_resident_memory_bytes") > 0
    # No message text, no session id, no raw path in any name, help text or label (sample
    # values are numbers, where "0151" can turn up by chance: 3.10151168e+09 bytes).
    words = names_and_labels(text)
    assert "parcel" not in words and "0151" not in words and sid not in words
    for family in text_string_to_metric_families(text):
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", family.name), family.name
        for s in family.samples:
            assert set(s.labels) <= {"method", "route", "status", "action", "language", "state",
                                     "outcome", "le", "kind", "agent"}, s.labels


@pytest.mark.slow
def test_a_failed_reload_is_counted(app_client: TestClient, own_settings: Settings) -> None:
    client = app_client
    before = value(client.get("/metrics").text, "faqbot_index_reloads_total", outcome="failure")
    shop = own_settings.faq_dir / "shop.yaml"
    good = shop.read_bytes()
    try:
        shop.write_text("entries: [oops", encoding="utf-8")
        assert client.post("/api/lead/reload", headers=LEAD).json()["reload_ok"] is False
        text = client.get("/metrics").text
        assert value(text, "faqbot_index_reloads_total", outcome="failure") == before + 1
        assert value(text, "faqbot_index_reload_ok") == 0
    finally:
        shop.write_bytes(good)
        assert client.post("/api/lead/reload", headers=LEAD).json()["reload_ok"] is True


@pytest.mark.slow
def test_a_scrape_counts_every_worker_of_the_server(tmp_path: Path) -> None:
    """`faqbot serve --workers 2`: whichever worker answers /metrics, it reports both."""
    with two_worker_server(tmp_path) as port:
        replies = burst(port, post_chat("How long do I have to return an item?"))
        assert all(r.startswith(b"HTTP/1.1 200") for r in replies)
        pages = burst(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 8)
    process_lines = set()
    for page in pages:
        head, _, text = page.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        counted = sum(v for (name, _labels), v in samples(text.decode()).items()
                      if name == "faqbot_answers_total")
        assert counted == 16  # the 16 chats, in every scrape
        process_lines.add(text.count(b"process_resident_memory_bytes"))
    assert process_lines == {0}  # per-process gauges are left out rather than shown for one worker
