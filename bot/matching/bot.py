"""The bot: one question in, a decision and an answer in the shopper's language out.

``FaqBot`` owns the live index and swaps it atomically on reload; a reload that fails (bad
YAML, model error) keeps the last good index answering and records the error.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import IndexStateError, InputError, TranslationError
from bot.faq.load import Entry, fingerprint, load_valid_faq
from bot.matching.bridge import load_bridge
from bot.matching.decide import Action, Thresholds, confidence, decide
from bot.matching.embedder import Embedder, make_embedder
from bot.matching.index import (
    BuildReport,
    SearchIndex,
    build_index,
    build_lock,
    is_current,
    live_build_id,
    try_load_index,
)
from bot.matching.language import Detection, detect_language, warm_language_detection
from bot.settings import Settings
from bot.translate.translator import NullTranslator, Translator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestion:
    """An entry offered when the bot is unsure."""

    faq_id: str
    question: str
    confidence: float


@dataclass(frozen=True)
class Reply:
    """Everything the bot decided about one question."""

    question: str
    language: str
    action: Action
    faq_id: str | None
    confidence: float
    answer: str | None
    answer_language: str | None
    suggestions: list[Suggestion]
    language_source: str = "default"
    machine_translated: bool = False
    entry_handoff: bool = False
    guesses: list[dict[str, Any]] = field(default_factory=list)

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
        raise InputError(f"the message is {len(cleaned)} characters; the limit is {max_chars}")
    return cleaned


def fallback_phrasings(default_language: str, languages: list[str]) -> frozenset[str]:
    """Return the phrasing languages a fallback lane for ``languages`` indexes.

    Its own languages and the default one (which every entry is written in). Measured on a
    MASSIVE FAQ with phrasings in 13 languages, Swedish questions matched better with only
    these (acc@1 58.7 vs 55.1 % on dev) and the lane embeds far fewer phrasings (shipped FAQ:
    249 instead of 1,544). BENCHMARKS.md, "Index build".
    """
    return frozenset([default_language, *languages])


@dataclass(frozen=True)
class LaneReport:
    """What one reload did in one lane."""

    model: str
    embedded: int
    reused: int
    seconds: float  # building this lane's index
    live_after: float  # from the start of the reload until this lane's index was live
    bridged: bool = False  # the lane searches the main lane's index (built nothing itself)


@dataclass
class ReloadStatus:
    """What the last reload did; shown in the lead status and /health."""

    ok: bool = True
    error: str | None = None
    at: float = 0.0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    lanes: list[LaneReport] = field(default_factory=list)


@dataclass
class Lane:
    """One model with its own index and thresholds, used for the languages it covers."""

    embedder: Embedder
    index_dir: Path
    thresholds: Thresholds
    languages: frozenset[str] | None  # None = every language
    index: SearchIndex | None = None
    # Languages of the phrasings this lane indexes (None = all; see index.select_phrasings).
    phrasing_languages: frozenset[str] | None = None
    warm: bool = False  # the model has answered once (weights loaded)
    # Searches the main lane's index with vectors mapped into its space (bot/bridge.py)
    # instead of building an index of its own.
    bridged: bool = False


class FaqBot:
    """Answers questions from the live index; reloads and swaps it safely."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        translator: Translator | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.model)
        self.translator: Translator = translator or NullTranslator()
        self.thresholds = Thresholds(
            settings.answer_threshold, settings.clarify_threshold, settings.margin
        )
        self.lanes = [Lane(self.embedder, settings.index_dir, self.thresholds, None)]
        covered = self.embedder.languages
        uncovered = [] if covered is None else [
            lang for lang in settings.supported_languages if lang not in covered
        ]
        if uncovered and settings.fallback_model and embedder is None:
            # Languages the main model lacks get a second model: its question vectors mapped
            # into the main index where a fitted map exists (bot/bridge.py), else an index of
            # its own. The main model keeps the fast path for every language it covers.
            self.lanes[0].languages = covered
            fallback = make_embedder(settings.fallback_model)
            bridge = load_bridge(
                settings.fallback_model, fallback, settings.model, self.embedder
            ) if settings.fallback_bridge else None
            if bridge is not None:
                self.lanes.append(Lane(
                    bridge, settings.index_dir,
                    Thresholds(settings.bridge_answer_threshold,
                               settings.bridge_clarify_threshold, settings.bridge_margin),
                    None, bridged=True,
                ))
            else:
                self.lanes.append(Lane(
                    fallback,
                    settings.index_dir / "fallback",
                    Thresholds(settings.fallback_answer_threshold,
                               settings.fallback_clarify_threshold, settings.fallback_margin),
                    None,
                    phrasing_languages=fallback_phrasings(settings.default_language, uncovered),
                ))
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

    def lane_for(self, language: str) -> Lane:
        """Return the live lane whose model covers ``language``, else the main one."""
        for lane in self.lanes:
            if lane.languages is None or language in lane.languages:
                # A bridged lane searches the main index, so it is live when that is; before,
                # asking it waits for the main index like any question (not USE meanwhile).
                return lane if lane.index is not None or lane.bridged else self.lanes[0]
        return self.lanes[0]

    def reload(self, progress: bool = False) -> ReloadStatus:
        """Rebuild from the FAQ files if they changed; keep the old index on any failure."""
        with self._reload_lock:
            s = self.settings
            started = time.perf_counter()
            reports: list[LaneReport] = []
            try:
                fp = fingerprint(s.faq_dir)
                entries: list[Entry] | None = None
                # Lanes go live one by one, the main one first, so a slow fallback model never
                # holds back the languages the main model serves.
                for lane in self.lanes:
                    if lane.bridged:  # nothing to build: it searches the main lane's index
                        self._warm(lane)
                        lane.index = self.lanes[0].index
                        reports.append(LaneReport(lane.embedder.name, 0, 0, 0.0,
                                                  time.perf_counter() - started, bridged=True))
                        continue
                    name, langs = lane.embedder.name, lane.phrasing_languages
                    current = lane.index or try_load_index(lane.index_dir)
                    embedded, reused, seconds = 0, current.size if current is not None else 0, 0.0
                    if current is None or not is_current(current, fp, name, langs):
                        with build_lock(lane.index_dir):
                            # Another worker process may have built this FAQ while we waited;
                            # read its build only when the pointer moved (a 25,000-phrasing
                            # index takes ~0.3 s to load).
                            on_disk = current
                            if current is None or live_build_id(lane.index_dir) != current.version:
                                on_disk = try_load_index(lane.index_dir)
                            if on_disk is not None and is_current(on_disk, fp, name, langs):
                                current, reused = on_disk, on_disk.size
                            else:
                                if entries is None:
                                    entries = load_valid_faq(s.faq_dir, s.default_language)
                                report: BuildReport = build_index(
                                    entries, lane.embedder, lane.index_dir, fp,
                                    previous=on_disk if on_disk is not None else current,
                                    progress=progress, languages=langs,
                                )
                                current = report.index
                                embedded, reused = report.embedded, report.reused
                                seconds = report.seconds
                                log.info(
                                    "index %s (%s) built: %d phrasings embedded, %d reused, "
                                    "%.2fs", current.version, name, report.embedded,
                                    report.reused, report.seconds,
                                )
                    self._warm(lane)
                    lane.index = current  # one reference assignment: an atomic swap
                    reports.append(LaneReport(name, embedded, reused, seconds,
                                              time.perf_counter() - started))
                self.status = ReloadStatus(
                    True, None, time.time(), sum(r.embedded for r in reports),
                    sum(r.reused for r in reports), sum(r.seconds for r in reports), reports,
                )
            except Exception as exc:  # any failure must leave the last good index serving
                for lane in self.lanes:
                    if lane.index is None:
                        lane.index = (self.lanes[0].index if lane.bridged
                                      else try_load_index(lane.index_dir))
                self.status = ReloadStatus(False, str(exc), time.time(), lanes=reports)
                log.error("FAQ reload failed, keeping the last good index: %s", exc)
            return self.status

    def _warm(self, lane: Lane) -> None:
        """Load what a lane's first question would need before the lane goes live.

        The models load their weights on first use, and language detection its 55 profiles:
        0.5-2 s that the first shopper of each worker process paid (p95 of a short run at 3
        workers: 0.5-1.5 s, BENCHMARKS.md).
        """
        if lane.warm:
            return
        lane.embedder.embed(["Where is my order?"])
        if lane is self.lanes[0]:
            warm_language_detection()
        lane.warm = True

    # ---- answering ----
    def detect(self, text: str, hints: list[str | None] | None = None) -> Detection:
        s = self.settings
        return detect_language(text, s.supported_languages, s.default_language, hints or [])

    def ask(
        self,
        question: str,
        lang_hint: str | None = None,
        market: str | None = None,
        hints: list[str | None] | None = None,
        language: str | None = None,
    ) -> Reply:
        """Answer one question; ``language`` forces the language, hints only break ties."""
        text = normalise_message(question, self.settings.max_message_chars)
        if language:
            if language not in self.settings.supported_languages:
                raise InputError(
                    f"language '{language}' is not supported; use one of "
                    + ", ".join(self.settings.supported_languages)
                )
            detection = Detection(language, True, "explicit")
        else:
            detection = self.detect(text, [lang_hint, *(hints or [])])
        lang = detection.language
        lane = self.lane_for(lang)
        index = self._lane_index(lane)
        vector = lane.embedder.embed([text])[0]
        hits = index.search(vector, k=5, market=market)
        decision = decide(hits, lane.thresholds)
        guesses = [{"faq_id": h.entry.id, "score": round(h.score, 4)} for h in hits[:3]]
        best = decision.best
        if decision.action == "answer" and best is not None:
            answer, answer_lang, machine = self.localise(best.entry, lang)
            return Reply(
                text, lang, "answer", best.entry.id, confidence(best.score), answer, answer_lang,
                [], detection.source, machine, best.entry.handoff, guesses,
            )
        if decision.action == "clarify" and best is not None:
            suggestions = [
                Suggestion(h.entry.id, self.question_in(h.entry, lang), confidence(h.score))
                for h in decision.suggestions
            ]
            return Reply(
                text, lang, "clarify", best.entry.id, confidence(best.score), None, None,
                suggestions, detection.source, False, False, guesses,
            )
        top = confidence(hits[0].score) if hits else 0.0
        return Reply(
            text, lang, "handoff", None, top, None, None, [], detection.source, False, False,
            guesses,
        )

    def question_in(self, entry: Entry, lang: str) -> str:
        """Return the entry's first phrasing in ``lang``, else in the default language."""
        for code in (lang, self.settings.default_language):
            if code in entry.questions:
                return entry.questions[code][0]
        return next(iter(entry.questions.values()))[0]

    def localise(self, entry: Entry, lang: str) -> tuple[str, str, bool]:
        """Pick the answer text: written > machine draft > live translation > default."""
        if lang in entry.answer and lang not in entry.drafts:
            return entry.answer[lang], lang, False
        if lang in entry.answer:
            return entry.answer[lang], lang, True
        default = self.settings.default_language
        source = default if default in entry.answer else next(iter(entry.answer))
        try:
            return self.translator.translate(entry.answer[source], source, lang), lang, True
        except TranslationError as exc:
            log.info("answer of %s stays in %s: %s", entry.id, source, exc)
        return entry.answer[source], source, False
