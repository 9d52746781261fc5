"""Fit the e5 -> USE bridge map (bot/matching/bridge.py); write bot/matching/data/bridge-e5-use.npz.

    python scripts/fit_bridge.py [--data-dir ../shared/datasets] [--out bot/matching/data/...npz]

The corpus is English shop and service questions from public intent data, read unchanged from
../shared/datasets: CLINC150 train (Larson et al. 2019, CC BY 3.0), BANKING77 train
(Casanueva et al. 2020, CC BY 4.0) and 8,000 of Bitext's customer-support instructions
(the entry file, CDLA-Sharing 1.0). None of it is an evaluation split the project reports
on: MASSIVE (where the bridge is measured) is not used, nor Bitext's question file. Only the
fitted matrix is written; the sentences are not.
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

from bot.matching.bridge import MAPS, RIDGE, fit_map  # noqa: E402
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
    args = parser.parse_args(argv)
    texts = corpus(args.data_dir)
    source, target = embed_all("e5", texts), embed_all("use", texts)
    weights = fit_map(source, target, RIDGE)
    fitted = _normalise(source @ weights[:-1] + weights[-1])
    agreement = float(np.mean(np.sum(fitted * target, axis=1)))
    print(f"mean cosine of mapped and true USE vectors: {agreement:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        weights=weights,
        source=make_embedder("e5").name,
        target=make_embedder("use").name,
        ridge=RIDGE,
        sentences=len(texts),
    )
    print(f"wrote {args.out} ({weights.shape[0]} x {weights.shape[1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
