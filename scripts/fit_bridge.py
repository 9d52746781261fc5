"""Fit the e5 -> USE bridge map (bot/matching/bridge.py); write bot/matching/data/bridge-e5-use.npz.

    python scripts/fit_bridge.py [--data-dir ../shared/datasets] [--out bot/matching/data/...npz]
        [--reuse-base]

Two steps. First the English map, from English shop and service questions of public intent
data read unchanged from ../shared/datasets: CLINC150 train (Larson et al. 2019, CC BY 3.0),
BANKING77 train (Casanueva et al. 2020, CC BY 4.0) and 8,000 of Bitext's customer-support
instructions (the entry file, CDLA-Sharing 1.0); 3.5 min on 2 cores. ``--reuse-base`` takes it
from the existing file instead. Then the Swedish step: MASSIVE 1.1 dev's parallel utterances
(FitzGerald et al. 2022, CC BY 4.0), e5 of the Swedish (sv-SE) and of the English (en-US)
sentence both mapped to USE of the English one, the ridge pulling towards the English map
(bridge.PARALLEL_RIDGE); 2 min. MASSIVE *test* stays unseen, for reporting; MASSIVE dev
numbers of the bridged lane are no longer held out. Only the fitted matrices are written.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.matching.bridge import MAPS, PARALLEL_RIDGE, RIDGE, fit_map  # noqa: E402
from bot.matching.embedder import Vectors, _normalise, make_embedder  # noqa: E402

BITEXT_SAMPLE = 8000


def corpus(data_dir: Path) -> list[str]:
    """English questions, deduplicated, in a fixed order."""
    clinc = json.loads((data_dir / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    texts = [text for text, _intent in clinc["train"]]
    with (data_dir / "banking77" / "train.csv").open(encoding="utf-8", newline="") as f:
        texts += [row["text"] for row in csv.DictReader(f)]
    bitext = data_dir / "bitext" / "bitext_llm_cs_training_337b968.csv"
    with bitext.open(encoding="utf-8-sig", newline="") as f:
        instructions = sorted({row["instruction"].strip() for row in csv.DictReader(f)})
    texts += random.Random(0).sample(instructions, min(BITEXT_SAMPLE, len(instructions)))
    return list(dict.fromkeys(t.strip() for t in texts if t.strip()))


def parallel(data_dir: Path, locale: str = "sv-SE") -> tuple[list[str], list[str]]:
    """MASSIVE dev's (``locale`` sentence, en-US sentence) pairs, in file order."""
    path = data_dir / "massive" / "massive11_parallel_dev.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    pairs = [(r["utt"][locale], r["utt"]["en-US"]) for r in rows
             if r["utt"].get(locale) and r["utt"].get("en-US")]
    return [a for a, _ in pairs], [b for _, b in pairs]


def embed_all(model: str, texts: list[str]) -> Vectors:
    embedder = make_embedder(model)
    started = time.perf_counter()
    out = np.vstack([embedder.embed(texts[i : i + 256]) for i in range(0, len(texts), 256)])
    print(f"{model}: {len(texts)} sentences in {time.perf_counter() - started:.0f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=MAPS[("e5", "use")])
    parser.add_argument("--reuse-base", action="store_true",
                        help="take the English map from --out (or the shipped file) instead of "
                             "refitting it")
    args = parser.parse_args(argv)
    if args.reuse_base:
        with np.load(args.out if args.out.exists() else MAPS[("e5", "use")]) as old:
            # Files from before the Swedish step hold only the English map, as "weights".
            base = np.asarray(old["base"] if "base" in old else old["weights"], np.float32)
            sentences = int(old["sentences"])
    else:
        texts = corpus(args.data_dir)
        source, target = embed_all("e5", texts), embed_all("use", texts)
        base = fit_map(source, target, RIDGE)
        sentences = len(texts)
        fitted = _normalise(source @ base[:-1] + base[-1])
        agreement = float(np.mean(np.sum(fitted * target, axis=1)))
        print(f"mean cosine of mapped and true USE vectors: {agreement:.3f}")
    swedish, english = parallel(args.data_dir)
    source = np.vstack([embed_all("e5", swedish), embed_all("e5", english)])
    target = embed_all("use", english)
    weights = fit_map(source, np.vstack([target, target]), PARALLEL_RIDGE, prior=base)
    for name, w in (("English map", base), ("with the Swedish step", weights)):
        mapped = _normalise(source[: len(swedish)] @ w[:-1] + w[-1])
        print(f"{name}: mean cosine of mapped Swedish and USE English: "
              f"{float(np.mean(np.sum(mapped * target, axis=1))):.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        weights=weights,
        base=base,
        source=make_embedder("e5").name,
        target=make_embedder("use").name,
        ridge=RIDGE,
        sentences=sentences,
        parallel_ridge=PARALLEL_RIDGE,
        parallel_pairs=len(swedish),
    )
    print(f"wrote {args.out} ({weights.shape[0]} x {weights.shape[1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
