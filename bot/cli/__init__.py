"""The `faqbot` command line: validate, build, ask, serve, eval, bench and friends."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.errors import FaqbotError, Problem
from bot.settings import Settings, load_settings


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Read the settings, with --faq-dir / --index-dir overriding the environment."""
    overrides: dict[str, object] = {}
    if getattr(args, "faq_dir", None):
        overrides["faq_dir"] = Path(args.faq_dir)
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = Path(args.index_dir)
    return load_settings(**overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    """Print path:line: message for every problem; exit 1 on errors."""
    from bot.faq.load import load_faq
    from bot.matching.similarity import near_duplicates

    s = settings_from_args(args)
    result = load_faq(s.faq_dir, s.default_language)
    problems: list[Problem] = list(result.problems)
    if not result.errors and result.entries and not args.no_similarity:
        from bot.matching.embedder import make_embedder

        problems += near_duplicates(
            result.entries, make_embedder(s.model), s.index_dir, s.near_duplicate_threshold
        )
    for p in sorted(problems, key=lambda p: (p.severity != "error", p)):
        print(p)
    if args.drafts:
        for e in result.entries:
            for lang in e.drafts:
                print(f"{e.path}:{e.line}: note: answer ({lang}) of '{e.id}' is an unreviewed "
                      "machine draft")
    errors = sum(p.severity == "error" for p in problems)
    if errors:
        print(f"{errors} error(s) in {s.faq_dir}", file=sys.stderr)
        return 1
    print(f"ok: {len(result.entries)} entries in {s.faq_dir}", file=sys.stderr)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Build or refresh the index of every model lane; report what was embedded."""
    from bot.faq.load import load_valid_faq
    from bot.matching.bot import FaqBot

    s = settings_from_args(args)
    entries = load_valid_faq(s.faq_dir, s.default_language)  # errors: path:line, exit 1
    bot = FaqBot(s)
    status = bot.reload(progress=True)
    if not status.ok:
        print(f"error: {status.error}", file=sys.stderr)
        return 1
    for lane, report in zip(bot.lanes, status.lanes, strict=True):
        index = lane.index
        if lane.bridged:
            print(f"no index for {lane.embedder.name}: its questions are mapped into the "
                  "main index (bot/bridge.py)")
        elif index is not None:
            print(f"index {index.version} ({index.model}): {len(entries)} entries, "
                  f"{index.size} phrasings -> {lane.index_dir}; {report.embedded} embedded in "
                  f"{report.seconds:.2f}s, live after {report.live_after:.2f}s")
    print(f"embedded {status.embedded}, reused {status.reused} in {status.seconds:.2f}s")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer QUESTION, or one question per line of standard input."""
    from bot.errors import InputError
    from bot.matching.bot import FaqBot

    s = settings_from_args(args)
    bot = FaqBot(s)
    status = bot.reload(progress=True)
    if not bot.ready:
        print(f"error: {status.error}", file=sys.stderr)
        return 1
    if not status.ok:
        print(f"warning: answering from the last good index: {status.error}", file=sys.stderr)
    if args.lang and args.lang not in s.supported_languages:
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


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP server."""
    import uvicorn

    s = settings_from_args(args)
    import os

    # The app factory reads settings from the environment: pass CLI overrides through it.
    os.environ["FAQBOT_FAQ_DIR"] = str(s.faq_dir)
    os.environ["FAQBOT_INDEX_DIR"] = str(s.index_dir)
    from bot.runtime.workers import MAX_WORKERS, serve, worker_count

    if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
        print(f"error: --workers needs 0 (one per usable core) to {MAX_WORKERS}", file=sys.stderr)
        return 2
    workers = worker_count(s.workers if args.workers is None else args.workers)
    if workers > 1:
        if s.reload_poll_seconds <= 0:
            # The lead's reload call reaches one worker; the others notice edits by polling.
            print("warning: FAQBOT_RELOAD_POLL_SECONDS=0 with several workers: an FAQ edit or "
                  "reload call reaches only the worker that gets it; set it above 0 or run "
                  "--workers 1", file=sys.stderr)
        serve("bot.web.app:create_app", args.host, args.port, workers, access_log=False)
        return 0
    # access_log=False: the app writes its own JSON access line with the request id;
    # uvicorn's plain-text one repeated it (and the bench measures without it).
    uvicorn.run("bot.web.app:create_app", factory=True, host=args.host, port=args.port,
                log_level="info", access_log=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Describe every subcommand."""
    parser = argparse.ArgumentParser(prog="faqbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def dirs(p: argparse.ArgumentParser, index: bool = True) -> None:
        p.add_argument("--faq-dir", help="FAQ YAML directory (FAQBOT_FAQ_DIR)")
        if index:
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

    p = sub.add_parser("serve", help="run the HTTP server")
    dirs(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int,
                   help="server processes (FAQBOT_WORKERS; default one per usable core, max 4)")
    p.set_defaults(func=cmd_serve)

    for module in ("bot.devtools.eval.run", "bot.devtools.bench.run", "bot.translate.drafts",
                   "bot.cli.insights"):
        try:
            register = __import__(module, fromlist=["register"]).register
        except ImportError:
            continue  # that part is not installed in this checkout
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors print as messages, not tracebacks."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except FaqbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
