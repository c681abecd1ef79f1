"""make check-course: every solution passes its checks, every blank fails them.

For each exercise set (``course/solutions/NN_name_solutions.ipynb`` and the student's
``course/NN_name_exercises.ipynb``) this checks that:

1. the exercise notebook is what ``build_course.py`` writes from the solutions (no drift);
2. both notebooks hold one check cell per registered exercise, numbered 1..k, 3 <= k <= 6;
3. each exercise's known wrong answers are refused with the message they should get
   (``checks.Exercise.wrong``), so no check accepts everything;
4. the solutions notebook runs in a fresh kernel with every check cell passing and no
   other cell failing;
5. the exercise notebook runs with every check cell failing as "not answered yet" and no
   other cell failing.

It prints one line per exercise and a summary, and exits 1 naming each problem. The samples
that exercises 03b-09 and 11 draw from the shipped tiny models are drawn once per run and shared by
its processes (``material.STORE``): the first notebook to need them samples, the others
read that draw.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

COURSE = Path(__file__).resolve().parent
sys.path.insert(0, str(COURSE))

import checks  # noqa: E402  (course/ is put on the path first)
import material  # noqa: E402
from build_course import (execute, exercise_path, notebook_number, read,  # noqa: E402
                          solution_notebooks, student_version)

CHECK_CALL = re.compile(r'^check\(\s*"(\d\d[a-z]?)"\s*,\s*(\d+)\s*,', re.MULTILINE)
MIN_EXERCISES, MAX_EXERCISES = 3, 6


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    exercises: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _cell_sources(notebook) -> list[tuple[str, str, tuple]]:
    return [(cell.cell_type, cell.source, tuple(cell.get("metadata", {}).get("tags", [])))
            for cell in notebook.cells]


def check_calls(notebook) -> list[tuple[int, tuple[str, int]]]:
    """(cell index, (notebook, exercise)) of every check cell."""
    found = []
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            found += [(i, (nb, int(k))) for nb, k in CHECK_CALL.findall(cell.source)]
    return found


def run_results(notebook) -> tuple[dict[tuple[str, int], str | None], list[str]]:
    """After execution: each check cell's error name (None when it passed), and the errors
    of the other cells."""
    results, others = {}, []
    calls = dict(check_calls(notebook))
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        error = f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else None
        if i in calls:
            results[calls[i]] = error
        elif error:
            others.append(f"cell {i} ({cell.source.splitlines()[0][:50]!r}) failed: {error}")
    return results, others


def check_wrong_answers(found: checks.Exercise) -> list[str]:
    """Problems with exercise ``found``'s known wrong answers: one that passes, or one
    whose message does not name the problem it should."""
    examples = found.wrong()
    if not examples:
        return [f"{found.label}: lists no known wrong answer to try"]
    problems = []
    for answer, phrase in examples:
        try:
            found.judge(answer)
        except checks.WrongAnswer as refused:
            if phrase not in str(refused):
                problems.append(f"{found.label}: the wrong answer {answer!r} is told "
                                f"{str(refused)!r}, which does not say {phrase!r}")
        else:
            problems.append(f"{found.label}: the wrong answer {answer!r} passes")
    return problems


def check_set(solutions_path: Path, report: Report) -> None:
    """Checks 1-5 for one exercise set; appends lines and problems to ``report``."""
    exercises_path = exercise_path(solutions_path)
    number = notebook_number(solutions_path)
    where = f"{exercises_path.name} / solutions/{solutions_path.name}"
    if not exercises_path.exists():
        report.problems.append(f"{where}: {exercises_path.name} is missing; run "
                               "python course/build_course.py")
        return
    solutions, exercises = read(solutions_path), read(exercises_path)
    if _cell_sources(student_version(solutions)) != _cell_sources(exercises):
        report.problems.append(f"{exercises_path.name} is not what build_course.py writes from "
                               f"solutions/{solutions_path.name}: run "
                               f".venv/bin/python course/build_course.py {number}")
    registered = sorted(k for nb, k in checks.EXERCISES if nb == number)
    if registered != list(range(1, len(registered) + 1)) or not (
            MIN_EXERCISES <= len(registered) <= MAX_EXERCISES):
        report.problems.append(f"notebook {number}: checks.py registers exercises "
                               f"{registered}; expected 1..k with {MIN_EXERCISES} <= k <= "
                               f"{MAX_EXERCISES}")
    for path, notebook in ((solutions_path, solutions), (exercises_path, exercises)):
        calls = [key for _, key in check_calls(notebook)]
        expected = [(number, k) for k in registered]
        if calls != expected:
            report.problems.append(f"{path.name}: its check cells call {calls}; expected one "
                                   f"per registered exercise, in order: {expected}")

    solved, solved_others = run_results(execute(solutions, solutions_path.parent, True))
    blank, blank_others = run_results(execute(exercises, exercises_path.parent, True))
    report.problems += [f"solutions/{solutions_path.name}: {p}" for p in solved_others]
    report.problems += [f"{exercises_path.name}: {p}" for p in blank_others]
    for k in registered:
        found = checks.EXERCISES[(number, k)]
        solution, unsolved = solved.get((number, k), "no check cell"), blank.get((number, k))
        solution_ok = solution is None
        blank_ok = unsolved is not None and unsolved.startswith("NotAnswered")
        if not solution_ok:
            report.problems.append(f"solutions/{solutions_path.name}, exercise {found.label}: "
                                   f"the solution fails its check: {solution}")
        if not blank_ok:
            told = "it passes" if unsolved is None else unsolved
            report.problems.append(f"{exercises_path.name}, exercise {found.label}: the "
                                   f"blank answer should fail as not answered; {told}")
        wrong = check_wrong_answers(found)
        report.problems += wrong
        tried = len(found.wrong())
        mark = "ok " if solution_ok and blank_ok and not wrong else "!! "
        report.lines.append(
            f"{mark}{found.label}  {found.title:42s} "
            f"solution {'passes' if solution_ok else 'FAILS'} · "
            f"blank {'refused' if blank_ok else 'NOT REFUSED'} · "
            f"wrong answers {f'{tried} of {tried} refused' if not wrong else 'NOT ALL REFUSED'}")
        report.exercises += 1


@contextlib.contextmanager
def one_draw_per_model():
    """Within the block, the notebooks' kernels (which inherit the environment) and this
    process share one folder of samples (``material.STORE``), unless one is set already."""
    if os.environ.get(material.STORE):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="r1lab-course-") as folder:
        os.environ[material.STORE] = folder
        try:
            yield
        finally:
            del os.environ[material.STORE]


def run_course_check(only: str | None = None) -> Report:
    """Every check above, for every exercise set (or the one numbered ``only``)."""
    with one_draw_per_model():
        return _run_course_check(only)


def _run_course_check(only: str | None) -> Report:
    report = Report()
    paths = solution_notebooks(only)
    if not paths:
        report.problems.append(f"no solutions notebook found in {COURSE / 'solutions'}")
    for orphan in sorted(COURSE.glob("[0-9][0-9]*_exercises.ipynb")):
        if only is None and not any(exercise_path(p) == orphan for p in paths):
            report.problems.append(f"{orphan.name} has no solutions notebook")
    for path in paths:
        check_set(path, report)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="?", help="one notebook, e.g. 02 or 03b")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    report = run_course_check(args.only)
    seconds = time.perf_counter() - start
    print("\n".join(report.lines))
    if report.ok:
        sets = len(solution_notebooks(args.only))
        print(f"course check passed: {report.exercises} exercises in {sets} "
              f"set{'s' * (sets != 1)}, "
              f"every solution passes and every blank is refused ({seconds:.0f} s)")
        return 0
    print(f"course check FAILED ({len(report.problems)} problems, {seconds:.0f} s):",
          file=sys.stderr)
    for problem in report.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
