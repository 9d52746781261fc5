"""Measure language detection per language, on whole utterances and on 1-3 word messages.

"before" is plain langdetect (seeded, its first guess among the supported languages, zh-cn
and zh-tw read as zh, no other fallback: no guess counts as wrong). "after" is
bot.language.detect_language as the service calls it for a first message with no hints
(script detection, langdetect when sure, letters, then the default language), so English
gets the default's help and the other languages pay for it; the report also gives how often
"after" was confident and how often a confident answer was right.

Data, read from ../shared/datasets (``--data-dir``):

- MASSIVE 1.1 parallel utterances (dev for choices, test for reporting) in en, de, es, fr,
  it, nl, pl, pt (pt-PT), sv, ja, ko, zh (zh-TW), ru, tr: the same seeded sample of ids in
  every language (``--limit`` per language).
- xSID 0.7 (valid = dev, test) in the supported languages it has: de, en, it, ja, nl, tr, zh.

Short messages are cut from the same utterances: a seeded window of 1-3 words (for Chinese
and Japanese, written without spaces, 2-6 characters), the length of "Rückgabe?" or
"refund??" that shoppers type.

Usage::

    python scripts/langid_eval.py --split dev  [--limit 600] [--json out.json] [--errors 20]
    python scripts/langid_eval.py --split test
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langdetect import LangDetectException, detect_langs  # noqa: E402

from bot.matching.language import _lock, detect_language  # noqa: E402
from bot.settings import SUPPORTED_LANGUAGES  # noqa: E402

SUPPORTED = list(SUPPORTED_LANGUAGES)
DEFAULT = "en"
MASSIVE_LOCALES = {
    "en": "en-US", "de": "de-DE", "es": "es-ES", "fr": "fr-FR", "it": "it-IT", "nl": "nl-NL",
    "pl": "pl-PL", "pt": "pt-PT", "sv": "sv-SE", "ja": "ja-JP", "ko": "ko-KR", "zh": "zh-TW",
    "ru": "ru-RU", "tr": "tr-TR",
}  # fmt: skip
XSID_LANGS = ["de", "en", "it", "ja", "nl", "tr", "zh"]
UNSPACED = {"zh", "ja"}


def load_massive(data_dir: Path, split: str, limit: int, seed: int) -> dict[str, list[str]]:
    """Return utterances per language for the same seeded sample of ids."""
    path = data_dir / "massive" / f"massive11_parallel_{split}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows.sort(key=lambda r: str(r["id"]))
    random.Random(f"{seed}:massive:{split}").shuffle(rows)
    rows = [r for r in rows if all(r["utt"].get(loc) for loc in MASSIVE_LOCALES.values())]
    rows = rows[:limit]
    return {lang: [r["utt"][loc] for r in rows] for lang, loc in MASSIVE_LOCALES.items()}


def load_xsid(data_dir: Path, split: str, limit: int, seed: int) -> dict[str, list[str]]:
    """Return the ``# text =`` lines of xSID per supported language."""
    name = "valid" if split == "dev" else "test"
    out: dict[str, list[str]] = {}
    for lang in XSID_LANGS:
        path = data_dir / "xsid" / f"{lang}.{name}.conll"
        texts = [
            line.split("=", 1)[1].strip()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("# text =")
        ]
        random.Random(f"{seed}:xsid:{split}:{lang}").shuffle(texts)
        out[lang] = texts[:limit]
    return out


def short_cut(text: str, lang: str, key: str) -> str:
    """Cut a seeded window of 1-3 words (2-6 characters for zh/ja) from ``text``."""
    rng = random.Random(key)
    n = rng.randint(1, 3)
    words = text.split()
    if lang in UNSPACED and len(words) <= 2:
        chars = "".join(words)
        size = min(len(chars), 2 * n)
        start = rng.randint(0, len(chars) - size)
        return chars[start : start + size]
    size = min(len(words), n)
    start = rng.randint(0, len(words) - size)
    return " ".join(words[start : start + size])


def before(text: str) -> tuple[str | None, bool]:
    """Plain seeded langdetect: its first guess among the supported languages."""
    with _lock:
        try:
            guesses = detect_langs(text)
        except LangDetectException:
            return None, False
    for guess in guesses:
        code = "zh" if guess.lang.startswith("zh") else guess.lang
        if code in SUPPORTED:
            return code, True
    return None, False


def after(text: str) -> tuple[str | None, bool]:
    """bot.language.detect_language for a first message: no conversation, no locale."""
    found = detect_language(text, SUPPORTED, DEFAULT)
    return found.language, found.confident


def score(
    data: dict[str, list[str]], detector: Callable[[str], tuple[str | None, bool]],
    errors: dict[str, Counter[str]] | None = None,
) -> dict[str, dict[str, float]]:
    """Return accuracy, confident share and confident precision per language."""
    out: dict[str, dict[str, float]] = {}
    for lang, texts in data.items():
        right = conf = conf_right = 0
        for text in texts:
            got, confident = detector(text)
            right += got == lang
            conf += confident
            conf_right += confident and got == lang
            if errors is not None and got != lang:
                errors[lang][f"{got}: {text}"] += 1
        n = max(len(texts), 1)
        out[lang] = {
            "n": len(texts),
            "accuracy": right / n,
            "confident": conf / n,
            "confident_precision": conf_right / conf if conf else 0.0,
        }
    return out


def macro(results: dict[str, dict[str, float]]) -> float:
    return sum(r["accuracy"] for r in results.values()) / max(len(results), 1)


def table(title: str, res: dict[str, dict[str, dict[str, float]]]) -> str:
    """Render before/after accuracy (%) per language for full and short text."""
    langs = list(res["full_before"])
    head = (
        f"### {title}\n\n| lang | n | full before | full after | short before | short after "
        "| short after: confident / precision |\n|---|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for lang in langs:
        fb, fa = res["full_before"][lang], res["full_after"][lang]
        sb, sa = res["short_before"][lang], res["short_after"][lang]
        rows.append(
            f"| {lang} | {int(fb['n'])} | {100 * fb['accuracy']:.1f} | {100 * fa['accuracy']:.1f}"
            f" | {100 * sb['accuracy']:.1f} | {100 * sa['accuracy']:.1f}"
            f" | {100 * sa['confident']:.0f} / {100 * sa['confident_precision']:.1f} |"
        )
    rows.append(
        f"| **macro** | | {100 * macro(res['full_before']):.1f} | "
        f"{100 * macro(res['full_after']):.1f} | {100 * macro(res['short_before']):.1f} | "
        f"{100 * macro(res['short_after']):.1f} | |"
    )
    return head + "\n".join(rows) + "\n"


def run(data: dict[str, list[str]], seed: int, errors: int) -> dict[str, object]:
    short = {
        lang: [short_cut(t, lang, f"{seed}:{lang}:{i}") for i, t in enumerate(texts)]
        for lang, texts in data.items()
    }
    err: dict[str, Counter[str]] = {lang: Counter() for lang in data}
    res = {
        "full_before": score(data, before),
        "full_after": score(data, after),
        "short_before": score(short, before),
        "short_after": score(short, after, err),
    }
    out: dict[str, object] = dict(res)
    if errors:
        out["short_after_errors"] = {
            lang: [t for t, _ in c.most_common(errors)] for lang, c in err.items()
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--split", choices=["dev", "test"], default="dev")
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets"))
    p.add_argument("--limit", type=int, default=600, help="utterances per language")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the numbers here")
    p.add_argument("--errors", type=int, default=0, help="print N short-text mistakes a language")
    args = p.parse_args(argv)
    data_dir = Path(args.data_dir)
    started = time.perf_counter()
    report: dict[str, object] = {"split": args.split, "limit": args.limit, "seed": args.seed}
    for name, loader in (("massive", load_massive), ("xsid", load_xsid)):
        data = loader(data_dir, args.split, args.limit, args.seed)
        res = run(data, args.seed, args.errors)
        report[name] = res
        title = f"{name} ({args.split}, {args.limit} max per language)"
        print(table(title, res))  # type: ignore[arg-type]
        if args.errors:
            for lang, texts in res["short_after_errors"].items():  # type: ignore[attr-defined]
                print(f"{lang}: " + " | ".join(texts))
            print()
    print(f"({time.perf_counter() - started:.0f}s)", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
