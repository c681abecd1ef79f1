"""The tiny world's validation split: for choosing settings, never in a training draw, never
one of the test sets results are reported on, and train and test draws as they were."""

import pytest
from test_cli import FAST, model_folder  # noqa: F401  (a pytest fixture)

from r1lab.cli import main
from r1lab.eval import Protocol
from r1lab.tasks.arithmetic import (REPORTED_TEST_DRAWS, ArithmeticConfig, count_expressions,
                                    generate, reported_test_expressions, split_of)

TINY = ArithmeticConfig(zh_fraction=0.0)


def expressions(problems) -> set[str]:
    return {p.expression for p in problems}


def test_validation_is_on_the_held_out_side_of_the_hash():
    # No training draw (corpus, RL prompts, SFT sets: all split="train") can hold one.
    problems = generate(300, "validation", seed=0, config=TINY)
    assert {split_of(p.expression) for p in problems} == {"test"}
    assert len(expressions(problems)) == 300
    assert not expressions(problems) & expressions(generate(3000, "train", seed=1))


def test_validation_never_asks_a_reported_test_question():
    validation = expressions(generate(500, "validation", seed=0, config=TINY))
    # The committed benchmarks' and the pipeline's test sets (500 questions, seed 0, English
    # or half Chinese) and the findings' pass@k set (seed 1).
    for zh in (0.0, 0.5):
        reported = generate(500, "test", seed=0, config=ArithmeticConfig(zh_fraction=zh))
        assert expressions(reported) <= reported_test_expressions(ArithmeticConfig())
        assert not validation & expressions(reported)
    assert not validation & expressions(generate(32, "test", seed=1, config=TINY))
    # One set per space, whatever the share of Chinese questions the draw asks for.
    assert reported_test_expressions(ArithmeticConfig(zh_fraction=0.5)) is \
        reported_test_expressions(TINY)
    assert len(reported_test_expressions(TINY)) > REPORTED_TEST_DRAWS["questions"]


def test_validation_draws_are_their_own_stream_and_deterministic():
    a = generate(50, "validation", seed=0, config=TINY)
    assert a == generate(50, "validation", seed=0, config=TINY)
    assert expressions(a) != expressions(generate(50, "validation", seed=1, config=TINY))
    # Not the test stream of the same seed, moved past the reported sets.
    assert a[0].expression != generate(1, "test", seed=0, config=TINY)[0].expression


def test_train_and_test_draws_are_unchanged():
    # Pinned before the validation split existed (the module's doctests pin more).
    assert generate(2, seed=5)[1].question == "How much is 4*2-6+2+1+2+9?"
    test = generate(1, "test", seed=8, config=ArithmeticConfig(zh_fraction=1.0))[0]
    assert test.expression == "7+8*6+9-0-8-3"


def test_a_small_space_counts_and_fills_its_validation_split():
    small = ArithmeticConfig(operands=(2, 3), operators="+")
    test, validation = count_expressions(small, "test"), count_expressions(small, "validation")
    assert validation == test - len(reported_test_expressions(small)) > 0
    assert len(generate(validation, "validation", config=small)) == validation
    with pytest.raises(ValueError, match="validation"):
        generate(validation + 1, "validation", config=small)


def test_protocol_and_eval_read_the_validation_split(model_folder, capsys):  # noqa: F811
    questions = Protocol(n=4, split="validation", zh_fraction=0.0).questions()
    assert questions == generate(4, "validation", seed=0, config=TINY)
    assert main(["eval", str(model_folder), "--task", "arithmetic", "--split", "validation",
                 "--n", "2", *FAST]) == 0
    assert f"{model_folder} on arithmetic (validation)" in capsys.readouterr().out
