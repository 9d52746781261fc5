"""Model lanes: which model matches which language, and keeping each lane's index live.

The main model serves every language it covers. Supported languages it lacks (Swedish, for
USE) get the fallback model: its question vectors mapped into the main index where a fitted
map exists (bot/matching/bridge.py, a "bridged" lane that builds nothing), else an index of
its own over fewer phrasings. Each lane has its own thresholds (settings.thresholds).

:func:`refresh_lanes` rebuilds what the FAQ files changed, lane by lane, the main one first,
so a slow fallback model never holds back the languages the main model serves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.faq.load import Entry, fingerprint, load_valid_faq
from bot.matching.bridge import load_bridge
from bot.matching.calibrate import effective_thresholds
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
from bot.matching.language import warm_language_detection
from bot.settings import Settings, Thresholds

log = logging.getLogger(__name__)


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
    # Searches the main lane's index with vectors mapped into its space (bot/matching/bridge.py)
    # instead of building an index of its own.
    bridged: bool = False


def build_lanes(
    settings: Settings,
    embedder: Embedder | None = None,
    make: Callable[[str], Embedder] = make_embedder,
) -> list[Lane]:
    """Return the main lane and, when the main model lacks a supported language, a fallback.

    An ``embedder`` given by the caller (a test's, a fake) serves every language alone;
    ``make`` builds the models named by the settings (the eval wraps them in a cache).
    """
    s = settings
    thresholds = s.thresholds
    main_model = embedder or make(s.model)
    lanes = [Lane(main_model, s.index_dir, thresholds.main, None)]
    covered = main_model.languages
    uncovered = [] if covered is None else [
        lang for lang in s.supported_languages if lang not in covered
    ]
    if not uncovered or not s.fallback_model or embedder is not None:
        return lanes
    # The main model keeps the fast path for every language it covers.
    lanes[0].languages = covered
    fallback = make(s.fallback_model)
    bridge = load_bridge(s.fallback_model, fallback, s.model, main_model) if s.fallback_bridge \
        else None
    if bridge is not None:
        lanes.append(Lane(bridge, s.index_dir, thresholds.bridge, None, bridged=True))
    else:
        lanes.append(Lane(
            fallback, s.index_dir / "fallback", thresholds.fallback, None,
            phrasing_languages=fallback_phrasings(s.default_language, uncovered),
        ))
    return lanes


def refresh_lanes(lanes: list[Lane], settings: Settings, progress: bool = False) -> ReloadStatus:
    """Rebuild each lane's index if the FAQ files changed; keep the old ones on any failure.

    Lanes go live one by one, the main one first. The caller serialises reloads.
    """
    started = time.perf_counter()
    reports: list[LaneReport] = []
    main = lanes[0]
    try:
        fp = fingerprint(settings.faq_files_dir)
        entries: list[Entry] | None = None
        for lane in lanes:
            if lane.bridged:  # nothing to build: it searches the main lane's index
                _warm(lane, main)
                lane.index = main.index
                reports.append(LaneReport(lane.embedder.name, 0, 0, 0.0,
                                          time.perf_counter() - started, bridged=True))
                continue
            name, langs = lane.embedder.name, lane.phrasing_languages
            # Only the main lane is calibrated: its index serves every language it covers and
            # the bridged lane; the clamps are set around USE-like cosine scores.
            calibrated = settings.calibrate and lane is main
            current = lane.index or try_load_index(lane.index_dir)
            embedded, reused, seconds = 0, current.size if current is not None else 0, 0.0
            if current is None or not is_current(current, fp, name, langs, calibrated):
                with build_lock(lane.index_dir):
                    # Another worker process may have built this FAQ while we waited; read its
                    # build only when the pointer moved (a 25,000-phrasing index takes ~0.3 s
                    # to load).
                    on_disk = current
                    if current is None or live_build_id(lane.index_dir) != current.version:
                        on_disk = try_load_index(lane.index_dir)
                    if on_disk is not None and is_current(on_disk, fp, name, langs, calibrated):
                        current, reused = on_disk, on_disk.size
                    else:
                        if entries is None:
                            entries = load_valid_faq(settings.faq_files_dir,
                                                     settings.default_language)
                        report: BuildReport = build_index(
                            entries, lane.embedder, lane.index_dir, fp,
                            previous=on_disk if on_disk is not None else current,
                            progress=progress, languages=langs,
                            calibrate_from=settings.thresholds.main if calibrated else None,
                        )
                        current = report.index
                        embedded, reused = report.embedded, report.reused
                        seconds = report.seconds
                        log.info(
                            "index %s (%s) built: %d phrasings embedded, %d reused, %.2fs",
                            current.version, name, report.embedded, report.reused,
                            report.seconds,
                        )
            _warm(lane, main)
            lane.index = current  # one reference assignment: an atomic swap
            if lane is main:
                _apply_calibration(lanes, settings)
            reports.append(LaneReport(name, embedded, reused, seconds,
                                      time.perf_counter() - started))
        return ReloadStatus(
            True, None, time.time(), sum(r.embedded for r in reports),
            sum(r.reused for r in reports), sum(r.seconds for r in reports), reports,
        )
    except Exception as exc:  # any failure must leave the last good index serving
        for lane in lanes:
            if lane.index is None:
                lane.index = main.index if lane.bridged else try_load_index(lane.index_dir)
        log.error("FAQ reload failed, keeping the last good index: %s", exc)
        return ReloadStatus(False, str(exc), time.time(), lanes=reports)


def _apply_calibration(lanes: list[Lane], settings: Settings) -> None:
    """Give the main and bridged lanes the thresholds fitted to the live index, if any.

    Thresholds set explicitly (FAQBOT_ANSWER_THRESHOLD ...) win over calibrated ones. The
    bridged lane (Swedish questions mapped into the main index) moves by as much as the main
    lane did: its scores sit on the same index, lower by a model-specific offset.
    """
    main = lanes[0]
    configured = settings.thresholds
    cal = main.index.calibration if main.index is not None and settings.calibrate else None
    main.thresholds = effective_thresholds(configured.main, cal, settings.explicit_thresholds,
                                           "")
    # Main thresholds pinned by hand: the bridged lane keeps its configured ones too.
    pinned = {"answer_threshold", "clarify_threshold"} & settings.explicit_thresholds
    for lane in lanes[1:]:
        if lane.bridged and not pinned:
            lane.thresholds = effective_thresholds(
                configured.bridge, cal, settings.explicit_thresholds, "bridge_",
                shift_from=configured.main,
            )


def _warm(lane: Lane, main: Lane) -> None:
    """Load what a lane's first question would need before the lane goes live.

    The models load their weights on first use, and language detection its 55 profiles:
    0.5-2 s that the first shopper of each worker process paid (p95 of a short run at 3
    workers: 0.5-1.5 s, BENCHMARKS.md).
    """
    if lane.warm:
        return
    lane.embedder.embed(["Where is my order?"])
    if lane is main:
        warm_language_detection()
    lane.warm = True
