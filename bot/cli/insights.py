"""`faqbot report` and `faqbot unanswered`: the lead page's numbers from the command line.

    faqbot report [--days N] [--json]        period stats per language (table or JSON)
    faqbot unanswered [--days N] [--limit N] [--json]
                                             clusters of unanswered questions, largest first

Both read the database named by FAQBOT_DATABASE_URL (migrating it first, as the server
does). ``unanswered`` loads the embedding model and the index to group new questions.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any, TextIO

from bot.cli.settings import settings_from_args
from bot.insights.clusters import Insights
from bot.insights.report import PeriodReport, period_report
from bot.insights.views import ClusterReport
from bot.insights.window import MAX_DAYS
from bot.matching.bot import FaqBot
from bot.settings import Settings
from bot.store.db import Database


def _days(value: str) -> int:
    days = int(value)
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"--days must be between 1 and {MAX_DAYS}")
    return days


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                 enumerate(zip(row, widths, strict=True))]
        out.write("  ".join(cells).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


def print_report(report: PeriodReport, out: TextIO | None = None) -> None:
    """Write the period report as a table, one row per language and a total."""
    out = out or sys.stdout
    head = ["language", "questions", "answered", "clarified", "handed_off", "helpful",
            "tickets", "first_resp_p50", "first_resp_p90", "resolve_p50", "resolve_p90",
            "sla_breaches"]
    rows = [head]
    blocks = [*report.per_language.items(), ("all", report.totals)]
    for name, b in blocks:
        rows.append([
            name, str(b.questions), str(b.answered), str(b.clarified),
            str(b.handed_off), _share(b.helpful_share), str(b.tickets),
            _duration(b.first_response_median_s), _duration(b.first_response_p90_s),
            _duration(b.resolution_median_s), _duration(b.resolution_p90_s),
            str(b.sla_breaches),
        ])
    out.write(f"last {report.days} days since {report.since:%Y-%m-%d}\n")
    _table(rows, out)
    c = report.csat
    out.write(f"CSAT (1-5 ratings of conversations): {c.totals.ratings} ratings\n")
    rows = [["group", "ratings", "average", "satisfied"]]
    groups = [*(("language " + k, v) for k, v in c.per_language.items()),
              *(("agent " + k, v) for k, v in c.per_agent.items()),
              ("bot-only", c.bot_only), ("total", c.totals)]
    for name, cb in groups:
        rows.append([name, str(cb.ratings), "-" if cb.average is None else f"{cb.average:.2f}",
                     _share(cb.satisfied_share)])
    _table(rows, out)


def print_clusters(data: ClusterReport, out: TextIO | None = None) -> None:
    """Write clusters as a table: key, size, languages, nearest entry, an example."""
    out = out or sys.stdout
    out.write(f"{data.total_questions} unanswered questions in {data.total_clusters} "
              f"clusters (last {data.days} days)\n")
    if data.pending:
        out.write(f"{data.pending} questions not grouped yet\n")
    rows = [["cluster", "count", "languages", "nearest", "score", "example"]]
    for c in data.clusters:
        near = c.nearest
        example = c.examples[0].text if c.examples else "(text removed by retention)"
        rows.append([
            c.key, str(c.count), ",".join(c.languages),
            near.faq_id if near else "-", f"{near.score:.2f}" if near else "-",
            example[:60],
        ])
    _table(rows, out)


def _database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    db.migrate()
    return db


def cmd_report(args: argparse.Namespace) -> int:
    """Print the period report."""
    db = _database(settings_from_args(args))
    try:
        report = period_report(db, args.days)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, default=str, indent=2))
    else:
        print_report(report)
    return 0


def cmd_unanswered(args: argparse.Namespace) -> int:
    """Group new unanswered questions, then print the clusters."""
    settings = settings_from_args(args)
    db = _database(settings)
    try:
        bot = FaqBot(settings)
        bot.reload()
        insights = Insights(db, bot)
        insights.refresh(days=args.days)  # the CLI waits for every question to be grouped
        data = insights.clusters(args.days, args.limit, args.examples, refresh_limit=0)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(asdict(data), ensure_ascii=False, default=str, indent=2))
    else:
        print_clusters(data)
    return 0


def register(sub: Any) -> None:
    """Add `report` and `unanswered` to the faqbot CLI."""
    p = sub.add_parser("report", help="period stats per language: outcomes, feedback, tickets")
    p.add_argument("--days", type=_days, default=7, help="days back from today (default 7)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("unanswered", help="clusters of questions the bot could not answer")
    p.add_argument("--days", type=_days, default=30, help="days back from today (default 30)")
    p.add_argument("--limit", type=int, default=50, help="clusters to show (default 50)")
    p.add_argument("--examples", type=int, default=3, help="example questions per cluster")
    p.add_argument("--faq-dir", help="FAQ YAML directory (FAQBOT_FAQ_DIR)")
    p.add_argument("--index-dir", help="index directory (FAQBOT_INDEX_DIR)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_unanswered)
