"""The layout stays layered: no import cycle, no import up the layers, no module over 600 lines.

Every import statement of every module in bot/ is read with ``ast`` (inside functions too),
so a late import cannot hide a dependency. The order is the one README.md's "Architecture"
section draws; a module may import its own package and anything in a lower layer, never a
layer above nor a sibling package of its own layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
MAX_LINES = 600

# Lowest first. The base modules may import each other; packages of one layer may not.
LAYERS: list[list[str]] = [
    ["bot", "bot.errors", "bot.events", "bot.settings"],
    ["bot.store"],
    ["bot.faq"],
    ["bot.translate"],
    ["bot.matching"],
    ["bot.chat", "bot.insights"],
    ["bot.runtime"],
    ["bot.web"],
    ["bot.devtools"],
    ["bot.cli"],
]


def module_name(path: Path) -> str:
    """Return the dotted name of a module file under the repository."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(BOT.rglob("*.py"))}


def owner(module: str) -> str:
    """Return the entry of LAYERS a module belongs to (its package, or a base module)."""
    best = ""
    for layer in LAYERS:
        for name in layer:
            if (module == name or module.startswith(name + ".")) and len(name) > len(best):
                best = name
    assert best, f"{module} is in no layer: add its package to LAYERS (and to README.md)"
    return best


RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


def imports_of(module: str) -> set[str]:
    """Return the bot modules ``module`` imports (``from pkg import sub`` counts as sub)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        owner(module)


def test_no_import_goes_up_or_sideways() -> None:
    wrong = []
    for module, targets in GRAPH.items():
        mine = owner(module)
        for target in targets:
            theirs = owner(target)
            if theirs == mine or RANK[theirs] < RANK[mine]:
                continue
            if RANK[theirs] == RANK[mine] == 0:
                continue  # the base modules (settings, errors, events) may use each other
            wrong.append(f"{module} imports {target} ({theirs} is not below {mine})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle() -> None:
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> None:
        path.append(module)
        on_path.add(module)
        for target in sorted(GRAPH[module]):
            if target in on_path:
                cycle = [*path[path.index(target):], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in done:
                visit(target)
        path.pop()
        on_path.discard(module)
        done.add(module)

    for module in sorted(GRAPH):
        if module not in done:
            visit(module)


def test_the_check_sees_what_it_must() -> None:
    """The parser finds top-level, late and relative imports (so the tests above can fail)."""
    assert "bot.matching.bot" in GRAPH["bot.chat.service"]
    assert "bot.web.app" in GRAPH["bot.cli.serve"]
    assert {"bot.cli.faq", "bot.cli.serve"} <= GRAPH["bot.cli"]  # from bot.cli import faq ...


@pytest.mark.parametrize("folder", ["bot", "tests"])
def test_no_module_over_600_lines(folder: str) -> None:
    long = {str(p.relative_to(ROOT)): n for p in sorted((ROOT / folder).rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


def test_tests_share_helpers_only_through_tests_support() -> None:
    """No test module imports the conftest or another test module (helpers: tests/support/)."""
    wrong = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                last = name.rpartition(".")[2]
                if last == "conftest" or last.startswith("test_"):
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(wrong)
