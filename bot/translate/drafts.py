"""The `faqbot packs` and `faqbot translate` commands: manage language packs, draft answers.

    faqbot packs list                       installed packs and the pairs they give
    faqbot packs install FILE.argosmodel    check and install a pack file (offline)
    faqbot packs download de es fr          fetch packs to and from English (needs internet)
    faqbot translate --to de,es [--questions] [--from en] [--entry ID] [--dry-run]

`translate` writes machine drafts of missing answers (and, with --questions, phrasings) into
the FAQ YAML through bot.faq.edit, so the lead's comments and formatting stay as written.
Each drafted answer's language goes into the entry's ``drafts:`` list; `faqbot validate
--drafts` lists them and a lead accepts one by removing its language from that list.
Drafted phrasings carry a ``# machine draft`` comment to delete once checked. Languages an
entry already has (written or drafted) are never touched.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import FaqError, InputError, TranslationError
from bot.faq.edit import add_phrasings, set_answers
from bot.faq.load import Entry, load_valid_faq, normalise_phrasing
from bot.matching.language import ISO_639_1
from bot.settings import Settings, load_settings
from bot.translate.translator import (
    PIVOT,
    NullTranslator,
    Translator,
    download_packs,
    install_pack,
    list_packs,
    translator_from_settings,
)

AUTHOR = "faqbot translate"
QUESTION_NOTE = "machine draft: check, then delete this comment"


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "faq_dir", None):
        overrides["faq_dir"] = Path(args.faq_dir)
    if getattr(args, "packs_dir", None):
        overrides["packs_dir"] = Path(args.packs_dir)
    return load_settings(**overrides)


# --- packs ------------------------------------------------------------------------------------


def cmd_packs_list(args: argparse.Namespace) -> int:
    """Print the installed packs and the pairs reachable through English."""
    packs_dir = _settings(args).packs_dir
    packs = list_packs(packs_dir)
    if not packs:
        print(f"no language packs in {packs_dir}; install one with "
              "`faqbot packs install FILE.argosmodel`")
        return 0
    for info in packs:
        print(f"{info.from_code}->{info.to_code}  {info.version or '?':8} "
              f"splitter={info.splitter}  {info.path}")
    direct = {p.pair for p in packs}
    into = sorted(s for s, t in direct if t == PIVOT)
    out_of = sorted(t for s, t in direct if s == PIVOT)
    pivots = [f"{s}->{t}" for s in into for t in out_of if s != t and (s, t) not in direct]
    if pivots:
        print(f"through English: {', '.join(pivots)}")
    return 0


def cmd_packs_install(args: argparse.Namespace) -> int:
    """Install .argosmodel files into the packs directory."""
    packs_dir = _settings(args).packs_dir
    for file in args.files:
        info = install_pack(Path(file), packs_dir)
        print(f"installed {info.from_code}->{info.to_code} {info.version} -> {info.path}")
    print("restart the server (or reload it) to use new packs", file=sys.stderr)
    return 0


def cmd_packs_download(args: argparse.Namespace) -> int:
    """Download packs to and from English through argostranslate's index (needs internet)."""
    packs_dir = _settings(args).packs_dir
    installed = download_packs(args.codes, packs_dir)
    for info in installed:
        print(f"installed {info.from_code}->{info.to_code} {info.version} -> {info.path}")
    if not installed:
        print("the argostranslate index has no pack for those languages", file=sys.stderr)
        return 1
    return 0


# --- translate --------------------------------------------------------------------------------


@dataclass
class _Tally:
    """What `faqbot translate` did, per target language."""

    answers: Counter[str] = field(default_factory=Counter)  # drafted
    present: Counter[str] = field(default_factory=Counter)  # already had an answer
    phrasings: Counter[str] = field(default_factory=Counter)  # drafted
    refused: Counter[str] = field(default_factory=Counter)  # phrasing duplicates another entry
    failed: Counter[str] = field(default_factory=Counter)  # translation errors
    no_source: int = 0  # entries without a reviewed text in the source language
    no_pack: set[str] = field(default_factory=set)


def _targets(raw: str, settings: Settings) -> list[str]:
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


def _draft_entry(
    entry: Entry,
    src: str,
    targets: list[str],
    translator: Translator,
    args: argparse.Namespace,
    settings: Settings,
    tally: _Tally,
) -> None:
    """Draft the missing answers (and phrasings) of one entry into its file."""
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
            print(f"warning: {entry.id} answer {src}->{tgt}: {exc}", file=sys.stderr)
    if answers:
        for tgt, text in answers.items():
            if args.dry_run:
                print(f"{entry.path}:{entry.line}: {entry.id} [{tgt}] answer (draft): {text}")
            tally.answers[tgt] += 1
        if not args.dry_run:
            set_answers(settings.faq_dir, entry.id, answers, True, AUTHOR,
                        default_language=settings.default_language)
    if not args.questions:
        return
    sources = list(entry.questions.get(src, ()))
    for tgt in targets:
        if (src, tgt) not in pairs or tgt in entry.questions or not sources:
            continue
        try:
            drafted = _translate_all(translator, sources, src, tgt)
        except TranslationError as exc:
            tally.failed[tgt] += 1
            print(f"warning: {entry.id} phrasings {src}->{tgt}: {exc}", file=sys.stderr)
            continue
        unique = list({normalise_phrasing(t): t for t in drafted if t.strip()}.values())
        if args.dry_run:
            for text in unique:
                print(f"{entry.path}:{entry.line}: {entry.id} [{tgt}] phrasing (draft): {text}")
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
                          f"{exc.problems[0].message if exc.problems else exc}", file=sys.stderr)


def cmd_translate(args: argparse.Namespace) -> int:
    """Write machine drafts of missing answers (and phrasings) into the FAQ YAML."""
    settings = _settings(args)
    src = (args.source or settings.default_language).lower()
    if src not in ISO_639_1:
        raise InputError(f"--from: '{src}' is not an ISO 639-1 code such as 'en'")
    targets = [t for t in _targets(args.to, settings) if t != src]
    if not targets:
        raise InputError(f"--to names only the source language '{src}'")
    entries = load_valid_faq(settings.faq_dir, settings.default_language)
    if args.entry:
        known = {e.id for e in entries}
        missing = sorted(set(args.entry) - known)
        if missing:
            raise InputError(f"--entry: no entry {', '.join(missing)} in {settings.faq_dir}")
        entries = [e for e in entries if e.id in set(args.entry)]
    translator = translator_from_settings(settings)
    if isinstance(translator, NullTranslator):
        print(f"error: no usable translation packs in {settings.packs_dir}; install them with "
              "`faqbot packs install FILE.argosmodel` (or `faqbot packs download "
              f"{' '.join(targets)}` where there is internet)", file=sys.stderr)
        return 1
    pairs = translator.pairs()
    uncovered = [t for t in targets if (src, t) not in pairs]
    installed = ", ".join(f"{s}->{t}" for s, t in sorted(pairs)) or "none"
    for tgt in uncovered:
        print(f"error: no pack covers {src}->{tgt}, directly or through English "
              f"(usable: {installed}); install translate-{src}_{tgt} or "
              f"translate-{src}_en + translate-en_{tgt}", file=sys.stderr)
    tally = _Tally()
    for entry in entries:
        if src not in entry.answer or src in entry.drafts:
            tally.no_source += 1  # never translate a draft: errors would compound
            continue
        _draft_entry(entry, src, [t for t in targets if t not in uncovered], translator,
                     args, settings, tally)
    verb = "would draft" if args.dry_run else "drafted"
    for tgt in targets:
        if tgt in uncovered:
            print(f"{tgt}: skipped, no pack for {src}->{tgt}")
            continue
        line = (f"{tgt}: {verb} {tally.answers[tgt]} answer(s); {tally.present[tgt]} already "
                "present")
        if args.questions:
            line += f"; {verb} {tally.phrasings[tgt]} phrasing(s)"
            if tally.refused[tgt]:
                line += f", {tally.refused[tgt]} refused as duplicates"
        if tally.failed[tgt]:
            line += f"; {tally.failed[tgt]} failed"
        print(line)
    if tally.no_source:
        print(f"{tally.no_source} entr(y/ies) skipped: no reviewed '{src}' answer to translate")
    if sum(tally.answers.values()) and not args.dry_run:
        print("review the drafts with `faqbot validate --drafts`; accept one by removing its "
              "language from the entry's drafts: list", file=sys.stderr)
    return 1 if uncovered or sum(tally.failed.values()) else 0


def register(sub: Any) -> None:
    """Add the `packs` and `translate` subcommands to the faqbot CLI."""
    p = sub.add_parser("packs", help="list, install or download translation packs")
    psub = p.add_subparsers(dest="packs_command", required=True)

    def packs_dir(q: argparse.ArgumentParser) -> None:
        q.add_argument("--packs-dir", help="where packs live (FAQBOT_PACKS_DIR)")

    q = psub.add_parser("list", help="installed packs and the pairs they give")
    packs_dir(q)
    q.set_defaults(func=cmd_packs_list)
    q = psub.add_parser("install", help="install .argosmodel files (offline)")
    packs_dir(q)
    q.add_argument("files", nargs="+", metavar="FILE.argosmodel")
    q.set_defaults(func=cmd_packs_install)
    q = psub.add_parser("download", help="download packs to and from English (needs internet)")
    packs_dir(q)
    q.add_argument("codes", nargs="+", metavar="CODE", help="language codes, e.g. de es fr")
    q.set_defaults(func=cmd_packs_download)

    p = sub.add_parser("translate", help="draft missing answer translations into the FAQ YAML")
    p.add_argument("--to", required=True,
                   help="target languages, comma-separated (de,es) or 'all' (supported ones)")
    p.add_argument("--from", dest="source",
                   help="language to translate from (default FAQBOT_DEFAULT_LANGUAGE)")
    p.add_argument("--questions", action="store_true",
                   help="also draft phrasings for languages an entry has none in")
    p.add_argument("--entry", action="append", metavar="ID", help="only this entry (repeatable)")
    p.add_argument("--faq-dir", help="FAQ YAML directory (FAQBOT_FAQ_DIR)")
    packs_dir(p)
    p.add_argument("--dry-run", action="store_true", help="print the drafts, write nothing")
    p.set_defaults(func=cmd_translate)
