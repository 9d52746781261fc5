"""Run axe-core (installed from npm by scripts/test.sh into .cache/axe) on a Playwright page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
AXE_JS = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Any, include: str | None = None) -> list[str]:
    """Return "rule: target" for every WCAG 2.1 A/AA violation on the page (and open shadows)."""
    if not AXE_JS.is_file():
        pytest.skip(f"axe-core is missing at {AXE_JS}: run scripts/test.sh (it installs it "
                    "with npm)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not as a <script> tag: the pages' CSP
        # (script-src 'self', issue 14) refuses inline scripts, as it should.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async (include) => {
            const r = await axe.run(include ? { include: [[include]] } : document, {
                runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
            });
            return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) =>
                JSON.stringify(n.target)).join(", ")} (${v.help})`);
        }""",
        include,
    )
    return list(result)
