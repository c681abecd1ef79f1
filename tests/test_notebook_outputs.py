"""Committed notebook outputs that nbval compares must not depend on the machine that ran them.

nbval re-executes every notebook and compares each cell's text output with the committed one.
A live training or sampling run, a clock, a thread count or a path differs from machine to
machine (threads change the order of floating-point sums, and a hundred training steps amplify
that), so a cell that prints one must carry the ``nbval-ignore-output`` tag; its asserts still
run and guard the lesson. This file finds such cells by reading the notebooks' code: a value is
*live* when it comes from one of ``LIVE_SOURCES`` (or from a function, loop or name fed by one),
and a cell that touches a live value may not have compared text output.
"""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest

from r1lab.sources import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
IGNORE_OUTPUT = "nbval-ignore-output"

# What makes a value depend on the machine, as "module:name" (checked to exist below, so a
# rename cannot silently drop one).
LIVE_SOURCES = {
    # training: threads and hardware change the sums, and steps amplify the difference
    "r1lab.train:run", "r1lab.findings:run_arm",
    # sampling from a model, live-trained or shipped (STYLE: sampled text is not compared)
    "r1lab.eval:evaluate", "r1lab.eval:held_out", "r1lab.eval:evaluate_requests",
    "r1lab.eval:evaluate_model",
    "r1lab.sampling:sample_stage_2", "r1lab.cold_start:collect_cold_start",
    "r1lab.findings:pass_at_k_counts",
    # a training run's log
    "r1lab.train.metrics:read_metrics",
    # the clock, the machine, other processes
    "time:time", "time:perf_counter", "time:monotonic", "os:cpu_count", "platform:platform",
    "platform:processor", "platform:node", "subprocess:run", "subprocess:check_output",
    "torch:get_num_threads",
}
# Methods that sample or train whatever object they are called on.
LIVE_METHODS = {"generate", "train"}
# The scratch folder live runs write to: a path under it is not live (the recipe that names it
# is not), but what is read back from it is.
SCRATCH_SOURCE = "r1lab.notebook:run_folder"
READ_METHODS = {"read_text", "read_bytes", "open", "iterdir", "glob", "rglob"}


def live_source_objects() -> dict[object, str]:
    objects = {}
    for source in LIVE_SOURCES:
        module, name = source.split(":")
        objects[getattr(importlib.import_module(module), name)] = source
    return objects


def scratch_source_object():
    module, name = SCRATCH_SOURCE.split(":")
    return getattr(importlib.import_module(module), name)


def resolve(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        try:
            return importlib.import_module(f"{module}.{name}")
        except ImportError:
            return None


def local_names(node: ast.AST) -> set[str]:
    """Names bound inside ``node`` for its own use: comprehension variables, and the parameters
    and assignments of the functions and lambdas it defines. A live value of the same name
    outside does not reach them (what they are bound to is checked on its own)."""
    local = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.comprehension):
            local |= {n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name)}
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = sub.args
            local |= {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
            local |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
            for inner in ast.walk(sub):
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                    local.add(inner.id)
    return local


class LiveValues:
    """Follows live values through a notebook's cells, in order (names, functions, loops)."""

    def __init__(self, sources: dict[object, str]):
        self.sources = sources
        self.live_names: set[str] = set()  # variables and functions that carry a live value
        self.scratch_names: set[str] = set()  # paths in the live runs' scratch folder
        self.modules: dict[str, str] = {}  # alias -> module, from `import x as y`

    def imports(self, node) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.modules[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                bound = alias.asname or alias.name
                obj = resolve(node.module, alias.name)
                if obj is not None and self._is_source(obj):
                    self.live_names.add(bound)
                elif bound in self.live_names:
                    self.live_names.discard(bound)
                if obj is scratch_source_object():
                    self.scratch_names.add(bound)
                if isinstance(obj, type(importlib)):  # `from r1lab import notebook`
                    self.modules[bound] = obj.__name__

    def _is_source(self, obj) -> bool:
        try:
            return obj in self.sources
        except TypeError:  # unhashable
            return False

    def is_live(self, node: ast.AST) -> bool:
        """Does this expression (or statement) read a live value or call a live source?"""
        local = local_names(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.live_names and sub.id not in local:
                return True
            if isinstance(sub, ast.Attribute):
                if isinstance(sub.value, ast.Name) and sub.value.id in self.modules:
                    obj = resolve(self.modules[sub.value.id], sub.attr)
                    if obj is not None and self._is_source(obj):
                        return True
            if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr in LIVE_METHODS):
                return True
            if isinstance(sub, ast.Call) and self.reads_scratch(sub):
                return True
        return False

    def is_scratch(self, node: ast.AST) -> bool:
        """A path in the scratch folder: ``RUNS``, ``RUNS / "x"``, ``folder / DATA``."""
        if isinstance(node, ast.Name):
            return node.id in self.scratch_names
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self.is_scratch(node.left)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return node.func.id in self.scratch_names  # run_folder(...)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id in self.modules):
            return resolve(self.modules[node.func.value.id], node.func.attr) is (
                scratch_source_object())  # notebook.run_folder(...)
        return False

    def reads_scratch(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in READ_METHODS:
            return self.is_scratch(func.value)
        if isinstance(func, ast.Name) and func.id == "open":
            return any(self.is_scratch(arg) for arg in call.args)
        return False

    def bind(self, target: ast.AST, live: bool, scratch: bool = False) -> None:
        if isinstance(target, ast.Name):  # a plain (re-)assignment
            (self.live_names.add if live else self.live_names.discard)(target.id)
            (self.scratch_names.add if scratch else self.scratch_names.discard)(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.bind(element, live)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, live)
        elif live:  # `table[key] = live`, `obj.attr = live`: the container now holds it
            while isinstance(target, (ast.Subscript, ast.Attribute)):
                target = target.value
            if isinstance(target, ast.Name):
                self.live_names.add(target.id)

    def statement(self, node: ast.stmt) -> bool:
        """Follow one statement; True when it reads a live value (its output may show it)."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports(node)
            return False
        if isinstance(node, ast.Assert):  # a passing assert shows nothing
            return False
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            (self.live_names.add if self.is_live(node) else self.live_names.discard)(node.name)
            return False
        if isinstance(node, (ast.For, ast.AsyncFor)):
            # the loop shows what its body shows; its variable is live when what it walks is
            self.bind(node.target, self.is_live(node.iter))
            return any([self.statement(child) for child in node.body + node.orelse])
        if isinstance(node, (ast.With, ast.AsyncWith)):
            touched = False
            for item in node.items:
                live = self.is_live(item.context_expr)
                touched |= live
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, live)
            return any([self.statement(child) for child in node.body]) or touched
        if isinstance(node, (ast.If, ast.While)):
            return any([self.statement(child) for child in node.body + node.orelse])
        if isinstance(node, ast.Try):
            children = (node.body + node.orelse + node.finalbody
                        + [s for handler in node.handlers for s in handler.body])
            return any([self.statement(child) for child in children])
        if isinstance(node, ast.Assign):  # what is assigned, not the names it replaces
            touched, scratch = self.is_live(node.value), self.is_scratch(node.value)
            for target in node.targets:
                self.bind(target, touched, scratch)
            return touched
        if isinstance(node, ast.AnnAssign):
            touched = node.value is not None and self.is_live(node.value)
            self.bind(node.target, touched)
            return touched
        touched = self.is_live(node)
        if isinstance(node, ast.AugAssign):
            self.bind(node.target, touched)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and touched:
            # `rows.append(live)`, `table.update(live)`: the receiver now holds a live value
            func = node.value.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                self.live_names.add(func.value.id)
        return touched


def compared_text(cell: dict) -> list[str]:
    """The outputs nbval compares as text (figures are skipped by nbval, and so is a figure's
    ``<Figure size …>`` placeholder here: it names only the size)."""
    texts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            texts.append("".join(output["text"]))
        elif output["output_type"] in ("execute_result", "display_data"):
            data = output["data"]
            if "image/png" in data or "application/vnd.jupyter.widget-view+json" in data:
                continue
            texts.extend("".join(value) if isinstance(value, list) else str(value)
                         for key, value in data.items() if key.startswith("text/"))
        elif output["output_type"] == "error":
            texts.append(output.get("ename", "error"))
    return [text for text in texts if text.strip()]


def machine_dependent_cells(notebook: Path) -> list[tuple[int, str]]:
    """(cell index, first line) of every untagged cell that shows text from a live value."""
    cells = json.loads(notebook.read_text())["cells"]
    values = LiveValues(live_source_objects())
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        tree = ast.parse("\n".join(line for line in source.splitlines()
                                   if not line.lstrip().startswith(("%", "!"))))
        # in order: `x = 0.5` after a live `x` shows a fixed value
        touches_live = any([values.statement(node) for node in tree.body])
        tagged = IGNORE_OUTPUT in cell.get("metadata", {}).get("tags", [])
        if touches_live and not tagged and compared_text(cell):
            found.append((index, source.splitlines()[0]))
    return found


def test_every_live_source_exists():
    """A renamed or moved training/sampling function must be renamed here too."""
    assert len(live_source_objects()) == len(LIVE_SOURCES)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_no_compared_output_depends_on_the_machine(notebook):
    found = machine_dependent_cells(notebook)
    assert not found, (
        f"{notebook.name}: these cells show text computed from a live training or sampling run, "
        f"a clock, the thread count or a path, and nbval compares it (it differs on another "
        f"machine). Tag each '{IGNORE_OUTPUT}' (its asserts still guard the lesson), or print "
        f"only what does not vary: " + "; ".join(f"cell {i}: {line!r}" for i, line in found))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_no_committed_output_names_a_machine_path(notebook):
    """Absolute paths differ per clone: print paths relative to the repository."""
    cells = json.loads(notebook.read_text())["cells"]
    for index, cell in enumerate(cells):
        if IGNORE_OUTPUT in cell.get("metadata", {}).get("tags", []):
            continue
        for text in compared_text(cell):
            for marker in (str(REPO_ROOT), "/tmp/", str(Path.home()) + "/"):
                assert marker not in text, f"{notebook.name} cell {index} prints {marker!r}"


def cell(source: str, tags=(), text: str = "x = 1\n") -> dict:
    outputs = [{"output_type": "stream", "name": "stdout", "text": [text]}] if text else []
    return {"cell_type": "code", "source": source, "metadata": {"tags": list(tags)},
            "outputs": outputs, "execution_count": 1}


def write_notebook(tmp_path: Path, cells: list[dict]) -> Path:
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def test_the_guard_finds_live_numbers_through_names_functions_and_loops(tmp_path):
    notebook = write_notebook(tmp_path, [
        cell("from r1lab.train import run\nfrom r1lab.eval import evaluate as ev\nimport time\n"
             "from r1lab import notebook\n", text=""),
        cell("result = run(recipe)\nprint(result)\n"),  # 1: a training run printed
        cell("print(len([1, 2]))\n"),  # 2: nothing live
        cell("def score(m):\n    return ev(m, tok, probs).pass_at_1\n", text=""),
        cell("acc = score(model)\n", text=""),
        cell("print(f'{acc:.3f}')\n"),  # 5: live through a function and a name
        cell("for row in run(r).rows:\n    print(row)\n"),  # 6: through a loop
        cell("start = time.perf_counter()\nprint(start)\n"),  # 7: the clock
        cell("RUNS = notebook.run_folder('x')\nprint((RUNS / 'a').read_text())\n"),  # 8: read back
        cell("text = model.generate(ids)\ntext\n"),  # 9: sampling
        cell("print(result)\n", tags=[IGNORE_OUTPUT]),  # tagged: fine
        cell("acc = 0.5\nprint(acc)\n"),  # 11: re-assigned to a fixed value: fine
        cell("assert result.ok\nprint(2)\n"),  # asserts on live values, shows a fixed one
        cell("cfg = load(f'out={RUNS / 1}')\nprint(cfg)\n"),  # naming a scratch path: fine
        cell("for acc, n in [(1, 2)]:\n    print(acc)\n"),  # a loop re-binds acc: fine
    ])
    assert [i for i, _ in machine_dependent_cells(notebook)] == [1, 5, 6, 7, 8, 9]


def test_the_guard_ignores_figures(tmp_path):
    figure = cell("from r1lab.train import run\nplot(run(r))\n", text="")
    figure["outputs"] = [{"output_type": "display_data", "metadata": {},
                          "data": {"image/png": "iVBOR", "text/plain": "<Figure size 1x1>"}}]
    assert machine_dependent_cells(write_notebook(tmp_path, [figure])) == []


def test_the_guard_catches_notebook_08s_live_training_cell_untagged(tmp_path):
    """The cell that failed on a fresh machine (100 live steps printed beside the seeds)."""
    cells = json.loads((REPO_ROOT / "notebooks/08_all_scenario_rl.ipynb").read_text())["cells"]
    for c in cells:
        c.get("metadata", {}).pop("tags", None)
    flagged = [index for index, _ in machine_dependent_cells(write_notebook(tmp_path, cells))]
    live_training = [i for i, c in enumerate(cells) if "rm_hacking" in "".join(c["source"])
                     and "run(" in "".join(c["source"])]
    assert live_training and set(live_training) <= set(flagged)
