"""The package's layering (DESIGN "Layers"): imports point downward, so r1lab's import graph
has no cycle, and the lowest layers (and the command's module) load without torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "r1lab"


def module_name(path: Path) -> str:
    """``r1lab/train/recipe.py`` -> ``r1lab.train.recipe``; a package's ``__init__.py`` is the
    package."""
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the r1lab modules it imports, at the top level or inside a function.

    ``from a.b import c`` counts as importing ``a.b.c`` when ``c`` is a submodule, else
    ``a.b``; relative imports are resolved. A package's ``__init__`` running before its
    submodule is Python's doing, not an import written in the code, so it is not an edge.
    """
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    edges.add(submodule if submodule in paths else base)
        graph[name] = {edge for edge in edges if edge in paths and edge != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, …, a], or None (depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                return path[path.index(child):] + [child]
            if child not in state and (cycle := visit(child)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_resolves_the_import_forms():
    graph = import_graph()
    assert "r1lab.train.recipe" in graph["r1lab.train.runner"]  # from r1lab.train.recipe import
    assert "r1lab.tasks.arithmetic" in graph["r1lab.tasks.hub"]
    assert "r1lab.tasks" in graph["r1lab.train.grpo"]  # inside a function
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_r1lab_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_lower_layers_and_the_command_import_without_torch():
    # torch blocked (importing it raises), and not imported: a guarded import counts too.
    code = ("import sys; sys.modules['torch'] = None\n"
            "import r1lab.template, r1lab.tasks, r1lab.rewards, r1lab.sources\n"
            "import r1lab.cli  # its handlers import what they need\n"
            "assert sys.modules['torch'] is None, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=120)
