"""`faqbot eval` and `faqbot bench`: the options of the developer tools (bot/devtools/)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.chat.tickets import Triage
from bot.chat.triage import TriageClassifier
from bot.cli.settings import settings_from_args
from bot.devtools.bench.report import render as render_bench
from bot.devtools.bench.run import run as bench
from bot.devtools.eval.ranking import DEFAULT_CACHE
from bot.devtools.eval.report import plot, render
from bot.devtools.eval.run import run as evaluation
from bot.devtools.eval.triage import evaluate as evaluate_triage
from bot.devtools.eval.triage import read_labelled
from bot.devtools.eval.triage import render as render_triage
from bot.errors import ConfigError
from bot.matching.bot import FaqBot
from bot.runtime.workers import MAX_WORKERS, worker_count
from bot.settings import Thresholds


def cmd_eval(args: argparse.Namespace) -> int:
    """Run `faqbot eval`."""
    s = settings_from_args(args)
    t = None
    if (args.answer, args.clarify, args.margin) != (None, None, None):
        t = Thresholds(
            args.answer if args.answer is not None else s.answer_threshold,
            args.clarify if args.clarify is not None else s.clarify_threshold,
            args.margin if args.margin is not None else s.margin,
        )
    if not 0.0 < args.target_wrong < 1.0:
        raise ConfigError(f"--target-wrong must be a fraction in (0, 1), got {args.target_wrong}")
    result = evaluation(
        s,
        s.faq_dir,
        Path(args.queries),
        args.model,
        Path(args.index_dir) if args.index_dir else None,
        t,
        args.target_wrong,
        args.baselines,
        None if args.no_cache else Path(args.cache_dir),
    )
    if args.plot:
        plot(result, Path(args.plot))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    else:
        print(render(result))
    if args.plot:
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def register_eval(sub: Any) -> None:
    """Add the `eval` subcommand to the faqbot CLI."""
    p = sub.add_parser("eval", help="quality report on labelled questions, with a threshold sweep")
    p.add_argument("--faq-dir", help="FAQ YAML directory (FAQBOT_FAQ_DIR)")
    p.add_argument(
        "--queries",
        required=True,
        help='labelled JSONL: {"q", "lang", "expect"} (expect null = out of scope)',
    )
    p.add_argument(
        "--index-dir", help="index directory (default: a cache under data/cache/eval, never index/)"
    )
    p.add_argument(
        "--model",
        help="use, e5, use+e5 or st:<path> alone for every language (default: the bot as "
        "configured, FAQBOT_MODEL plus the FAQBOT_FALLBACK_MODEL lane)",
    )
    p.add_argument("--answer", type=float, help="answer threshold to report (default setting)")
    p.add_argument("--clarify", type=float, help="clarify threshold to report (default setting)")
    p.add_argument("--margin", type=float, help="margin to report (default setting)")
    p.add_argument(
        "--target-wrong",
        type=float,
        default=0.02,
        help="wrong answers allowed among answers given, for the recommendation",
    )
    p.add_argument(
        "--baselines",
        action="store_true",
        help="also rank with BM25 and all-MiniLM-L6-v2 (dev extra)",
    )
    p.add_argument("--plot", metavar="FILE.png", help="draw the sweep (needs matplotlib)")
    p.add_argument(
        "--cache-dir",
        default=str(DEFAULT_CACHE),
        help="where vectors and eval indexes are cached (default data/cache/eval)",
    )
    p.add_argument("--no-cache", action="store_true", help="embed everything afresh")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_eval)


def _levels(text: str, flag: str) -> list[int]:
    try:
        levels = [int(c) for c in text.split(",") if c.strip()]
    except ValueError as exc:
        raise ConfigError(f"{flag} takes numbers like 1,8,32, got {text}") from exc
    if not levels or min(levels) < 1:
        raise ConfigError(f"{flag} needs at least one level of 1 or more")
    return levels


def cmd_bench(args: argparse.Namespace) -> int:
    """Run `faqbot bench`."""
    s = settings_from_args(args)
    parts = [p for p in ("in_process", "http", "build") if p not in (args.skip or [])]
    levels = _levels(args.concurrency, "--concurrency")
    if args.think < 0:
        raise ConfigError("--think needs 0 seconds or more")
    if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
        raise ConfigError(f"--workers needs 0 (one per usable core) to {MAX_WORKERS}")

    workers = worker_count(s.workers if args.workers is None else args.workers)
    queries = Path(args.queries) if args.queries else Path("tests/data/shop_questions_test.jsonl")
    result = bench(
        s.replace(model=args.model) if args.model else s,
        queries,
        quick=args.quick,
        parts=parts,
        levels=levels,
        requests=args.requests,
        seconds=args.seconds,
        entries=args.entries,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
        workers=workers,
        think_seconds=args.think,
        saturation=_levels(args.saturation, "--saturation"),
    )
    text = json.dumps(result, ensure_ascii=False, sort_keys=True) if args.json \
        else render_bench(result)
    print(text)
    if args.out:
        Path(args.out).write_text(render_bench(result) + "\n")
    return 0


def register_bench(sub: Any) -> None:
    """Add the `bench` subcommand to the faqbot CLI."""
    p = sub.add_parser("bench", help="speed report: latency, throughput, build time, memory")
    p.add_argument("--faq-dir", help="FAQ to answer from (default FAQBOT_FAQ_DIR)")
    p.add_argument("--model", help="use, e5, use+e5 or st:<path> (default FAQBOT_MODEL)")
    p.add_argument(
        "--queries", help="JSONL of questions to send (default tests/data/shop_questions_test)"
    )
    p.add_argument("--quick", action="store_true", help="a small, fast run (smoke test)")
    p.add_argument(
        "--skip", action="append", choices=["in_process", "http", "build"], help="skip a part"
    )
    p.add_argument("--concurrency", default="1,8,32", help="concurrent shoppers (default 1,8,32)")
    p.add_argument(
        "--think", type=float, default=1.0,
        help="mean seconds a shopper reads and types between messages (default 1; people "
        "take 10-60)",
    )  # fmt: skip
    p.add_argument(
        "--saturation", default="8,32",
        help="clients sending back to back, for capacity in answers/s (default 8,32)",
    )  # fmt: skip
    p.add_argument("--requests", type=int, help="requests per level (default 2000)")
    p.add_argument("--seconds", type=float, help="time limit per level (default 30)")
    p.add_argument(
        "--workers", type=int,
        help="server processes for the HTTP part, as `faqbot serve` (default FAQBOT_WORKERS: "
        "one per usable core, at most 4)",
    )  # fmt: skip
    p.add_argument("--entries", type=int, help="entries in the generated FAQ (default 5000)")
    p.add_argument("--out", help="also write the Markdown report to this file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_bench)


def cmd_eval_triage(args: argparse.Namespace) -> int:
    """Run `faqbot eval-triage`: accuracy of the triage per kind and per language."""
    s = settings_from_args(args)
    index_dir = Path(args.index_dir) if args.index_dir else Path(args.cache_dir) / "triage-index"
    bot = FaqBot(s.replace(index_dir=index_dir))
    status = bot.reload()
    if not bot.ready:
        raise ConfigError(f"cannot build the index of {s.faq_dir}: {status.error}")
    rules = Triage.from_file(s.triage_rules_file) if s.triage_rules_file else Triage.default()
    triage = TriageClassifier.load(s.triage_file, rules=rules.urgent())
    report = evaluate_triage(bot, triage, read_labelled(Path(args.messages)))
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True))
    else:
        print(render_triage(report))
    return 0


def register_eval_triage(sub: Any) -> None:
    """Add the `eval-triage` subcommand to the faqbot CLI."""
    p = sub.add_parser("eval-triage",
                       help="triage accuracy on labelled messages, per kind and language")
    p.add_argument("--messages", required=True,
                   help='labelled JSONL: {"text", "lang", "label"} (tests/data/triage_dev.jsonl)')
    p.add_argument("--faq-dir", help="FAQ YAML directory (FAQBOT_FAQ_DIR): its best score is "
                                     "evidence, as in the chat")
    p.add_argument("--index-dir", help="index directory (default: a cache, never index/)")
    p.add_argument("--cache-dir", default=str(DEFAULT_CACHE), help="default data/cache/eval")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_eval_triage)


def register(sub: Any) -> None:
    """Add `eval`, `eval-triage` and `bench` to the faqbot CLI."""
    register_eval(sub)
    register_eval_triage(sub)
    register_bench(sub)
