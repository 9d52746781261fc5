"""Write the off-topic messages the threshold calibration scores as negatives.

Output: bot/matching/data/offtopic.jsonl.gz. Source: MASSIVE 1.1 (Amazon, FitzGerald et al.
2022), CC BY 4.0, ``massive11_parallel_dev.jsonl`` from ../shared/datasets/massive. Its
utterances are requests to a voice assistant (alarms,
weather, music, calendars, small talk): plausible things to type into a shop's chat that no
shop FAQ answers. Scenarios near shopping (takeaway orders, e-mail) and currency questions are
left out. The same seeded sample of utterance ids is taken in each of faqbot's 14 languages,
so no language weighs more than another::

    python scripts/offtopic.py [--per-language 110] [--seed 0]

The same arguments always give byte-identical output (sorted, string-seeded, gzip mtime 0).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# ../shared beside the main checkout; a worktree (/work/wt/<name>) has it two levels up.
SOURCE = next((d for d in (REPO.parent / "shared", REPO.parents[1] / "shared") if d.exists()),
              REPO.parent / "shared") / "datasets" / "massive" / "massive11_parallel_dev.jsonl"
OUT = REPO / "bot" / "matching" / "data" / "offtopic.jsonl.gz"
LOCALES = {"en": "en-US", "de": "de-DE", "es": "es-ES", "fr": "fr-FR", "it": "it-IT",
           "nl": "nl-NL", "pl": "pl-PL", "pt": "pt-PT", "zh": "zh-TW", "ja": "ja-JP",
           "ko": "ko-KR", "sv": "sv-SE", "ru": "ru-RU", "tr": "tr-TR"}
SKIP_SCENARIOS = {"takeaway", "email"}
SKIP_INTENTS = {"qa_currency"}


def main(argv: Sequence[str] | None = None) -> int:
    """Sample the utterances and write them gzipped, one {"q", "lang", "intent"} a line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--source", type=Path, default=SOURCE)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--per-language", type=int, default=110)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    rows = [json.loads(line) for line in args.source.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    rows = [r for r in rows if r["scenario"] not in SKIP_SCENARIOS
            and r["intent"] not in SKIP_INTENTS
            and all(loc in r["utt"] for loc in LOCALES.values())]
    rows.sort(key=lambda r: int(r["id"]))
    seed = int(hashlib.sha256(f"offtopic\0{args.seed}".encode()).hexdigest()[:16], 16)
    chosen = sorted(random.Random(seed).sample(rows, min(args.per_language, len(rows))),
                    key=lambda r: int(r["id"]))
    lines = [json.dumps({"q": r["utt"][loc], "lang": lang, "intent": r["intent"]},
                        ensure_ascii=False)
             for lang, loc in sorted(LOCALES.items()) for r in chosen]
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write(("\n".join(lines) + "\n").encode())
    args.out.write_bytes(buf.getvalue())
    print(f"{len(lines)} messages ({len(chosen)} per language) -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
