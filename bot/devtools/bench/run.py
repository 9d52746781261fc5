"""`faqbot bench`: how fast the bot answers, builds and re-indexes, and how much memory it uses.

Parts (each can be skipped):
- in process: ``FaqBot.ask`` on the shipped FAQ, one question at a time, with a breakdown of
  where the time goes (embedding, search, decision and answer);
- over HTTP: a real ``uvicorn bot.web.app:create_app --factory`` on a free 127.0.0.1 port with a
  temporary SQLite database, loaded by 1, 8 and 32 concurrent shoppers (asyncio keep-alive
  connections, each shopper starting a new conversation every few messages), bounded by a
  request count and a number of seconds; then the server's resident memory;
- build: a generated FAQ of 5,000 entries x 5 phrasings indexed from scratch, then one entry
  changed and the index refreshed (only that entry is embedded again).

Budgets come from the design (../shared/DESIGN.md); a miss is reported, never an error:
timings depend on the machine, so they are a report, not a test.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.devtools.bench.http import bench_http
from bot.devtools.bench.inprocess import bench_build, bench_in_process, load_questions
from bot.devtools.bench.report import BUDGETS
from bot.devtools.bench.system import machine
from bot.settings import Settings


def run(
    settings: Settings,
    questions_path: Path | None,
    quick: bool = False,
    parts: Sequence[str] = ("in_process", "http", "build"),
    levels: Sequence[int] = (1, 8, 32),
    requests: int | None = None,
    seconds: float | None = None,
    entries: int | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    think_seconds: float = 1.0,
    saturation: Sequence[int] = (8, 32),
) -> dict[str, Any]:
    """Run the chosen parts on ``settings``' FAQ and model; return one result dictionary."""
    say = progress or (lambda _msg: None)
    questions = load_questions(questions_path)
    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "model": settings.model,
        "quick": quick,
        "budgets": BUDGETS,
    }
    tmp = Path(tempfile.mkdtemp(prefix="faqbot-bench-"))
    try:
        settings = settings.replace(index_dir=tmp / "index")
        if "in_process" in parts:
            say("in process ...")
            result["in_process"] = bench_in_process(settings, questions, 100 if quick else 1000)
        if "http" in parts:
            say("over HTTP ...")
            result["http"] = bench_http(
                settings,
                questions,
                levels if not quick else [c for c in levels if c <= 8] or [1],
                requests or (40 if quick else 2000),
                seconds or (5.0 if quick else 30.0),
                workers,
                think_seconds,
                [c for c in saturation if c <= 8] or [1] if quick else saturation,
            )
        if "build" in parts:
            say("index build ...")
            result["build"] = bench_build(settings, entries or (200 if quick else 5000), 5)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result
