"""Machine drafts of missing answers (and phrasings), written into the FAQ YAML for review.

Drafts go through bot/faq/edit.py, so the lead's comments and formatting stay as written.
Each drafted answer's language goes into the entry's ``drafts:`` list; `faqbot validate
--drafts` lists them and a lead accepts one by removing its language from that list.
Drafted phrasings carry a ``# machine draft`` comment to delete once checked. Languages an
entry already has (written or drafted) are never touched. The command is `faqbot translate`
(bot/cli/translate.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from bot.errors import FaqError, InputError, TranslationError
from bot.faq.edit import add_phrasings, set_answers
from bot.faq.load import Entry, normalise_phrasing
from bot.settings import ISO_639_1, Settings
from bot.translate.translator import Translator

AUTHOR = "faqbot translate"
QUESTION_NOTE = "machine draft: check, then delete this comment"


@dataclass(frozen=True)
class DraftRequest:
    """What to draft: from which language into which, and whether phrasings too."""

    source: str
    targets: list[str]
    questions: bool = False
    dry_run: bool = False  # print the drafts, write nothing


@dataclass
class Tally:
    """What `faqbot translate` did, per target language."""

    answers: Counter[str] = field(default_factory=Counter)  # drafted
    present: Counter[str] = field(default_factory=Counter)  # already had an answer
    phrasings: Counter[str] = field(default_factory=Counter)  # drafted
    refused: Counter[str] = field(default_factory=Counter)  # phrasing duplicates another entry
    failed: Counter[str] = field(default_factory=Counter)  # translation errors
    no_source: int = 0  # entries without a reviewed text in the source language
    no_pack: set[str] = field(default_factory=set)


def parse_targets(raw: str, settings: Settings) -> list[str]:
    """Return the target languages of a --to value: codes, comma-separated, or 'all'."""
    wanted: list[str] = []
    for part in raw.split(","):
        code = part.strip().lower()
        if not code:
            continue
        if code == "all":
            wanted.extend(settings.supported_languages)
            continue
        if code not in ISO_639_1:
            raise InputError(f"--to: '{part.strip()}' is not an ISO 639-1 code such as 'de'")
        wanted.append(code)
    if not wanted:
        raise InputError("--to needs at least one language, e.g. --to de,es")
    return list(dict.fromkeys(wanted))


def _translate_all(
    translator: Translator, texts: list[str], src: str, tgt: str
) -> list[str]:
    return [translator.translate(t, src, tgt) for t in texts]


def draft_entry(
    entry: Entry,
    request: DraftRequest,
    translator: Translator,
    settings: Settings,
    tally: Tally,
    out: TextIO,
    err: TextIO,
) -> None:
    """Draft the missing answers (and phrasings) of one entry into its file."""
    src, targets = request.source, request.targets
    pairs = translator.pairs()
    answers: dict[str, str] = {}
    for tgt in targets:
        if (src, tgt) not in pairs:
            tally.no_pack.add(tgt)
            continue
        if tgt in entry.answer:
            tally.present[tgt] += 1
            continue
        try:
            answers[tgt] = translator.translate(entry.answer[src], src, tgt)
        except TranslationError as exc:
            tally.failed[tgt] += 1
            print(f"warning: {entry.id} answer {src}->{tgt}: {exc}", file=err)
    if answers:
        for tgt, text in answers.items():
            if request.dry_run:
                print(f"{entry.path}:{entry.line}: {entry.id} [{tgt}] answer (draft): {text}",
                      file=out)
            tally.answers[tgt] += 1
        if not request.dry_run:
            set_answers(settings.faq_dir, entry.id, answers, True, AUTHOR,
                        default_language=settings.default_language)
    if not request.questions:
        return
    sources = list(entry.questions.get(src, ()))
    for tgt in targets:
        if (src, tgt) not in pairs or tgt in entry.questions or not sources:
            continue
        try:
            drafted = _translate_all(translator, sources, src, tgt)
        except TranslationError as exc:
            tally.failed[tgt] += 1
            print(f"warning: {entry.id} phrasings {src}->{tgt}: {exc}", file=err)
            continue
        unique = list({normalise_phrasing(t): t for t in drafted if t.strip()}.values())
        if request.dry_run:
            for text in unique:
                print(f"{entry.path}:{entry.line}: {entry.id} [{tgt}] phrasing (draft): {text}",
                      file=out)
            tally.phrasings[tgt] += len(unique)
            continue
        try:
            add_phrasings(settings.faq_dir, entry.id, tgt, unique, AUTHOR,
                          default_language=settings.default_language, note=QUESTION_NOTE)
            tally.phrasings[tgt] += len(unique)
        except FaqError:
            # A drafted phrasing equals another entry's: keep the others, skip that one.
            for text in unique:
                try:
                    add_phrasings(settings.faq_dir, entry.id, tgt, [text], AUTHOR,
                                  default_language=settings.default_language,
                                  note=QUESTION_NOTE)
                    tally.phrasings[tgt] += 1
                except FaqError as exc:
                    tally.refused[tgt] += 1
                    print(f"warning: {entry.id} [{tgt}] phrasing {text!r} not added: "
                          f"{exc.problems[0].message if exc.problems else exc}", file=err)
