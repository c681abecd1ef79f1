"""Write the exercise notebooks from the solutions notebooks, and re-run the solutions.

The solutions notebook (``course/solutions/NN_name_solutions.ipynb``) is the one source of
each exercise set. Its cells are marked with tags, and the student's version
(``course/NN_name_exercises.ipynb``) is derived from it:

* ``solution``: the cell is left out (worked solutions, the reasons behind an answer);
* ``answer``: every value assigned in the cell becomes ``...`` (a dict keeps its keys and
  gets ``...`` for each value); comments stay, so the cell says what to write;
* ``work``: only the cell's leading comment lines stay (the student works below them);
* a line ending in ``# solutions notebook only`` is dropped (the import path of checks.py,
  which sits one folder up from solutions/).

Every other cell is copied as it is, without outputs. Run after editing a solutions
notebook (``make check-course`` fails while an exercise notebook is out of date)::

    .venv/bin/python course/build_course.py            # all notebooks
    .venv/bin/python course/build_course.py 02         # one (03b: notebook 03b's)
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

COURSE = Path(__file__).resolve().parent
SOLUTIONS = COURSE / "solutions"
SOLUTIONS_ONLY = "# solutions notebook only"
KERNEL = "python3"


NOTEBOOK = re.compile(r"\d\d[a-z]?")
"""A lab notebook's key: its two digits and, for a notebook between two others, a letter
("02", "03b"); a course file's name opens with it and "_"."""


def notebook_number(path: Path) -> str:
    """The key a course file's name opens with: "03b" for 03b_tiny_world_solutions.ipynb.

    >>> notebook_number(Path("03b_tiny_world_solutions.ipynb")), notebook_number(Path("03_x"))
    ('03b', '03')
    """
    return path.name.split("_", 1)[0]


def solution_notebooks(only: str | None = None) -> list[Path]:
    """The solutions notebooks, in order ("03" before "03b"); ``only`` ("02") keeps one."""
    found = sorted(path for path in SOLUTIONS.glob("[0-9][0-9]*_solutions.ipynb")
                   if NOTEBOOK.fullmatch(notebook_number(path)))
    return [path for path in found if only is None or notebook_number(path) == only]


def exercise_path(solutions: Path) -> Path:
    """course/NN_name_exercises.ipynb for course/solutions/NN_name_solutions.ipynb."""
    return COURSE / solutions.name.replace("_solutions.ipynb", "_exercises.ipynb")


def blank_answers(source: str) -> str:
    """``source`` with every assigned value replaced by ``...``; comments kept.

    >>> blank_answers('# the share\\nshare = 0.5  # 3 decimals\\n')
    '# the share\\nshare = ...  # 3 decimals\\n'
    >>> blank_answers('d = {\\n    "a": [1, 2],  # a list\\n}')
    'd = {\\n    "a": ...,  # a list\\n}'
    """
    tree = ast.parse(source)
    values = []
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            raise ValueError(f"an answer cell holds assignments only; found "
                             f"{ast.get_source_segment(source, node)!r}")
        value = node.value
        if isinstance(value, ast.Dict) and all(isinstance(k, ast.Constant) for k in value.keys):
            values.extend(value.values)
        else:
            values.append(value)
    # ast offsets count UTF-8 bytes: splice in bytes, from the last value back.
    lines = source.encode().splitlines(keepends=True)
    starts = [sum(len(line) for line in lines[:i]) for i in range(len(lines))]
    text = source.encode()
    for value in sorted(values, key=lambda v: (v.lineno, v.col_offset), reverse=True):
        begin = starts[value.lineno - 1] + value.col_offset
        end = starts[value.end_lineno - 1] + value.end_col_offset
        text = text[:begin] + b"..." + text[end:]
    return text.decode()


def leading_comments(source: str) -> str:
    """The comment lines a cell opens with."""
    kept = []
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        kept.append(line)
    return "\n".join(kept)


def student_version(solutions):
    """The exercise notebook for a solutions notebook (an nbformat node), without outputs."""
    notebook = copy.deepcopy(solutions)
    cells = []
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "solution" in tags:
            continue
        if cell.cell_type == "code":
            source = "\n".join(line for line in cell.source.splitlines()
                               if not line.rstrip().endswith(SOLUTIONS_ONLY)).lstrip("\n")
            if "answer" in tags:
                source = blank_answers(source)
            elif "work" in tags:
                source = leading_comments(source)
            cell.source = source
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    notebook.cells = cells
    return notebook


def read(path: Path):
    return nbformat.read(path, as_version=4)


def write(notebook, path: Path) -> None:
    nbformat.write(notebook, path)


def execute(notebook, folder: Path, allow_errors: bool, timeout: int = 300):
    """Run every cell of ``notebook`` in a fresh kernel of this venv, in ``folder``; a
    cell's consecutive pieces of one stream are joined into one output."""
    client = NotebookClient(notebook, timeout=timeout, kernel_name=KERNEL,
                            allow_errors=allow_errors,
                            resources={"metadata": {"path": str(folder)}})
    # The kernel process's own stderr holds only launcher notices (ipykernel's warning
    # about unencrypted local TCP); what cells write to stderr reaches their outputs.
    client.execute(stderr=subprocess.DEVNULL)
    for cell in notebook.cells:
        joined = []
        for output in cell.get("outputs", []):
            if (joined and output.output_type == "stream" == joined[-1].output_type
                    and output.name == joined[-1].name):
                joined[-1].text += output.text
            else:
                joined.append(output)
        if cell.cell_type == "code":
            cell.outputs = joined
    return notebook


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="?", help="one notebook, e.g. 02 or 03b")
    parser.add_argument("--no-run", action="store_true",
                        help="only write the exercise notebooks; leave the solutions as they are")
    args = parser.parse_args(argv)
    paths = solution_notebooks(args.only)
    if not paths:
        print(f"no solutions notebook for {args.only!r} in {SOLUTIONS}", file=sys.stderr)
        return 1
    for path in paths:
        solutions = read(path)
        if not args.no_run:
            execute(solutions, path.parent, allow_errors=False)
            write(solutions, path)
            print(f"ran    {path.relative_to(COURSE.parent)}")
        write(student_version(solutions), exercise_path(path))
        print(f"wrote  {exercise_path(path).relative_to(COURSE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
