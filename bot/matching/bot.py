"""The bot: one question in, a decision and an answer in the shopper's language out.

A question goes through typed steps, each a method of :class:`FaqBot` that the chat, the
command line and the devtools (``faqbot eval``, ``faqbot bench``) call rather than copy:

    normalise_message   clean the text once (empty -> 400, too long -> 413)
    detect              its language, once (or an explicit one, checked once) -> Query
    lane_for            the model lane that serves that language             -> Lane
    embed               the lane's model on the text, accents put back       -> vectors
    search              the lane's live index, best phrasing per entry       -> [Hit]
    decide              answer | clarify | hand off, by the lane's thresholds
                        (and the head's score below the clarify threshold)   -> Decision
    reply               the answer localised: written > draft > translated > default -> Reply

``FaqBot`` owns the live indexes (bot/matching/lanes.py) and swaps them atomically on
reload; a reload that fails (bad YAML, model error) keeps the last good index answering and
records the error. Each reload is announced on ``FaqBot.reloaded``.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bot.errors import FaqbotError, IndexStateError, InputError, MessageTooLong, TranslationError
from bot.events import Event
from bot.faq.load import Entry
from bot.matching.accents import restore
from bot.matching.decide import Action, Decision, confidence, decide
from bot.matching.embedder import Embedder, Vectors, make_embedder
from bot.matching.index import Hit, SearchIndex
from bot.matching.lanes import Lane, ReloadStatus, build_lanes, refresh_lanes
from bot.matching.language import Detection, detect_language, supported_language
from bot.settings import Settings
from bot.translate.translator import NullTranslator, Translator

log = logging.getLogger(__name__)

TOP_K = 5  # entries searched per question: the decision looks at 2, suggestions at 3


def normalise_message(text: str, max_chars: int) -> str:
    """Clean a shopper message, refusing empty and oversized ones with a reason."""
    if not isinstance(text, str):
        raise InputError("the message must be text")
    cleaned = unicodedata.normalize("NFKC", text)
    # Control and format characters (zero-width spaces, bidi marks) carry no meaning here.
    cleaned = "".join(
        c for c in cleaned if unicodedata.category(c) not in ("Cc", "Cf") or c in "\n\t"
    )
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise InputError("the message is empty")
    if len(cleaned) > max_chars:
        raise MessageTooLong(f"the message is {len(cleaned)} characters; the limit is {max_chars}")
    return cleaned


@dataclass(frozen=True)
class Query:
    """A shopper's question: text cleaned once, its language decided once."""

    text: str
    detection: Detection
    market: str | None = None

    @property
    def language(self) -> str:
        """Return the language the question is answered in."""
        return self.detection.language

    @property
    def for_model(self) -> str:
        """Return the text the model embeds: as typed, with left-out accents put back
        (bot/matching/accents.py); ``text`` stays as typed for tickets and transcripts."""
        return restore(self.text, self.language)


@dataclass(frozen=True)
class Suggestion:
    """An entry offered when the bot is unsure."""

    faq_id: str
    question: str
    confidence: float


@dataclass(frozen=True)
class Guess:
    """One of the bot's best entries for a question, kept on a ticket for the agent."""

    faq_id: str
    score: float


@dataclass(frozen=True)
class Localised:
    """An entry's answer in the language it could be given in."""

    text: str
    language: str
    machine_translated: bool


@dataclass(frozen=True)
class Reply:
    """Everything the bot decided about one question."""

    question: str
    language: str
    action: Action
    faq_id: str | None = None
    confidence: float = 0.0
    answer: str | None = None
    answer_language: str | None = None
    suggestions: tuple[Suggestion, ...] = ()
    language_source: str = "default"
    machine_translated: bool = False
    entry_handoff: bool = False
    guesses: tuple[Guess, ...] = ()

    def contract(self) -> dict[str, Any]:
        """Return exactly the fields of the `faqbot ask --json` contract."""
        return {
            "question": self.question,
            "language": self.language,
            "action": self.action,
            "faq_id": self.faq_id,
            "confidence": self.confidence,
            "answer": self.answer,
            "answer_language": self.answer_language,
            "suggestions": [asdict(s) for s in self.suggestions],
        }


class FaqBot:
    """Answers questions from the live index; reloads and swaps it safely."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        translator: Translator | None = None,
        make: Callable[[str], Embedder] = make_embedder,
    ) -> None:
        self.settings = settings
        self.translator: Translator = translator or NullTranslator()
        self.lanes = build_lanes(settings, embedder, make)
        self.embedder = self.lanes[0].embedder  # the main model
        self.reloaded: Event[ReloadStatus] = Event("FaqBot.reloaded")
        self._reload_lock = threading.Lock()
        self.status = ReloadStatus()

    # ---- the index ----
    @property
    def index(self) -> SearchIndex:
        """Return the main lane's live index, loading or building it on first use."""
        return self._lane_index(self.lanes[0])

    def _lane_index(self, lane: Lane) -> SearchIndex:
        if lane.index is None:
            self.reload()
        if lane.index is None:
            raise IndexStateError(self.status.error or "no index could be built or loaded")
        return lane.index

    @property
    def ready(self) -> bool:
        """Tell whether the main index is live (a fallback lane may still be building)."""
        return self.lanes[0].index is not None

    def reload(self, progress: bool = False) -> ReloadStatus:
        """Rebuild from the FAQ files if they changed; keep the old index on any failure."""
        with self._reload_lock:
            self.status = refresh_lanes(self.lanes, self.settings, progress)
            status = self.status
        self.reloaded.emit(status)
        return status

    # ---- the steps of one question ----
    def detect(self, text: str, hints: Sequence[str | None] = ()) -> Detection:
        """Decide the language of ``text``; short or unsure text takes the first usable hint."""
        s = self.settings
        return detect_language(text, s.supported_languages, s.default_language, hints)

    def lane_for(self, language: str) -> Lane:
        """Return the live lane whose model covers ``language``, else the main one."""
        for lane in self.lanes:
            if lane.languages is None or language in lane.languages:
                # A bridged lane searches the main index, so it is live when that is; before,
                # asking it waits for the main index like any question (not USE meanwhile).
                return lane if lane.index is not None or lane.bridged else self.lanes[0]
        return self.lanes[0]

    def embed(self, lane: Lane, texts: list[str]) -> Vectors:
        """Embed texts with the lane's model (one row per text)."""
        return lane.embedder.embed(texts)

    def space(self, lane: Lane) -> Embedder:
        """Return the model whose vector space a lane's question vectors are in.

        A bridged lane maps its model's vectors into the main model's space (bridge.py), so
        anything compared with them (the index, the triage examples) is the main model's.
        """
        return self.embedder if lane.bridged else lane.embedder

    def search(
        self, lane: Lane, vector: Vectors, market: str | None = None, k: int = TOP_K
    ) -> list[Hit]:
        """Return the lane's best ``k`` entries for a question vector, best first."""
        return self._lane_index(lane).search(vector, k=k, market=market)

    def decide(self, lane: Lane, hits: list[Hit], vector: Vectors | None = None) -> Decision:
        """Answer, clarify or hand off, by the lane's thresholds.

        Below the clarify threshold the head (bot/matching/head.py) has a say, for questions
        whose ``vector`` is in the main model's space (the main lane and bridged lanes).
        """
        t = lane.thresholds
        head = None
        if vector is not None and hits and hits[0].score < t.clarify and t.head_clarify is not None:
            head = self.head_score(lane, vector, hits[0].entry.id)
        return decide(hits, t, head)

    def head_score(self, lane: Lane, vector: Vectors, entry_id: str) -> float | None:
        """Return the head's score of a question vector for one entry; None for a lane whose
        vectors are not in the main model's space or a model without a head."""
        if lane is not self.lanes[0] and not lane.bridged:
            return None
        return self._lane_index(lane).head_confidence(vector, entry_id)

    def reply(self, query: Query, hits: list[Hit], decision: Decision) -> Reply:
        """Turn a decision into the reply: the answer localised, or suggestions, or neither."""
        lang, source = query.language, query.detection.source
        guesses = tuple(Guess(h.entry.id, round(h.score, 4)) for h in hits[:3])
        best = decision.best
        if decision.action == "answer" and best is not None:
            answer = self.localise(best.entry, lang)
            return Reply(
                question=query.text, language=lang, action="answer", faq_id=best.entry.id,
                confidence=confidence(best.score), answer=answer.text,
                answer_language=answer.language, language_source=source,
                machine_translated=answer.machine_translated, entry_handoff=best.entry.handoff,
                guesses=guesses,
            )
        if decision.action == "clarify" and best is not None:
            suggestions = tuple(
                Suggestion(h.entry.id, self.question_in(h.entry, lang), confidence(h.score))
                for h in decision.suggestions
            )
            return Reply(
                question=query.text, language=lang, action="clarify", faq_id=best.entry.id,
                confidence=confidence(best.score), suggestions=suggestions,
                language_source=source, guesses=guesses,
            )
        top = confidence(hits[0].score) if hits else 0.0
        return Reply(question=query.text, language=lang, action="handoff", confidence=top,
                     language_source=source, guesses=guesses)

    def answer(self, query: Query) -> Reply:
        """Answer a prepared question: lane, embed, search, decide, reply."""
        lane = self.lane_for(query.language)
        index = self._lane_index(lane)  # before embedding: no index, no model call
        vector = self.embed(lane, [query.for_model])[0]
        hits = index.search(vector, k=TOP_K, market=query.market)
        return self.reply(query, hits, self.decide(lane, hits, vector))

    def answer_entry(self, faq_id: str, query: Query) -> Reply | None:
        """Answer with the entry the shopper picked (a suggestion); None when it is gone."""
        try:
            entry = self.index.entries.get(faq_id)
        except FaqbotError:  # no index: the normal path hands off
            return None
        if entry is None:
            return None  # a chip from an older index: the text is answered instead
        answer = self.localise(entry, query.language)
        return Reply(
            question=query.text, language=query.language, action="answer", faq_id=entry.id,
            confidence=1.0, answer=answer.text, answer_language=answer.language,
            language_source="suggestion", machine_translated=answer.machine_translated,
            entry_handoff=entry.handoff, guesses=(Guess(entry.id, 1.0),),
        )

    def ask(
        self,
        question: str,
        lang_hint: str | None = None,
        market: str | None = None,
        hints: Sequence[str | None] = (),
        language: str | None = None,
    ) -> Reply:
        """Answer one raw question; ``language`` forces the language, hints only break ties."""
        text = normalise_message(question, self.settings.max_message_chars)
        if language:
            code = supported_language(language, self.settings.supported_languages)
            detection = Detection(code, True, "explicit")
        else:
            detection = self.detect(text, [lang_hint, *hints])
        return self.answer(Query(text, detection, market))

    # ---- answers ----
    def question_in(self, entry: Entry, lang: str) -> str:
        """Return the entry's first phrasing in ``lang``, else in the default language."""
        for code in (lang, self.settings.default_language):
            if code in entry.questions:
                return entry.questions[code][0]
        return next(iter(entry.questions.values()))[0]

    def localise(self, entry: Entry, lang: str) -> Localised:
        """Pick the answer text: written > machine draft > live translation > default."""
        if lang in entry.answer and lang not in entry.drafts:
            return Localised(entry.answer[lang], lang, False)
        if lang in entry.answer:
            return Localised(entry.answer[lang], lang, True)
        default = self.settings.default_language
        source = default if default in entry.answer else next(iter(entry.answer))
        try:
            return Localised(self.translator.translate(entry.answer[source], source, lang),
                             lang, True)
        except TranslationError as exc:
            log.info("answer of %s stays in %s: %s", entry.id, source, exc)
        return Localised(entry.answer[source], source, False)
