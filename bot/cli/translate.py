"""`faqbot packs` and `faqbot translate`: manage language packs, draft answer translations.

    faqbot packs list                       installed packs and the pairs they give
    faqbot packs install FILE.argosmodel    check and install a pack file (offline)
    faqbot packs download de es fr          fetch packs to and from English (needs internet)
    faqbot translate --to de,es [--questions] [--from en] [--entry ID] [--dry-run]

`translate` writes machine drafts of missing answers (and, with --questions, phrasings) into
the FAQ YAML (bot/translate/drafts.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.settings import settings_from_args
from bot.errors import InputError
from bot.faq.load import load_valid_faq
from bot.settings import ISO_639_1
from bot.translate.drafts import DraftRequest, Tally, draft_entry, parse_targets
from bot.translate.packs import PIVOT, download_packs, install_pack, list_packs
from bot.translate.translator import NullTranslator, translator_from_settings


def cmd_packs_list(args: argparse.Namespace) -> int:
    """Print the installed packs and the pairs reachable through English."""
    packs_dir = settings_from_args(args).packs_dir
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
    packs_dir = settings_from_args(args).packs_dir
    for file in args.files:
        info = install_pack(Path(file), packs_dir)
        print(f"installed {info.from_code}->{info.to_code} {info.version} -> {info.path}")
    print("restart the server (or reload it) to use new packs", file=sys.stderr)
    return 0


def cmd_packs_download(args: argparse.Namespace) -> int:
    """Download packs to and from English through argostranslate's index (needs internet)."""
    packs_dir = settings_from_args(args).packs_dir
    installed = download_packs(args.codes, packs_dir)
    for info in installed:
        print(f"installed {info.from_code}->{info.to_code} {info.version} -> {info.path}")
    if not installed:
        print("the argostranslate index has no pack for those languages", file=sys.stderr)
        return 1
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    """Write machine drafts of missing answers (and phrasings) into the FAQ YAML."""
    settings = settings_from_args(args)
    src = (args.source or settings.default_language).lower()
    if src not in ISO_639_1:
        raise InputError(f"--from: '{src}' is not an ISO 639-1 code such as 'en'")
    targets = [t for t in parse_targets(args.to, settings) if t != src]
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
    tally = Tally()
    request = DraftRequest(src, [t for t in targets if t not in uncovered], args.questions,
                           args.dry_run)
    for entry in entries:
        if src not in entry.answer or src in entry.drafts:
            tally.no_source += 1  # never translate a draft: errors would compound
            continue
        draft_entry(entry, request, translator, settings, tally, sys.stdout, sys.stderr)
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
