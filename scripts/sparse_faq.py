"""Cut the shipped FAQ down to what a new shop writes: one language, a few phrasings an entry.

Issue 17's proxy for a sparse FAQ. Every entry keeps only its English phrasings, of which
``--phrasings N`` are chosen by a seeded shuffle of the entry id (the same arguments always
give byte-identical files), and only its English answer (a one-language shop has no others;
machine drafts go too). Ids, categories, tags, markets and handoff flags are kept, so
``tests/data/shop_questions_{dev,test}.jsonl`` label the cut FAQ as they label the full one::

    python scripts/sparse_faq.py --phrasings 2 --out data/sparse2
    faqbot eval --faq-dir data/sparse2 --queries tests/data/shop_questions_dev.jsonl

``--mix SEED`` gives entries one to three phrasings, as a shop writes them (issue 17's
held-out FAQ has 82 on 38 entries): each entry's three-phrasing cut keeps its first one, two or
three (30 / 25 / 45 %, drawn in file order from a generator seeded with SEED; seeds 1-4 give
128, 145, 146 and 129 phrasings on the 62 entries)::

    python scripts/sparse_faq.py --mix 1 --out data/mixed1

Output under the git-ignored data/ folder: one YAML file per file of the source folder.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]


def choose(phrasings: Sequence[str], n: int, seed: int, entry_id: str) -> list[str]:
    """Return ``n`` of the phrasings (all when fewer), seeded by the entry id, in file order."""
    if len(phrasings) <= n:
        return list(phrasings)
    digest = hashlib.sha256(f"{seed}\0{entry_id}".encode()).hexdigest()
    picked = set(random.Random(int(digest[:16], 16)).sample(range(len(phrasings)), n))
    return [p for i, p in enumerate(phrasings) if i in picked]


def sparse_entry(raw: dict[str, Any], lang: str, n: int, seed: int) -> dict[str, Any] | None:
    """Return the entry cut to ``n`` phrasings and the answer in ``lang``; None if it has none."""
    questions = raw.get("questions", {}).get(lang)
    answer = raw.get("answer", {}).get(lang)
    if not questions or not answer:
        return None
    out: dict[str, Any] = {"id": raw["id"]}
    for key in ("category", "tags", "markets", "handoff"):
        if key in raw:
            out[key] = raw[key]
    out["questions"] = {lang: choose(questions, n, seed, raw["id"])}
    out["answer"] = {lang: answer}
    return out


class _Dumper(yaml.SafeDumper):
    """Multi-line answers as readable ``|`` blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                   style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


# How many phrasings of its three an entry keeps under --mix, and how often.
MIX_SIZES, MIX_WEIGHTS = (1, 2, 3), (0.3, 0.25, 0.45)


def write_sparse(src: Path, out: Path, n: int, lang: str = "en", seed: int = 0,
                 mix: int | None = None) -> dict[str, int]:
    """Write the cut FAQ of every YAML file in ``src`` into ``out``; return counts.

    ``mix`` (a seed): each entry keeps the first 1-3 of its ``n`` = 3 chosen phrasings.
    """
    out.mkdir(parents=True, exist_ok=True)
    counts = {"entries": 0, "phrasings": 0, "dropped": 0}
    sizes = random.Random(mix) if mix is not None else None
    for path in sorted(src.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = []
        for raw in doc.get("entries", []):
            cut = sparse_entry(raw, lang, n, seed)
            if cut is None:
                counts["dropped"] += 1
                continue
            if sizes is not None:
                keep = sizes.choices(MIX_SIZES, weights=MIX_WEIGHTS)[0]
                cut["questions"][lang] = cut["questions"][lang][:keep]
            entries.append(cut)
            counts["entries"] += 1
            counts["phrasings"] += len(cut["questions"][lang])
        text = yaml.dump({"entries": entries}, Dumper=_Dumper, allow_unicode=True,
                         sort_keys=False, width=100)
        (out / path.name).write_text(text, encoding="utf-8")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and write the cut FAQ."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--src", type=Path, default=REPO / "faq_data", help="the full FAQ folder")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--phrasings", type=int, default=2, help="phrasings kept per entry")
    p.add_argument("--lang", default="en", help="the one language kept")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mix", type=int, metavar="SEED",
                   help="1-3 phrasings an entry (of 3 chosen), drawn with this seed")
    args = p.parse_args(argv)
    if args.phrasings < 1:
        p.error("--phrasings must be at least 1")
    n = 3 if args.mix is not None else args.phrasings
    counts = write_sparse(args.src, args.out, n, args.lang, args.seed, args.mix)
    print(f"{counts['entries']} entries, {counts['phrasings']} phrasings -> {args.out}"
          + (f" ({counts['dropped']} without {args.lang} dropped)" if counts["dropped"] else ""),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
