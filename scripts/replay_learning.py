"""Replay labelled shopper questions as conversations to measure learning from use (issue 17).

The FAQ a new shop writes: the shipped faq_data cut to English only, the first N phrasings
of each entry (default 2), English answers. Labelled questions (tests/data JSONL, all
languages) are split: the first half (every other line) is "earlier" traffic, the rest the
held-out "later" questions. Each earlier question is one conversation through the real
ChatService (SQLite, real model, today's thresholds): when the bot offers chips and the
right entry is among them, the simulated shopper taps it and says nothing more (no
complaint); otherwise it taps "none of these — talk to a person". The learning window then
passes, the pending picks are judged (bot/insights/learned.py), every suggestion is accepted
through bot/faq/edit.py add_phrasings, the index is rebuilt, and the later questions are
asked again. Reported: later questions answered right / right entry shown / handed off,
before and after. ``--learn-all`` learns from the whole --queries file and asks --later.

A second table shows what a wider middle zone (a lower clarify threshold, the answer
threshold unchanged) does on the same sparse FAQ: with the person chip, a clarify whose
chips miss costs the shopper one tap to a person, so "handed off" counts those too.

Usage::

    python scripts/replay_learning.py [--queries tests/data/shop_questions_dev.jsonl]
        [--later tests/data/shop_questions_test.jsonl --learn-all] [--phrasings 2]
        [--sweep 0.50,0.45,0.40,0.35] [--out /tmp/replay]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.chat.service import ChatService  # noqa: E402
from bot.chat.tickets import TicketStore, Triage  # noqa: E402
from bot.chat.views import ChatRequest  # noqa: E402
from bot.faq import edit as faq_edit  # noqa: E402
from bot.insights import learned  # noqa: E402
from bot.matching.bot import FaqBot  # noqa: E402
from bot.matching.decide import decide  # noqa: E402
from bot.settings import Settings, Thresholds, load_settings  # noqa: E402
from bot.store.db import Database  # noqa: E402
from bot.store.models import utcnow  # noqa: E402
from bot.translate.translator import NullTranslator  # noqa: E402


def sparse_faq(src: Path, out: Path, phrasings: int) -> int:
    """Write faq_data cut to English only, ``phrasings`` phrasings an entry; return entries."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for path in sorted(src.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = []
        for e in data["entries"]:
            en = e["questions"].get("en") or []
            if not en:
                continue
            cut = dict(e)
            cut["questions"] = {"en": list(en[:phrasings])}
            cut["answer"] = {"en": e["answer"]["en"]}
            entries.append(cut)
        n += len(entries)
        (out / path.name).write_text(
            # One line a scalar: the FAQ editor splices entries back line by line.
            yaml.safe_dump({"entries": entries}, allow_unicode=True, sort_keys=False,
                           width=1 << 20),
            encoding="utf-8")
    return n


def read_queries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass
class Outcome:
    """What the chat did with one question."""

    action: str
    faq_id: str | None
    shown: tuple[str, ...]


def ask(service: ChatService, q: dict[str, Any]) -> tuple[Outcome, str]:
    r = service.chat(ChatRequest(session_id=None, message=q["q"], locale=q["lang"]))
    shown = tuple(s.faq_id for s in r.suggestions)
    return Outcome(r.action, r.faq_id, shown), r.session_id


def score(outcomes: list[tuple[dict[str, Any], Outcome]]) -> dict[str, float]:
    """Rates as in issue 17's table (a clarify whose chips miss ends at a person)."""
    inscope = [(q, o) for q, o in outcomes if q["expect"]]
    oos = [(q, o) for q, o in outcomes if not q["expect"]]
    right = sum(o.action == "answer" and o.faq_id == q["expect"] for q, o in inscope)
    shown = sum((o.action == "answer" and o.faq_id == q["expect"])
                or (o.action == "clarify" and q["expect"] in o.shown) for q, o in inscope)
    handed = sum(o.action == "handoff" or (o.action == "clarify" and q["expect"] not in o.shown)
                 for q, o in inscope)
    wrong = sum(o.action == "answer" and o.faq_id != q["expect"] for q, o in outcomes)
    oos_answered = sum(o.action == "answer" for _q, o in oos)
    oos_handed = sum(o.action in ("handoff", "clarify") for _q, o in oos)
    oos_clarified = sum(o.action == "clarify" for _q, o in oos)  # the person chip: one tap
    n, m = max(1, len(inscope)), max(1, len(oos))
    return {"in_scope": len(inscope), "answered_right": right / n, "shown_right": shown / n,
            "handed_off": handed / n, "wrong_all": wrong / max(1, len(outcomes)),
            "oos": len(oos), "oos_answered": oos_answered / m, "oos_handed_off": oos_handed / m,
            "oos_clarified": oos_clarified / m}


def run_set(service: ChatService, queries: list[dict[str, Any]]) -> dict[str, float]:
    return score([(q, ask(service, q)[0]) for q in queries])


def learn(service: ChatService, queries: list[dict[str, Any]]) -> Counter[str]:
    """Replay questions as conversations; the shopper taps the right chip when shown."""
    seen: Counter[str] = Counter()
    for q in queries:
        out, sid = ask(service, q)
        seen[out.action] += 1
        if out.action != "clarify":
            continue
        if q["expect"] and q["expect"] in out.shown:
            chip = next(s for s in out.shown if s == q["expect"])
            service.chat(ChatRequest(session_id=sid, message=chip, suggestion_id=chip))
            seen["tapped_right_chip"] += 1
        else:
            service.chat(ChatRequest(session_id=sid, message="none of these", human=True))
            seen["tapped_person_chip"] += 1
    return seen


def sweep(bot: FaqBot, queries: list[dict[str, Any]],
          clarify: list[float]) -> tuple[list[str], list[str]]:
    """Rates for lower clarify thresholds on the same hits (the answer threshold kept).

    Returns the rows of the overall table and of "right entry shown" per language.
    """
    rows, by_lang = [], []
    langs = sorted({q["lang"] for q in queries if q["expect"]})
    hits_of = []
    for q in queries:
        det = bot.detect(q["q"], [q["lang"]])
        lane = bot.lane_for(det.language)
        vector = bot.embed(lane, [q["q"]])[0]
        hits_of.append((q, lane, bot.search(lane, vector, None)))
    for c in clarify:
        outs = []
        for q, lane, hits in hits_of:
            t = lane.thresholds
            d = decide(hits, Thresholds(t.answer, min(c, t.answer), t.margin))
            outs.append((q, Outcome(d.action, d.best.entry.id if d.best else None,
                                    tuple(h.entry.id for h in d.suggestions))))
        r = score(outs)
        clarified = sum(o.action == "clarify" for _q, o in outs) / max(1, len(outs))
        rows.append(f"| {c:.2f} | {pct(r['answered_right'])} | {pct(r['shown_right'])} | "
                    f"{pct(r['handed_off'])} | {pct(clarified)} | {pct(r['wrong_all'])} | "
                    f"{pct(r['oos_answered'])} | {pct(r['oos_handed_off'])} | "
                    f"{pct(r['oos_clarified'])} |")
        shown = [score([(q, o) for q, o in outs if q["lang"] == lang])["shown_right"]
                 for lang in langs]
        by_lang.append(f"| {c:.2f} | " + " | ".join(f"{100 * x:.0f}" for x in shown) + " |")
    by_lang.insert(0, "| clarify | " + " | ".join(langs) + " |")
    by_lang.insert(1, "|---" * (len(langs) + 1) + "|")
    return rows, by_lang


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def line(name: str, r: dict[str, float]) -> str:
    return (f"| {name} | {r['in_scope']:.0f} | {pct(r['answered_right'])} | "
            f"{pct(r['shown_right'])} | {pct(r['handed_off'])} | {pct(r['wrong_all'])} | "
            f"{pct(r['oos_answered'])} | {pct(r['oos_handed_off'])} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--queries", type=Path, default=ROOT / "tests/data/shop_questions_dev.jsonl")
    p.add_argument("--later", type=Path, default=None,
                   help="held-out questions (default: the second half of --queries)")
    p.add_argument("--learn-all", action="store_true",
                   help="learn from every --queries line (with --later)")
    p.add_argument("--phrasings", type=int, default=2)
    p.add_argument("--sweep", default="0.50,0.45,0.40,0.35,0.30")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    logging.disable(logging.WARNING)  # "no translation packs": answers stay English

    home = args.out or Path(tempfile.mkdtemp(prefix="faqbot-replay-"))
    entries = sparse_faq(ROOT / "faq_data", home / "faq", args.phrasings)
    settings: Settings = load_settings(
        faq_dir=home / "faq", index_dir=home / "index", packs_dir=home / "packs",
        photos_dir=home / "photos", database_url=f"sqlite:///{home / 'replay.db'}",
        reload_poll_seconds=0)
    bot = FaqBot(settings)
    status = bot.reload()
    assert bot.ready, status.error
    db = Database(settings.database_url)
    db.migrate()
    service = ChatService(db, bot, TicketStore(Triage.default(), {"urgent": 30, "normal": 240}),
                          settings, NullTranslator())

    queries = read_queries(args.queries)
    if args.later is not None:
        earlier = queries if args.learn_all else queries[0::2]
        later = read_queries(args.later)
    else:
        earlier, later = queries[0::2], queries[1::2]
    t_before = bot.lanes[0].thresholds
    before = run_set(service, later)
    seen = learn(service, earlier)
    counted = learned.settle(db, settings.learn_turns, settings.learn_minutes,
                             utcnow() + timedelta(minutes=settings.learn_minutes + 1))
    accepted = 0
    for item in learned.suggestions(db, limit=1000):
        faq_edit.add_phrasings(settings.faq_files_dir, item.faq_id, item.language,
                               [item.question], "replay", default_language="en")
        learned.decide(db, item.id, "accepted", "replay")
        accepted += 1
    status = bot.reload()
    assert bot.ready, status.error
    t_after = bot.lanes[0].thresholds
    after = run_set(service, later)

    print(f"sparse FAQ: {entries} entries, English only, {args.phrasings} phrasings each "
          f"(model {settings.model}); thresholds in use (calibrated unless set) before "
          f"learning {t_before}, after {t_after}")
    print(f"earlier: {len(earlier)} questions from {args.queries.name}; outcomes "
          f"{dict(sorted(seen.items()))}; picks counted {counted}; phrasings accepted "
          f"{accepted}")
    print(f"later: {len(later)} questions "
          f"({(args.later or args.queries).name}{'' if args.later else ', second half'})\n")
    print("| later questions | in scope | answered right | right entry shown | handed off | "
          "wrong (all) | out-of-scope answered | out-of-scope handed off |")
    print("|---|---|---|---|---|---|---|---|")
    print(line("before learning", before))
    print(line("after learning", after))
    clarify = [float(x) for x in args.sweep.split(",") if x]
    if clarify:
        print("\nMiddle zone (before learning, every question of --queries and --later; a "
              "clarify whose chips miss = one tap to a person):\n")
        print("| clarify threshold | answered right | right entry shown | handed off | "
              "clarified | wrong (all) | out-of-scope answered | out-of-scope handed off | "
              "of which via the person chip |")
        print("|---|---|---|---|---|---|---|---|---|")
        # The learned phrasings are in the index now: sweep on the FAQ as it was.
        sparse_faq(ROOT / "faq_data", home / "faq", args.phrasings)
        bot.reload()
        rows, by_lang = sweep(
            bot, [*queries, *(read_queries(args.later) if args.later else [])], clarify)
        print("\n".join(rows))
        print("\nRight entry shown (answered, or among the chips), % of in-scope, per "
              "language:\n")
        print("\n".join(by_lang))
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
