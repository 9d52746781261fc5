"""Test scripts/datasets.py on tiny fixtures shaped like the real files, and on the real data."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.datasets import (
    ID_RE,
    MASSIVE_LOCALES,
    REAL_DATA,
    ds,
    make_banking,
    make_bitext,
    make_clinc,
    make_massive,
    make_xsid,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    data = tmp_path / "datasets"
    make_massive(data)
    make_clinc(data)
    make_banking(data)
    make_bitext(data)
    make_xsid(data)
    return data


def read_output(out: Path) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Load the FAQ entries by id and the JSONL splits that exist, checking their shape."""
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted((out / "faq").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text("utf-8"))
        for e in doc["entries"]:
            assert ID_RE.match(e["id"]), e["id"]
            assert e["id"] not in entries, f"duplicate id {e['id']}"
            assert e["category"] == path.stem
            assert e["questions"]["en"] and all(isinstance(q, str) for q in e["questions"]["en"])
            assert isinstance(e["answer"]["en"], str) and e["answer"]["en"]
            entries[e["id"]] = e
    splits = {}
    for split in ("dev", "test"):
        path = out / f"{split}.jsonl"
        if path.exists():
            rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
            for r in rows:
                assert set(r) == {"q", "lang", "expect"}
                assert r["q"] and re.fullmatch(r"[a-z]{2}", r["lang"])
                assert r["expect"] is None or r["expect"] in entries
            splits[split] = rows
    return entries, splits


def tree_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- helpers


def test_slug_makes_valid_ids() -> None:
    assert ds.slug("alarm/set_alarm") == "alarm.set_alarm"
    assert ds.slug("AddToPlaylist") == "add_to_playlist"
    assert ds.slug("Refund_not_showing_up") == "refund_not_showing_up"
    assert ds.slug("reverted_card_payment?") == "reverted_card_payment"
    with pytest.raises(ValueError):
        ds.slug("???")


def test_normalise_ignores_case_space_and_punctuation() -> None:
    assert ds.normalise("  How do I, CANCEL   my order?! ") == ds.normalise(
        "how do i cancel my order"
    )


# ---------------------------------------------------------------- MASSIVE


def test_massive_entries_questions_and_holdouts(root: Path) -> None:
    conv = ds.convert_massive(root, phrasings=3, holdout_intents=2, per_lang_limit=20, seed=1)
    assert len(conv.entries) == 8
    for e in conv.entries:
        assert len(e.phrasings) == 3
        assert all(p.startswith("train ") for p in e.phrasings)  # "stop" is ambiguous: never used
        assert e.category in {"alarm", "iot"}
    held = {f"{s}_i{k}" for s in ("alarm", "iot") for k in range(5)} - {e.id for e in conv.entries}
    assert len(held) == 2
    for split in ("dev", "test"):
        queries = conv.splits[split]
        langs = [q.lang for q in queries]
        assert sorted(set(langs)) == sorted(MASSIVE_LOCALES)
        assert all(langs.count(code) == 20 for code in MASSIVE_LOCALES)
        zh = [q.q for q in queries if q.lang == "zh"]
        assert all(q.startswith("zh-TW ") for q in zh)
        # The same ids are asked in every language.
        ids = {
            code: [q.q.split()[-1] for q in queries if q.lang == code] for code in MASSIVE_LOCALES
        }
        assert all(v == ids["en"] for v in ids.values())
        for q in queries:
            intent = q.q.split()[-2]
            assert q.expect == (None if intent in held else intent)
            assert split in q.q


def test_massive_langs_option_and_unknown_language(root: Path) -> None:
    conv = ds.convert_massive(root, langs=["de", "af"], holdout_intents=0, per_lang_limit=0)
    assert {q.lang for q in conv.splits["test"]} == {"de", "af"}
    assert len(conv.splits["test"]) == 2 * 10 * 12
    with pytest.raises(ValueError, match="xx"):
        ds.convert_massive(root, langs=["xx"])


def test_massive_output_is_byte_identical_and_seed_matters(root: Path, tmp_path: Path) -> None:
    args = ["massive", "--data-dir", str(root), "--phrasings", "4", "--holdout-intents", "2"]
    assert ds.main([*args, "--out", str(tmp_path / "a")]) == 0
    assert ds.main([*args, "--out", str(tmp_path / "b")]) == 0
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    assert ds.main([*args, "--out", str(tmp_path / "c"), "--seed", "7"]) == 0
    assert tree_bytes(tmp_path / "a") != tree_bytes(tmp_path / "c")
    entries, splits = read_output(tmp_path / "a")
    assert len(entries) == 8 and set(splits) == {"dev", "test"}
    assert sorted(p.name for p in (tmp_path / "a" / "faq").iterdir()) == ["alarm.yaml", "iot.yaml"]


def test_massive_split_option_writes_one_split(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    assert ds.main(["massive", "--data-dir", str(root), "--out", str(out), "--split", "dev",
                    "--holdout-intents", "1", "--langs", "de,ja"]) == 0  # fmt: skip
    _, splits = read_output(out)
    assert set(splits) == {"dev"}
    assert {r["lang"] for r in splits["dev"]} == {"de", "ja"}
    stats = json.loads((out / "stats.json").read_text("utf-8"))
    assert set(stats["splits"]) == {"dev"}


def test_bad_arguments_exit_1(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x")
    assert ds.main(["massive", "--data-dir", str(root), "--out", out, "--langs", "xx"]) == 1
    assert ds.main(["clinc150", "--data-dir", str(root), "--out", out, "--langs", "de"]) == 1
    assert ds.main(["banking77", "--data-dir", str(root), "--out", out, "--phrasings", "0"]) == 1
    assert ds.main(["xsid", "--data-dir", str(tmp_path / "none"), "--out", out]) == 1
    assert "error:" in capsys.readouterr().err


# ---------------------------------------------------------------- CLINC150, BANKING77


def test_clinc_out_of_scope_stays_null(root: Path) -> None:
    conv = ds.convert_clinc150(root, phrasings=5)
    assert {e.id: e.category for e in conv.entries} == {
        "balance": "banking", "pay_bill": "banking", "translate": "utility"}  # fmt: skip
    assert len(conv.splits["dev"]) == 3 * 3 + 2
    assert len(conv.splits["test"]) == 3 * 4 + 5
    for q in conv.splits["dev"] + conv.splits["test"]:
        assert (q.expect is None) == q.q.startswith("oos ")
        assert q.lang == "en"
    held = ds.convert_clinc150(root, holdout_intents=1)
    assert len(held.entries) == 2
    assert sum(q.expect is None for q in held.splits["test"]) == 5 + 4


def test_banking_dev_is_carved_from_unused_train(root: Path) -> None:
    conv = ds.convert_banking77(root, phrasings=10, dev_per_intent=7)
    ids = {e.id for e in conv.entries}
    assert ids == {"card_arrival", "refund_not_showing_up", "reverted_card_payment"}
    used = {ds.normalise(p) for e in conv.entries for p in e.phrasings}
    dev = conv.splits["dev"]
    assert len(dev) == 3 * 7
    assert all("train" in q.q and ds.normalise(q.q) not in used for q in dev)
    assert len({ds.normalise(q.q) for q in dev}) == len(dev)
    assert len(conv.splits["test"]) == 15 and all("test" in q.q for q in conv.splits["test"])
    assert {q.expect for q in conv.splits["test"]} == ids


# ---------------------------------------------------------------- Bitext


def test_bitext_answers_and_dedup_across_files(root: Path) -> None:
    conv = ds.convert_bitext(root, phrasings=4)
    assert {e.id: e.category for e in conv.entries} == {
        "cancel_order": "order", "get_refund": "refund"}  # fmt: skip
    for e in conv.entries:
        k = ds.normalise(e.phrasings[0]).split()[-1]
        assert e.answer == f"Response {k} for {e.id}.\nLine two."
    questions = conv.splits["dev"] + conv.splits["test"]
    norms = [ds.normalise(q.q) for q in questions]
    assert len(norms) == len(set(norms)) == 2 * 10  # the duplicate and the overlap are gone
    assert not any(n.startswith("how do i") for n in norms)
    assert {ds.normalise(q.q) for q in conv.splits["dev"]}.isdisjoint(
        ds.normalise(q.q) for q in conv.splits["test"]
    )
    assert all(q.expect in {"cancel_order", "get_refund"} for q in questions)


def test_bitext_multiline_answer_round_trips_through_yaml(root: Path, tmp_path: Path) -> None:
    ds.write(ds.convert_bitext(root), tmp_path / "b")
    entries, _ = read_output(tmp_path / "b")
    assert entries["get_refund"]["answer"]["en"].endswith("\nLine two.")
    assert "|-" in (tmp_path / "b" / "faq" / "refund.yaml").read_text("utf-8")


# ---------------------------------------------------------------- xSID


def test_xsid_languages_dialects_and_dev_leak(root: Path) -> None:
    conv = ds.convert_xsid(root, phrasings=3, langs=["en", "de", "ja", "no"])
    assert {e.id: e.category for e in conv.entries} == {
        "add_to_playlist": "snips", "weather.find": "weather"}  # fmt: skip
    phrasings = {p for e in conv.entries for p in e.phrasings}
    dev, test = conv.splits["dev"], conv.splits["test"]
    assert {q.lang for q in dev} == {q.lang for q in test} == {"en", "de", "ja", "no"}
    assert all(q.q.startswith("NO-B ") for q in dev + test if q.lang == "no")
    assert all(q.q.startswith("日本の文") for q in dev + test if q.lang == "ja")
    # No translation of a phrasing is asked in dev: 12 valid sentences - 6 phrasings each.
    assert all(sum(q.lang == code for q in dev) == 6 for code in ("en", "de", "ja", "no"))
    assert not any(q.q.split(" ", 1)[-1] in phrasings for q in dev)
    assert not any(q.q in phrasings for q in dev if q.lang == "en")
    # An intent with no English valid sentence expects null.
    for q in test:
        assert (q.expect is None) == q.q.endswith("how long until my alarm")
    with pytest.raises(ValueError, match="xx"):
        ds.convert_xsid(root, langs=["xx"])


# ---------------------------------------------------------------- all


def test_all_writes_every_dataset(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    assert ds.main(["all", "--data-dir", str(root), "--out", str(out)]) == 0
    for name in ("massive", "clinc150", "banking77", "bitext", "xsid"):
        entries, splits = read_output(out / name)
        assert entries and set(splits) == {"dev", "test"}
    assert len(read_output(out / "massive")[0]) == 10 - 8  # default: 8 intents held out


@pytest.mark.skipif(not REAL_DATA.is_dir(), reason=f"{REAL_DATA} not present")
def test_real_datasets(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    assert ds.main(["all", "--data-dir", str(REAL_DATA), "--out", str(out)]) == 0
    stats = {name: json.loads((out / name / "stats.json").read_text("utf-8"))
             for name in ("massive", "clinc150", "banking77", "bitext", "xsid")}  # fmt: skip
    for name in stats:
        entries, splits = read_output(out / name)
        assert len(entries) == stats[name]["entries"]
        for split, rows in splits.items():
            assert len(rows) == stats[name]["splits"][split]["questions"]
    m = stats["massive"]
    assert m["entries"] == 60 - 8
    for split in ("dev", "test"):
        assert m["splits"][split]["per_lang"] == {code: 300 for code in sorted(MASSIVE_LOCALES)}
        assert 0.05 < m["splits"][split]["oos_share"] < 0.4
    c = stats["clinc150"]
    assert c["entries"] == 150 and c["phrasings"] == 1500
    assert c["splits"]["test"] == {"questions": 5500, "per_lang": {"en": 5500}, "oos": 1000,
                                   "oos_share": round(1000 / 5500, 4)}  # fmt: skip
    assert c["splits"]["dev"]["questions"] == 3100
    b = stats["banking77"]
    assert b["entries"] == 77 and b["splits"]["test"]["questions"] == 3080
    assert b["splits"]["dev"]["questions"] == 77 * 20
    bx = stats["bitext"]
    assert bx["entries"] == 27 and bx["splits"]["test"]["questions"] > 3000
    entries, splits = read_output(out / "bitext")
    used = {ds.normalise(p) for e in entries.values() for p in e["questions"]["en"]}
    assert not any(ds.normalise(r["q"]) in used for s in splits.values() for r in s)
    x = stats["xsid"]
    assert set(x["splits"]["test"]["per_lang"]) == set(ds.XSID_LANGS)
    assert x["splits"]["test"]["per_lang"]["no"] == 500
