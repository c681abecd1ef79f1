"""How long each lab notebook took when it was last executed: read from its committed cells.

Jupyter (nbclient, ``nbconvert --execute``, JupyterLab with cell timing on) records on each
code cell it runs ``metadata.execution``, with ISO timestamps. A cell's time is
``shell.execute_reply`` minus ``iopub.execute_input``; a notebook's time is the sum over its
code cells, so kernel start-up and the pauses between cells are not counted. These are the
times of the run that produced the committed outputs, on the machine that ran it (the lab's
2-core machines, some of them busy with another job at the time), not a fresh measurement:
nothing is executed here. ``course/SYLLABUS.md``, ``course/INSTRUCTOR.md`` and each
notebook's "Run time." line quote this script's figures, and
``tests/test_course_docs.py`` fails when a notebook re-executed with other times makes them
disagree.

    .venv/bin/python course/notebook_times.py                      # every notebook
    .venv/bin/python course/notebook_times.py notebooks/04_r1_zero.ipynb
    .venv/bin/python course/notebook_times.py --write              # update every quote
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
COURSE = Path(__file__).resolve().parent
DOCUMENTS = ("SYLLABUS.md", "INSTRUCTOR.md")
RUN_TIME = re.compile(r"(\*\*Run time\.\*\* )(<?\d+\.\d)( min recorded on 2 CPU cores)")
QUOTED = re.compile(r"`(\d\d[a-z]?_[a-z0-9_]+)`(\s+\(?)(<?\d+\.\d)(\s+min)")
TABLE = re.compile(r"\| notebook \| code cells timed \| minutes \|\n.*?\n\| all \d+ \|[^\n]*",
                   re.DOTALL)
STARTED, REPLIED = "iopub.execute_input", "shell.execute_reply"


def cell_seconds(cell: dict) -> float | None:
    """Seconds from a code cell's execute_input to its execute_reply; None if not recorded.

    >>> cell_seconds({"metadata": {"execution": {
    ...     "iopub.execute_input": "2026-12-01T08:21:24.451862Z",
    ...     "shell.execute_reply": "2026-12-01T08:22:54.951862Z"}}})
    90.5
    >>> cell_seconds({"metadata": {}}) is None
    True
    """
    execution = cell.get("metadata", {}).get("execution", {})
    if STARTED not in execution or REPLIED not in execution:
        return None
    started = datetime.fromisoformat(execution[STARTED].replace("Z", "+00:00"))
    replied = datetime.fromisoformat(execution[REPLIED].replace("Z", "+00:00"))
    return (replied - started).total_seconds()


def shown_minutes(seconds: float) -> str:
    """Minutes to 0.1, as the syllabus and the notebooks quote them; "<0.1" below 3 s.

    >>> shown_minutes(2122.0), shown_minutes(12.0), shown_minutes(2.0)
    ('35.4', '0.2', '<0.1')
    """
    minutes = round(seconds / 60, 1)
    return "<0.1" if minutes == 0 else f"{minutes:.1f}"


@dataclass(frozen=True)
class NotebookTime:
    name: str
    """The notebook's file name without ``.ipynb``, e.g. ``04_r1_zero``."""
    code_cells: int
    """Code cells in the notebook."""
    timed_cells: int
    """Code cells with both timestamps recorded."""
    seconds: float
    """The timed cells' summed execution time."""

    @property
    def minutes(self) -> str:
        return shown_minutes(self.seconds)


def notebook_time(path: Path) -> NotebookTime:
    """The recorded execution time of the notebook at ``path``."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    times = [t for t in map(cell_seconds, code) if t is not None]
    return NotebookTime(Path(path).stem, len(code), len(times), sum(times))


def recorded_times(paths=None) -> dict[str, NotebookTime]:
    """``notebook_time`` of each path (every notebook in notebooks/ by default), by name."""
    paths = sorted(NOTEBOOKS.glob("*.ipynb")) if paths is None else [Path(p) for p in paths]
    return {found.name: found for found in map(notebook_time, paths)}


def table(times: dict[str, NotebookTime]) -> str:
    """A Markdown table: notebook, code cells timed, minutes; then the total."""
    rows = ["| notebook | code cells timed | minutes |", "|---|---|---|"]
    rows += [f"| `{t.name}` | {t.timed_cells} of {t.code_cells} | {t.minutes} |"
             for t in times.values()]
    total = sum(t.seconds for t in times.values())
    rows.append(f"| all {len(times)} | {sum(t.timed_cells for t in times.values())} of "
                f"{sum(t.code_cells for t in times.values())} | {shown_minutes(total)} |")
    return "\n".join(rows)


def write_quotes(times: dict[str, NotebookTime]) -> list[str]:
    """Put the recorded figures where they are quoted: each notebook's "**Run time.** X min"
    line (its first markdown cell) and, in ``course/SYLLABUS.md`` and ``INSTRUCTOR.md``, the
    table and every "`name` X min" / "`name` (X min". Returns the files changed; a quote of
    a notebook that ``times`` does not hold is left as it is."""
    def quoted(match):
        found = times.get(match[1])
        return match[0] if found is None else f"`{match[1]}`{match[2]}{found.minutes}{match[4]}"

    changed = []
    for t in times.values():
        path = NOTEBOOKS / f"{t.name}.ipynb"
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cell = next(c for c in notebook["cells"] if c["cell_type"] == "markdown")
        text = "".join(cell["source"])
        new = RUN_TIME.sub(lambda m: m[1] + t.minutes + m[3], text)
        if new != text:
            lines = new.split("\n")
            cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
            changed.append(str(path))
    every = recorded_times() if len(times) < len(list(NOTEBOOKS.glob("*.ipynb"))) else times
    for name in DOCUMENTS:
        path = COURSE / name
        text = path.read_text(encoding="utf-8")
        new = QUOTED.sub(quoted, TABLE.sub(lambda m: table(every), text))
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(str(path))
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help=f"notebooks to read (default: every one in {NOTEBOOKS})")
    parser.add_argument("--write", action="store_true",
                        help="put these figures wherever they are quoted (each notebook's "
                             "first cell, course/SYLLABUS.md, course/INSTRUCTOR.md)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        print(f"no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 1
    times = recorded_times(args.notebooks or None)
    print(table(times))
    untimed = [t.name for t in times.values() if t.timed_cells < t.code_cells]
    if untimed:
        print(f"\nsome code cells carry no execution timestamps (never run, or run by a tool "
              f"that does not record them), so these totals are low: {', '.join(untimed)}")
    if args.write:
        changed = write_quotes(times)
        print("\nupdated: " + (", ".join(changed) if changed else "nothing (all in step)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
