"""One held-out protocol (``r1lab.eval.Protocol`` + ``held_out``): every caller's arguments
are today's, and where the protocol is unchanged it reproduces the committed numbers exactly."""

import importlib.util
import json
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from r1lab.eval import TINY_MAX_NEW_TOKENS, Evaluation, Protocol, held_out
from r1lab.sources import load_model_and_tokenizer
from r1lab.tasks import ArithmeticConfig, generate
from r1lab.tiny import card
from r1lab.tiny.card import weights_sha256

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "data" / "models" / "tiny-base"
RESULTS = ROOT / "benchmarks" / "results"
SMALL = Protocol(n=6, k=2, max_new_tokens=24)  # a few seconds on one thread


def benchmark(name: str):
    """A benchmark script as a module (its ``main`` is not run)."""
    import sys

    if str(ROOT / "benchmarks") not in sys.path:  # the scripts import seed_jobs beside them
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}",
                                                  ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def one_thread():
    """The committed benchmarks ran with one torch thread each (``torch_threads``: 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_protocol_questions_are_generate_with_the_same_arguments():
    protocol = Protocol(n=20, split="train", seed=3, zh_fraction=0.5)
    assert protocol.questions() == generate(20, split="train", seed=3,
                                            config=ArithmeticConfig(zh_fraction=0.5))
    # English questions: the default config, as the card and r1_zero/findings drew them
    assert Protocol(n=20, zh_fraction=0.0).questions() == generate(20, split="test", seed=0)
    assert Protocol().as_dict() == asdict(Protocol())
    assert json.loads(json.dumps(Protocol(prefill="<think>").as_dict()))["prefill"] == "<think>"


def test_every_caller_keeps_todays_arguments():
    """The refactor changes no argument: question seed, sampling seed, batch, k, languages,
    budget and prefill are those each caller passed to ``evaluate`` before."""
    english = {"split": "test", "seed": 0, "zh_fraction": 0.0, "temperature": 0.6,
               "top_p": 0.95, "max_new_tokens": TINY_MAX_NEW_TOKENS, "sampling_seed": 0}
    half_zh = {**english, "zh_fraction": 0.5}
    assert Evaluation().protocol("<think>") == Protocol(n=500, k=4, batch_size=256,
                                                        prefill="<think>", **half_zh)
    assert set(asdict(Evaluation())) == {"questions", "k", "general", "general_k",
                                         "zh_fraction", "seed"}  # distill_seeds' stamp
    assert Evaluation(seed=2).protocol() == Protocol(n=500, k=4, batch_size=256,
                                                     **{**half_zh, "seed": 2,
                                                        "sampling_seed": 2})
    assert card.protocols()["direct"] == Protocol(n=500, k=8, batch_size=256,
                                                  prefill="<answer>", **english)
    assert benchmark("r1_zero_seeds").protocol(500, 8, "<think>") == Protocol(
        n=500, k=8, batch_size=256, prefill="<think>", **english)
    assert benchmark("findings").protocol() == Protocol(n=500, k=4, batch_size=256, **english)
    assert benchmark("cold_start_seeds").protocol(1) == Protocol(n=500, k=1, batch_size=256,
                                                                 **half_zh)
    for name in ("rejection_sampling_seeds", "all_scenario_seeds"):
        assert benchmark(name).protocol() == Protocol(n=500, k=4, batch_size=256, **half_zh)
    from r1lab.findings import pass_at_k_protocol

    assert pass_at_k_protocol(prefill="<think>") == Protocol(
        n=32, k=256, batch_size=512, prefill="<think>", **{**english, "seed": 1})


def test_held_out_takes_a_folder_or_a_loaded_pair_alike(one_thread):
    from_folder = held_out(BASE, SMALL)
    from_pair = held_out(load_model_and_tokenizer(BASE), SMALL)
    assert from_folder.to_dict() == from_pair.to_dict()
    assert from_folder.n_problems == SMALL.n and from_folder.k == SMALL.k


def test_per_question_counts_sum_back_to_pass_at_1(one_thread):
    report = held_out(BASE, Protocol(n=8, k=3, zh_fraction=0.0, max_new_tokens=24,
                                     prefill="<answer>"))
    outcomes = report.per_question()
    assert outcomes["k"] == 3 and len(outcomes["correct"]) == 8
    assert all(0 <= c <= 3 for c in outcomes["correct"])
    assert round(sum(outcomes["correct"]) / (8 * 3), 6) == report.pass_at_1
    assert json.loads(json.dumps(outcomes)) == outcomes  # what results files store


def test_held_out_reproduces_the_base_cards_direct_accuracy(one_thread):
    """tiny-base's card measured ``direct_accuracy`` (prefill ``<answer>``, 500 questions x 8)
    with the card's protocol; the same protocol gives the same number, exactly."""
    measured = json.loads((BASE / "profile.json").read_text())
    assert weights_sha256(BASE) == measured["weights_sha256"]
    recorded = measured["protocol"]
    protocol = card.protocols(recorded["n"], recorded["k"], recorded["seed"],
                              recorded["max_new_tokens"], recorded["batch_size"])["direct"]
    report = held_out(BASE, protocol)
    assert report.pass_at_1 == measured["profile"]["direct_accuracy"]  # 0.2795


@pytest.mark.slow
@pytest.mark.parametrize("committed", ["r1_zero_seeds", "findings"])
def test_held_out_reproduces_the_committed_base_controls(committed, one_thread):
    """The base model's unprompted control of two benchmarks, by each benchmark's own
    protocol: r1_zero_seeds (500 x 8; the card's ``pass_at_1`` too) and findings (500 x 4)."""
    results = json.loads((RESULTS / f"{committed}.json").read_text())
    module = benchmark(committed)
    if committed == "r1_zero_seeds":
        assert results["base_weights_sha256"] == weights_sha256(BASE)
        protocol = module.protocol(results["protocol"]["n"], results["protocol"]["k"])
        expected = results["controls"]["base"]["pass_at_1"]  # 0.28575
        card_value = json.loads((BASE / "profile.json").read_text())["profile"]["pass_at_1"]
        assert expected == card_value  # the card's unprompted run is the same protocol
    else:
        assert results["weights_sha256"]["base"] == weights_sha256(BASE)
        assert results["jobs"]["base"]["torch_threads"] == 1
        protocol = module.protocol()
        expected = results["jobs"]["base"]["held_out"]["pass_at_1"]  # 0.2915
    assert held_out(BASE, protocol).pass_at_1 == expected


def test_a_protocol_reads_a_held_out_file_by_task_name(tmp_path):
    """The small rung's held-out questions come from a GSM8K-schema file, not the tiny
    world's generator: the first n rows, in file order; a bad task name is one clear error."""
    from r1lab.tasks.by_name import TaskError

    rows = tmp_path / "test.jsonl"
    rows.write_text("".join(json.dumps({"question": f"q{i}?", "answer": f"so\n#### {i}"}) + "\n"
                            for i in range(4)))
    questions = Protocol(n=3, task=f"gsm8k:{rows}").questions()
    assert [(q.question, q.answer) for q in questions] == [("q0?", "0"), ("q1?", "1"),
                                                             ("q2?", "2")]
    assert Protocol(task=f"gsm8k:{rows}").as_dict()["task"] == f"gsm8k:{rows}"
    with pytest.raises(TaskError, match="unknown task"):
        Protocol(task="chess").questions()
