import os
import random
import signal
import threading
import time

import pytest

from r1lab.rewards import REWARDS, accuracy_reward, combined_reward, format_reward
from r1lab.rewards.accuracy import is_hedged
from r1lab.rewards.math_check import DEFAULT_TIMEOUT_S, MathChecker, default_checker

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
    columns = {"answer": ["14"] * len(completions), "target_lang": ["en"] * len(completions),
               "secret": ["4821"] * len(completions)}  # harmless_rule's column
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
    # Warm up with a generous bound: a loaded machine can take longer than 0.2 s over a first
    # check (math-verify's lazy imports), which would make this test flaky, not the code wrong.
    checker = MathChecker(timeout=30)
    assert checker.equal(r"\frac{1}{2}", "0.5") is True  # worker started and warm
    checker.timeout = 0.2
    start = time.perf_counter()
    # only the hard kill ends this check (math-verify's own timeouts are off in the worker)
    assert checker.equal("14", r"\boxed{9^{9^{9^{9}}}}") is None
    assert time.perf_counter() - start < 0.2 + 0.5
    assert checker._process is None
    checker.timeout = 30
    assert checker.equal(r"\frac{1}{3}", r"\frac{2}{6}") is True  # a fresh worker
    checker.close()


def test_math_checker_rejects_bad_timeout():
    with pytest.raises(ValueError, match="positive number of seconds"):
        MathChecker(timeout=0)


# ---------------------------------------------------------------- inputs as TRL and users pass them


def test_invisible_characters_earn_no_format():
    completions = ["<think>\u200b</think><answer>14</answer>",
                   "|special_token|\ufeff|special_token|Summary: 14"]
    assert format_reward(completions) == [0.0, 0.0]
    assert REWARDS["readable_format"](completions) == [0.0, 0.0]


def test_each_format_reward_pays_for_its_own_format_only():
    # R1-Zero is paid for tags (R1 §2.2.2), a cold-started model for the readable format
    # (§2.3.1): neither run can collect its format reward by drifting into the other format.
    tags = "<think>3*4=12, 2+12=14</think> <answer>14</answer>"
    readable = "|special_token|3*4=12, 2+12=14|special_token|Summary: 14"
    assert format_reward([tags, readable]) == [1.0, 0.0]
    assert REWARDS["readable_format"]([tags, readable]) == [0.0, 1.0]
    # a readable example echoed from a few-shot prompt is not the model's own
    prompt = f"Example: {readable}\nUser: What is 2+3*4? Assistant:"
    assert REWARDS["readable_format"]([prompt + " 14"], prompts=[prompt]) == [0.0]


@pytest.mark.parametrize("key", ["reasoning_content", "thinking"])
def test_reasoning_split_off_by_trl_is_read(key):
    # TRL's response parsers move the think block into the message's reasoning field.
    def message(reasoning):
        return [{"role": "assistant", key: reasoning, "content": "<answer>14</answer>"}]

    completions = [message("3*4=12, 2+12=14"), message("")]
    assert format_reward(completions) == [1.0, 0.0]
    assert accuracy_reward(completions, answer=["14", "14"]) == [1.0, 1.0]
    assert REWARDS["language"](completions, target_lang="en") == [None, None]  # no words
    worded = [message("so the answer is fourteen")]
    assert REWARDS["language"](worded, target_lang="en") == [1.0]


def test_numpy_and_pandas_columns_are_columns():
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    completions = [O2, O1]  # answers 14 and 20
    for golds in (np.array(["14", "20"]), pd.Series(["14", "20"]), np.array([14, 20]),
                  ("14", "20")):
        assert accuracy_reward(completions, answer=golds) == [1.0, 1.0], type(golds)
    langs = np.array(["en", "zh"])
    assert REWARDS["language"](["<think>so it is</think><answer>1</answer>"] * 2,
                               target_lang=langs) == [1.0, 0.0]
    with pytest.raises(ValueError, match="2 values for 3 completions"):
        accuracy_reward([O2] * 3, answer=np.array(["14", "20"]))


def test_gold_numbers_beyond_the_int_string_limit_are_graded():
    # Python refuses int(str) and str(int) beyond 4300 digits; such a gold is graded (0: no
    # answer of at most MAX_ANSWER_CHARS matches it), never an exception.
    digits = "7" * 5000
    golds = [digits, int(digits[:1000]) * 10**4000, digits]
    answers = [wrap("7"), wrap("7"), wrap(r"\boxed{7}")]
    assert accuracy_reward(answers, answer=golds) == [0.0, 0.0, 0.0]
    assert accuracy_reward([wrap("1" + "0" * 900)], answer=[10**900]) == [1.0]


@pytest.mark.parametrize("answer", [r"\$18", "$18", "18 dollars", r"18 \text{ dollars}", "18.00"])
def test_currency_and_units_on_numeric_golds(answer):
    assert accuracy_reward([wrap(answer)], answer=["18"]) == [1.0]


def test_decimal_comma_unicode_minus_and_thousands():
    assert accuracy_reward([wrap("0,111"), wrap("\u22127"), wrap("1,800"), wrap("18,00")],
                           answer=["0.111", "-7", "1800", "1800"]) == [1.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("answer", [
    r"\frac{1}{3} \quad \frac{1}{2}", r"\frac{1}{3} \text{ maybe } \frac{1}{2}",
    r"\boxed{\frac{1}{2} \text{ or } \frac{1}{3}}", r"\boxed{1} \text{ or } \boxed{2}"])
def test_hedged_latex_answers_score_zero(answer):
    assert is_hedged(answer)
    assert accuracy_reward([wrap(answer)], answer=[r"\frac{1}{2}"]) == [0.0]


def test_rewards_in_a_process_forked_while_another_thread_checks():
    # The fork copies the checker's lock held by the checking thread, and its worker's pipes;
    # the child must start its own worker instead of waiting on them forever.
    checker = default_checker()
    # an answer no other test checks, so that no cached verdict makes the check quick
    slow = threading.Thread(target=checker.equal, args=("15", r"\boxed{8^{8^{8^{8}}}}"))
    saved, checker.timeout = checker.timeout, 1.0
    try:
        slow.start()
        time.sleep(0.3)  # the thread now holds the lock, waiting on the worker
        pid = os.fork()
        if pid == 0:  # the child: grade, report by exit status, never return into pytest
            try:
                ok = accuracy_reward([wrap(r"\frac{2}{4}")], answer=[r"\frac{1}{2}"]) == [1.0]
            finally:
                os._exit(0 if ok else 1)
        deadline = time.monotonic() + 30
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        if done[0] == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0, "child deadlocked"
    finally:
        slow.join()
        checker.timeout = saved
    assert checker.equal(r"\frac{1}{3}", r"\frac{2}{6}") is True  # the parent's checker still works
