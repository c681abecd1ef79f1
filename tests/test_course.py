"""The course kit (course/): each check names what is wrong, solutions pass, blanks fail.

The fast tests call the checks directly and read the notebooks without running them; the
slow ones run course/check_course.py's logic (every notebook in a fresh kernel), once as
committed and once on a copy whose solution was replaced by its blank.
"""

import doctest
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

COURSE = Path(__file__).resolve().parents[1] / "course"
sys.path.insert(0, str(COURSE))

import build_course  # noqa: E402  (course/ is put on the path first)
import check_course  # noqa: E402
import checks  # noqa: E402
import material  # noqa: E402

EXERCISES = sorted(checks.EXERCISES)
SOLUTIONS = build_course.solution_notebooks()


def _refusal(notebook, number, answer, error=checks.WrongAnswer) -> str:
    with pytest.raises(error) as refused:
        checks.check(notebook, number, answer)
    return str(refused.value)


@pytest.mark.parametrize("key", EXERCISES, ids=[f"{n}.{k}" for n, k in EXERCISES])
def test_each_wrong_answer_is_told_what_is_wrong(key):
    found = checks.EXERCISES[key]
    examples = found.wrong()
    assert examples, f"{found.label} lists no known wrong answer"
    for answer, phrase in examples:
        message = _refusal(*key, answer)
        assert message.startswith(f"{found.label} not right: ")
        assert phrase in message, (answer, message)


@pytest.mark.parametrize("key", EXERCISES, ids=[f"{n}.{k}" for n, k in EXERCISES])
def test_a_blank_is_not_answered_yet(key):
    for blank in (..., None):
        message = _refusal(*key, blank, checks.NotAnswered)
        assert message.startswith(f"{key[0]}.{key[1]} not answered yet")


def test_a_half_filled_answer_names_the_blank_left():
    answer = {"whole document": 0.0, "completion only": ...}
    message = _refusal("01", 5, answer, checks.NotAnswered)
    assert "'completion only' still holds its blank" in message


def test_messages_name_the_mistake():
    # Advantages that do not sum to 0: the message says what they must sum to, and why.
    message = _refusal("03", 1, [0.4, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert "rewards sum to 2.4 but your advantages sum to 0.4" in message
    assert "minus the group mean" in message
    # A total that pays o4 a format point: the message takes the total apart.
    message = _refusal("02", 1, [0.5, 1.5, 1.0, 0.5])
    assert "o4: yours 0.5, r1lab 0 = 1×accuracy 0 + 0.5×format 0" in message
    assert "o1:" not in message  # only the wrong entries are named
    # The prompt without the template's "." after the question's "?".
    assert "'?.'" in _refusal("01", 1, "User: What is 7-2*3? Assistant:")
    # A prediction that differs from parse quotes parse's reason.
    predictions = [True, True, False, False, False, True]
    assert "text between </think> and <answer>" in _refusal("01", 2, predictions)


def test_messages_name_the_mistake_in_the_sets_on_notebooks_04_to_07():
    # A verdict read off the sign of the estimate: the message quotes the interval.
    answer = {**checks._verdict_04_answer(), "verdict, R1-Zero - careful chains": "disagrees"}
    message = _refusal("04", 4, answer)
    assert "contains 0" in message and "a negative estimate is not 'disagrees'" in message
    # A control measured once, taken as exact: the message names gain_interval.
    exact = [round(v, 3) for v in checks.gain_readings()["exact"]]
    message = _refusal("05", 4, {**checks._gain_answer(), "gain over the SFT checkpoint": exact})
    assert "as exact" in message and "gain_interval" in message
    # A per-seed outcome written as a bare fraction: the message quotes seed_count's words.
    answer = {**checks._seeds_06_answer(), "without the reward, as a count": "1 of 3"}
    assert "'mixes in 1 of 3 seeds'" in _refusal("06", 4, answer)
    # Only the sample the student misjudged is named, with filter_samples' reason.
    verdicts = checks._verdicts_with(sample_6="mixes languages")
    message = _refusal("07", 1, verdicts)
    assert "1 of 9 verdicts differ" in message and "sample 6:" in message
    assert "sample 0:" not in message


def test_samples_are_drawn_once_per_check_run(tmp_path, monkeypatch):
    monkeypatch.setenv(material.STORE, str(tmp_path))
    assert material._stored("draw", lambda: [{"completion": "<answer>14</answer>"}]) == [
        {"completion": "<answer>14</answer>"}]
    # A later process of the same run reads the first draw instead of drawing again.
    assert material._stored("draw", lambda: ["another draw"]) == [
        {"completion": "<answer>14</answer>"}]
    assert [path.name for path in tmp_path.iterdir()] == ["draw.json"]
    monkeypatch.delenv(material.STORE)
    assert material._stored("draw", lambda: ["fresh"]) == ["fresh"]  # unset: no store


def test_a_right_answer_passes_and_says_so(capsys):
    checks.check("02", 2, 1.0)
    checks.check(3, 4, [0.1487, 0.1065])  # the notebook number may be an int
    assert capsys.readouterr().out.count("✓") == 2


def test_an_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="the exercises are 01.1, 01.2"):
        checks.check("01", 99, 1)


def test_three_to_six_exercises_per_notebook_numbered_from_1():
    numbers = {}
    for notebook, number in EXERCISES:
        numbers.setdefault(notebook, []).append(number)
    assert set(numbers) == {path.name[:2] for path in SOLUTIONS}
    for found in numbers.values():
        assert found == list(range(1, len(found) + 1)) and 3 <= len(found) <= 6


def test_the_course_modules_doctests_pass():
    for module in (build_course, material):
        failed, tried = doctest.testmod(module)
        assert tried and not failed, module.__name__


def test_student_version_blanks_answers_keeps_comments_and_drops_solutions():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(
            'import sys  # solutions notebook only\nfrom checks import check'),
        nbformat.v4.new_code_cell('# the totals\ntotals = [0.5, 1.5]  # o1, o2\nd = {\n'
                                  '    "a": f(1,\n          2),  # spans lines\n}',
                                  metadata={"tags": ["answer"]}),
        nbformat.v4.new_code_cell('# work here\nx = 1\nprint(x)', metadata={"tags": ["work"]},
                                  outputs=[nbformat.v4.new_output("stream", text="1")]),
        nbformat.v4.new_markdown_cell("why", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell('check("01", 1, totals)'),
    ])
    cells = build_course.student_version(notebook).cells
    assert [cell.source for cell in cells] == [
        "from checks import check",
        '# the totals\ntotals = ...  # o1, o2\nd = {\n    "a": ...,  # spans lines\n}',
        "# work here",
        'check("01", 1, totals)',
    ]
    assert not any(cell.get("outputs") for cell in cells)
    assert len(notebook.cells) == 5  # the solutions notebook itself is left as it was


@pytest.mark.parametrize("solutions", SOLUTIONS, ids=[p.name[:2] for p in SOLUTIONS])
def test_notebooks_are_committed_as_the_lab_commits_them(solutions):
    exercises = build_course.exercise_path(solutions)
    for path in (solutions, exercises):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec == {
            "display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
        assert str(COURSE.parent) not in path.read_text()  # no absolute path in outputs
    solved, blank = nbformat.read(solutions, 4), nbformat.read(exercises, 4)
    code = [cell for cell in solved.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "solutions are committed executed"
    assert any(cell.outputs for cell in code)
    assert not any(cell.get("outputs") for cell in blank.cells), "exercises without outputs"
    # The exercise notebook is what build_course.py writes from the solutions.
    assert ([(c.cell_type, c.source) for c in build_course.student_version(solved).cells]
            == [(c.cell_type, c.source) for c in blank.cells])
    number = solutions.name[:2]
    expected = [(number, k) for n, k in EXERCISES if n == number]
    for notebook in (solved, blank):
        assert [key for _, key in check_course.check_calls(notebook)] == expected


@pytest.mark.slow
def test_every_solution_passes_and_every_blank_fails():
    report = check_course.run_course_check()
    assert report.ok, "\n".join(report.problems)
    assert report.exercises == len(EXERCISES)
    assert len(report.lines) == len(EXERCISES)


@pytest.mark.slow
def test_the_course_check_fails_when_a_solution_is_its_blank(tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(COURSE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / "solutions" / "01_template_solutions.ipynb"
    notebook = nbformat.read(path, as_version=4)
    answer = next(cell for cell in notebook.cells if "mended_sample =" in cell.source)
    answer.source = build_course.blank_answers(answer.source)
    nbformat.write(notebook, path)
    run = subprocess.run([sys.executable, str(copy / "check_course.py"), "01"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "!! 01.4" in run.stdout and "ok 01.3" in run.stdout
    assert ("solutions/01_template_solutions.ipynb, exercise 01.4: the solution fails its "
            "check: NotAnswered") in run.stderr
