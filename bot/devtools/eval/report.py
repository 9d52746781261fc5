"""`faqbot eval`, step three: the result as plain-text tables and a PNG of the sweep."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from bot.devtools.eval.metrics import frontier
from bot.errors import ConfigError

# ---------------------------------------------------------------- output


def render(result: dict[str, Any]) -> str:
    """Format a result (as printed by --json) as plain-text tables."""
    lines: list[str] = []
    s = result["settings"]
    lines.append(f"faqbot eval: {s['queries']} on {s['faq_dir']} ({s['questions']} questions)")
    lines.append(
        f"model {s['model']} [{s['embedder']}]: {s['entries']} entries, {s['phrasings']} phrasings"
    )
    t = result["thresholds"]
    lines.append(f"thresholds answer={t['answer']} clarify={t['clarify']} margin={t['margin']}"
                 + (f" head={t['head_clarify']}" if "head_clarify" in t else ""))
    lines.append("")
    lines.append(
        f"{'lang':<6}{'n':>6}{'acc@1':>8}{'mrr@3':>8}{'right':>8}{'wrong':>8}"
        f"{'clarif':>8}{'handoff':>8}{'oos→ho':>8}"
    )
    rows = [("all", result), *result["per_language"].items()]
    for lang, r in rows:
        ins, out = r["in_scope"], r["out_of_scope"]
        oos = f"{out['handed_off']:.1%}" if out["n"] else "-"
        lines.append(
            f"{lang:<6}{r['n']:>6}{r['accuracy@1']:>8.1%}{r['mrr@3']:>8.3f}"
            f"{ins['answered_right']:>8.1%}{ins['answered_wrong']:>8.1%}"
            f"{ins['clarified']:>8.1%}{ins['handed_off']:>8.1%}{oos:>8}"
        )
    lines.append(
        f"answers given: {result['coverage']:.1%} of questions; "
        f"wrong among them {result['wrong_rate']:.1%}"
    )
    lines.append("")
    lines += summary_table(result)
    for b in result.get("baselines", []):
        lines.append("")
        lines.append(
            f"baseline {b['name']}: acc@1 {b['accuracy@1']:.1%}, mrr@3 {b['mrr@3']:.3f}"
            + _rec_text(b.get("recommended"))
        )
        per = ", ".join(f"{k} {v['accuracy@1']:.1%}" for k, v in b["per_language"].items())
        lines.append(f"  per language acc@1: {per}")
    if result["confused_pairs"]:
        lines.append("")
        lines.append("most confused (expected -> ranked first instead):")
        for p in result["confused_pairs"]:
            lines.append(f"  {p['count']:>4}  {p['expected']} -> {p['got']}")
    lines.append("")
    lines.append("sweep of the main lane (best margin per answer threshold, every 0.05):")
    lines.append("  answer margin coverage   right  wrong")
    for r in frontier(result["sweep"]):
        if r["answers"] and round(r["answer"] * 100) % 5 == 0:
            lines.append(
                f"  {r['answer']:.2f}  {r['margin']:.2f}  {r['coverage']:>7.1%} "
                f"{r['right']:>7.1%} {r['wrong_rate']:>6.1%}"
            )
    lines.append("")
    lines.append("recommended" + _rec_text(result["recommended"]))
    for n, lane in enumerate(result.get("lanes", [])):
        langs = ",".join(lane["languages"]) if lane["languages"] else "all others"
        lt = lane["thresholds"]
        lines.append(
            f"lane {n} {lane['model']} ({langs}; {lane['n']} questions): "
            f"acc@1 {lane['accuracy@1']:.1%} at answer={lt['answer']} clarify={lt['clarify']} "
            f"margin={lt['margin']}; recommended"
            + (_rec_text(lane["recommended"]) if lane["n"] else ": - (no questions)")
        )
    return "\n".join(lines)


def summary_table(result: dict[str, Any]) -> list[str]:
    """Return issue 17's table: ranking, in-scope outcomes, wrong and out-of-scope, by language."""
    ins, out = result["in_scope"], result["out_of_scope"]
    oos = (f"{out['answered']:.1%} / {out['handed_off']:.1%}" if out["n"] else "- / -")
    shown = ", ".join(
        f"{lang} {r['in_scope']['shown']:.2f}"
        for lang, r in sorted(result["per_language"].items(),
                              key=lambda kv: (-kv[1]["in_scope"]["shown"], kv[0]))
        if r["in_scope"]["n"]
    )
    return [
        "| | value |",
        "|---|---|",
        f"| right entry ranked first (acc@1) / MRR@3 | {result['accuracy@1']:.1%} / "
        f"{result['mrr@3']:.3f} |",
        f"| in scope: answered right / right entry shown (answer, or among the chips) / "
        f"handed off | {ins['answered_right']:.1%} / {ins['shown']:.1%} / "
        f"{ins['handed_off']:.1%} |",
        f"| wrong answers, over all questions / out-of-scope answered / out-of-scope handed "
        f"off | {result['wrong_over_all']:.1%} / {oos} |",
        f"| right entry shown, by language | {shown} |",
    ]


def _rec_text(rec: dict[str, Any] | None) -> str:
    if not rec:
        return ""
    if not rec.get("found"):
        return f": none ({rec.get('reason')})"
    text = (
        f": answer={rec['answer']} margin={rec['margin']} clarify={rec['clarify']} -> "
        f"coverage {rec['coverage']:.1%}, right {rec['right']:.1%} of in-scope, "
        f"wrong {rec['wrong_rate']:.1%} of answers"
    )
    if "oos_handed_off" in rec:
        text += f", out-of-scope handed off {rec['oos_handed_off']:.1%}"
    return text


def plot(result: dict[str, Any], path: Path) -> None:
    """Draw coverage against wrong-answer rate for each margin into a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError(
            "--plot needs matplotlib: pip install matplotlib (or leave out --plot)"
        ) from exc
    fig, ax = plt.subplots(figsize=(7, 5))
    by_margin: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for r in result["sweep"]:
        if r["answers"]:
            by_margin[r["margin"]].append(r)
    for margin in sorted(by_margin):
        rows = sorted(by_margin[margin], key=lambda r: r["answer"])
        ax.plot(
            [r["wrong_rate"] * 100 for r in rows],
            [r["coverage"] * 100 for r in rows],
            label=f"margin {margin:.2f}",
            linewidth=1,
        )
    rec = result["recommended"]
    ax.axvline(
        rec["target_wrong"] * 100 if rec.get("found") else 2.0,
        color="grey",
        linestyle="--",
        label="target",
    )
    if rec.get("found"):
        ax.plot(
            [rec["wrong_rate"] * 100],
            [rec["coverage"] * 100],
            "ko",
            label=f"recommended (answer {rec['answer']}, margin {rec['margin']})",
        )
    ax.set_xlabel("wrong answers, % of answers given")
    ax.set_ylabel("coverage, % of questions answered")
    ax.set_title(f"{result['settings']['queries']} — {result['settings']['model']}")
    ax.set_xlim(0, min(30.0, max(5.0, ax.get_xlim()[1])))
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
