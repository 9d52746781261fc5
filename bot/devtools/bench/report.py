"""`faqbot bench`: the budgets of the design, and the result as Markdown tables."""

from __future__ import annotations

from typing import Any

BUDGETS = {
    "in_process_median_ms": 5.0,
    "http_median_ms_c8": 15.0,
    "http_p95_ms_c8": 50.0,
    "http_answers_per_s": 200.0,
    "build_seconds": 60.0,
    "reindex_seconds": 2.0,
    "rss_mib": 1024.0,
}


def verdicts(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Return (what, measured, budget, verdict) rows for the budgets that were measured."""
    rows: list[tuple[str, str, str, str]] = []

    def row(
        what: str, value: float, budget: float, unit: str, lower_is_better: bool = True
    ) -> None:
        ok = value <= budget if lower_is_better else value >= budget
        sign = "<" if lower_is_better else ">="
        rows.append(
            (what, f"{value:g} {unit}", f"{sign} {budget:g} {unit}", "ok" if ok else "MISSED")
        )

    ip = result.get("in_process")
    if ip:
        row("answer in process, median", ip["ask_ms"]["median"], BUDGETS["in_process_median_ms"],
            "ms")  # fmt: skip
    http = result.get("http") or {}
    for lvl in http.get("levels", []):
        if lvl["concurrency"] == 8:
            row("HTTP median at 8 shoppers", lvl["latency_ms"]["median"],
                BUDGETS["http_median_ms_c8"], "ms")  # fmt: skip
            row("HTTP p95 at 8 shoppers", lvl["latency_ms"]["p95"], BUDGETS["http_p95_ms_c8"],
                "ms")  # fmt: skip
    if http.get("saturation"):
        best = max(lvl["answers_per_s"] for lvl in http["saturation"])
        row("HTTP answers per second (back to back, best level)", best,
            BUDGETS["http_answers_per_s"], "/s", lower_is_better=False)  # fmt: skip
    if "rss_mib" in http:
        row("server resident memory", http["rss_mib"], BUDGETS["rss_mib"], "MiB")
    b = result.get("build")
    if b:
        size = f"{b['entries']}x{b['phrasings'] // max(1, b['entries'])}"
        # A bridged lane searches the main index: it has nothing to build (bot/bridge.py).
        lanes = [lane for lane in b.get("lanes", []) if not lane.get("bridged")]
        every = ", all lanes" if len(lanes) > 1 else ""
        if len(lanes) > 1:
            row(f"index {size} until every language is answered (main lane live)",
                b["serve_seconds"], BUDGETS["build_seconds"], "s")  # fmt: skip
        row(f"index build {size}{every}", b["build_seconds"], BUDGETS["build_seconds"], "s")
        row(f"re-index one changed entry{every}", b["reindex_seconds"],
            BUDGETS["reindex_seconds"], "s")  # fmt: skip
        for lane in lanes if len(lanes) > 1 else []:
            row(f"  of which the {lane['model'].split('@')[0]} lane", lane["reindex_seconds"],
                BUDGETS["reindex_seconds"], "s")  # fmt: skip
    return rows


def render(result: dict[str, Any]) -> str:
    """Format a bench result as Markdown tables."""
    m = result["machine"]
    lines = [
        f"# faqbot bench ({result['started']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} usable cores, {m['memory_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}, load average {m.get('load_average')} at start, speed probe "
        f"{m.get('speed_probe_ms', '?')} ms (a 1M-step Python loop; lower is faster). "
        f"Model: {result['model']}.",
        "",
    ]
    rows = verdicts(result)
    if rows:
        lines += ["| measure | measured | budget | |", "|---|---|---|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
        lines.append("")
    ip = result.get("in_process")
    if ip:
        lines += [
            f"In process ({ip['entries']} entries, {ip['phrasings']} phrasings, {ip['model']}):",
            "",
            "| step | median ms | p95 ms | p99 ms |",
            "|---|---|---|---|",
        ]
        for key, label in (("ask_ms", "FaqBot.ask (all)"), ("detect_ms", "  detect language"),
                           ("embed_ms", "  embed query"), ("search_ms", "  index search"),
                           ("decide_ms", "  decide"),
                           ("reply_ms", "  reply (answer in the language)"),
                           ("triage_ms", "triage (chat; the same vector)")):  # fmt: skip
            if key in ip:
                p = ip[key]
                lines.append(f"| {label} | {p['median']} | {p['p95']} | {p['p99']} |")
        if "embed_ms_use_1_thread" in ip:
            p = ip["embed_ms_use_1_thread"]
            lines.append(
                f"| (probe) embed query, USE with 1 BLAS thread | {p['median']} | {p['p95']} "
                f"| {p['p99']} |"
            )
        lines += [
            "",
            f"One thread: {ip['answers_per_s_one_thread']} answers/s. Embedding cost per question "
            f"when batched: 8 -> {ip['embed_ms_per_question_batch8']} ms, "
            f"32 -> {ip['embed_ms_per_question_batch32']} ms.",
            "",
        ]
    http = result.get("http")
    if http and "skipped" in http:
        lines += [f"HTTP: skipped ({http['skipped']}).", ""]
    elif http:
        lines += [
            f"HTTP ({http['server']}, POST /api/chat; a new conversation every 5 messages):",
            "",
            "| shoppers | pace | requests | median ms | p95 ms | p99 ms | answers/s | errors |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for lvl in [*http["levels"], *http.get("saturation", [])]:
            p = lvl["latency_ms"]
            think = lvl.get("think_seconds", 0.0)
            pace = f"~{think:g} s between messages" if think else "back to back"
            lines.append(
                f"| {lvl['concurrency']} | {pace} | {p['n']} | {p['median']} | {p['p95']} | "
                f"{p['p99']} | {lvl['answers_per_s']} | {lvl['errors']} |"
            )
        lines += [
            "",
            f"Server memory: {http['rss_idle_mib']} MiB idle, {http['rss_mib']} MiB after load, "
            f"peak {http['peak_rss_mib']} MiB.",
            "",
        ]
    b = result.get("build")
    if b:
        lines += [
            f"Build: {b['entries']} entries, {b['phrasings']} phrasings in {b['build_seconds']} s "
            f"({b['build_embedded']} embedded, {b['phrasings_per_s']} /s); one changed entry "
            f"re-indexed in {b['reindex_seconds']} s ({b['reindex_embedded']} embedded, "
            f"{b['reindex_reused']} reused).",
            "",
        ]
        if b.get("lanes"):
            lines += [
                "| lane (live in this order) | phrasings | build s | live after s "
                "| re-index s | re-embedded |",
                "|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {lane['model']} | "
                f"{'(main index)' if lane.get('bridged') else lane['phrasings']} | "
                f"{lane['build_seconds']} | "
                f"{lane['live_after_seconds']} | {lane['reindex_seconds']} | "
                f"{lane['reindex_embedded']} |"
                for lane in b["lanes"]
            ]
            lines.append("")
    return "\n".join(lines)
