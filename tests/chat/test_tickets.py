"""The handoff queue on real databases: states, ordering, triage, atomic claims; plus the
small parts it leans on (person detection, rate limits, keys, migrations)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.chat.intents import wants_person
from bot.chat.notices import NOTICES, handoff_notice, notice
from bot.chat.tickets import TicketStore, Triage
from bot.errors import ConfigError, ConflictError, NotFoundError
from bot.matching.bot import Guess
from bot.store.db import Database, all_metadata
from bot.store.models import Conversation, Ticket, utcnow

SLA = {"urgent": 30, "normal": 240}


@pytest.fixture
def store() -> TicketStore:
    return TicketStore(Triage.default(), SLA)


def open_ticket(db: Database, store: TicketStore, text: str = "where is my parcel",
                language: str = "en", reason: str = "low_confidence") -> int:
    sid = uuid.uuid4().hex
    with db.write() as s:
        s.add(Conversation(id=sid, language=language))
        s.flush()
        t = store.create(s, sid, language, reason, [Guess("x", 0.3)], text, text)
        return t.id


# ---- migrations ----
def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), all_metadata()) == []


def test_migrating_twice_is_a_no_op(db: Database) -> None:
    db.migrate()
    db.migrate()
    open_ticket(db, TicketStore(Triage.default(), SLA))


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'new' / 'data' / 'x.db'}")
    database.migrate()
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    assert (tmp_path / "new" / "data" / "x.db").exists()
    database.dispose()


def test_sqlite_writers_in_two_engines_wait_for_each_other(tmp_path: Path) -> None:
    """A second writer (another process's engine) waits for the lock and then goes on."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    first, second = Database(url), Database(url)
    first.migrate()
    inside, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with first.write() as s:
            s.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
            inside.set()
            release.wait(10)

    def wait_then_write() -> None:
        with second.write() as s:
            s.execute(text("INSERT INTO t VALUES (1)"))
        done.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    writer = threading.Thread(target=wait_then_write)
    writer.start()
    assert not done.wait(0.5)  # queued behind the first writer, not failing
    release.set()
    holder.join(10)
    assert done.wait(10)
    writer.join(10)
    with second.read() as s:
        assert s.execute(text("SELECT COUNT(*) FROM t")).scalar() == 1
    assert (tmp_path / "x.db.writelock").exists()
    first.dispose()
    second.dispose()


def test_a_bad_database_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="FAQBOT_DATABASE_URL"):
        Database("mysql://nobody@nowhere/db")


# ---- states ----
def test_claim_release_resolve_reopen(db: Database, store: TicketStore) -> None:
    tid = open_ticket(db, store)
    with db.write() as s:
        t = store.claim(s, tid, "alice")
        assert (t.state, t.claimed_by) == ("claimed", "alice")
    with db.write() as s:  # claiming again is idempotent for the holder
        assert store.claim(s, tid, "alice").state == "claimed"
    with db.write() as s, pytest.raises(ConflictError, match="claimed by alice"):
        store.claim(s, tid, "bob")
    with db.write() as s, pytest.raises(ConflictError, match="held by alice"):
        store.release(s, tid, "bob")
    with db.write() as s:
        t = store.release(s, tid, "alice")
        assert (t.state, t.claimed_by) == ("open", None)
    with db.write() as s:
        store.claim(s, tid, "bob")
    with db.write() as s, pytest.raises(ConflictError, match="held by bob"):
        store.resolve(s, tid, "alice")
    with db.write() as s:
        t = store.resolve(s, tid, "bob")
        assert t.state == "resolved" and t.resolved_at is not None
    with db.write() as s, pytest.raises(ConflictError, match="already resolved"):
        store.resolve(s, tid, "bob")
    with db.write() as s, pytest.raises(ConflictError, match="only open"):
        store.claim(s, tid, "bob")
    with db.write() as s:
        t = store.reopen(s, tid)
        assert (t.state, t.claimed_by, t.reopened) == ("open", None, 1)
    with db.write() as s, pytest.raises(ConflictError, match="not resolved"):
        store.reopen(s, tid)


def test_an_open_ticket_can_be_resolved_directly(db: Database, store: TicketStore) -> None:
    tid = open_ticket(db, store)
    with db.write() as s:
        t = store.resolve(s, tid, "carol")
        assert (t.state, t.claimed_by) == ("resolved", "carol")


def test_unknown_ticket_is_not_found(db: Database, store: TicketStore) -> None:
    with db.write() as s, pytest.raises(NotFoundError):
        store.claim(s, 999_999, "alice")


def test_a_conversation_may_have_several_tickets_the_newest_counts(
    db: Database, store: TicketStore
) -> None:
    # A handoff long after a resolution opens a new ticket (FAQBOT_REOPEN_HOURS).
    tid = open_ticket(db, store)
    with db.write() as s:
        sid = store.get(s, tid).conversation_id
        store.resolve(s, tid, "alice")
        second = store.create(s, sid, "en", "asked_for_person", [], "again", "again").id
    with db.read() as s:
        newest = store.for_conversation(s, sid)
        assert newest is not None and (newest.id, newest.state) == (second, "open")
        assert store.get(s, tid).resolution == "agent"


def test_withdrawing_resolves_as_self_served(db: Database, store: TicketStore) -> None:
    tid = open_ticket(db, store)
    with db.write() as s:
        t = store.withdraw(s, tid)
        assert (t.state, t.resolution, t.claimed_by) == ("resolved", "self_served", None)
    with pytest.raises(ConflictError, match="already resolved"), db.write() as s:
        store.withdraw(s, tid)


# ---- ordering and filters ----
def test_list_puts_oldest_urgent_first_then_oldest_normal(db: Database) -> None:
    base = utcnow() - timedelta(hours=1)
    clock_values = iter([base + timedelta(minutes=i) for i in range(10)])
    store = TicketStore(Triage.default(), SLA, clock=lambda: next(clock_values))
    n1 = open_ticket(db, store, "where is my parcel")
    u1 = open_ticket(db, store, "the vase arrived broken", language="de")
    n2 = open_ticket(db, store, "can I change my address")
    u2 = open_ticket(db, store, "I was charged twice")
    with db.read() as s:
        assert [t.id for t in store.list(s)] == [u1, u2, n1, n2]
        assert [t.id for t in store.list(s, priority="normal")] == [n1, n2]
        assert [t.id for t in store.list(s, language="de")] == [u1]
        assert store.list(s, state="claimed") == []
        t = store.get(s, u1)
        assert t.due_at - t.queued_at == timedelta(minutes=30)
        assert store.get(s, n1).due_at - store.get(s, n1).queued_at == timedelta(minutes=240)
    with db.write() as s:
        store.resolve(s, n1, "alice")
    with db.read() as s:
        assert [t.id for t in store.list(s)] == [u1, u2, n2]
        assert [t.id for t in store.list(s, state="resolved")] == [n1]


def test_new_text_raises_priority_but_never_lowers_it(db: Database, store: TicketStore) -> None:
    tid = open_ticket(db, store, "where is my parcel")
    with db.write() as s:
        t = store.get(s, tid)
        store.retriage(s, t, "thanks, and also this is fraud")
        assert t.priority == "urgent"
        store.retriage(s, t, "hello")
        assert t.priority == "urgent"
    with db.read() as s:
        t = store.get(s, tid)
        assert t.priority == "urgent" and t.due_at - t.queued_at == timedelta(minutes=30)


# ---- atomic claims ----
def test_twenty_concurrent_claims_have_exactly_one_winner(db_url: str) -> None:
    store = TicketStore(Triage.default(), SLA)
    setup = Database(db_url)
    tid = open_ticket(setup, store)
    setup.dispose()
    barrier = threading.Barrier(20)
    winners: list[str] = []
    losers: list[str] = []
    errors: list[BaseException] = []

    def agent(name: str) -> None:
        database = Database(db_url)  # one engine per agent: separate connections
        try:
            barrier.wait(timeout=30)
            with database.write() as s:
                store.claim(s, tid, name)
            winners.append(name)
        except ConflictError:
            losers.append(name)
        except BaseException as exc:
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=agent, args=(f"agent{i}",)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(winners) == 1 and len(losers) == 19
    check = Database(db_url)
    with check.read() as s:
        t = s.get(Ticket, tid)
        assert t is not None and (t.state, t.claimed_by) == ("claimed", winners[0])
    check.dispose()


# ---- triage ----
@pytest.mark.parametrize("text", [
    "My parcel arrived damaged", "Die Vase ist kaputt angekommen", "El jarrón llegó roto",
    "Le colis est arrivé endommagé", "Ho ricevuto un articolo sbagliato",
    "Het pakket is beschadigd",
    "Paczka przyszła uszkodzona", "A encomenda chegou danificada", "商品到的时候已经损坏了",
    "商品が破損していました", "상품이 파손되어 도착했어요", "Товар пришёл повреждённым",
    "Ürün hasarlı geldi", "Varan kom trasig", "I was charged twice for one order",
    "Mir wurde doppelt abgebucht", "我被重复扣款了", "二重請求されています",
    "I will file a chargeback", "Ich mache eine Rückbuchung", "This is fraud",
    "C'est une arnaque", "Мошенничество с картой",
])
def test_urgent_keywords_in_many_languages(text: str) -> None:
    assert Triage.default().classify(text)[0] == "urgent"


@pytest.mark.parametrize("text", [
    "Where is my parcel?", "Wie lange dauert der Versand?", "¿Cuál es el protocolo de envío?",
    "Can I pay twice a month?", "我想修改地址", "Rotation of stock",
])
def test_everything_else_is_normal(text: str) -> None:
    assert Triage.default().classify(text) == ("normal", None)


def test_rules_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: vip\n    priority: urgent\n    keywords:\n"
                    "      en: [vip*]\n      de: [stammkunde]\n", encoding="utf-8")
    triage = Triage.from_file(path)
    assert triage.classify("I am a VIP customer") == ("urgent", "vip")
    assert triage.classify("Ich bin Stammkunde") == ("urgent", "vip")
    assert triage.classify("my parcel is damaged") == ("normal", None)


@pytest.mark.parametrize("body, message", [
    ("rules: 3", "expected a 'rules:' list"),
    ("rules:\n  - priority: soon\n    keywords: {en: [x]}", "priority must be one of"),
    ("rules:\n  - priority: urgent", "keywords must map"),
    ("rules:\n  - priority: urgent\n    keywords: {en: x}", "keywords.en must be a list"),
    ("rules: [", "FAQBOT_TRIAGE_RULES_FILE"),
])
def test_bad_rules_files_say_what_is_wrong(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        Triage.from_file(path)


# ---- asking for a person ----
@pytest.mark.parametrize("text", [
    "talk to a human", "Can I speak to a person please?", "human", "Agent please",
    "Ich möchte mit einem Mitarbeiter sprechen", "Mitarbeiter bitte",
    "Quiero hablar con una persona", "Je veux parler à un conseiller",
    "Vorrei parlare con un operatore", "Kan ik met een medewerker praten?",
    "Chcę rozmawiać z konsultantem", "Quero falar com um atendente", "转人工", "人工客服",
    "オペレーターと話したい", "상담원 연결해 주세요", "Соедините с оператором",
    "Müşteri temsilcisi ile görüşmek istiyorum", "Jag vill prata med en människa",
])
def test_asking_for_a_person_in_any_language(text: str) -> None:
    assert wants_person(text)


@pytest.mark.parametrize("text", [
    "How long do I have to return an item?", "Can I pick up my order in person?",
    "Who is the person signing for my parcel at the door?", "Wo ist meine Bestellung?",
    "When is your customer service available?", "",
])
def test_ordinary_questions_are_not_requests_for_a_person(text: str) -> None:
    assert not wants_person(text)


# ---- notices ----
def test_every_notice_is_written_in_every_listed_language() -> None:
    languages = set(NOTICES["queued"])
    assert {"en", "de", "es", "fr", "it", "nl", "pl", "pt", "zh", "ja", "ko", "ru", "tr",
            "sv"} <= languages
    for key, texts in NOTICES.items():
        assert set(texts) == languages, key


def test_handoff_notice_says_roughly_when() -> None:
    assert "30 minutes" in handoff_notice("en", 30)
    assert "4 hours" in handoff_notice("en", 240)
    assert "30 Minuten" in handoff_notice("de", 30)
    assert notice("queued", "xx") == NOTICES["queued"]["en"]  # no pack: English


# Keys: tests/store/test_people.py, and over HTTP tests/web/test_agent_api.py.


@pytest.mark.parametrize("kind", [
    "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
])
def test_migrations_0004_0005_keep_tickets_and_messages_and_allow_several_tickets(
    kind: str, tmp_path: Path
) -> None:
    from alembic import command

    from bot.store.db import alembic_config, make_engine, migrate
    from tests.support.postgres import drop_schema, fresh_schema

    schema = f"faqbot_mig_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{tmp_path / 'old.db'}" if kind == "sqlite" else fresh_schema(schema)
    engine = make_engine(url)
    try:
        migrate(engine, "0003")  # a desk from before issue 16, with a ticket
        now = utcnow().replace(tzinfo=None)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO conversations (id, created_at, updated_at, language,"
                              " language_locked) VALUES ('c-old-1234', :t, :t, 'en', false)"),
                         {"t": now})
            conn.execute(text(
                "INSERT INTO tickets (conversation_id, state, priority, language, reason, guesses,"
                " preview, created_at, queued_at, due_at, reopened) VALUES ('c-old-1234',"
                " 'resolved', 'normal', 'en', 'asked_for_person', '[]', 'hi', :t, :t, :t, 0)"),
                {"t": now})
            conn.execute(text("INSERT INTO messages (conversation_id, role, text, created_at)"
                              " VALUES ('c-old-1234', 'shopper', 'hi', :t)"), {"t": now})
        migrate(engine)  # 0004 (triage) and 0005 (people, history, visitor id)
        with engine.begin() as conn:
            row = conn.execute(text("SELECT kind, resolution, preview FROM tickets")).one()
            assert tuple(row) == (None, None, "hi")
            conn.execute(text(  # a second ticket for the same conversation is allowed now
                "INSERT INTO tickets (conversation_id, state, priority, language, reason, guesses,"
                " preview, created_at, queued_at, due_at, reopened, kind) VALUES ('c-old-1234',"
                " 'open', 'normal', 'en', 'asked_for_person', '[]', 'again', :t, :t, :t, 0,"
                " 'person')"), {"t": now})
        config = alembic_config()
        with engine.begin() as conn:  # and back: the newest ticket of each conversation stays
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT preview FROM tickets")).scalars().all() == ["again"]
            # Downgrades drop columns in place: no table copy whose cascade empties messages.
            assert conn.execute(text("SELECT text FROM messages")).scalars().all() == ["hi"]
    finally:
        engine.dispose()
        if kind == "postgresql":
            drop_schema(schema)
