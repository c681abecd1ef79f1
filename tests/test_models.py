import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from r1lab.models.corpus import CorpusConfig, documents
from r1lab.models.pretrain import PRESETS, pretrain
from r1lab.models.tokenizer import build_tokenizer
from r1lab.eval import evaluate
from r1lab.models.card import check_targets, weights_sha256
from r1lab.models.corpus import EOS
from r1lab.tasks import generate
from r1lab.template import parse, render

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [ROOT / "data" / "models" / name for name in ("tiny-base", "tiny-student")]


def test_corpus_is_deterministic_and_uses_train_expressions_only():
    docs = documents(400, seed=3)
    assert docs == documents(400, seed=3)
    assert docs != documents(400, seed=4)
    test_questions = {p.question for p in generate(2000, split="test", seed=3)}
    assert not any(q in d for d in docs for q in test_questions)


def test_corpus_shares_follow_the_config():
    config = CorpusConfig(reasoning=0.3, noisy=0.0, plain_chains=0.0, mixed_cot=0.5,
                          reflection=0.0, zh_questions=0.0)
    completions = [d.split("Assistant:")[1].removesuffix(EOS) for d in documents(2000, 0, config)]
    parsed = [parse(c) for c in completions]
    assert all(p.answer is not None for p in parsed)  # noisy=0: every answer is tagged
    reasoning = [p for p in parsed if p.think]
    assert all(p.well_formed for p in reasoning)
    assert 0.25 < len(reasoning) / len(parsed) < 0.35
    mixed = [p for p in reasoning if ("所以" in p.think and "let me" in p.think)
             or ("我们" in p.think and "so the answer" in p.think)]
    assert 0.4 < len(mixed) / len(reasoning) < 0.6


def test_tokenizer_keeps_digits_apart_and_tags_whole():
    docs = documents(3000, seed=0)
    tokenizer = build_tokenizer(docs, vocab_size=512)
    assert tokenizer.tokenize("123+45 = 168") == ["1", "2", "3", "+", "4", "5", " = ", "1", "6", "8"]
    prompt = render("What is 2+3*4?")
    full = tokenizer(prompt + "<think>")["input_ids"]
    assert full[: len(tokenizer(prompt)["input_ids"])] == tokenizer(prompt)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(full[-1]) == "<think>"
    assert len(tokenizer(prompt)["input_ids"]) < 30  # the template is a few tokens, not ~90


def test_pretrain_smoke_saves_a_hub_style_model(tmp_path):
    config = replace(PRESETS["base"], hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1,
                     intermediate_size=64, documents=300, batch_size=4)
    out = pretrain(config, tmp_path / "m", max_steps=3, progress=False)
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    text = "What is 12+3? 等于多少？<answer>15</answer>"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text  # spaces and Chinese survive
    meta = json.loads((out / "pretrain.json").read_text())
    assert meta["parameters"] == sum(p.numel() for p in model.parameters())
    assert torch.isfinite(torch.tensor(meta["train_loss"]))


@pytest.mark.parametrize("model_dir", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_matches_its_card(model_dir):
    measured = json.loads((model_dir / "profile.json").read_text())
    meta = json.loads((model_dir / "pretrain.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    assert sum(p.numel() for p in model.parameters()) == meta["parameters"]
    assert f"{meta['parameters']:,} parameters" in (model_dir / "README.md").read_text()
    assert weights_sha256(model_dir) == measured["weights_sha256"]  # the weights measured


@pytest.mark.parametrize("model_dir", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_reproduces_its_reasoning_accuracy(model_dir):
    """A small re-run of the card's prefilled-<think> evaluation lands near the card."""
    measured = json.loads((model_dir / "profile.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    problems = generate(64, split="test", seed=1)
    report = evaluate(model, tokenizer, problems, k=4, max_new_tokens=96, prefill="<think>",
                      batch_size=256, progress=False)
    assert abs(report.pass_at_1 - measured["profile"]["reasoning_accuracy"]) < 0.15


def test_shipped_base_meets_the_tiny_world_targets():
    """pass@1 10-40%, reasoning >= 60% and >= 2x direct, reasons <= 30%, mixes >= 10%."""
    measured = json.loads((ROOT / "data/models/tiny-base/profile.json").read_text())
    assert check_targets(measured["profile"]) == []
    assert measured["protocol"]["n"] >= 500 and measured["protocol"]["k"] >= 8


def test_student_shares_the_base_tokenizer_and_is_smaller():
    base, student = SHIPPED
    assert (base / "tokenizer.json").read_bytes() == (student / "tokenizer.json").read_bytes()
    sizes = [json.loads((d / "pretrain.json").read_text())["parameters"] for d in SHIPPED]
    assert sizes[1] < sizes[0] / 2


def test_pretrain_command_runs_a_few_steps(tmp_path):
    """The regeneration command itself, with a tiny budget."""
    import subprocess
    import sys

    out = tmp_path / "cli-base"
    subprocess.run([sys.executable, "-m", "r1lab.models.pretrain", "base", "--documents", "300",
                    "--max-steps", "2", "--out", str(out)], check=True, capture_output=True,
                   cwd=ROOT)
    assert json.loads((out / "pretrain.json").read_text())["config"]["documents"] == 300
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.decode(tokenizer("2+3")["input_ids"]) == "2+3"
    for command in (["-m", "r1lab.models.pretrain", "--help"], ["-m", "r1lab", "pretrain", "--help"],
                    ["-m", "r1lab.models.card", "--help"]):
        done = subprocess.run([sys.executable, *command], check=True, capture_output=True,
                              text=True)
        assert "usage:" in done.stdout and "RuntimeWarning" not in done.stderr
