"""Test `faqbot bench` for behaviour only: statistics, the generated FAQ, the report shape.

Timings are never asserted: they depend on the machine. The smoke run checks that every part
runs and reports what it should.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.devtools.bench.inprocess import change_one_entry, synthetic_faq
from bot.devtools.bench.report import render, verdicts
from bot.devtools.bench.system import machine, percentiles, rss_mib
from bot.faq.load import load_valid_faq
from tests.support.faqs import ROOT


def test_percentiles_use_nearest_rank() -> None:
    p = percentiles([float(x) for x in range(1, 101)])
    assert (p["n"], p["median"], p["p95"], p["p99"], p["max"]) == (100, 50.5, 95.0, 99.0, 100.0)
    assert percentiles([])["n"] == 0
    assert percentiles([3.0])["p99"] == 3.0


def test_synthetic_faq_is_valid_with_distinct_phrasings(tmp_path: Path) -> None:
    synthetic_faq(tmp_path, entries=120, phrasings=5, files=4)
    entries = load_valid_faq(tmp_path, "en")
    assert len(entries) == 120
    phrasings = [q for e in entries for _lang, q in e.phrasings()]
    assert len(phrasings) == 600 and len(set(phrasings)) == 600


def test_change_one_entry_rewords_exactly_one_phrasing(tmp_path: Path) -> None:
    synthetic_faq(tmp_path, entries=30, phrasings=5, files=2)
    before = {e.id: e for e in load_valid_faq(tmp_path, "en")}
    change_one_entry(tmp_path)
    after = {e.id: e for e in load_valid_faq(tmp_path, "en")}
    changed = [i for i in before if before[i].questions != after[i].questions]
    assert len(changed) == 1
    old, new = before[changed[0]].questions["en"], after[changed[0]].questions["en"]
    assert sum(a != b for a, b in zip(old, new, strict=True)) == 1


def test_synthetic_faq_refuses_sizes_it_cannot_make(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="at most"):
        synthetic_faq(tmp_path, entries=10, phrasings=9)


def test_rss_of_this_process_is_read_from_proc() -> None:
    mem = rss_mib(os.getpid())
    assert mem["rss_mib"] > 0 and mem["peak_rss_mib"] >= mem["rss_mib"]


def test_machine_description_names_cpu_and_cores() -> None:
    m = machine()
    assert m["cpu"] and m["cores"] >= 1 and m["python"]


def test_report_marks_budgets_met_and_missed() -> None:
    lat = {"n": 10, "mean": 1.0, "median": 1.0, "p95": 2.0, "p99": 3.0, "max": 3.0}
    result = {
        "started": "now",
        "machine": {"cpu": "x", "cores": 2, "memory_gib": 4, "os": "Linux", "python": "3.11"},
        "model": "use",
        "in_process": {
            "model": "use@1", "entries": 3, "phrasings": 9, "ask_ms": {**lat, "median": 9.0},
            "detect_ms": lat, "embed_ms": lat, "search_ms": lat, "decide_ms": lat,
            "answers_per_s_one_thread": 100.0, "embed_ms_per_question_batch8": 1.0,
            "embed_ms_per_question_batch32": 0.5,
        },
        "http": {
            "server": "uvicorn", "rss_idle_mib": 300.0, "rss_mib": 400.0, "peak_rss_mib": 410.0,
            "levels": [{"concurrency": 8, "think_seconds": 1.0, "latency_ms": lat,
                        "answers_per_s": 7.9, "errors": 0}],
            "saturation": [{"concurrency": 8, "think_seconds": 0.0,
                            "latency_ms": {**lat, "median": 40.0}, "answers_per_s": 250.0,
                            "errors": 0}],
        },
        "build": {
            "entries": 5000, "phrasings": 25000, "build_seconds": 70.0, "build_embedded": 25000,
            "phrasings_per_s": 357.0, "reindex_seconds": 0.5, "reindex_embedded": 1,
            "reindex_reused": 24999,
        },
    }  # fmt: skip
    verdict = {row[0]: row[3] for row in verdicts(result)}
    assert verdict["answer in process, median"] == "MISSED"
    assert verdict["HTTP median at 8 shoppers"] == "ok"
    # Capacity comes from the back-to-back run, not from shoppers chatting at their pace.
    assert verdict["HTTP answers per second (back to back, best level)"] == "ok"
    assert verdict["index build 5000x5"] == "MISSED"
    assert verdict["re-index one changed entry"] == "ok"
    assert verdict["server resident memory"] == "ok"
    text = render(result)
    assert "| 8 | ~1 s between messages | 10 | 1.0 |" in text
    assert "| 8 | back to back | 10 | 40.0 |" in text and "Machine: x, 2 usable cores" in text


@pytest.mark.slow
def test_bench_quick_smoke_run(capsys: pytest.CaptureFixture[str]) -> None:
    faq = ROOT / "faq_data"
    args = ["bench", "--quick", "--json", "--faq-dir", str(faq), "--model", "use",
            "--entries", "40", "--requests", "16", "--seconds", "5"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["machine"]["cores"] >= 1
    ip = out["in_process"]
    assert ip["ask_ms"]["n"] == 100 and ip["ask_ms"]["median"] > 0
    assert ip["entries"] > 0
    build = out["build"]
    assert (build["entries"], build["phrasings"]) == (40, 200)
    lanes, rest = divmod(build["build_embedded"], 200)  # each model lane embeds every phrasing
    # By default Swedish is bridged into the main index: one lane builds, the other does not.
    assert (lanes, rest) == (1, 0)
    assert [lane["bridged"] for lane in build["lanes"]] == [False, True]
    assert "(main index)" in render(out) and "all lanes" not in render(out)
    # Only the reworded phrasing is embedded again, once per lane.
    assert build["reindex_embedded"] == lanes
    assert build["reindex_reused"] == 200 * lanes - lanes
    http = out["http"]
    if "skipped" not in http:
        assert [lvl["concurrency"] for lvl in http["levels"]] == [1, 8]
        assert [lvl["concurrency"] for lvl in http["saturation"]] == [8]
        for lvl in [*http["levels"], *http["saturation"]]:
            assert lvl["errors"] == 0 and lvl["latency_ms"]["n"] > 0
        assert http["levels"][0]["think_seconds"] == 1.0
        assert http["saturation"][0]["think_seconds"] == 0.0
        assert http["rss_mib"] > 0
