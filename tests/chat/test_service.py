"""ChatService without HTTP: one message cleaned and its language decided once, the typed
results it returns, and the event every reply is announced on. Real model, SQLite."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bot.chat.service import ChatService
from bot.chat.tickets import TicketStore, Triage
from bot.chat.views import ChatRequest, ChatResult, ConversationView, MessageView
from bot.errors import InputError, MessageTooLong
from bot.matching.bot import FaqBot, Suggestion
from bot.matching.language import Detection
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Conversation
from bot.translate.translator import NullTranslator

pytestmark = pytest.mark.slow


class DetectionSpyBot(FaqBot):
    """The real bot, counting how often a message's language is detected."""

    detections = 0

    def detect(self, text: str, hints: Sequence[str | None] = ()) -> Detection:
        self.detections += 1
        return super().detect(text, hints)


@pytest.fixture(scope="module")
def module_bot(bot_settings: Settings, faqbot: FaqBot) -> DetectionSpyBot:
    bot = DetectionSpyBot(bot_settings, embedder=faqbot.embedder)  # the session's model
    assert bot.reload().ok
    return bot


@pytest.fixture
def spy_bot(module_bot: DetectionSpyBot) -> DetectionSpyBot:
    module_bot.detections = 0
    return module_bot


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One database for the module (each test starts conversations of its own)."""
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('chat') / 'chat.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def service(db: Database, bot_settings: Settings, spy_bot: DetectionSpyBot) -> ChatService:
    tickets = TicketStore(Triage.default(), {"urgent": 30, "normal": 240})
    return ChatService(db, spy_bot, tickets, bot_settings, NullTranslator())


def ask(service: ChatService, message: str, **fields: object) -> ChatResult:
    return service.chat(ChatRequest(session_id=None, message=message, **fields))  # type: ignore[arg-type]


def test_an_answer_is_a_typed_result_with_the_stored_cleaned_text(service: ChatService) -> None:
    result = ask(service, "How long do I have\u200b to return   an item?")
    assert isinstance(result, ChatResult)
    assert (result.action, result.faq_id, result.language) == ("answer", "returns-window", "en")
    view = service.messages(result.session_id)
    assert isinstance(view, ConversationView) and view.cursor == result.cursor
    assert all(isinstance(m, MessageView) for m in view.messages)
    shopper = view.messages[0]
    assert (shopper.role, shopper.text) == ("shopper", "How long do I have to return an item?")


def test_the_language_is_detected_once_per_message(
    service: ChatService, spy_bot: DetectionSpyBot
) -> None:
    ask(service, "Wie lange habe ich Zeit für eine Rücksendung?")
    assert spy_bot.detections == 1
    # A suggestion chip from an older index: the text is answered instead, same language.
    spy_bot.detections = 0
    result = ask(service, "Wie lange habe ich Zeit für eine Rücksendung?",
                 suggestion_id="no-such-entry")
    assert (result.action, result.language) == ("answer", "de")
    assert spy_bot.detections == 1
    # An explicit language is checked, never detected.
    spy_bot.detections = 0
    assert ask(service, "What is the return period?", language="de-AT").language == "de"
    assert spy_bot.detections == 0


def test_without_an_index_a_person_takes_over_and_detection_still_runs_once(
    service: ChatService, tmp_path: Path, bot_settings: Settings, faqbot: FaqBot
) -> None:
    broken = DetectionSpyBot(bot_settings.replace(faq_dir=tmp_path / "no-faq",
                                                  index_dir=tmp_path / "no-index"),
                             embedder=faqbot.embedder)
    unavailable = ChatService(service.db, broken, service.tickets, bot_settings,
                              NullTranslator())
    result = unavailable.chat(ChatRequest(
        session_id=None, message="Wie lange habe ich Zeit für eine Rücksendung?"))
    assert (result.action, result.language) == ("handoff", "de") and result.ticket_id
    assert broken.detections == 1  # was 2: once before the failed search, once after it


def test_bad_input_is_refused_before_anything_is_stored(service: ChatService) -> None:
    with service.db.read() as s:
        before = s.query(Conversation).count()
    with pytest.raises(InputError, match="not supported"):
        ask(service, "Hello", language="xx")
    with pytest.raises(MessageTooLong):
        ask(service, "x" * 1001)
    with pytest.raises(InputError, match="empty"):
        ask(service, " \u200b ")
    with service.db.read() as s:
        assert s.query(Conversation).count() == before


def test_a_suggestion_chip_is_answered_with_that_entry(service: ChatService) -> None:
    result = ask(service, "return refund", suggestion_id="shipping-time")
    assert (result.action, result.faq_id, result.confidence) == ("answer", "shipping-time", 1.0)
    unsure = ask(service, "return refund")
    assert unsure.action in ("clarify", "handoff")
    assert all(isinstance(s, Suggestion) for s in unsure.suggestions)


def test_the_person_button_alone_hands_off_and_later_messages_queue(service: ChatService) -> None:
    first = ask(service, "", human=True)
    assert first.action == "handoff" and first.ticket_id is not None and first.notice
    sid = first.session_id
    again = service.chat(ChatRequest(session_id=sid, message="Are you there?"))
    # A greeting while waiting is answered as small talk; the ticket stays as it is.
    assert (again.action, again.ticket_id, again.state) == ("smalltalk", first.ticket_id,
                                                            "handoff")
    note = "My neighbour Ms Okafor signed for the box, please note that on file"
    passed = service.chat(ChatRequest(session_id=sid, message=note))
    assert (passed.action, passed.ticket_id) == ("queued", first.ticket_id) and passed.notice
    later = service.chat(ChatRequest(session_id=sid, message="She lives at number 14 too"))
    assert (later.action, later.notice) == ("queued", None)  # acknowledged once, not again


def test_every_reply_is_announced_and_a_failing_listener_changes_nothing(
    service: ChatService,
) -> None:
    seen: list[tuple[str, str]] = []
    service.replied.subscribe(lambda r: seen.append((r.action, r.language)))

    def broken(_result: ChatResult) -> None:
        raise RuntimeError("a listener that fails")

    service.replied.subscribe(broken)
    first = ask(service, "Which payment methods do you accept?")
    ask(service, "", human=True)
    assert first.action == "answer"
    assert seen == [("answer", "en"), ("handoff", "en")]
