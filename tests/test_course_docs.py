"""The course's documents agree with the notebooks: each lab notebook opens with its
objectives, prerequisites and recorded run time, and every run time quoted (in a notebook's
first cell, in course/SYLLABUS.md, in course/INSTRUCTOR.md) is the one
course/notebook_times.py reads from the committed notebook. Fast: nothing is executed.
"""

import doctest
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "course"))

import notebook_times  # noqa: E402  (course/ is put on the path first)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIMES = notebook_times.recorded_times(NOTEBOOKS)
HEADINGS = ("**Objectives.**", "**Prerequisites.**", "**Run time.**")
RUN_TIME = re.compile(r"\*\*Run time\.\*\* (<?\d+\.\d) min recorded on 2 CPU cores")
QUOTED = re.compile(r"`(\d\d[a-z]?_[a-z0-9_]+)`\s+\(?(<?\d+\.\d)\s+min")
FIX = "run .venv/bin/python course/notebook_times.py --write (it quotes the recorded figures)"


def first_markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return next("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_notebook_times_examples_and_help(capsys):
    assert doctest.testmod(notebook_times).failed == 0
    with pytest.raises(SystemExit) as done:
        notebook_times.main(["--help"])
    assert done.value.code == 0
    assert notebook_times.main([str(NOTEBOOKS[0])]) == 0
    assert f"| `{NOTEBOOKS[0].stem}` |" in capsys.readouterr().out
    assert notebook_times.main(["no-such.ipynb"]) == 1


def test_every_code_cell_is_timed():
    untimed = {t.name: f"{t.timed_cells} of {t.code_cells}" for t in TIMES.values()
               if t.timed_cells < t.code_cells}
    assert not untimed, (f"code cells without execution timestamps (timed of all): {untimed}; "
                         "execute the notebook with nbconvert or nbclient before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_opens_with_objectives_prerequisites_and_run_time(path):
    text = first_markdown(path)
    where = [text.find(heading) for heading in HEADINGS]
    missing = [h for h, at in zip(HEADINGS, where) if at < 0]
    assert not missing, f"{path.name}: its first markdown cell lacks {missing}"
    assert where == sorted(where), f"{path.name}: the headings are not in the order {HEADINGS}"
    objectives = text[where[0]:where[1]]
    bullets = len(re.findall(r"^- ", objectives, re.MULTILINE))
    assert 2 <= bullets <= 4, f"{path.name}: {bullets} objectives; write 2 to 4 bullets"
    run_line = text[where[2]:]
    assert "\n\n" not in run_line.strip(), f"{path.name}: the run time is not the cell's end"
    said = RUN_TIME.match(run_line)
    assert said, (f"{path.name}: the run time should read '**Run time.** X min recorded on 2 "
                  f"CPU cores'; it reads {run_line[:80]!r}")
    measured = TIMES[path.stem].minutes
    assert said[1] == measured, (
        f"{path.name}: its first cell says {said[1]} min, but its cells' recorded execution "
        f"time is {measured} min (was it re-executed?): {FIX}")
    if "require_small(" in path.read_text(encoding="utf-8"):
        assert "R1LAB_SCALE=small" in run_line, (
            f"{path.name} runs only at R1LAB_SCALE=small: its run time must say so")


@pytest.mark.parametrize("document", ["SYLLABUS.md", "INSTRUCTOR.md"])
def test_quoted_run_times_are_the_recorded_ones(document):
    text = (ROOT / "course" / document).read_text(encoding="utf-8")
    assert notebook_times.table(TIMES) in text, (
        f"course/{document} does not quote course/notebook_times.py's table as it prints now: "
        f"{FIX}")
    wrong = [f"{name}: {said} min quoted, {TIMES[name].minutes} recorded"
             for name, said in QUOTED.findall(text)
             if name not in TIMES or said != TIMES[name].minutes]
    assert not wrong, f"course/{document}: " + "; ".join(wrong) + f"; {FIX}"


def test_syllabus_schedules_every_notebook():
    text = (ROOT / "course" / "SYLLABUS.md").read_text(encoding="utf-8")
    weeks = text.split("## The weeks", 1)[1].split("## Week by week", 1)[0]
    scheduled = {name for name, _ in QUOTED.findall(weeks)}
    missing = sorted(set(TIMES) - scheduled)
    assert not missing, f"course/SYLLABUS.md's weekly plan leaves out {missing}"
    assert len(re.findall(r"^\| \d+ \|", weeks, re.MULTILINE)) == 10, "a 10-week plan"


def test_write_puts_each_recorded_figure_where_it_is_quoted(tmp_path, monkeypatch):
    """`notebook_times.py --write` mends stale quotes in a notebook's first cell, the
    syllabus and the instructor guide, and leaves what is in step byte for byte."""
    import shutil

    (tmp_path / "notebooks").mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    for name in notebook_times.DOCUMENTS:
        shutil.copy(ROOT / "course" / name, tmp_path / name)
    monkeypatch.setattr(notebook_times, "NOTEBOOKS", tmp_path / "notebooks")
    monkeypatch.setattr(notebook_times, "COURSE", tmp_path)
    target = tmp_path / "notebooks" / "02_rule_rewards.ipynb"
    good = target.read_text(encoding="utf-8")
    minutes = TIMES["02_rule_rewards"].minutes
    said = f"**Run time.** {minutes} min recorded"
    assert said in good
    target.write_text(good.replace(said, "**Run time.** 99.9 min recorded"), encoding="utf-8")
    syllabus = (tmp_path / "SYLLABUS.md").read_text(encoding="utf-8")
    assert f"`02_rule_rewards` {minutes} min" in syllabus
    (tmp_path / "SYLLABUS.md").write_text(
        syllabus.replace(f"`02_rule_rewards` {minutes} min", "`02_rule_rewards` 42.0 min", 1)
        .replace(f"| `02_rule_rewards` | {TIMES['02_rule_rewards'].timed_cells}",
                 "| `02_rule_rewards` | 0", 1), encoding="utf-8")
    times = notebook_times.recorded_times()
    changed = notebook_times.write_quotes(times)
    assert sorted(Path(p).name for p in changed) == ["02_rule_rewards.ipynb", "SYLLABUS.md"]
    assert target.read_text(encoding="utf-8") == good
    assert (tmp_path / "SYLLABUS.md").read_text(encoding="utf-8") == syllabus
    assert notebook_times.write_quotes(times) == []  # in step: nothing written
