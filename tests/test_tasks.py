import os

# The loaders are tested on local files only: never reach the hub from a test.
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import ast  # noqa: E402
import itertools  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from r1lab.tasks import (  # noqa: E402
    ArithmeticConfig,
    Problem,
    count_expressions,
    generate,
    load_gsm8k,
    load_math,
    solution_chain,
    to_dataset,
)
from r1lab.tasks.arithmetic import ENUMERATION_LIMIT, chain_values, split_of  # noqa: E402
from r1lab.template import render  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def python_tree(expression):
    return ast.dump(ast.parse(expression, mode="eval"))


def parentheses_matter(expression):
    """Python's own parse: redundant parentheses leave the tree unchanged."""
    bare = expression.replace("(", "").replace(")", "")
    return python_tree(expression) != python_tree(bare)


def binary_operations(expression):
    tree = ast.parse(expression, mode="eval")
    return sum(isinstance(node, ast.BinOp) for node in ast.walk(tree))


def has_cjk(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def check_problem(p: Problem, config: ArithmeticConfig):
    chain = p.chain
    assert chain[0] == p.expression and chain[-1] == p.answer
    assert int(p.answer) == eval(p.expression)
    for before, after in zip(chain, chain[1:]):
        assert eval(after) == eval(before), (before, after)
        assert binary_operations(after) == binary_operations(before) - 1, (before, after)
    operands = p.expression.replace("(", "").replace(")", "")
    for op in "+-*":
        operands = operands.replace(op, " ")
    numbers = [int(x) for x in operands.split()]
    low, high = config.operands
    assert low <= len(numbers) <= high
    assert all(0 <= x < 10**config.digits for x in numbers)
    assert set(p.expression) <= set("0123456789()") | set(config.operators)
    assert p.expression in p.question and p.question[-1] in "?？"
    assert split_of(p.expression, config.test_percent) in ("train", "test")


# ------------------------------------------------------------------------------ solution chains

@pytest.mark.parametrize("expression, chain", [
    ("7-2*3+5", ("7-2*3+5", "7-6+5", "1+5", "6")),
    ("2+3*4", ("2+3*4", "2+12", "14")),
    ("1+2+3", ("1+2+3", "3+3", "6")),
    ("2*3*4", ("2*3*4", "6*4", "24")),
    ("(2+3)*4", ("(2+3)*4", "5*4", "20")),
    ("1+(2+3)", ("1+(2+3)", "1+5", "6")),
    ("1-6+5", ("1-6+5", "-5+5", "0")),  # a negative result leads the next step
    ("0-3*2", ("0-3*2", "0-6", "-6")),
    ("(1-6+5)*2", ("(1-6+5)*2", "(-5+5)*2", "0*2", "0")),  # negative at the start of a group
    ("(1-4)*3", ("(1-4)*3", "-3*3", "-9")),
    ("2-3*(1-4)", ("2-3*(1-4)", "2-3*(-3)", "2-(-9)", "11")),  # negative after an operator
    ("5-(2-7)", ("5-(2-7)", "5-(-5)", "10")),
    ("2*((1+2)*3)", ("2*((1+2)*3)", "2*(3*3)", "2*9", "18")),
    ("42", ("42",)),
])
def test_solution_chain(expression, chain):
    assert solution_chain(expression) == chain
    assert all(eval(step) == eval(expression) for step in chain)


@pytest.mark.parametrize(
    "bad", ["", "2+", "2 + 3", "(2+3", "2+3)", "2/3", "--2", "2*-3", "2**3", "()", "x"])
def test_solution_chain_rejects_malformed_expressions(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):  # the error quotes the input
        solution_chain(bad)


# ----------------------------------------------------------------------------------- generation

def test_generate_is_deterministic_under_seed():
    assert generate(200, seed=3) == generate(200, seed=3)
    assert generate(200, seed=3) != generate(200, seed=4)
    assert generate(50, seed=3) == generate(200, seed=3)[:50]
    assert len({p.expression for p in generate(500, seed=3)}) == 500  # distinct within a list


def test_splits_are_disjoint_by_expression():
    train = generate(3000, "train", seed=0)
    test = generate(500, "test", seed=0)
    test_other_seed = generate(500, "test", seed=1)
    train_expressions = {p.expression for p in train}
    assert not train_expressions & {p.expression for p in test + test_other_seed}
    assert all(split_of(p.expression) == "train" for p in train)
    assert all(split_of(p.expression) == "test" for p in test)


@pytest.mark.parametrize("config, n", [
    (ArithmeticConfig(), 400),
    (ArithmeticConfig(operands=(2, 5), digits=2, operators="*-", parentheses=0.5,
                      value_range=None), 400),
    (ArithmeticConfig(operands=(2, 2), operators="-", value_range=None), 10),  # 11 in test
    (ArithmeticConfig(operands=(4, 6), operators="+", parentheses=1.0, test_percent=50), 400),
])
def test_answers_and_chains_are_exact_one_operation_per_step(config, n):
    problems = generate(n, "train", seed=5, config=config) + generate(n, "test", config=config)
    for p in problems:
        check_problem(p, config)
    negatives_possible = "-" in config.operators and (
        config.value_range is None or config.value_range[0] < 0)
    assert any(p.answer.startswith("-") for p in problems) == negatives_possible
    if config.value_range is not None:
        low, high = config.value_range
        assert all(low <= v <= high for p in problems for v in chain_values(p.chain))


def test_parentheses_at_configured_rate_and_always_meaningful():
    problems = generate(2000, seed=0)
    grouped = [p.expression for p in problems if "(" in p.expression]
    assert abs(len(grouped) / len(problems) - 0.2) < 0.04
    for expression in grouped:
        assert expression.count("(") == 1 and parentheses_matter(expression), expression
        inside = expression[expression.index("(") + 1 : expression.index(")")]
        assert inside != expression and any(op in inside for op in "+-*")
    never = generate(300, config=ArithmeticConfig(parentheses=0))
    assert not any("(" in p.expression for p in never)
    always = generate(300, config=ArithmeticConfig(parentheses=1.0))
    assert all(parentheses_matter(p.expression) for p in always)


def test_count_matches_brute_force_over_python_parses():
    """count_expressions' formula against an independent count: every placement of one group
    that Python's parser says changes the tree (operand values do not affect it)."""
    config = ArithmeticConfig(operands=(3, 4), value_range=None)
    low, high = config.operands
    total = 0
    for n in range(low, high + 1):
        for ops in itertools.product(config.operators, repeat=n - 1):
            meaningful = 0
            for first, last in itertools.combinations(range(n), 2):
                if (first, last) == (0, n - 1):
                    continue
                parts = [str(i + 1) for i in range(n)]
                parts[first], parts[last] = "(" + parts[first], parts[last] + ")"
                text = parts[0] + "".join(o + x for o, x in zip(ops, parts[1:]))
                meaningful += parentheses_matter(text)
            total += 10**n * (1 + meaningful)
    assert count_expressions(config) == total == 1_098_000


def test_small_space_is_drawn_exactly_and_overdrawing_is_an_error():
    config = ArithmeticConfig(operands=(2, 3), operators="+-", parentheses=0.5, test_percent=10,
                              value_range=None)
    space = set()
    for n in (2, 3):
        for numbers in itertools.product(range(10), repeat=n):
            for ops in itertools.product("+-", repeat=n - 1):
                plain = str(numbers[0]) + "".join(o + str(x) for o, x in zip(ops, numbers[1:]))
                space.add(plain)
                if n == 3:
                    for grouped in (f"({plain[:3]}){plain[3:]}", f"{plain[:2]}({plain[2:]})"):
                        if parentheses_matter(grouped):
                            space.add(grouped)
    test_space = {e for e in space if split_of(e, 10) == "test"}
    assert count_expressions(config) == len(space)
    assert count_expressions(config, "test") == len(test_space)
    assert count_expressions(config, "train") == len(space) - len(test_space)
    drawn = generate(len(test_space), "test", config=config)
    assert {p.expression for p in drawn} == test_space
    with pytest.raises(ValueError, match=f"only {len(test_space)} test expressions"):
        generate(len(test_space) + 1, "test", config=config)


def test_huge_requests_fail_fast_without_enumerating():
    config = ArithmeticConfig(operands=(6, 8))
    assert count_expressions(config) > ENUMERATION_LIMIT
    with pytest.raises(ValueError, match="at most half"):
        generate(10**15, config=config)
    with pytest.raises(ValueError, match="ENUMERATION_LIMIT"):
        count_expressions(config, "test")


def test_chinese_share_and_phrasing():
    config = ArithmeticConfig(zh_fraction=0.3)
    problems = generate(2000, seed=2, config=config)
    zh = [p for p in problems if p.lang == "zh"]
    assert abs(len(zh) / len(problems) - 0.3) < 0.04
    assert all(has_cjk(p.question) and p.question.endswith("？") for p in zh)
    en = [p for p in problems if p.lang == "en"]
    assert all(not has_cjk(p.question) and p.question.endswith("?") for p in en)
    assert len({p.question.replace(p.expression, "{e}") for p in problems}) >= 5  # several forms
    assert all(p.lang == "en" for p in generate(200))


@pytest.mark.parametrize("kwargs, message", [
    (dict(operators="+-/"), "operators"),
    (dict(operators=""), "operators"),
    (dict(operators="++"), "distinct"),
    (dict(digits=0), "digits"),
    (dict(digits=1.5), "digits"),
    (dict(operands=(1, 3)), "2 <= min <= max"),
    (dict(operands=(4, 3)), "2 <= min <= max"),
    (dict(operands=(3,)), "operands"),
    (dict(test_percent=0), "test_percent"),
    (dict(test_percent=100), "test_percent"),
    (dict(test_percent=10.5), "test_percent"),
    (dict(parentheses=1.5), "parentheses"),
    (dict(zh_fraction=-0.1), "zh_fraction"),
])
def test_bad_configs_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ArithmeticConfig(**kwargs)


def test_bad_generate_arguments():
    with pytest.raises(ValueError, match="n must be"):
        generate(-1)
    with pytest.raises(ValueError, match="split must be one of"):
        generate(3, split="valid")
    assert generate(0) == []


def test_to_dataset_has_trl_columns():
    problems = generate(5, config=ArithmeticConfig(zh_fraction=0.5))
    ds = to_dataset(problems)
    assert ds.column_names == ["prompt", "question", "answer", "lang", "target_lang"]
    assert ds["prompt"] == [render(p.question) for p in problems]
    assert ds["answer"] == [p.answer for p in problems]
    assert ds["lang"] == [p.lang for p in problems]
    assert len(to_dataset([])) == 0


# ---------------------------------------------------------------------------------- hub loaders

def test_load_gsm8k_from_local_file(tmp_path):
    problems = load_gsm8k(str(FIXTURES / "gsm8k_sample.jsonl"), cache_dir=str(tmp_path))
    assert [p.answer for p in problems] == ["180", "1234", "4"]
    assert problems[1].question.startswith("A library has 1,000 books")
    assert all(p.lang == "en" and p.chain == () and p.expression == "" for p in problems)
    limited = load_gsm8k(FIXTURES / "gsm8k_sample.jsonl", limit=2, cache_dir=str(tmp_path))
    assert limited == problems[:2]


def test_load_math_answer_column_and_boxed_extraction(tmp_path):
    math500 = load_math(str(FIXTURES / "math500_sample.jsonl"), cache_dir=str(tmp_path))
    assert [p.answer for p in math500] == ["\\frac{1}{2}", "4"]
    solutions = load_math(str(FIXTURES / "math_solution_only.jsonl"), cache_dir=str(tmp_path))
    assert [p.answer for p in solutions] == ["\\frac{1}{2}", "2\\sqrt{2}", "\\{0, 1\\}", "5"]
    assert solutions[1].question == "Simplify $\\sqrt{8}$."
    assert len(load_math(str(FIXTURES / "math_solution_only.jsonl"), limit=1,
                         cache_dir=str(tmp_path))) == 1


def test_load_from_parquet(tmp_path):
    import pandas as pd

    path = tmp_path / "gsm8k.parquet"
    pd.read_json(FIXTURES / "gsm8k_sample.jsonl", lines=True).to_parquet(path)
    problems = load_gsm8k(str(path), cache_dir=str(tmp_path))
    assert [p.answer for p in problems] == ["180", "1234", "4"]


def test_loaders_name_the_missing_columns(tmp_path):
    path = tmp_path / "wrong.jsonl"
    path.write_text('{"prompt": "What is 2+2?", "target": "4"}\n')
    with pytest.raises(ValueError, match=r"'question' and 'answer'.*found \['prompt', 'target'\]"):
        load_gsm8k(str(path), cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"'problem' and 'answer' or 'solution'.*found"):
        load_math(str(path), cache_dir=str(tmp_path))
    no_marker = tmp_path / "no_marker.jsonl"
    no_marker.write_text('{"question": "What is 2+2?", "answer": "It is 4."}\n')
    with pytest.raises(ValueError, match="row 0.*####"):
        load_gsm8k(str(no_marker), cache_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no file"):
        load_math(str(tmp_path / "typo.jsonl"))
    csv = tmp_path / "rows.csv"
    csv.write_text("question,answer\n")
    with pytest.raises(ValueError, match="must end in one of"):
        load_gsm8k(str(csv), cache_dir=str(tmp_path))


# ---------------------------------------------------------------------------------- by name

def test_task_names_give_their_problems(tmp_path):
    from r1lab.tasks import check_task, load_problems

    assert [p.lang for p in load_problems("arithmetic", 4, seed=1)] == ["en"] * 4
    assert [p.lang for p in load_problems("arithmetic-zh", 4, seed=1)] == ["zh"] * 4
    mixed = load_problems("arithmetic-mix", 40, seed=1, split="train")
    assert {p.lang for p in mixed} == {"en", "zh"}
    assert mixed == generate(40, split="train", seed=1, config=ArithmeticConfig(zh_fraction=0.5))
    source = FIXTURES / "gsm8k_sample.jsonl"
    assert check_task(f"gsm8k:{source}") == ("gsm8k", str(source))
    assert check_task("math:org/dataset") == ("math", "org/dataset")  # a hub id, not fetched
    gsm8k = load_problems(f"gsm8k:{source}", 2, seed=0, progress=False, split="train")
    assert [p.answer for p in gsm8k] == ["180", "1234"]


@pytest.mark.parametrize("task, message", [
    ("chess", "unknown task 'chess': use arithmetic, arithmetic-zh, arithmetic-mix, "
              "gsm8k:SOURCE or math:SOURCE"),
    ("arithmetic:x", "unknown task 'arithmetic:x'"),
    ("gsm8k", "task 'gsm8k' needs a source: gsm8k:path/to/file.jsonl or gsm8k:HUB_DATASET_ID"),
    ("math:missing/typo.jsonl", "give an existing .jsonl/.json/.parquet file or a hub dataset "
                                "id (math:ORG/NAME)"),
])
def test_bad_task_names_say_what_to_write(task, message):
    from r1lab.tasks import TaskError, check_task, load_problems

    with pytest.raises(TaskError, match=re.escape(message)):
        check_task(task)
    with pytest.raises(TaskError, match=re.escape(message)):
        load_problems(task, 1, seed=0)


def test_an_unreadable_task_file_is_a_task_error(tmp_path):
    from r1lab.tasks import TaskError, load_problems

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "What is 2+2?"}\n')
    with pytest.raises(TaskError, match=r"cannot load task 'gsm8k:.*bad.jsonl': .*'question'"):
        load_problems(f"gsm8k:{bad}", 1, seed=0, progress=False)


def test_tasks_import_without_torch_or_datasets():
    code = ("import sys, r1lab.tasks; "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "assert 'datasets' not in sys.modules, 'datasets imported eagerly'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_value_range_keeps_every_chain_number_inside():
    config = ArithmeticConfig(operands=(5, 6), value_range=(0, 99))
    problems = generate(500, seed=2, config=config)
    values = [v for p in problems for v in chain_values(p.chain)]
    assert min(values) >= 0 and max(values) <= 99
    unrestricted = generate(500, seed=2,
                            config=ArithmeticConfig(operands=(5, 6), value_range=None))
    assert any(v < 0 or v > 99 for p in unrestricted for v in chain_values(p.chain))


def test_chain_values_reads_signs_not_subtractions():
    assert chain_values(("10-14", "-4")) == [10, 14, -4]
    assert chain_values(("2*(-3)+1", "-6+1", "-5")) == [2, -3, 1, -6, 1, -5]


@pytest.mark.parametrize("value_range", [(5, 1), (0,), "0-99", (0.5, 9)])
def test_bad_value_range_is_a_clear_error(value_range):
    with pytest.raises(ValueError, match="value_range must be"):
        ArithmeticConfig(value_range=value_range)


def test_impossible_value_range_ends_with_an_error():
    config = ArithmeticConfig(operands=(3, 3), operators="*", value_range=(500, 600))
    with pytest.raises(ValueError, match="widen the range"):
        generate(5, seed=0, config=config)


# ---------------------------------------------------------------------------------------------
# Slips and checks (tiny world v2): the chains can be done better.

from r1lab.tasks import worked_chain  # noqa: E402
from r1lab.tasks.arithmetic import worked_steps  # noqa: E402
from r1lab.tasks.chains import CHECKS, slip  # noqa: E402


def _problem(expression):
    chain = solution_chain(expression)
    return Problem(f"What is {expression}?", chain[-1], expression=expression, chain=chain)


@pytest.mark.parametrize("expression, slipped", [
    ("48+9", 47), ("5+5", 0), ("52-7", 55), ("52-17", 45), ("8*6", 40), ("12*3", 24),
    ("2+3", None), ("9-4", None), ("5-7", None), ("2*4", None), ("0*9", None)])
def test_each_step_has_one_slip_or_none(expression, slipped):
    (step,) = worked_steps(expression)
    assert slip(step) == slipped
    assert slip(step) != step.result


def test_worked_steps_follow_the_solution_chain():
    for problem in generate(300, seed=4):
        steps = worked_steps(problem.expression)
        assert [s.after for s in steps] == list(problem.chain[1:])


def test_an_uncaught_slip_ends_on_a_wrong_answer_and_a_check_fixes_it():
    problems = generate(400, seed=2)
    slipped = 0
    for problem in problems:
        steps = worked_steps(problem.expression)
        prone = [i for i, s in enumerate(steps) if slip(s) is not None]
        if not prone:
            continue
        first = prone[0]
        text, answer = worked_chain(problem, "en", {first}, check=False)
        slipped += answer != problem.answer
        assert text.startswith(problem.expression) and text.endswith(f" = {answer}")
        assert CHECKS["en"] not in text
        checked, fixed = worked_chain(problem, "en", {first}, check=True)
        assert fixed == problem.answer  # the check catches it
        assert checked.count(CHECKS["en"]) == len(steps)  # every step is re-computed
        assert checked.count(", not ") == 1
    # a slip can be undone by a later multiplication by 0, so most, not all, end wrong
    assert slipped > 0.9 * sum(any(slip(s) is not None for s in worked_steps(p.expression))
                               for p in problems)


def test_a_chain_without_slips_is_the_exact_chain_checked_or_not():
    for problem in generate(100, seed=5):
        text, answer = worked_chain(problem)
        assert (text, answer) == (" = ".join(problem.chain), problem.answer)
        checked, answer = worked_chain(problem, "zh", check=True)
        assert answer == problem.answer and "不是" not in checked
        assert checked.count(CHECKS["zh"]) == len(problem.chain) - 1


def test_count_slips_reads_back_the_slips_a_chain_was_written_with():
    from r1lab.tasks.chains import chain_of_thought, count_slips

    for problem in generate(300, seed=6):
        steps = worked_steps(problem.expression)
        prone = {i for i, s in enumerate(steps) if slip(s) is not None}
        assert count_slips(chain_of_thought(problem, ("en", "en"))) == (len(prone), 0)
        # checked chains: every prone step is written, each slip caught and fixed
        for lang in ("en", "zh"):
            text = chain_of_thought(problem, (lang, lang), check=True, slips=prone)
            assert count_slips(text) == (len(prone), len(prone))
