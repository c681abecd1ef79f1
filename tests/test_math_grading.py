"""The accuracy reward on real answers: MATH- and GSM8K-style (gold, answer, score) triples.

``fixtures/math_cases.jsonl`` was written for the lab (not taken from a dataset): golds in the
style of MATH's (bare LaTeX: radicals, complex numbers, tuples, intervals, fractions, pi,
polynomials, matrices, lists, text, degrees, percent) and GSM8K's (integers), each with
answers in other right forms, fragments of the gold, wrong values and hedges.
"""

import json
import re
import time
from pathlib import Path

import pytest

from r1lab.rewards import accuracy_reward
from r1lab.rewards.math_check import MathChecker

CASES = [json.loads(line) for line in
         (Path(__file__).parent / "fixtures" / "math_cases.jsonl").open(encoding="utf-8")]
MATH_GOLDS = sorted({case["gold"] for case in CASES if case["source"] == "math"})


def grade(answers, golds):
    return accuracy_reward([f"<think>work</think><answer>{a}</answer>" for a in answers],
                           answer=list(golds))


def test_the_case_file_covers_the_kinds_of_answers():
    math = [case for case in CASES if case["source"] == "math"]
    assert len(math) >= 150 and any(case["source"] == "gsm8k" for case in CASES)
    kinds = {case["kind"] for case in CASES}
    assert {"fragment", "other form", "hedge", "any order", "currency"} <= kinds


def test_every_case_gets_its_score():
    scores = grade([case["answer"] for case in CASES], [case["gold"] for case in CASES])
    wrong = [(case["gold"], case["answer"], case["kind"], score)
             for case, score in zip(CASES, scores) if score != case["score"]]
    assert wrong == []


@pytest.mark.parametrize("form", [r"\boxed{%s}", "$%s$", "%s"])
def test_every_gold_graded_against_itself_scores_one(form):
    scores = grade([form % gold for gold in MATH_GOLDS], MATH_GOLDS)
    assert [gold for gold, score in zip(MATH_GOLDS, scores) if score != 1.0] == []


def test_no_number_out_of_a_gold_stands_in_for_it():
    # Every number written inside a gold, as the whole answer, is a fragment: it scores 0,
    # unless it is the gold or the case file lists it as right (30 for 30^\circ, 5 for x = 5).
    right = {(case["gold"], case["answer"]) for case in CASES if case["score"] == 1.0}
    fragments = [(gold, number) for gold in MATH_GOLDS
                 for number in sorted(set(re.findall(r"\d+(?:\.\d+)?", gold)))
                 if number != gold and (gold, number) not in right]
    assert len(fragments) >= 50
    scores = grade([number for _, number in fragments], [gold for gold, _ in fragments])
    assert [pair for pair, score in zip(fragments, scores) if score != 0.0] == []


def test_an_overrun_scores_none_and_is_not_cached():
    # math-verify's own timeout would end this after ~1 s with False (a cached 0); the
    # worker runs without it, so only the hard kill ends the check: None, asked again next time.
    checker = MathChecker(timeout=2.0)
    assert checker.equal("14", r"\boxed{9^{9^{9^{9}}}}") is None
    assert checker._cache == {}
    assert checker.equal(r"\frac{1}{2}", "0.5") is True
    checker.close()


def test_a_slow_right_answer_within_the_bound_scores_one():
    checker = MathChecker(timeout=60.0)
    n = 30
    series = "+".join(f"x^{{{i}}}" for i in range(n))  # SymPy simplifies for a while
    assert checker.equal(rf"\frac{{x^{{{n}}}-1}}{{x-1}}", series) is True
    checker.close()


def test_a_thousand_checks_take_seconds_not_minutes():
    checker = MathChecker()
    checker.equal(r"\frac{1}{2}", "0.5")  # the worker is started and warm
    math = [case for case in CASES if case["source"] == "math"]
    start = time.perf_counter()
    for case in math:
        checker.equal(case["gold"], case["answer"])
    per_thousand = (time.perf_counter() - start) / len(math) * 1000
    checker.close()
    assert per_thousand < 120  # measured 21 s with two cores shared by several jobs
