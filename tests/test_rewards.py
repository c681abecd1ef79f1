import random
import subprocess
import sys
import time

import pytest

from r1lab.rewards import REWARDS, accuracy_reward, combined_reward, format_reward
from r1lab.rewards.accuracy import is_hedged
from r1lab.rewards.math_check import DEFAULT_TIMEOUT_S, MathChecker

O1 = "<think>2+3=5, 5*4=20</think><answer>20</answer>"
O2 = "<think>3*4=12, 2+12=14</think><answer>14</answer>"
O3 = "<answer>14</answer>"
O4 = "<think>qzx blorp 7 frum</think> <answer>7<answer>"
PATHOLOGICAL = r"<think>x</think><answer>\boxed{9^{9^{9^{9}}}}</answer>"


def wrap(answer):
    return f"<think>work</think><answer>{answer}</answer>"


@pytest.mark.parametrize(
    "answer", ["14", "14.0", "$14$", r"\boxed{14}", r"$\boxed{14}$", r"\frac{28}{2}", "14.00"]
)
def test_equal_forms_of_fourteen(answer):
    assert accuracy_reward([wrap(answer)], answer=["14"]) == [1.0]


@pytest.mark.parametrize("answer", ["20", "7", "1 4", "14 or 20", "20 or 14", "20, 14", "14; 20",
                                    r"14 \text{ or } 20", "14 and 20", "", "2+3*4", "7*2",
                                    r"\boxed{2+12}", "28/2 + 0"])
def test_wrong_or_hedged_answers_score_zero(answer):
    assert accuracy_reward([wrap(answer)], answer=["14"]) == [0.0]


def test_assignment_and_fraction_literals_count():
    assert accuracy_reward([wrap("x = 14"), wrap("28/2"), wrap(r"\dfrac{28}{2}")],
                           answer=["14"] * 3) == [1.0] * 3


def test_hedge_rules():
    assert is_hedged("20 or 14") and is_hedged("20, 14")
    assert not is_hedged("14, 14") and not is_hedged("1,000") and not is_hedged(r"\frac{28}{2}")
    assert not is_hedged("(1, 2)") and not is_hedged(r"\{1, 2\}")
    assert not is_hedged("1, 2", gold="1, 2")  # the gold itself is a list


def test_non_numeric_math_goes_through_math_verify():
    assert accuracy_reward([wrap(r"\frac{1}{2}"), wrap("0.5"), wrap(r"\sqrt{2}/2")],
                           answer=["0.5", r"\frac{1}{2}", r"\frac{\sqrt{2}}{2}"]) == [1.0] * 3


def test_walkthrough_scores():
    reward = combined_reward({"accuracy": 1.0, "format": 0.1})
    assert accuracy_reward([O1, O2, O3, O4], answer=["14"] * 4) == [0.0, 1.0, 1.0, 0.0]
    assert format_reward([O1, O2, O3, O4]) == [1.0, 1.0, 0.0, 0.0]
    assert reward([O1, O2, O3, O4], answer=["14"] * 4) == pytest.approx([0.1, 1.1, 1.0, 0.0])
    assert reward.__name__ == "combined_accuracy_format"


def test_trl_contract_shapes():
    chat = [[{"role": "assistant", "content": O2}], [{"role": "assistant", "content": O1}]]
    assert accuracy_reward(chat, answer=["14", "14"]) == [1.0, 0.0]
    assert format_reward(chat) == [1.0, 1.0]
    # extra dataset columns and TRL's own keyword arguments are accepted and ignored
    out = accuracy_reward([O2], answer=[14], prompts=["q"], completion_ids=[[1]], trainer_state=None)
    assert out == [1.0]
    assert accuracy_reward([], answer=[]) == []


def test_prompt_echo_does_not_earn_format():
    prompt = "User: What is 2+3*4?. Assistant:"
    assert format_reward([prompt + O2], prompts=[prompt]) == [1.0]
    echo = "<think> reasoning process here </think> <answer> answer here </answer>"
    assert format_reward([echo]) == [0.0]


def test_missing_answer_column_is_a_clear_error():
    with pytest.raises(TypeError):
        accuracy_reward([O2])
    with pytest.raises(ValueError, match="column `answer` has 1 values for 2 completions"):
        accuracy_reward([O2, O1], answer=["14"])


def test_unreadable_gold_is_none():
    assert accuracy_reward([wrap("14")], answer=[""]) == [None]
    assert accuracy_reward([wrap("14")], answer=[None]) == [None]


@pytest.mark.parametrize("weights, message", [
    ({"acc": 1.0}, "unknown reward 'acc'"),
    ({"accuracy": "1"}, "must be a number"),
    ({}, "non-empty mapping"),
    ([("accuracy", 1.0)], "non-empty mapping"),
])
def test_combined_reward_rejects_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        combined_reward(weights)


def junk_strings():
    rng = random.Random(0)
    yield ""
    yield bytes(range(256)).decode("latin-1")
    yield "\x00" * 100
    yield "<answer>" + "\ud800" + "</answer>"  # lone surrogate
    yield "<think>" * 10_000 + "</answer>" * 10_000
    yield wrap("x" * 1_000_000)  # 1 MB answer
    yield "a" * 1_000_000  # 1 MB with no tags
    yield wrap(r"\frac{" * 500 + "}" * 500)
    yield wrap(r"\boxed{\begin{pmatrix} 1 & 2 \end{pmatrix}}")
    alphabet = "<>/thinkaswer{}\\$^_0123456789 ,.;ortxé中"
    for _ in range(40):
        yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))


def test_rewards_never_raise_and_return_floats_or_none():
    completions = list(junk_strings())
    columns = {"answer": ["14"] * len(completions), "target_lang": ["en"] * len(completions)}
    for name, reward in REWARDS.items():
        scores = reward(completions, **columns)
        assert len(scores) == len(completions), name
        if name == "language":  # a share of words
            assert all(s is None or 0.0 <= s <= 1.0 for s in scores), name
        else:
            assert all(s is None or s in (0.0, 1.0) for s in scores), name


@pytest.mark.parametrize("gold", ["14", r"\frac{\sqrt{2}}{2}"])  # numeric gold: prefiltered
def test_pathological_math_returns_within_the_bound(gold):
    start = time.perf_counter()
    scores = accuracy_reward([PATHOLOGICAL], answer=[gold])
    elapsed = time.perf_counter() - start
    assert scores[0] in (0.0, None)
    assert elapsed < DEFAULT_TIMEOUT_S + 2.0  # per-answer bound + a worker start


def test_overrunning_check_is_killed_and_the_worker_restarts():
    checker = MathChecker(timeout=0.2)
    assert checker.equal(r"\frac{1}{2}", "0.5") is True  # worker started and warm
    start = time.perf_counter()
    # math-verify's own (signal) timeout would end this after ~1 s with False; None proves
    # the hard kill fired first.
    assert checker.equal("14", r"\boxed{9^{9^{9^{9}}}}") is None
    assert time.perf_counter() - start < 0.2 + 0.5
    assert checker._process is None
    assert checker.equal(r"\frac{1}{3}", r"\frac{2}{6}") is True  # a fresh worker
    checker.close()


def test_math_checker_rejects_bad_timeout():
    with pytest.raises(ValueError, match="positive number of seconds"):
        MathChecker(timeout=0)


def test_lower_layers_import_without_torch():
    code = ("import sys, r1lab.template, r1lab.rewards; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
