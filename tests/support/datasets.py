"""Tiny files shaped like the public datasets, for the tests of scripts/datasets.py and of the
bridge's fit (scripts/fit_bridge.py): the real ones are large and not in the repository."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from tests.support.faqs import ROOT, load_script

REPO = ROOT
# The public datasets sit next to the repository (../shared/datasets); CI has no copy.
REAL_DATA = ROOT.parent / "shared" / "datasets"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MASSIVE_LOCALES = {
    "de": "de-DE", "es": "es-ES", "fr": "fr-FR", "it": "it-IT", "nl": "nl-NL", "pl": "pl-PL",
    "pt": "pt-PT", "sv": "sv-SE", "ja": "ja-JP", "ko": "ko-KR", "zh": "zh-TW", "ru": "ru-RU",
    "tr": "tr-TR", "en": "en-US",
}  # fmt: skip


ds = load_script("datasets")  # a private module name: no clash with HF `datasets`


# ---------------------------------------------------------------- fixture builders


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def _write_csv(path: Path, header: list[str], rows: list[list[str]], bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def make_massive(root: Path) -> None:
    """Write en-US.jsonl and parallel dev/test files: 10 intents, 14 locales plus one extra."""
    en: list[dict[str, Any]] = []
    parallel: dict[str, list[dict[str, Any]]] = {"dev": [], "test": []}
    next_id = 0
    intents = [(s, f"{s}_i{k}") for s in ("alarm", "iot") for k in range(5)]
    for scenario, intent in intents:
        for k in range(8):
            en.append({"id": str(next_id), "locale": "en-US", "partition": "train",
                       "scenario": scenario, "intent": intent,
                       "utt": f"train {intent} number {k}"})  # fmt: skip
            next_id += 1
        # "stop" under two intents: never a phrasing.
        en.append({"id": str(next_id), "locale": "en-US", "partition": "train",
                   "scenario": scenario, "intent": intent, "utt": "stop"})  # fmt: skip
        next_id += 1
        for split in ("dev", "test"):
            for _ in range(12):
                rid = str(next_id)
                next_id += 1
                utt = {loc: f"{loc} {split} {intent} {rid}" for loc in MASSIVE_LOCALES.values()}
                utt["af-ZA"] = f"af {rid}"
                en.append({"id": rid, "locale": "en-US", "partition": split, "scenario": scenario,
                           "intent": intent, "utt": utt["en-US"]})  # fmt: skip
                parallel[split].append({"id": rid, "partition": split, "scenario": scenario,
                                        "intent": intent, "utt": utt})  # fmt: skip
    _write_jsonl(root / "massive" / "en-US.jsonl", en)
    for split, rows in parallel.items():
        _write_jsonl(root / "massive" / f"massive11_parallel_{split}.jsonl", rows)


def make_clinc(root: Path) -> None:
    """Write data_full.json and domains.json with 3 intents and out-of-scope rows."""
    data: dict[str, list[list[str]]] = {k: [] for k in
            ("train", "val", "test", "oos_train", "oos_val", "oos_test")}  # fmt: skip
    for intent in ("translate", "balance", "pay_bill"):
        data["train"] += [[f"{intent} train {k}", intent] for k in range(15)]
        data["val"] += [[f"{intent} val {k}", intent] for k in range(3)]
        data["test"] += [[f"{intent} test {k}", intent] for k in range(4)]
    for split, n in (("oos_train", 2), ("oos_val", 2), ("oos_test", 5)):
        data[split] = [[f"oos {split} {k}", "oos"] for k in range(n)]
    (root / "clinc150").mkdir(parents=True)
    (root / "clinc150" / "data_full.json").write_text(json.dumps(data), "utf-8")
    domains = {"utility": ["translate"], "banking": ["balance", "pay_bill"]}
    (root / "clinc150" / "domains.json").write_text(json.dumps(domains), "utf-8")


BANKING_INTENTS = ("card_arrival", "Refund_not_showing_up", "reverted_card_payment?")


def make_banking(root: Path) -> None:
    """Write train.csv and test.csv with BANKING77's odd intent names."""
    train = [[f"{i} train {k}?", i] for i in BANKING_INTENTS for k in range(40)]
    train.append(["Card Arrival Train 0", "card_arrival"])  # same as a row above once normalised
    test = [[f"{i} test {k}", i] for i in BANKING_INTENTS for k in range(5)]
    _write_csv(root / "banking77" / "train.csv", ["text", "category"], train)
    _write_csv(root / "banking77" / "test.csv", ["text", "category"], test)


def make_bitext(root: Path) -> None:
    """Write the response file and the 8k utterance file, with overlap between them."""
    header = ["context", "role", "instruction", "intent", "entity_type", "entity_value",
              "start_offset", "end_offset", "category", "tags", "response"]  # fmt: skip
    rows = []
    for intent, cat in (("cancel_order", "ORDER"), ("get_refund", "REFUND")):
        for k in range(12):
            response = f"Response {k} for {intent}.\r\nLine two."
            rows.append(["customer support", "virtual assistant", f"how do I {intent} {k}?", intent,
                         "", "", "", "", cat, "BL", response])  # fmt: skip
    _write_csv(root / "bitext" / ds.BITEXT_ENTRY_FILE, header, rows)
    small = []
    for intent, cat in (("cancel_order", "ORDER"), ("get_refund", "REFUND")):
        small += [["BL", f"please {intent} now {k}", cat, intent] for k in range(10)]
        small.append(["BL", f"HOW DO I {intent} 3", cat, intent])  # in the entry file
        small.append(["BL", f"Please {intent}  now 0!", cat, intent])  # duplicate in this file
    _write_csv(root / "bitext" / ds.BITEXT_QUESTION_FILE, ["flags", "utterance", "category",
               "intent"], small, bom=True)  # fmt: skip


XSID_EN = {
    "valid": [(f"weather sentence {k}", "weather/find") for k in range(8)]
    + [(f"add to playlist {k}", "AddToPlaylist") for k in range(4)],
    "test": [(f"weather test {k}", "weather/find") for k in range(3)]
    + [("how long until my alarm", "alarm/time_left_on_alarm")],
}


def _conll(blocks: list[dict[str, str]]) -> str:
    out = []
    for b in blocks:
        out += [f"# {k} = {v}" for k, v in b.items()]
        out += [f"{n + 1}\t{w}\t{b['intent']}\tO" for n, w in enumerate(b["text"].split())]
        out.append("")
    return "\n".join(out) + "\n"


def make_xsid(root: Path) -> None:
    """Write every default language (Japanese tokenised, Norwegian dialects) and a dialect file."""
    folder = root / "xsid"
    folder.mkdir(parents=True)
    for split, rows in XSID_EN.items():
        (folder / f"en.{split}.conll").write_text(
            _conll([{"text": t, "intent": i} for t, i in rows]), "utf-8"
        )
        prefixes = {code: code.upper() for code in ds.XSID_LANGS if code not in ("en", "no")}
        prefixes.update({"de-ba": "BA", "ja": "日本 の 文"})
        for lang, prefix in prefixes.items():
            blocks = [{"id": str(n + 1), "text-en": t, "text": f"{prefix} {t}", "intent": i}
                      for n, (t, i) in enumerate(rows)]  # fmt: skip
            (folder / f"{lang}.{split}.conll").write_text(_conll(blocks), "utf-8")
        blocks = []
        for n, (t, i) in enumerate(rows):
            for dialect in ("V", "B"):
                blocks.append({"id": f"{n + 1}/3", "text": f"NO-{dialect} {t}", "intent": i,
                               "dialect": dialect})  # fmt: skip
        (folder / f"no.{split}.conll").write_text(_conll(blocks), "utf-8")
