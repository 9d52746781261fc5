"""Questions in a language the main model lacks, matched in the main model's own index.

USE (the main model) was not trained on Swedish; e5 was. Instead of a second index of every
phrasing embedded by e5 (~25,000 e5 embeddings for a 5,000 x 5 FAQ: minutes on 2 cores), the
shopper's question is embedded by e5 and carried into USE's space by a linear map, then
searched in the main index. e5 puts a Swedish question next to its English meaning; the map,
fitted on English sentences embedded by both models, puts that meaning where USE would.

The map ships in bot/matching/data/ and is refitted with ``python scripts/fit_bridge.py`` in two
steps: from public English intent data (CLINC150, BANKING77, Bitext: 29,511 sentences), then
pulled towards putting each Swedish sentence where USE puts its English original (MASSIVE dev's
2,033 parallel pairs, ridge PARALLEL_RIDGE towards the English map). English alone taught the
map e5's English and left Swedish wherever e5 puts it, a few points short: on a sparse English
FAQ (2 phrasings an entry) Swedish shop questions ranked the right entry first 25 % of the
time against 62 % for a full e5 index. The Swedish step: MASSIVE sv, sentences held out of the
fit, acc@1 33.5 -> 42.9 %; shop questions (dev) 25 -> 50 % on the sparse FAQ, 38 -> 50 % on
the shipped one. First measured on MASSIVE Swedish dev (BENCHMARKS.md, "Swedish without a
second index"): acc@1 58.7 % with the English map, as with a full e5 index; USE alone 21.1 %.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from pathlib import Path

import numpy as np

from bot.matching.embedder import Embedder, Vectors, _normalise

log = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
# (fallback model, main model) -> the map fitted for that pair.
MAPS = {("e5", "use"): DATA / "bridge-e5-use.npz"}
# Ridge penalty of the fit; picked on MASSIVE Swedish dev among 0.03 / 0.1 / 0.3 / 1.0.
RIDGE = 0.3
# Pull of the English map on the Swedish step. Picked on a quarter of MASSIVE dev held out of
# the fit and on the shop questions' dev split, among 1 / 3 / 10 / 30 / 100: held-out MASSIVE
# sv acc@1 45.9 / 42.9 / 40.9 / 39.5 / 37.5 %, shop dev sv 3 of 8 at 1, 4 of 8 at 3; a weaker
# pull fits MASSIVE's own topics (alarms, music) more than Swedish.
PARALLEL_RIDGE = 3.0


def fit_map(
    source: Vectors, target: Vectors, ridge: float = RIDGE, prior: Vectors | None = None
) -> Vectors:
    """Least squares (ridge) map with a bias row: ``[source, 1] @ W ~ target``.

    The ridge pulls ``W`` towards ``prior`` (a map fitted before) instead of towards zero.
    """
    x = np.hstack([source, np.ones((len(source), 1), dtype=np.float32)]).astype(np.float64)
    gram = x.T @ x + ridge * np.eye(x.shape[1])
    rhs = x.T @ target.astype(np.float64)
    if prior is not None:
        rhs += ridge * prior.astype(np.float64)
    return np.linalg.solve(gram, rhs).astype(np.float32)


class BridgeEmbedder:
    """The source model's vectors mapped into the target model's space (unit length)."""

    languages: frozenset[str] | None = None

    def __init__(self, source: Embedder, target: Embedder, weights: Vectors) -> None:
        if weights.shape != (source.dim + 1, target.dim):
            raise ValueError(
                f"bridge map is {weights.shape}, expected {(source.dim + 1, target.dim)}"
            )
        self.source = source
        self.dim = target.dim
        self._w, self._b = weights[:-1], weights[-1]
        digest = hashlib.sha256(weights.tobytes()).hexdigest()[:12]
        self.name = f"{source.name}->{target.name}@bridge-{digest}"

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self.source.embed(texts) @ self._w + self._b)


def load_bridge(
    source_model: str, source: Embedder, target_model: str, target: Embedder
) -> BridgeEmbedder | None:
    """Return the shipped bridge for this pair of models, or None where there is none.

    A map fitted on other model versions would put questions in the wrong place, so it is
    used only when the versions recorded at fit time match the installed ones.
    """
    path = MAPS.get((source_model, target_model))
    if path is None:
        return None
    instead = f"using a separate {source_model} index instead (refit: python scripts/fit_bridge.py)"
    try:
        with np.load(path) as data:
            fitted = (str(data["source"]), str(data["target"]))
            weights = np.asarray(data["weights"], dtype=np.float32)
        if fitted != (source.name, target.name):
            log.warning("bridge map %s was fitted for %s -> %s, installed are %s -> %s; %s",
                        path, *fitted, source.name, target.name, instead)
            return None
        return BridgeEmbedder(source, target, weights)
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        # A broken install must not stop the server: the slower separate index still works.
        log.warning("bridge map %s cannot be used (%s); %s", path, exc, instead)
        return None
