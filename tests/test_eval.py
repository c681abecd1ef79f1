import json
from collections import namedtuple

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast,
                          Qwen2Config, Qwen2ForCausalLM)

from r1lab.eval import Report, evaluate, mixes_languages
from r1lab.rewards import language_consistency_reward
from r1lab.template import render

SHORT_TEMPLATE = "User: {prompt}. Assistant:"  # keeps the random model's prompts short
EOS = "<|endoftext|>"


# ---------------------------------------------------------------- fixtures


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level BPE with no merges: one token per UTF-8 byte, Qwen's end-of-text token.

    Byte-level because transformers loads a Qwen2 folder's tokenizer as Qwen2Tokenizer, which
    imposes its own byte-level pipeline; this tokenizer reads the same either way."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tokenizer = Tokenizer(models.BPE(vocab={ch: i for i, ch in enumerate(alphabet)}, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, pad_token=EOS)


def save_tiny_model(folder) -> None:
    """A random 2-layer Qwen2 model (hidden size 32) and its tokenizer, saved to ``folder``."""
    tokenizer = tiny_tokenizer()
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny_model")
    save_tiny_model(folder)
    return folder


@pytest.fixture(scope="module")
def tiny(tiny_folder):
    return (AutoModelForCausalLM.from_pretrained(tiny_folder),
            AutoTokenizer.from_pretrained(tiny_folder))


class ScriptedModel:
    """Stands in for a causal LM: ``generate`` returns fixed completions for each question.

    ``script`` maps a question to its completions; sample j of a question is
    ``script[question][j]``. Every call's arguments are kept in ``calls``."""

    device = torch.device("cpu")
    training = False

    def __init__(self, tokenizer, script):
        self.tokenizer, self.script, self.calls = tokenizer, script, []

    def eval(self):
        return self

    def generate(self, input_ids, attention_mask, num_return_sequences, pad_token_id, **kwargs):
        prompts = [self.tokenizer.decode(ids[mask.bool()]) for ids, mask in
                   zip(input_ids, attention_mask)]
        self.calls.append({"prompts": prompts, "padding_side": self.tokenizer.padding_side,
                           "num_return_sequences": num_return_sequences, **kwargs})
        rows = []
        for prompt in prompts:
            question = next(q for q in self.script if f"User: {q}." in prompt)
            for text in self.script[question][:num_return_sequences]:
                rows.append(self.tokenizer(text)["input_ids"] + [self.tokenizer.eos_token_id])
        width = max(map(len, rows))
        new = torch.tensor([row + [pad_token_id] * (width - len(row)) for row in rows])
        return torch.cat([input_ids.repeat_interleave(num_return_sequences, 0), new], 1)


SCRIPT = {
    "What is 2+3*4?": [
        "<think>3*4=12, 2+12=14</think> <answer>14</answer>",  # right, well formed
        "<think>2+3=5, 5*4=20</think> <answer>20</answer>",  # wrong, well formed
        "<answer>14</answer>",  # right, direct, not well formed
        "<think>三乘四 is 12, plus 2</think> <answer>14</answer>",  # right, mixes languages
    ],
    "What is 1+1?": [
        "<answer>3</answer>",  # wrong, direct
        "<think>一加一等于二</think> <answer>2</answer>",  # right, Chinese only: not mixed
        "2",  # right number but no answer block: wrong, direct
        "<think>1+1=2</think> <answer>2</answer>",  # right
    ],
}
PROBLEMS = [{"question": "What is 2+3*4?", "answer": "14"},
            {"question": "What is 1+1?", "answer": "2", "lang": "zh"}]


@pytest.fixture
def scripted():
    return ScriptedModel(tiny_tokenizer(), SCRIPT)


# ---------------------------------------------------------------- pass@k and the interval


@pytest.mark.parametrize("text, lang, mixed", [
    ("3*4=12, so the answer is 14", "en", False),
    ("三乘四等于十二，再加二等于十四", "zh", False),
    ("三乘四 equals 十二", "zh", True),
    ("三乘四 equals 十二", "en", True),
    ("先算 the product 再加", "zh", True),
    ("3*4=12, so the answer is 14", "zh", True),  # wholly English for a Chinese question
    (r"所以 \frac{1}{2} x = y", "zh", False),  # math is not a word
    ("所以 sin x = 0, log 2", "zh", False),
    ("所以 x+y=2", "zh", False),
    ("First multiply. Luego sumo dos al resultado, es fácil.", "en", True),  # not by script
    ("1+1=2", "en", False),  # no words: nothing mixed
    ("", "en", False),
    (None, "en", False),
])
def test_mixes_languages(text, lang, mixed):
    assert mixes_languages(text, lang) is mixed


def test_mixing_rate_is_the_language_reward_below_one(scripted):
    # One measure: a reasoning sample is mixed exactly when the reward RL trains on is < 1.
    report = evaluate(scripted, scripted.tokenizer, PROBLEMS, k=4, progress=False)
    reasoning = [r for r in report.records if r["reasons"]]
    scores = language_consistency_reward([r["completion"] for r in reasoning],
                                         target_lang=[r["lang"] for r in reasoning])
    assert [r["mixed"] for r in reasoning] == [s is not None and s < 1 for s in scores]


# ---------------------------------------------------------------- accounting on known outputs


def test_metrics_on_scripted_completions(scripted):
    report = evaluate(scripted, scripted.tokenizer, PROBLEMS, k=4, progress=False)
    assert report.n_problems == 2 and report.k == 4 and len(report.records) == 8
    # question 1: 3 of 4 right; question 2: 2 of 4 right
    assert report.pass_at_1 == pytest.approx((3 / 4 + 2 / 4) / 2)
    assert report.pass_at_k == pytest.approx({1: 0.625, 2: (1 + (1 - 1 / 6)) / 2, 4: 1.0})
    assert set(report.pass_at_k_ci) == {1, 2, 4}
    assert report.pass_at_1_ci == report.pass_at_k_ci[1]
    assert report.format_rate == pytest.approx(5 / 8)
    assert report.reasoning_rate == pytest.approx(5 / 8)
    assert report.mixing_rate == pytest.approx(1 / 5)
    assert report.accuracy_when_reasoning == pytest.approx(4 / 5)
    assert report.accuracy_when_direct == pytest.approx(1 / 3)
    completions = [c for q in SCRIPT for c in SCRIPT[q]]
    # one token per UTF-8 byte; the end-of-text token is not counted
    assert report.mean_completion_tokens == pytest.approx(
        sum(len(c.encode()) for c in completions) / 8)
    assert [r["completion"] for r in report.records] == completions
    assert [(r["index"], r["sample"]) for r in report.records] == [
        (i, j) for i in range(2) for j in range(4)]
    assert [r["correct"] for r in report.records] == [1, 0, 1, 1, 0, 1, 0, 1]
    assert [r["mixed"] for r in report.records] == [0, 0, 0, 1, 0, 0, 0, 0]
    first = report.records[0]
    assert set(first) >= {"index", "question", "answer", "lang", "completion", "correct",
                          "well_formed", "reasons", "mixed", "n_tokens"}
    assert (first["question"], first["answer"], first["lang"]) == ("What is 2+3*4?", "14", "en")


def test_sampling_settings_reach_generate(scripted):
    tokenizer = scripted.tokenizer
    tokenizer.padding_side = "right"
    evaluate(scripted, tokenizer, PROBLEMS, k=4, max_new_tokens=32, progress=False)
    call = scripted.calls[0]
    assert call["padding_side"] == "left" and tokenizer.padding_side == "right"
    assert call["do_sample"] is True and call["num_return_sequences"] == 4
    assert (call["temperature"], call["top_p"], call["top_k"]) == (0.6, 0.95, 0)
    assert call["max_new_tokens"] == 32
    assert call["prompts"][0] == render("What is 2+3*4?")


def test_report_serializes(scripted, tmp_path):
    report = evaluate(scripted, scripted.tokenizer, PROBLEMS, k=4, progress=False)
    data = json.loads(report.to_json(tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["pass_at_k"]["2"] == pytest.approx(report.pass_at_k[2])
    assert data["pass_at_1_ci"] == list(report.pass_at_1_ci)
    assert len(data["records"]) == 8 and data["settings"]["temperature"] == 0.6
    assert "三乘四" in data["records"][3]["completion"]
    table = report.table()
    assert str(report) == table
    # per-question scores 0.75 and 0.5: 0.625 ± 1.96 * 0.177 / sqrt(2)
    assert "\npass@1                      0.625  [0.380, 0.870]\n" in table
    for name in ("pass@2", "pass@4", "format rate", "reasoning rate", "mixing rate",
                 "accuracy when reasoning", "accuracy when direct", "mean completion tokens"):
        assert f"\n{name}" in table
    assert "2 problems x 4 samples (temperature 0.6, top-p 0.95" in table


def test_recheck_rate_and_reasoning_length_count_reasoning_samples_only():
    def record(index, completion, correct, n_tokens):
        think = completion.split("</think>")[0] if "<think>" in completion else None
        return {"index": index, "sample": 0, "completion": completion, "correct": correct,
                "well_formed": True, "reasons": think is not None, "mixed": False,
                "rechecks": think is not None and "check" in think, "n_tokens": n_tokens}

    records = [record(0, "<think>2+2 = 4 (check: 2+2 = 4. yes)</think><answer>4</answer>", 1, 30),
               record(1, "<think>2+2 = 5</think><answer>5</answer>", 0, 10),
               record(2, "<think>2+2 = 4</think><answer>4</answer>", 1, 14),
               record(3, "<answer>4</answer> check", 1, 2)]
    report = Report.from_records(records, k=1, settings={})
    assert report.recheck_rate == pytest.approx(1 / 3)  # of the 3 that reason
    assert report.accuracy_when_rechecking == 1.0
    assert report.accuracy_without_recheck == 0.5
    assert report.mean_reasoning_tokens == pytest.approx(18.0)
    assert "re-check rate" in report.table() and "mean reasoning tokens" in report.table()
    direct_only = Report.from_records([records[3]], k=1, settings={})
    assert direct_only.recheck_rate == 0.0 and direct_only.mean_reasoning_tokens is None
    assert direct_only.accuracy_when_rechecking is None


def test_report_from_records_needs_records():
    with pytest.raises(ValueError, match="at least one record"):
        Report.from_records([], k=4, settings={})


def test_batches_hold_at_most_batch_size_sequences(scripted):
    problems = [{"question": q, "answer": "0"} for q in SCRIPT] * 3  # 6 problems
    report = evaluate(scripted, scripted.tokenizer, problems, k=4, batch_size=9, progress=False)
    assert [len(call["prompts"]) for call in scripted.calls] == [2, 2, 2]  # 2 * 4 <= 9
    assert len(report.records) == 24 and report.n_problems == 6
    assert [r["index"] for r in report.records] == [i for i in range(6) for _ in range(4)]
    scripted.calls.clear()
    evaluate(scripted, scripted.tokenizer, problems[:2], k=4, batch_size=3, progress=False)
    assert [len(call["prompts"]) for call in scripted.calls] == [1, 1]  # at least one prompt


def test_prefill_starts_the_graded_text(scripted):
    script = {"What is 2+3*4?": ["3*4=12, 2+12=14</think> <answer>14</answer>"] * 2}
    model = ScriptedModel(scripted.tokenizer, script)
    report = evaluate(model, model.tokenizer, PROBLEMS[:1], k=2, prefill="<think>",
                      progress=False)
    assert model.calls[0]["prompts"][0].endswith("Assistant:<think>")
    assert all(r["completion"].startswith("<think>3*4=12") for r in report.records)
    assert report.format_rate == 1.0 and report.pass_at_1 == 1.0
    assert report.settings["prefill"] == "<think>"


def test_temperature_zero_is_greedy_with_one_sample(scripted):
    report = evaluate(scripted, scripted.tokenizer, PROBLEMS, k=4, temperature=0,
                      progress=False)
    call = scripted.calls[0]
    assert call["do_sample"] is False and call["num_return_sequences"] == 1
    assert "temperature" not in call and "top_p" not in call
    assert report.k == 1 and len(report.records) == 2 and report.settings["greedy"]
    assert "k was set to 1 (asked for 4)" in report.settings["note"]
    assert "note: temperature=0" in report.table() and "greedy" in report.table()
    assert report.pass_at_k == {1: 0.5}  # first scripted sample: right, then wrong


def test_objects_and_mappings_are_both_problems(scripted):
    Item = namedtuple("Item", "question answer lang")
    problems = [Item("What is 2+3*4?", 14, "zh"), {"question": "What is 1+1?", "answer": "2"}]
    report = evaluate(scripted, scripted.tokenizer, problems, k=4, progress=False)
    assert report.records[0]["answer"] == "14" and report.records[0]["lang"] == "zh"
    assert report.records[4]["lang"] == "en"
    assert report.pass_at_1 == pytest.approx(0.625)


def test_arithmetic_problems_from_r1lab_tasks(scripted):
    tasks = pytest.importorskip("r1lab.tasks")
    problems = tasks.generate(2, split="test", seed=0)
    model = ScriptedModel(scripted.tokenizer, {
        p.question: [f"<think>x</think> <answer>{p.answer}</answer>"] for p in problems})
    report = evaluate(model, model.tokenizer, problems, k=1, progress=False)
    assert report.pass_at_1 == 1.0 and report.format_rate == 1.0


def test_unscorable_samples_count_as_wrong(scripted):
    model = ScriptedModel(scripted.tokenizer, {"Name it?": ["<think>x</think><answer>7</answer>"]})
    report = evaluate(model, model.tokenizer, [{"question": "Name it?", "answer": ""}], k=1,
                      progress=False)
    assert report.n_unscored == 1 and report.pass_at_1 == 0.0
    assert report.records[0]["score"] is None and report.records[0]["correct"] is False
    assert "unscored samples" in report.table()


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 0}, "k >= 1"),
    ({"k": -2}, "k >= 1"),
    ({"k": 1.5}, "k >= 1"),
    ({"batch_size": 0}, "batch_size >= 1"),
    ({"max_new_tokens": 0}, "max_new_tokens >= 1"),
    ({"temperature": -0.1}, "temperature must be >= 0"),
    ({"top_p": 0.0}, r"top_p must be in \(0, 1\]"),
    ({"problems": []}, "got no problems"),
    ({"problems": [{"question": "What is 1+1?"}]}, "problem 0 has no answer"),
    ({"problems": [PROBLEMS[0], {"answer": "2"}]}, "problem 1 has no question"),
    ({"problems": ["What is 1+1?"]}, "problem 0 has no question"),
])
def test_bad_inputs_are_named(scripted, kwargs, message):
    kwargs = {"problems": PROBLEMS, **kwargs}
    with pytest.raises(ValueError, match=message):
        evaluate(scripted, scripted.tokenizer, progress=False, **kwargs)


def test_a_single_problem_must_be_wrapped(scripted):
    with pytest.raises(TypeError, match="wrap it in a list"):
        evaluate(scripted, scripted.tokenizer, PROBLEMS[0], progress=False)


def test_a_tokenizer_without_pad_token_borrows_eos(scripted):
    tokenizer = scripted.tokenizer
    tokenizer.pad_token = None
    report = evaluate(scripted, tokenizer, PROBLEMS, k=4, progress=False)
    assert report.pass_at_1 == pytest.approx(0.625)
    assert tokenizer.pad_token is None  # restored


# ---------------------------------------------------------------- a real (random) model


def test_random_model_is_deterministic_under_seed(tiny):
    model, tokenizer = tiny
    problems = [{"question": f"What is {i}+1?", "answer": str(i + 1)} for i in range(3)]
    run = dict(k=2, max_new_tokens=8, batch_size=5, template=SHORT_TEMPLATE, progress=False)
    model.train()
    first = evaluate(model, tokenizer, problems, seed=0, **run)
    assert model.training  # the caller's mode is restored
    model.eval()
    again = evaluate(model, tokenizer, problems, seed=0, **run)
    other = evaluate(model, tokenizer, problems, seed=1, **run)
    assert first.records == again.records
    assert [r["completion"] for r in first.records] != [r["completion"] for r in other.records]
    assert len(first.records) == 6  # batch_size 5 does not divide 3 * 2
    assert all(0 <= r["n_tokens"] <= 8 for r in first.records)
    assert tokenizer.padding_side == "right"


def test_random_model_with_paper_template_prefill_and_greedy(tiny):
    model, tokenizer = tiny
    problems = [{"question": "What is 2+3*4?", "answer": "14"}]
    report = evaluate(model, tokenizer, problems, k=3, max_new_tokens=6, prefill="<answer>")
    assert all(r["completion"].startswith("<answer>") for r in report.records)
    assert report.n_problems == 1 and report.k == 3 and 0 <= report.pass_at_1 <= 1
    greedy = [evaluate(model, tokenizer, problems, k=3, temperature=0, max_new_tokens=6,
                       seed=seed, progress=False).records for seed in (0, 1)]
    assert len(greedy[0]) == 1 and greedy[0] == greedy[1]  # greedy ignores the seed



def test_an_unknown_language_is_refused_before_sampling(scripted):
    with pytest.raises(ValueError, match="problem 0's lang must be an ISO 639-1 code"):
        evaluate(scripted, scripted.tokenizer,
                 [{"question": "What is 1+1?", "answer": "2", "lang": "klingon"}], k=1)
    assert scripted.calls == []  # nothing was sampled
