"""Measure triage on labelled messages: accuracy per kind and per language, and what it costs.

The messages go through what a chat turn does: language detection (the labelled language as
the widget's locale hint), the embedding of the lane that language uses, the FAQ search
(its best score is evidence), then the classifier. Labelled files are JSONL:
``{"text", "lang", "label"}`` (tests/data/triage_dev.jsonl; see its README).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.chat.triage import TriageClassifier, TriageResult
from bot.chat.triage_data import KINDS, SMALL_TALK
from bot.errors import InputError
from bot.matching.bot import FaqBot, Query, normalise_message

QUESTIONS = ("faq", "order")


@dataclass(frozen=True)
class Labelled:
    """One labelled message."""

    text: str
    lang: str
    label: str


@dataclass
class TriageReport:
    """Accuracy overall, per kind (recall) and per language, with every miss."""

    total: int = 0
    correct: int = 0
    per_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [correct, total]
    per_language: dict[str, list[int]] = field(default_factory=dict)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    misses: list[dict[str, str]] = field(default_factory=list)
    questions: int = 0
    questions_as_small_talk: int = 0
    questions_as_noise: int = 0
    triage_ms: list[float] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        def rate(pair: list[int]) -> float:
            return round(pair[0] / pair[1], 4) if pair[1] else 0.0

        ms = sorted(self.triage_ms)
        return {
            "messages": self.total,
            "accuracy": round(self.accuracy, 4),
            "per_kind": {k: {"accuracy": rate(v), "n": v[1]}
                         for k, v in sorted(self.per_kind.items())},
            "per_language": {k: {"accuracy": rate(v), "n": v[1]}
                             for k, v in sorted(self.per_language.items())},
            "questions": self.questions,
            "questions_taken_for_small_talk": self.questions_as_small_talk,
            "questions_taken_for_noise": self.questions_as_noise,
            "confusion": [{"label": a, "predicted": b, "n": n}
                          for (a, b), n in self.confusion.most_common()],
            "misses": self.misses,
            "triage_ms": {"median": round(statistics.median(ms), 4) if ms else 0.0,
                          "p95": round(ms[int(0.95 * (len(ms) - 1))], 4) if ms else 0.0},
        }


def read_labelled(path: Path) -> list[Labelled]:
    """Read a JSONL file of labelled messages, naming the line of any bad one."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            row = Labelled(str(raw["text"]), str(raw["lang"]), str(raw["label"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{n}: expected {{text, lang, label}}: {exc}") from None
        if row.label not in KINDS:
            raise InputError(f"{path}:{n}: label {row.label!r} is not one of {', '.join(KINDS)}")
        rows.append(row)
    return rows


def triage_one(
    bot: FaqBot, triage: TriageClassifier, text: str, hint: str | None = None
) -> tuple[TriageResult, float]:
    """Triage one message as a chat turn does; return the result and the ms triage took.

    Detect, embed once with the language's lane, search (the FAQ's best score is evidence),
    then classify with that same vector.
    """
    clean = normalise_message(text, bot.settings.max_message_chars)
    query = Query(clean, bot.detect(clean, [hint]))
    lane = bot.lane_for(query.language)
    vector = bot.embed(lane, [query.for_model])[0]
    hits = bot.search(lane, vector)
    started = time.perf_counter()
    got = triage.classify(clean, vector, bot.space(lane), hits[0].score if hits else None)
    return got, (time.perf_counter() - started) * 1000


def evaluate(bot: FaqBot, triage: TriageClassifier, rows: list[Labelled]) -> TriageReport:
    """Triage every row and compare with its label."""
    report = TriageReport()
    for row in rows:
        got, ms = triage_one(bot, triage, row.text, row.lang)
        report.triage_ms.append(ms)
        ok = got.kind == row.label
        report.total += 1
        report.correct += ok
        for bucket, key in ((report.per_kind, row.label), (report.per_language, row.lang)):
            pair = bucket.setdefault(key, [0, 0])
            pair[0] += ok
            pair[1] += 1
        if row.label in QUESTIONS:
            report.questions += 1
            report.questions_as_small_talk += got.kind in SMALL_TALK
            report.questions_as_noise += got.kind == "noise"
        if not ok:
            report.confusion[(row.label, got.kind)] += 1
            report.misses.append({"text": row.text, "lang": row.lang, "label": row.label,
                                  "predicted": got.kind, "evidence": got.evidence})
    return report


def render(report: TriageReport) -> str:
    """Return the report as Markdown tables."""
    d = report.to_dict()
    lines = [f"triage accuracy: {d['accuracy']:.1%} of {d['messages']} messages; questions "
             f"taken for small talk: {d['questions_taken_for_small_talk']} of "
             f"{d['questions']}, for noise: {d['questions_taken_for_noise']}; triage "
             f"{d['triage_ms']['median']:.3f} ms median", "",
             "| kind | accuracy | n |", "|---|---|---|"]
    lines += [f"| {k} | {v['accuracy']:.1%} | {v['n']} |" for k, v in d["per_kind"].items()]
    lines += ["", "| language | accuracy | n |", "|---|---|---|"]
    lines += [f"| {k} | {v['accuracy']:.1%} | {v['n']} |" for k, v in d["per_language"].items()]
    if d["misses"]:
        lines += ["", "misses (label -> predicted):"]
        lines += [f"- [{m['lang']}] {m['text']!r}: {m['label']} -> {m['predicted']} "
                  f"({m['evidence']})" for m in d["misses"]]
    return "\n".join(lines)
