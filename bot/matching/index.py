"""The FAISS index of every phrasing, its manifest, incremental rebuilds and atomic swaps.

On disk (``index_dir``)::

    current.json            which build is live; replaced atomically (os.replace)
    builds/<build-id>/      index.faiss + manifest.json, never modified after writing
    .build.lock             held (flock) while a process builds, so worker processes that
                            notice the same FAQ edit build it once and the others load it

The manifest records the model name and version, the dimension, the FAQ fingerprint, every
entry (a snapshot, so the last good index keeps answering when the YAML is broken), and per
phrasing its entry id, language and a content hash, so a rebuild embeds only what changed.
A lane may index only the phrasings in some languages (``languages`` in the manifest; see
``select_phrasings``): the e5 fallback lane keeps the default language and its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bot.errors import IndexStateError
from bot.faq.load import Entry
from bot.matching.calibrate import PARAMS as CALIBRATION_PARAMS
from bot.matching.calibrate import Calibration, NegativeScores, calibrate, main_language_rows
from bot.matching.embedder import Embedder, Vectors
from bot.matching.head import HeadScores, head_for
from bot.matching.scoring import CENTROID_WEIGHT, entry_score
from bot.settings import Thresholds
from bot.store.locks import file_lock

MANIFEST_VERSION = 1
# A FAQ with few phrasings an entry (the median entry has at most SPARSE_PHRASINGS in the FAQ's
# own languages) ranks by its centroids almost alone: there the centroid is mostly the answer
# and the tags, a fuller description than any one phrasing, and the best of one to three
# phrasings favours the entries that have more. Shop dev questions, acc@1 at centroid weight
# 0.5 / 0.7 / 0.9 / 1.0: English with 1 phrasing an entry .625 / .644 / .663 / .673, 2 .779 /
# .769 / .798 / .798, 3 .788 / .817 / .837 / .827, 1-3 (four seeded mixes) .673-.750 /
# .702-.769 / .721-.798 / .721-.798; 4 .875 / .875 / - / -; the shipped FAQ (25 an entry)
# .952 at 0.5, .933 at 0.7. BENCHMARKS.md, issue 17.
SPARSE_CENTROID_WEIGHT = 0.9
SPARSE_PHRASINGS = 4
# Texts besides the phrasings that pull each entry's centroid, weighed as that many phrasings:
# its answer and its tags. On the shop dev questions, with English-only entries of 1 / 2
# phrasings, acc@1 0.511 -> 0.625 / 0.739 -> 0.773 (top-3 0.750 -> 0.875 / 0.909 -> 0.943);
# on the shipped FAQ (25 phrasings an entry) 0.966 both ways. Answer weights 0.5 / 1.5 / 2 and
# the answer as a searchable phrasing did less; per-language mean subtraction did nothing.
ANSWER_WEIGHT = 1.0
TAGS_WEIGHT = 0.5


def centroid_extras(entry: Entry) -> list[tuple[str, float]]:
    """Return (text, weight) of what besides its phrasings pulls an entry's centroid."""
    out = []
    if entry.answer:
        out.append((next(iter(entry.answer.values())), ANSWER_WEIGHT))
    if entry.tags:
        out.append((" ".join(entry.tags), TAGS_WEIGHT))
    return out


def centroid_sums(
    entry_ids: list[str], rows: list[str], vectors: Vectors,
    extras: list[tuple[str, float]] | None = None, extra_vectors: Vectors | None = None,
    langs: list[str] | None = None,
) -> Vectors:
    """Return each entry's unnormalised centroid: its phrasings plus its weighted extras.

    ``rows`` names each phrasing vector's entry; ``extras`` (entry id, weight) each extra
    vector's. Summed in a fixed order (all of one entry's phrasings, in file order), so a
    build and a load give the same centroids. ``langs`` (each phrasing's language) leaves out
    the phrasings outside the FAQ's own languages (calibrate.main_language_rows): a few in a
    shopper's language, learned from chats, pulled that language's other questions to their
    entries (wrong answers 1.0 -> 4.1 % in the replay of issue 17). They are still searched.
    """
    if langs is not None:
        own = main_language_rows(rows, langs)
        rows, vectors = [r for r, k in zip(rows, own, strict=True) if k], vectors[own]
    pos = {eid: i for i, eid in enumerate(entry_ids)}
    dim = vectors.shape[1] if len(vectors) else (extra_vectors.shape[1]
                                                 if extra_vectors is not None else 0)
    sums = np.zeros((len(entry_ids), dim), dtype=np.float32)
    owner = np.array([pos[e] for e in rows], dtype=np.intp)
    # Sum the first phrasing of every entry, then the second ...: within one round each
    # entry appears at most once, so a plain `+=` is exact (np.add.at is ~5x slower).
    order = np.argsort(owner, kind="stable")
    rank = np.arange(len(owner)) - np.searchsorted(owner[order], owner[order])
    for r in range(int(rank.max()) + 1 if len(owner) else 0):
        chosen = order[rank == r]
        sums[owner[chosen]] += vectors[chosen]
    if extras and extra_vectors is not None:
        for (eid, weight), vec in zip(extras, extra_vectors, strict=True):
            if eid in pos:
                sums[pos[eid]] += np.float32(weight) * vec
    return sums
KEEP_BUILDS = 3
NEGATIVES_FILE = "negatives.npz"  # the negatives' scores of a calibrated build


def phrasing_hash(text: str, model: str) -> str:
    """Hash a phrasing together with the model that embeds it."""
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Hit:
    """One entry's best match for a query."""

    entry: Entry
    score: float
    phrasing: str


class SearchIndex:
    """Entries and their phrasing vectors in a FAISS inner-product index."""

    def __init__(
        self,
        entries: list[Entry],
        index: Any,
        manifest: dict[str, Any],
        vectors: Vectors | None = None,
        extra_vectors: Vectors | None = None,
    ) -> None:
        self.entries = {e.id: e for e in entries}
        self.index = index
        self.manifest = manifest
        self.rows: list[tuple[str, str, str]] = [
            (p["entry"], p["lang"], p["text"]) for p in manifest["phrasings"]
        ]
        self.version: str = manifest["build_id"]
        self.model: str = manifest["model"]
        self.centroid_weight = float(manifest.get("centroid_weight", CENTROID_WEIGHT))
        # Thresholds fitted to this FAQ at build time (bot/matching/calibrate.py), if any.
        self.calibration = Calibration.from_dict(manifest.get("calibration"))
        # One normalised mean vector per entry: the average over all its phrasings (in all
        # languages) is a steadier target than any single phrasing.
        self.entry_ids: list[str] = sorted(self.entries)
        self._entry_pos = {eid: i for i, eid in enumerate(self.entry_ids)}
        # The answer and tags of each entry (centroid_extras) pull its centroid too.
        self.extras: list[tuple[str, float]] = [
            (x["entry"], float(x["weight"])) for x in manifest.get("extras", [])
        ]
        self.extra_vectors = (extra_vectors if extra_vectors is not None
                              else np.zeros((0, int(index.d)), dtype=np.float32))
        self.centroid_sums = centroid_sums(
            self.entry_ids, [e for e, _l, _t in self.rows],
            self.vectors() if vectors is None else vectors, self.extras, self.extra_vectors,
            [lang for _e, lang, _t in self.rows],
        )
        self.centroids = self._centroids(self.centroid_sums)
        # Where this build lives on disk (None until written): a rebuild reads the negatives'
        # scores kept there (bot/matching/calibrate.py, NegativeScores).
        self.build_dir: Path | None = None
        self._head: HeadScores | None = None  # made on first use (bot/matching/head.py)

    def head_confidence(self, query: Vectors, entry_id: str) -> float | None:
        """Return the head's score of a query vector for one entry (bot/matching/head.py);
        None when the model has no head."""
        if self._head is None:
            head = head_for(self.model, int(self.index.d))
            if head is None:
                return None
            owners = np.array([self._entry_pos[e] for e, _l, _t in self.rows], dtype=np.intp)
            self._head = HeadScores(head, self.index.reconstruct_batch, owners,
                                    self.centroid_sums, self.centroid_weight)
        return self._head.confidence(query, self._entry_pos[entry_id])

    def _centroids(self, sums: Vectors) -> Vectors:
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(sums / norms, dtype=np.float32)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def vectors(self) -> Vectors:
        """Return every stored phrasing vector (for reuse in a rebuild)."""
        if self.size == 0:
            return np.zeros((0, int(self.index.d)), dtype=np.float32)
        return np.asarray(self.index.reconstruct_n(0, self.size), dtype=np.float32)

    def search(self, query: Vectors, k: int = 5, market: str | None = None) -> list[Hit]:
        """Return the best entries for one query vector, best first, one hit each.

        An entry scores ``(1 - w) * best phrasing + w * centroid`` cosine (w =
        ``centroid_weight``, bot/matching/scoring.py): measured on MASSIVE, CLINC150, BANKING77
        and the shop dev set, this beats the best phrasing alone by 4 to 8 points of
        accuracy@1 (BENCHMARKS.md); a sparse FAQ's w is 0.9 (``SPARSE_CENTROID_WEIGHT``).
        """
        if self.size == 0:
            return []
        q = query.reshape(1, -1).astype(np.float32, copy=False)
        depth = min(self.size, max(64, k * 16))
        scores, ids = self.index.search(q, depth)
        best: dict[str, tuple[float, str]] = {}
        for score, row in zip(scores[0], ids[0], strict=True):
            if row >= 0 and self.rows[row][0] not in best:
                best[self.rows[row][0]] = (float(score), self.rows[row][2])
        # Entries whose best phrasing is below the searched depth get the depth's lowest score:
        # an upper bound, so they are never favoured by the cut.
        floor = float(scores[0][-1]) if len(scores[0]) else -1.0
        cent = self.centroids @ q[0]
        w = self.centroid_weight
        market = market.upper() if market else None
        hits = []
        for pos in np.argsort(-cent)[: max(k * 4, 32)].tolist() + [
            self._entry_pos[e] for e in best
        ]:
            entry = self.entries[self.entry_ids[pos]]
            if market and entry.markets and market not in entry.markets:
                continue
            top, text = best.get(entry.id, (floor, ""))
            hits.append(Hit(entry, entry_score(top, float(cent[pos]), w), text))
        unique = {h.entry.id: h for h in hits}
        return sorted(unique.values(), key=lambda h: (-h.score, h.entry.id))[:k]


def centroid_weight_for(rows: list[str], langs: list[str]) -> float:
    """Return the centroid weight for phrasings (``rows``: each one's entry, ``langs``: its
    language): ``SPARSE_CENTROID_WEIGHT`` when the median entry has at most
    ``SPARSE_PHRASINGS`` in the FAQ's own languages (calibrate.main_language_rows, so phrasings
    learned in shoppers' languages do not tip it), else ``CENTROID_WEIGHT``."""
    if not rows:
        return CENTROID_WEIGHT
    keep = main_language_rows(rows, langs)
    counts = np.unique(np.asarray(rows, dtype=object)[keep], return_counts=True)[1]
    return SPARSE_CENTROID_WEIGHT if float(np.median(counts)) <= SPARSE_PHRASINGS \
        else CENTROID_WEIGHT


def select_phrasings(
    entry: Entry, languages: frozenset[str] | None
) -> list[tuple[str, str]]:
    """Return the (language, phrasing) pairs of an entry that a lane indexes.

    ``languages`` None keeps every phrasing. Otherwise only phrasings in those languages are
    kept, and an entry with none of them keeps all of its own, so no entry drops out.
    """
    every = entry.phrasings()
    if languages is None:
        return every
    return [(lang, q) for lang, q in every if lang in languages] or every


def _manifest_for(
    entries: list[Entry],
    embedder: Embedder,
    fingerprint: str,
    languages: frozenset[str] | None,
    calibrated: bool = False,
) -> dict[str, Any]:
    phrasings = [
        {"entry": e.id, "lang": lang, "text": q, "hash": phrasing_hash(q, embedder.name)}
        for e in entries
        for lang, q in select_phrasings(e, languages)
    ]
    extras = [
        {"entry": e.id, "weight": weight, "hash": phrasing_hash(text, embedder.name),
         "text": text}
        for e in entries
        for text, weight in centroid_extras(e)
    ]
    selection = None if languages is None else sorted(languages)
    weight = centroid_weight_for([p["entry"] for p in phrasings], [p["lang"] for p in phrasings])
    # A calibrated build is another build (its manifest holds thresholds); an uncalibrated one
    # keeps the id it always had, and so does one at the usual centroid weight.
    key: list[Any] = [selection, [p["hash"] for p in phrasings],
                      [[x["hash"], x["weight"]] for x in extras]]
    if calibrated:
        key.append(f"calibration-{CALIBRATION_PARAMS}")
    if weight != CENTROID_WEIGHT:
        key.append(f"centroid-{weight}")
    digest = hashlib.sha256((embedder.name + fingerprint + json.dumps(key)).encode()
                            ).hexdigest()[:16]
    return {
        "format": MANIFEST_VERSION,
        "build_id": digest,
        "model": embedder.name,
        "dim": embedder.dim,
        "faq_fingerprint": fingerprint,
        "languages": selection,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "entries": [e.to_dict() for e in entries],
        "phrasings": phrasings,
        "extras": extras,
        "centroid_weight": weight,
    }


@dataclass
class BuildReport:
    """What a build did."""

    index: SearchIndex
    embedded: int
    reused: int
    seconds: float


def build_index(
    entries: list[Entry],
    embedder: Embedder,
    index_dir: Path,
    fingerprint: str,
    previous: SearchIndex | None = None,
    progress: bool = False,
    batch_size: int = 64,
    on_batch: Callable[[int], None] | None = None,
    languages: frozenset[str] | None = None,
    calibrate_from: Thresholds | None = None,
) -> BuildReport:
    """Embed the phrasings that changed, write a new build and make it the current one.

    ``languages`` limits which phrasings are indexed (see :func:`select_phrasings`).
    ``calibrate_from`` (the configured thresholds) fits thresholds to this FAQ and stores them
    in the manifest (bot/matching/calibrate.py); None builds without.
    """
    started = time.perf_counter()
    if previous is None:
        previous = try_load_index(index_dir)
    manifest = _manifest_for(entries, embedder, fingerprint, languages,
                             calibrate_from is not None)
    rows = manifest["phrasings"]
    vectors = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    # Where each phrasing's vector sits in the previous build (-1: embed it).
    src = np.full(len(rows), -1, dtype=np.intp)
    if previous is not None and previous.model == embedder.name and previous.size:
        old = {p["hash"]: i for i, p in enumerate(previous.manifest["phrasings"])}
        src[:] = [old.get(p["hash"], -1) for p in rows]
        have = src >= 0
        vectors[have] = previous.vectors()[src[have]]
    todo = np.flatnonzero(src < 0).tolist()
    bar = None
    if progress and len(todo) > batch_size:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="embedding", unit="phrasing", file=sys.stderr)
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        vectors[chunk] = embedder.embed([rows[i]["text"] for i in chunk])
        if bar is not None:
            bar.update(len(chunk))
        if on_batch is not None:
            on_batch(len(chunk))
    if bar is not None:
        bar.close()
    extra_vectors = _extra_vectors(manifest["extras"], embedder, previous)
    index = faiss.IndexFlatIP(embedder.dim)
    if len(rows):
        index.add(vectors)
    search = SearchIndex(entries, index, manifest, vectors, extra_vectors)
    negatives = None
    if calibrate_from is not None:
        kept = previous.build_dir if previous is not None else None
        cal, negatives = calibrate(
            entries, [p["entry"] for p in rows], vectors, search.centroid_sums, embedder,
            calibrate_from, search.centroid_weight, index_dir / "calibration",
            known={x["text"]: v for x, v in zip(manifest["extras"], extra_vectors, strict=True)},
            hashes=[p["hash"] for p in rows], langs=[p["lang"] for p in rows],
            previous=NegativeScores.load(kept / NEGATIVES_FILE) if kept is not None else None,
        )
        manifest["calibration"] = cal.to_dict()
        search.calibration = cal
    search.build_dir = _write_build(index_dir, index, manifest, extra_vectors, negatives)
    return BuildReport(search, len(todo), len(rows) - len(todo), time.perf_counter() - started)


def _extra_vectors(
    extras: list[dict[str, Any]], embedder: Embedder, previous: SearchIndex | None
) -> Vectors:
    """Embed each entry's centroid extras, reusing the previous build's where unchanged."""
    out = np.zeros((len(extras), embedder.dim), dtype=np.float32)
    known: dict[str, Vectors] = {}
    if previous is not None and previous.model == embedder.name:
        old = previous.manifest.get("extras", [])
        if len(old) == len(previous.extra_vectors):
            known = {x["hash"]: previous.extra_vectors[i] for i, x in enumerate(old)}
    todo = [i for i, x in enumerate(extras) if x["hash"] not in known]
    for i, x in enumerate(extras):
        if x["hash"] in known:
            out[i] = known[x["hash"]]
    for start in range(0, len(todo), 64):
        chunk = todo[start : start + 64]
        out[chunk] = embedder.embed([extras[i]["text"] for i in chunk])
    return out


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index directory's build lock (shared by processes; waits for the holder).

    Without it every worker process of `faqbot serve --workers N` rebuilt the index after an
    edit at the same time: N times the embedding work, on the cores that answer shoppers.
    """
    with file_lock(index_dir / ".build.lock"):
        yield


def _write_build(
    index_dir: Path, index: Any, manifest: dict[str, Any], extra_vectors: Vectors,
    negatives: NegativeScores | None = None,
) -> Path:
    """Write a build (unless that build exists), make it current and return its folder."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    final = builds / str(manifest["build_id"])
    if not final.exists():
        tmp = builds / f".tmp-{manifest['build_id']}-{os.getpid()}-{time.monotonic_ns()}"
        tmp.mkdir()
        try:
            faiss.write_index(index, str(tmp / "index.faiss"))
            np.save(tmp / "extras.npy", extra_vectors)
            if negatives is not None:
                negatives.save(tmp / NEGATIVES_FILE)
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
            tmp.rename(final)
        except OSError:
            if not final.exists():  # else another process wrote the same build first
                raise
        finally:  # a failed write leaves no half-written build behind
            shutil.rmtree(tmp, ignore_errors=True)
    pointer = index_dir / f".current-{os.getpid()}.json"
    pointer.write_text(json.dumps({"build_id": manifest["build_id"]}))
    os.replace(pointer, index_dir / "current.json")
    _prune(builds, keep=manifest["build_id"])
    return final


def _prune(builds: Path, keep: str) -> None:
    done = sorted(
        (p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in done[KEEP_BUILDS:]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def load_index(index_dir: Path) -> SearchIndex:
    """Load the current build, or raise IndexStateError saying what is wrong."""
    pointer = index_dir / "current.json"
    if not pointer.exists():
        raise IndexStateError(f"no index in {index_dir}: run 'faqbot build'")
    try:
        build_id = json.loads(pointer.read_text())["build_id"]
        build = index_dir / "builds" / build_id
        manifest = json.loads((build / "manifest.json").read_text())
        index = faiss.read_index(str(build / "index.faiss"))
        extra_vectors = np.load(build / "extras.npy") if "extras" in manifest else None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexStateError(f"index in {index_dir} is unreadable ({exc}): rebuild it") from exc
    if manifest.get("format") != MANIFEST_VERSION:
        raise IndexStateError(f"index in {index_dir} has an old format: rebuild it")
    if index.ntotal != len(manifest["phrasings"]):
        raise IndexStateError(f"index in {index_dir} does not match its manifest: rebuild it")
    if extra_vectors is not None and len(extra_vectors) != len(manifest["extras"]):
        raise IndexStateError(f"index in {index_dir} does not match its manifest: rebuild it")
    weight = manifest.get("centroid_weight", CENTROID_WEIGHT)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
        raise IndexStateError(f"index in {index_dir} has a centroid weight of {weight!r}: "
                              "rebuild it")
    entries = [Entry.from_dict(d) for d in manifest["entries"]]
    search = SearchIndex(entries, index, manifest, None, extra_vectors)
    search.build_dir = build
    return search


def live_build_id(index_dir: Path) -> str | None:
    """Return the id of the build ``current.json`` points at (cheap: no index is read)."""
    try:
        build_id = json.loads((index_dir / "current.json").read_text())["build_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return build_id if isinstance(build_id, str) else None


def try_load_index(index_dir: Path) -> SearchIndex | None:
    """Load the current build, or None when there is none usable."""
    try:
        return load_index(index_dir)
    except IndexStateError:
        return None


def is_current(
    index: SearchIndex | None,
    fingerprint: str,
    model: str,
    languages: frozenset[str] | None = None,
    calibrated: bool = False,
) -> bool:
    """Tell whether an index was built from exactly these files, model and languages, and
    calibrated (this version) exactly when ``calibrated``."""
    return (
        index is not None
        and index.manifest["faq_fingerprint"] == fingerprint
        and index.model == model
        and index.manifest.get("languages") == (None if languages is None else sorted(languages))
        and (index.calibration is not None) == calibrated
        and "extras" in index.manifest  # built before answers and tags shaped the centroids
        and index.centroid_weight == centroid_weight_for(
            [p["entry"] for p in index.manifest["phrasings"]],
            [p["lang"] for p in index.manifest["phrasings"]])
    )
