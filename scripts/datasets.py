"""Convert public labelled intent datasets into faqbot FAQ YAML and labelled JSONL.

Each intent becomes one FAQ entry whose English phrasings are a fixed number of training
utterances (chosen by a seeded shuffle); held-out test utterances become the labelled questions
that `faqbot eval` reads, one JSON object a line: ``{"q": str, "lang": "xx", "expect": id|null}``
(``expect`` null = out of scope, the bot should hand off).

Output of one dataset, under the git-ignored data/ folder (never commit it)::

    <out>/faq/<category>.yaml   entries (file name = category, as in faq_data/)
    <out>/dev.jsonl             questions for tuning thresholds
    <out>/test.jsonl            questions for reporting numbers
    <out>/stats.json            counts: entries, questions per language, out-of-scope share

Usage::

    python scripts/datasets.py all --out data/eval          # every dataset, default settings
    python scripts/datasets.py massive --out data/eval/massive [--phrasings 10] [--split dev]
        [--langs de,es,...] [--holdout-intents 8] [--per-lang-limit 300] [--seed 0]
    python scripts/datasets.py clinc150|banking77|bitext|xsid --out DIR [same options]

The same arguments always give byte-identical files (sorted output, string-seeded choices).

Sources, read from ../shared/datasets (``--data-dir``), unchanged third-party data; cite them
when publishing numbers:

- ``massive/``: MASSIVE 1.1 (Amazon, FitzGerald et al. 2022), CC BY 4.0. Entries from en-US
  train utterances; questions from ``massive11_parallel_{dev,test}.jsonl`` in de, es, fr, it,
  nl, pl, pt (pt-PT), sv, ja, ko, zh (zh-TW), ru, tr and en. The same seeded sample of ids is
  used in every language (default 300 per split), so per-language numbers compare like with
  like. 8 intents (seeded) are held out: no entry, their questions expect null.
- ``clinc150/``: CLINC150 ``data_full.json`` (Larson et al. 2019), CC BY 3.0. Entries from
  train; dev = val + oos_val, test = test + oos_test; ``oos`` expects null. English only.
- ``banking77/``: BANKING77 (Casanueva et al. 2020, PolyAI), CC BY 4.0. Entries from
  train.csv; test from test.csv; dev is carved from train utterances not used as phrasings
  (``--dev-per-intent``, default 20). English only, no out-of-scope unless intents are held out.
- ``bitext/``: Bitext customer-support intents, CDLA-Sharing 1.0. Entries from
  ``bitext_llm_cs_training_337b968.csv`` (its ``response`` is the answer); questions from
  ``bitext_cs_training_8k.csv`` minus anything also in the entry file (exact after normalising
  case, spaces and punctuation), split per intent half dev / half test. English only.
- ``xsid/``: xSID 0.7 (van der Goot et al. 2021, mainlp/xsid), CC BY-SA 4.0. Entries from
  English ``en.valid``; dev = the other valid sentences (in every language) whose English
  source is not a phrasing; test = every ``*.test`` sentence. Languages with an ISO 639-1 code
  only: ar da de en id it ja kk lt nl no sr tr zh. Dialect files (de-ba, de-muc, de-st, gsw,
  nap) are skipped rather than mapped to de/it, so a language's number means that language;
  from the Norwegian file only ``dialect = B`` (Bokmål) is kept. Japanese ``# text`` is
  tokenised with spaces, which shoppers never type, so spaces next to non-ASCII are removed.
  Test intents with no English valid sentence (alarm/time_left_on_alarm) expect null.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SPLITS = ("dev", "test")
MASSIVE_LANGS = ("de", "es", "fr", "it", "nl", "pl", "pt", "sv", "ja", "ko", "zh", "ru", "tr", "en")
XSID_LANGS = ("ar", "da", "de", "en", "id", "it", "ja", "kk", "lt", "nl", "no", "sr", "tr", "zh")
MASSIVE_HOLDOUT_MIN = 10  # questions per split an intent needs to be held out
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass
class Entry:
    """One FAQ entry built from one intent."""

    id: str
    category: str
    phrasings: list[str]
    answer: str


@dataclass
class Query:
    """One labelled question; expect None means out of scope."""

    q: str
    lang: str
    expect: str | None


@dataclass
class Converted:
    """A converted dataset: entries plus labelled questions per split."""

    name: str
    entries: list[Entry]
    splits: dict[str, list[Query]] = field(default_factory=dict)


# ---------------------------------------------------------------- helpers shared by datasets


def normalise(text: str) -> str:
    """Return text case-folded with punctuation removed and spaces collapsed (for dedup)."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", text.casefold()).split())


def slug(name: str) -> str:
    """Turn an intent name into a valid entry id ("alarm/SetAlarm" -> "alarm.set_alarm")."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip()).lower().replace("/", ".")
    text = re.sub(r"[^a-z0-9._-]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("._-")
    if not ID_RE.match(text):
        raise ValueError(f"intent {name!r} gives no valid entry id")
    return text


def rng_for(seed: int, *parts: str) -> random.Random:
    """Return a generator seeded by a string, stable across runs and PYTHONHASHSEED."""
    return random.Random(":".join([str(seed), *parts]))


def choose_holdouts(intents: Iterable[str], n: int, seed: int, dataset: str) -> set[str]:
    """Choose n intents (seeded) to hold out as out-of-scope."""
    if n == 0:
        return set()
    pool = sorted(set(intents))
    if not 0 < n < len(pool):
        raise ValueError(f"--holdout-intents must be between 0 and {len(pool) - 1}, got {n}")
    return set(rng_for(seed, dataset, "holdout").sample(pool, n))


def ambiguous(groups: dict[str, list[str]]) -> set[str]:
    """Return normalised utterances that occur under more than one intent."""
    owners: dict[str, set[str]] = defaultdict(set)
    for intent, utterances in groups.items():
        for text in utterances:
            owners[normalise(text)].add(intent)
    return {norm for norm, names in owners.items() if len(names) > 1}


def shuffled_unique(
    utterances: Iterable[str], rng: random.Random, banned: set[str] | None = None
) -> list[str]:
    """Return distinct non-empty utterances (by normalised form) in a seeded order."""
    seen: dict[str, str] = {}
    for text in utterances:
        text = " ".join(text.split())
        norm = normalise(text)
        if norm and norm not in (banned or set()) and norm not in seen:
            seen[norm] = text
    pool = sorted(seen.values())
    rng.shuffle(pool)
    return pool


def cap(items: Sequence[Any], limit: int | None, rng: random.Random) -> list[Any]:
    """Keep at most limit items, chosen by rng, in their original order."""
    if limit is None or limit <= 0 or len(items) <= limit:
        return list(items)
    return [items[i] for i in sorted(rng.sample(range(len(items)), limit))]


def generated_answer(intent: str) -> str:
    """Return the placeholder answer for datasets without real responses."""
    return f"Answer for intent {intent}."


def build_entries(
    groups: dict[str, list[str]],
    *,
    phrasings: int,
    seed: int,
    dataset: str,
    holdouts: set[str],
    category: dict[str, str],
    answer_for: Callable[[str, list[str]], str] | None = None,
) -> tuple[list[Entry], dict[str, list[str]]]:
    """Build one entry per intent not held out; return entries and each intent's unused pool.

    Utterances shared by two intents are never phrasings: they would make two entries match
    the same question equally well, which measures the data, not the bot.
    """
    if phrasings < 1:
        raise ValueError(f"--phrasings must be at least 1, got {phrasings}")
    banned = ambiguous(groups)
    entries: list[Entry] = []
    rest: dict[str, list[str]] = {}
    for intent in sorted(groups):
        pool = shuffled_unique(groups[intent], rng_for(seed, dataset, "phrasings", intent), banned)
        if intent in holdouts:
            rest[intent] = pool
            continue
        if not pool:
            continue
        chosen, rest[intent] = pool[:phrasings], pool[phrasings:]
        answer = answer_for(intent, chosen) if answer_for else generated_answer(intent)
        entries.append(Entry(slug(intent), category.get(intent, dataset), chosen, answer))
    ids = [e.id for e in entries]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{dataset}: two intents give the same entry id")
    return entries, rest


def expecter(entries: list[Entry]) -> Callable[[str | None], str | None]:
    """Return a function giving the entry id a question of an intent expects, None = OOS."""
    known = {e.id for e in entries}

    def expect(intent: str | None) -> str | None:
        if intent is None:
            return None
        eid = slug(intent)
        return eid if eid in known else None

    return expect


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read one JSON object per non-blank line."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_csv(path: Path) -> list[dict[str, str]]:
    """Read a CSV file with a header row (a UTF-8 BOM is ignored)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------- datasets


def convert_massive(
    root: Path,
    *,
    phrasings: int = 10,
    langs: Sequence[str] = MASSIVE_LANGS,
    holdout_intents: int = 8,
    per_lang_limit: int | None = 300,
    seed: int = 0,
) -> Converted:
    """Convert MASSIVE 1.1: English entries, parallel dev/test questions in many languages."""
    folder = root / "massive"
    groups: dict[str, list[str]] = defaultdict(list)
    category: dict[str, str] = {}
    for row in read_jsonl(folder / "en-US.jsonl"):
        if row["partition"] == "train":
            groups[row["intent"]].append(row["utt"])
            category[row["intent"]] = row["scenario"]
    parallel = {s: read_jsonl(folder / f"massive11_parallel_{s}.jsonl") for s in SPLITS}
    # Hold out only intents asked often enough in both splits: a tiny intent held out adds
    # almost no out-of-scope questions (uniform choice over all 59 gave ~5% OOS, not ~15%).
    counts = [Counter(r["intent"] for r in rows) for rows in parallel.values()]
    eligible = {i for i in groups if all(c[i] >= MASSIVE_HOLDOUT_MIN for c in counts)}
    holdouts = choose_holdouts(eligible, holdout_intents, seed, "massive")
    entries, _ = build_entries(
        groups,
        phrasings=phrasings,
        seed=seed,
        dataset="massive",
        holdouts=holdouts,
        category=category,
    )
    locales = sorted({loc for rows in parallel.values() for r in rows for loc in r["utt"]})
    by_code = {loc.split("-")[0].lower(): loc for loc in locales}
    unknown = [code for code in langs if code not in by_code]
    if unknown:
        raise ValueError(f"MASSIVE has no locale for {unknown}; choose from {sorted(by_code)}")
    out, expect = Converted("massive", entries), expecter(entries)
    for split, rows in parallel.items():
        rows = sorted(rows, key=lambda r: int(r["id"]))
        # One sample of ids for every language, so languages are compared on the same items.
        chosen = cap(rows, per_lang_limit, rng_for(seed, "massive", split, "cap"))
        out.splits[split] = [
            Query(" ".join(r["utt"][by_code[code]].split()), code, expect(r["intent"]))
            for code in langs
            for r in chosen
            if r["utt"].get(by_code[code], "").strip()
        ]
    return out


def convert_clinc150(
    root: Path,
    *,
    phrasings: int = 10,
    holdout_intents: int = 0,
    per_lang_limit: int | None = None,
    seed: int = 0,
) -> Converted:
    """Convert CLINC150: entries from train, dev from val, test from test; oos stays OOS."""
    folder = root / "clinc150"
    data = json.loads((folder / "data_full.json").read_text(encoding="utf-8"))
    category: dict[str, str] = {}
    domains_path = folder / "domains.json"
    if domains_path.exists():
        for domain, intents in json.loads(domains_path.read_text(encoding="utf-8")).items():
            category.update({intent: domain for intent in intents})
    groups: dict[str, list[str]] = defaultdict(list)
    for text, intent in data["train"]:
        groups[intent].append(text)
    holdouts = choose_holdouts(groups, holdout_intents, seed, "clinc150")
    entries, _ = build_entries(
        groups,
        phrasings=phrasings,
        seed=seed,
        dataset="clinc150",
        holdouts=holdouts,
        category=category,
    )
    out, expect = Converted("clinc150", entries), expecter(entries)
    for split, keys in {"dev": ("val", "oos_val"), "test": ("test", "oos_test")}.items():
        rows = [
            (text, None if intent == "oos" else intent) for k in keys for text, intent in data[k]
        ]
        rows = cap(rows, per_lang_limit, rng_for(seed, "clinc150", split, "cap"))
        out.splits[split] = [Query(" ".join(t.split()), "en", expect(i)) for t, i in rows]
    return out


def convert_banking77(
    root: Path,
    *,
    phrasings: int = 10,
    holdout_intents: int = 0,
    per_lang_limit: int | None = None,
    dev_per_intent: int = 20,
    seed: int = 0,
) -> Converted:
    """Convert BANKING77: entries from train, a dev slice from unused train, test from test."""
    folder = root / "banking77"
    groups: dict[str, list[str]] = defaultdict(list)
    for row in read_csv(folder / "train.csv"):
        groups[row["category"]].append(row["text"])
    holdouts = choose_holdouts(groups, holdout_intents, seed, "banking77")
    entries, rest = build_entries(
        groups,
        phrasings=phrasings,
        seed=seed,
        dataset="banking77",
        holdouts=holdouts,
        category={},
    )
    out, expect = Converted("banking77", entries), expecter(entries)
    # rest[] is already in seeded order and excludes every phrasing, so its head is a fair dev.
    dev = [(text, intent) for intent in sorted(rest) for text in rest[intent][:dev_per_intent]]
    test = [(row["text"], row["category"]) for row in read_csv(folder / "test.csv")]
    for split, rows in {"dev": dev, "test": test}.items():
        rows = cap(rows, per_lang_limit, rng_for(seed, "banking77", split, "cap"))
        out.splits[split] = [Query(" ".join(t.split()), "en", expect(i)) for t, i in rows]
    return out


BITEXT_ENTRY_FILE = "bitext_llm_cs_training_337b968.csv"
BITEXT_QUESTION_FILE = "bitext_cs_training_8k.csv"


def convert_bitext(
    root: Path,
    *,
    phrasings: int = 10,
    holdout_intents: int = 0,
    per_lang_limit: int | None = None,
    seed: int = 0,
) -> Converted:
    """Convert Bitext: entries and real answers from one file, questions from the other."""
    folder = root / "bitext"
    entry_rows = read_csv(folder / BITEXT_ENTRY_FILE)
    groups: dict[str, list[str]] = defaultdict(list)
    responses: dict[str, dict[str, str]] = defaultdict(dict)
    category: dict[str, str] = {}
    for row in entry_rows:
        intent = row["intent"]
        groups[intent].append(row["instruction"])
        # First response per normalised instruction, so the answer follows the chosen phrasing.
        answer = "\n".join(line.rstrip() for line in row["response"].strip().splitlines())
        responses[intent].setdefault(normalise(row["instruction"]), answer)
        category[intent] = slug(row["category"])
    holdouts = choose_holdouts(groups, holdout_intents, seed, "bitext")
    entries, _ = build_entries(
        groups,
        phrasings=phrasings,
        seed=seed,
        dataset="bitext",
        holdouts=holdouts,
        category=category,
        answer_for=lambda intent, chosen: responses[intent][normalise(chosen[0])],
    )
    seen = {normalise(row["instruction"]) for row in entry_rows}
    questions: dict[str, list[str]] = defaultdict(list)
    for row in read_csv(folder / BITEXT_QUESTION_FILE):
        norm = normalise(row["utterance"])
        if norm and norm not in seen:
            seen.add(norm)
            questions[row["intent"]].append(" ".join(row["utterance"].split()))
    out, expect = Converted("bitext", entries, {s: [] for s in SPLITS}), expecter(entries)
    for intent in sorted(questions):
        pool = list(questions[intent])
        rng_for(seed, "bitext", "split", intent).shuffle(pool)
        half = len(pool) // 2
        for split, part in (("dev", pool[:half]), ("test", pool[half:])):
            out.splits[split] += [Query(q, "en", expect(intent)) for q in part]
    for split in SPLITS:
        out.splits[split] = cap(out.splits[split], per_lang_limit, rng_for(seed, "bitext", split))
    return out


def read_conll(path: Path) -> list[dict[str, str]]:
    """Read the ``# key = value`` comment block of every sentence in an xSID CoNLL file."""
    sentences: list[dict[str, str]] = []
    current: dict[str, str] = {}
    with path.open(encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("# ") and " = " in line:
                key, _, value = line[2:].partition(" = ")
                current[key.strip()] = value.strip()
            elif not line.strip() and current:
                sentences.append(current)
                current = {}
    if current:
        sentences.append(current)
    return sentences


def xsid_text(text: str, lang: str) -> str:
    """Undo xSID's word tokenisation of Japanese, which shoppers never type."""
    text = " ".join(text.split())
    if lang == "ja":
        text = re.sub(r"(?<=[^\x00-\x7f]) (?=\S)|(?<=\S) (?=[^\x00-\x7f])", "", text)
    return text


def xsid_sentences(folder: Path, lang: str, split: str) -> list[tuple[str, str, str]]:
    """Return (text, English source, intent) for one language and split of xSID."""
    english = read_conll(folder / f"en.{split}.conll")
    rows = read_conll(folder / f"{lang}.{split}.conll")
    out: list[tuple[str, str, str]] = []
    for row in rows:
        if lang == "en":
            source = row["text"]
        elif "text-en" in row:
            source = row["text-en"]
        else:
            # The Norwegian file has no text-en; its id "<n>/<annotator>" is the English line.
            if row.get("dialect", "B") != "B":
                continue
            source = english[int(row["id"].split("/")[0]) - 1]["text"]
        out.append((xsid_text(row["text"], lang), source, row["intent"]))
    return out


def convert_xsid(
    root: Path,
    *,
    phrasings: int = 10,
    langs: Sequence[str] = XSID_LANGS,
    holdout_intents: int = 0,
    per_lang_limit: int | None = None,
    seed: int = 0,
) -> Converted:
    """Convert xSID: English entries from en.valid, questions in every language."""
    folder = root / "xsid"
    missing = [code for code in langs if not (folder / f"{code}.test.conll").exists()]
    if missing:
        raise ValueError(f"xSID has no files for {missing}")
    groups: dict[str, list[str]] = defaultdict(list)
    for text, _, intent in xsid_sentences(folder, "en", "valid"):
        groups[intent].append(text)
    holdouts = choose_holdouts(groups, holdout_intents, seed, "xsid")
    category = {i: i.split("/")[0].lower() if "/" in i else "snips" for i in groups}
    entries, _ = build_entries(
        groups,
        phrasings=phrasings,
        seed=seed,
        dataset="xsid",
        holdouts=holdouts,
        category=category,
    )
    # A translation of a phrasing would be a near-copy of the entry: keep those out of dev.
    used = {normalise(p) for e in entries for p in e.phrasings}
    out, expect = Converted("xsid", entries), expecter(entries)
    for split, source_split in (("dev", "valid"), ("test", "test")):
        queries: list[Query] = []
        for code in langs:
            rows = [
                (text, intent)
                for text, source, intent in xsid_sentences(folder, code, source_split)
                if text and not (split == "dev" and normalise(source) in used)
            ]
            rows = cap(rows, per_lang_limit, rng_for(seed, "xsid", split, code))
            queries += [Query(t, code, expect(i)) for t, i in rows]
        out.splits[split] = queries
    return out


# ---------------------------------------------------------------- output


def stats(conv: Converted) -> dict[str, Any]:
    """Count entries, phrasings and questions per split and language, with OOS share."""
    result: dict[str, Any] = {
        "dataset": conv.name,
        "entries": len(conv.entries),
        "phrasings": sum(len(e.phrasings) for e in conv.entries),
        "splits": {},
    }
    for split, queries in conv.splits.items():
        per_lang = Counter(q.lang for q in queries)
        oos = sum(q.expect is None for q in queries)
        result["splits"][split] = {
            "questions": len(queries),
            "per_lang": dict(sorted(per_lang.items())),
            "oos": oos,
            "oos_share": round(oos / len(queries), 4) if queries else 0.0,
        }
    return result


# A SafeDumper of our own, so the str representer below does not leak into other yaml users.
_Dumper: Any = type("_Dumper", (yaml.SafeDumper,), {})


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Represent multi-line strings (Bitext answers) as readable ``|`` blocks."""
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(doc: Any) -> str:
    """Dump doc as safe YAML, Unicode kept, keys in insertion order."""
    text: str = yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return text


def write(conv: Converted, out: Path, splits: Sequence[str] = SPLITS) -> dict[str, Any]:
    """Write FAQ YAML, the requested JSONL splits and stats.json under out; return the stats."""
    faq_dir = out / "faq"
    faq_dir.mkdir(parents=True, exist_ok=True)
    # Files from an earlier run with other settings would add stale entries to the index.
    for old in faq_dir.glob("*.yaml"):
        old.unlink()
    by_category: dict[str, list[Entry]] = defaultdict(list)
    for entry in conv.entries:
        by_category[entry.category].append(entry)
    for cat in sorted(by_category):
        doc = {
            "entries": [
                {
                    "id": e.id,
                    "questions": {"en": e.phrasings},
                    "answer": {"en": e.answer},
                    "category": e.category,
                }
                for e in sorted(by_category[cat], key=lambda e: e.id)
            ]
        }
        (faq_dir / f"{cat}.yaml").write_text(dump_yaml(doc), encoding="utf-8")
    for split in SPLITS:
        path = out / f"{split}.jsonl"
        if split not in splits:
            path.unlink(missing_ok=True)
            continue
        lines = [
            json.dumps({"q": q.q, "lang": q.lang, "expect": q.expect}, ensure_ascii=False)
            for q in conv.splits[split]
        ]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    result = stats(Converted(conv.name, conv.entries, {s: conv.splits[s] for s in splits}))
    (out / "stats.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def summary(result: dict[str, Any]) -> str:
    """Format stats as a few readable lines."""
    lines = [f"{result['dataset']}: {result['entries']} entries, {result['phrasings']} phrasings"]
    for split, s in result["splits"].items():
        langs = " ".join(f"{k}={v}" for k, v in s["per_lang"].items())
        lines.append(
            f"  {split}: {s['questions']} questions, OOS {s['oos']} ({s['oos_share']:.1%}); {langs}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- command line

CONVERTERS = {
    "massive": convert_massive,
    "clinc150": convert_clinc150,
    "banking77": convert_banking77,
    "bitext": convert_bitext,
    "xsid": convert_xsid,
}
DEFAULT_HOLDOUTS = {"massive": 8}
DEFAULT_LIMITS = {"massive": 300}
DEFAULT_LANGS = {"massive": MASSIVE_LANGS, "xsid": XSID_LANGS}


def convert(name: str, root: Path, **options: Any) -> Converted:
    """Run one converter by name, passing only the options it takes."""
    if not (root / name).is_dir():
        raise FileNotFoundError(f"{root / name} not found; set --data-dir to the datasets folder")
    options = {k: v for k, v in options.items() if v is not None}
    if name not in DEFAULT_LANGS and list(options.pop("langs", ["en"])) != ["en"]:
        raise ValueError(f"{name} is English only; --langs does not apply")
    if "dev_per_intent" in options and name != "banking77":
        options.pop("dev_per_intent")
    result: Converted = CONVERTERS[name](root, **options)
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="dataset", required=True)
    for name in [*CONVERTERS, "all"]:
        p = sub.add_parser(name, help="every dataset into OUT/<name>" if name == "all" else name)
        p.add_argument("--out", type=Path, required=True, help="output folder")
        p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
        p.add_argument("--phrasings", type=int, default=10, help="phrasings per entry")
        p.add_argument("--seed", type=int, default=0)
        if name == "all":
            continue
        p.add_argument("--split", choices=[*SPLITS, "both"], default="both")
        p.add_argument(
            "--langs",
            type=lambda s: [c.strip() for c in s.split(",") if c.strip()],
            default=None,
            help="ISO 639-1 codes of question languages",
        )
        p.add_argument("--holdout-intents", type=int, default=DEFAULT_HOLDOUTS.get(name, 0))
        p.add_argument(
            "--per-lang-limit",
            type=int,
            default=DEFAULT_LIMITS.get(name),
            help="questions per split per language (0 = all)",
        )
        if name == "banking77":
            p.add_argument("--dev-per-intent", type=int, default=20)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Convert the datasets named on the command line; return an exit code."""
    args = parse_args(argv)
    try:
        if args.dataset == "all":
            for name in CONVERTERS:
                conv = convert(name, args.data_dir, phrasings=args.phrasings, seed=args.seed)
                print(summary(write(conv, args.out / name)))
            return 0
        conv = convert(
            args.dataset,
            args.data_dir,
            phrasings=args.phrasings,
            seed=args.seed,
            langs=args.langs,
            holdout_intents=args.holdout_intents,
            per_lang_limit=args.per_lang_limit,
            dev_per_intent=getattr(args, "dev_per_intent", None),
        )
        splits = SPLITS if args.split == "both" else (args.split,)
        print(summary(write(conv, args.out, splits)))
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
