"""`faqbot validate`, `faqbot build` and `faqbot ask`: the FAQ and the bot from a shell."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli.settings import settings_from_args
from bot.errors import InputError, Problem
from bot.faq.load import Entry, load_faq, load_valid_faq
from bot.matching.bot import FaqBot
from bot.matching.calibrate import Calibration, calibrate, thin_entries
from bot.matching.embedder import make_embedder
from bot.matching.index import centroid_extras, centroid_sums, centroid_weight_for
from bot.matching.language import supported_language
from bot.matching.similarity import embed_phrasings, near_duplicates
from bot.settings import Settings


def cmd_validate(args: argparse.Namespace) -> int:
    """Print path:line: message for every problem; exit 1 on errors."""
    s = settings_from_args(args)
    result = load_faq(s.faq_files_dir, s.default_language)
    problems: list[Problem] = list(result.problems)
    cal: Calibration | None = None
    if not result.errors and result.entries and not args.no_similarity:
        embedder = make_embedder(s.model)
        problems += near_duplicates(result.entries, embedder, s.index_dir,
                                    s.near_duplicate_threshold)
        vectors = embed_phrasings(result.entries, embedder, s.index_dir)
        rows = [e.id for e in result.entries for _lang, _q in e.phrasings()]
        langs = [lang for e in result.entries for lang, _q in e.phrasings()]
        extras = [(e.id, text, w) for e in result.entries for text, w in centroid_extras(e)]
        sums = centroid_sums(sorted(e.id for e in result.entries), rows, vectors,
                             [(eid, w) for eid, _t, w in extras],
                             embedder.embed([t for _e, t, _w in extras]) if extras else None,
                             langs)
        cal, _scores = calibrate(result.entries, rows, vectors, sums, embedder,
                                 s.thresholds.main, centroid_weight_for(rows, langs),
                                 s.index_dir / "calibration", langs=langs)
    for p in sorted(problems, key=lambda p: (p.severity != "error", p)):
        print(p)
    if result.entries and not result.errors:
        _print_expectations(s, result.entries, cal)
    if args.drafts:
        for e in result.entries:
            for lang in e.drafts:
                print(f"{e.path}:{e.line}: note: answer ({lang}) of '{e.id}' is an unreviewed "
                      "machine draft")
    errors = sum(p.severity == "error" for p in problems)
    if errors:
        print(f"{errors} error(s) in {s.faq_files_dir}", file=sys.stderr)
        return 1
    print(f"ok: {len(result.entries)} entries in {s.faq_files_dir}", file=sys.stderr)
    return 0


def _print_expectations(s: Settings, entries: list[Entry], cal: Calibration | None) -> None:
    """Say what shoppers should expect from this FAQ and which entries are too thin."""
    if cal is not None:
        note = "" if s.calibrate else " (FAQBOT_CALIBRATE is off: the fixed thresholds apply)"
        print(f"{s.faq_files_dir}: {cal.expectation()}{note}")
    by_id = {e.id: e for e in entries}
    thin = cal.thin if cal is not None else thin_entries(entries)
    for eid in thin:
        e = by_id[eid]
        n = len(e.phrasings())
        print(f"{e.path}:{e.line}: note: entry '{eid}' is thin ({n} phrasing"
              f"{'' if n == 1 else 's'}, few words): add two or three ways shoppers ask it")


def cmd_build(args: argparse.Namespace) -> int:
    """Build or refresh the index of every model lane; report what was embedded."""
    s = settings_from_args(args)
    entries = load_valid_faq(s.faq_files_dir, s.default_language)  # errors: path:line, exit 1
    bot = FaqBot(s)
    status = bot.reload(progress=True)
    if not status.ok:
        print(f"error: {status.error}", file=sys.stderr)
        return 1
    for lane, report in zip(bot.lanes, status.lanes, strict=True):
        index = lane.index
        if lane.bridged:
            print(f"no index for {lane.embedder.name}: its questions are mapped into the "
                  "main index (bot/matching/bridge.py)")
        elif index is not None:
            print(f"index {index.version} ({index.model}): {len(entries)} entries, "
                  f"{index.size} phrasings -> {lane.index_dir}; {report.embedded} embedded in "
                  f"{report.seconds:.2f}s, live after {report.live_after:.2f}s")
    print(f"embedded {status.embedded}, reused {status.reused} in {status.seconds:.2f}s")
    main = bot.lanes[0]
    if main.index is not None:
        cal = main.index.calibration
        _print_expectations(s, entries, cal)
        t = main.thresholds
        source = "calibrated" if cal is not None else "fixed (FAQBOT_CALIBRATE off)"
        print(f"thresholds in use: answer={t.answer} clarify={t.clarify} margin={t.margin} "
              f"({source}; explicit FAQBOT_*_THRESHOLD values win)")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer QUESTION, or one question per line of standard input."""
    s = settings_from_args(args)
    bot = FaqBot(s)
    status = bot.reload(progress=True)
    if not bot.ready:
        print(f"error: {status.error}", file=sys.stderr)
        return 1
    if not status.ok:
        print(f"warning: answering from the last good index: {status.error}", file=sys.stderr)
    if args.lang:
        try:
            supported_language(args.lang, s.supported_languages)
        except InputError:
            print(f"error: --lang {args.lang} is not one of {', '.join(s.supported_languages)}",
                  file=sys.stderr)
            return 2
    from_stdin = args.question is None
    questions = (line.rstrip("\n") for line in sys.stdin) if from_stdin else [args.question]
    code = 0
    for q in questions:
        if from_stdin and not q.strip():
            continue
        try:
            reply = bot.ask(q, lang_hint=args.lang, market=args.market)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = 1
            continue
        if args.json:
            print(json.dumps(reply.contract(), ensure_ascii=False), flush=True)
            continue
        print(f"[{reply.language}] {reply.action} {reply.faq_id or '-'} "
              f"(confidence {reply.confidence:.2f})")
        if reply.answer:
            note = "" if reply.answer_language == reply.language else \
                f" (answer in {reply.answer_language})"
            print(f"{reply.answer}{note}")
        for sug in reply.suggestions:
            print(f"  ? {sug.question}  [{sug.faq_id} {sug.confidence:.2f}]")
        if reply.action == "handoff":
            print("  -> handed to a person")
        print(flush=True)
    return code


def register(sub: Any) -> None:
    """Add `validate`, `build` and `ask` to the faqbot CLI."""

    def dirs(p: argparse.ArgumentParser) -> None:
        p.add_argument("--faq-dir", help="FAQ YAML directory (FAQBOT_FAQ_DIR)")
        p.add_argument("--index-dir", help="index directory (FAQBOT_INDEX_DIR)")

    p = sub.add_parser("validate", help="check FAQ files; exit 1 on errors")
    dirs(p)
    p.add_argument("--no-similarity", action="store_true",
                   help="skip the near-duplicate check (no model load)")
    p.add_argument("--drafts", action="store_true", help="also list unreviewed machine drafts")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("build", help="build the index (only changed phrasings are embedded)")
    dirs(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("ask", help="answer a question (or lines of stdin)")
    dirs(p)
    p.add_argument("--lang", help="language to fall back on when the text is too short to tell")
    p.add_argument("--market", help="shopper's market (EU, UK, US, CN ...)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("question", nargs="?")
    p.set_defaults(func=cmd_ask)
