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


def test_messages_name_the_mistake_in_the_sets_on_notebooks_10_and_11():
    # A running sum not rescaled when the max rises: the message gives the factor it missed.
    message = _refusal("10", 2, checks._online_answer(**checks._running_sums("no rescale")))
    assert "'tile 2'" in message and "without rescaling" in message
    assert "shrinks by e^(m - m')" in message
    # A token the clip leaves alone, called clipped: only that token is named, with why.
    rows = checks._kernel_answer()["all-zero rows"] + [[1, 0]]
    message = _refusal("10", 4, checks._kernel_answer(**{"all-zero rows": rows}))
    assert "1 token(s) misjudged" in message and "b1 t0: you said all zero" in message
    assert "keeps its full penalty" in message and "b0 t0" not in message
    # Three seeds pooled into one sampler: the message says they are three models.
    pooled = round(checks.passk_readings()["pooled"], 3)
    message = _refusal("11", 3, checks._passk_answer(**{"pass@16, RL (3 seeds)": pooled}))
    assert "the 3 seeds are 3 models" in message and "pass_at_k_curve" in message
    # A clip share averaged over the sampling steps too, where the ratio is 1 by construction.
    every = {key: round(checks.clip_readings()[f"{key}, every step"], 3)
             for key in checks.CLIP_KEYS[:2]}
    message = _refusal("11", 4, checks._clip_answer(**every))
    assert "averages every step" in message and "reused_steps_only" in message
    # A right answer computed by the backward kernel in Triton's interpreter passes.
    checks.check("10", 3, [round(v, 4) for v in checks.backward_readings()["row"]])


def test_messages_name_the_mistake_in_the_sets_on_notebooks_08_and_09():
    # The polite decline is no hack: the rule finds it harmless, and the message says so.
    message = _refusal("08", 2, checks.POLITE_REPLIES[0])
    assert "the rule finds it harmless" in message and "scores it" in message
    # The held-out verdict read against a claimed rise: the message names the claimed sign.
    message = _refusal("08", 4, checks._hack_answer(**{"verdict, helpfulness hacked":
                                                       "disagrees"}))
    assert "claimed_sign=-1" in message and "'agrees'" in message
    # Every seed falls, but the mean's interval spans 0: "agrees" is refused with the seeds.
    message = _refusal("08", 3, checks._stage_4_answer(**{"verdict, helpful falls": "agrees"}))
    assert "contains 0" in message and "the count below" in message
    # A control measured once taken as exact: the message names gain_interval.
    readings = checks.control_09_readings()
    exact = [round(v, 3) for v in readings["made to reason, exact"]]
    message = _refusal("09", 3, checks._control_09_answer(**{
        "(a) RL - student made to reason": exact}))
    assert "as exact" in message and "gain_interval" in message
    # An interval wholly below 0 is not "cannot tell".
    message = _refusal("09", 2, checks._arms_09_answer(**{
        "verdict, RL after distillation adds": "cannot tell"}))
    assert "lies below 0" in message and "opposite the claim" in message


def test_messages_name_the_mistake_in_the_set_on_notebook_03b():
    # A slip's error moved onto the answer as it is: the message says the product multiplies it.
    message = _refusal("03b", 1, {**checks._slip_answer(), "ends on, step 0 slips": 33})
    assert "shifted the answer by step 0's error (-10)" in message
    assert "'(7+8)*3-2 = 5*3-2 = 15-2 = 13'" in message
    # A second slip taken on the true numbers: the message names the numbers it was given.
    message = _refusal("03b", 1, {**checks._slip_answer(), "ends on, steps 0 and 1 slip": 28})
    assert "as if it had been given 15*3; it was given 5*3" in message
    # A step that cannot slip, listed: only that step is named, with why.
    message = _refusal("03b", 1, checks._slip_answer(slipped_results={0: 5, 1: 30, 2: 46}))
    assert "step 2 (yours 46)" in message and "no borrow to forget" in message
    assert "step 0" not in message
    # Twins said never to split: the message shows a pair that does.
    message = _refusal("03b", 2, checks._split_answer(**{checks.SPLIT_KEYS[4]: 0}))
    first, second = checks.split_readings()["twins"][0]
    assert (f"'{first}' is {checks.split_of(first)} and '{second}' "
            f"{checks.split_of(second)}") in message
    # The knob `reasoning` read as a share of all documents: the message gives the nesting.
    corpus = checks.CorpusConfig()
    message = _refusal("03b", 3, checks._corpus_answer(**{checks.CORPUS_KEYS[0]:
                                                          corpus.reasoning}))
    assert f"= {checks.corpus_readings()['template']:.3f} of all" in message
    # The task's operands taken for the corpus's: the message names CorpusConfig().task.
    message = _refusal("03b", 4, checks._short_answer(**{checks.SHORT_KEYS[0]: 6}))
    assert f"CorpusConfig().task, operands {corpus.task.operands}" in message


def test_a_notebook_with_a_letter_is_a_set_of_its_own(capsys):
    # 03b sits between 03 and 04: its own key in checks.py, in check cells and in file names.
    keys = [checks.notebook_key(n) for n in (3, "3", "03", "3b", "03b")]
    assert keys == ["03", "03", "03", "03b", "03b"]
    with pytest.raises(KeyError, match='check\\("03b", 1'):
        checks.notebook_key("3.b")
    checks.check("03b", 2, checks._split_answer())
    assert "✓ 03b.2 right." in capsys.readouterr().out
    calls = check_course.CHECK_CALL.findall('check("03b", 4, answer)\ncheck("03", 1, x)')
    assert calls == [("03b", "4"), ("03", "1")]
    names = [path.name for path in SOLUTIONS]
    assert (names.index("03b_tiny_world_solutions.ipynb")
            == names.index("03_grpo_math_solutions.ipynb") + 1)
    assert [p.name for p in build_course.solution_notebooks("03")] == [
        "03_grpo_math_solutions.ipynb"]
    assert [p.name for p in build_course.solution_notebooks("03b")] == [
        "03b_tiny_world_solutions.ipynb"]


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
    assert set(numbers) == {build_course.notebook_number(path) for path in SOLUTIONS}
    for found in numbers.values():
        assert found == list(range(1, len(found) + 1)) and 3 <= len(found) <= 6


def test_the_course_modules_doctests_pass():
    for module in (build_course, checks, material):
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


@pytest.mark.parametrize("solutions", SOLUTIONS,
                         ids=[build_course.notebook_number(p) for p in SOLUTIONS])
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
    number = build_course.notebook_number(solutions)
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
