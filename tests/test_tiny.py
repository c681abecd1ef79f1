import ast
import hashlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

import r1lab.tiny.pretrain as pretrain_module
from r1lab.cli import main
from r1lab.eval import evaluate
from r1lab.tasks import EOS, generate
from r1lab.template import SPECIAL_TOKEN, parse, render
from r1lab.tiny.card import MAX_NEW_TOKENS, check_targets, weights_sha256, write_card
from r1lab.tiny.corpus import PAGE_EXAMPLES, CorpusConfig, documents
from r1lab.tiny.pretrain import PRESETS, PretrainError, min_documents, pretrain
from r1lab.tiny.tokenizer import build_tokenizer

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [ROOT / "data" / "models" / name for name in ("tiny-base", "tiny-student")]


def test_corpus_is_deterministic_and_uses_train_expressions_only():
    docs = documents(400, seed=3)
    assert docs == documents(400, seed=3)
    assert docs != documents(400, seed=4)
    test_questions = {p.question for p in generate(2000, split="test", seed=3)}
    assert not any(q in d for d in docs for q in test_questions)


def test_corpus_text_is_the_one_the_shipped_models_were_trained_on():
    """data/models/* were pretrained on this exact text: any change to the corpus or to the
    task's chain sentences (r1lab.tasks.chains) would make them irreproducible."""
    text = "".join(documents(2000, seed=0))
    digest = "4dcf8d3814783f2ad30b143b9eaf751bd845e9eea2060c268d1fba85cae80931"
    assert hashlib.sha256(text.encode()).hexdigest() == digest


def test_readable_documents_are_what_the_cold_start_prompts_ask_for():
    """Pages of worked examples and answers to the detailed request (what paths 1 and 2 of
    the cold start need the base to have seen), at their shares, each sample clean and right."""
    from r1lab.cold_start import readability_problem
    from r1lab.template import DETAILED_TEMPLATE, EXAMPLES_HEADER, parse_completion

    config = CorpusConfig(pages=0.1, detailed=0.2)
    docs = documents(3000, seed=1, config=config)
    pages = [d for d in docs if d.startswith(EXAMPLES_HEADER)]
    detailed = [d for d in docs if "Show every step in detail" in d]
    assert 0.07 < len(pages) / len(docs) < 0.13 and 0.17 < len(detailed) / len(docs) < 0.23
    request = DETAILED_TEMPLATE.split("{prompt}")[1]
    samples = [d.split(request, 1)[1].removesuffix(EOS) for d in detailed]
    for page in pages:
        shots = page.removeprefix(EXAMPLES_HEADER).split(EOS)[:-1]
        assert len(shots) == PAGE_EXAMPLES
        samples += [shot.split("Assistant:", 1)[1] for shot in shots]
    for sample in samples:
        parsed = parse_completion(sample)
        assert readability_problem(sample, "zh" if "我们" in sample else "en") is None, sample
        assert parsed.think.count("check") + parsed.think.count("检查") >= 1
    # The chains slip and fix the slips on the spot, so every summary is right.
    fixed = sum("is right)" in s or "才对）" in s for s in samples)
    assert fixed > 0.1 * len(samples)
    # Elsewhere the readable format never appears: the base writes it only when prompted.
    readable = set(pages) | set(detailed)
    others = [d for d in docs if d not in readable]
    assert not any(SPECIAL_TOKEN in d or EXAMPLES_HEADER in d for d in others)


def test_a_corpus_without_readable_documents_is_drawn_as_before_they_existed():
    """The knobs at 0 draw nothing extra: v2's corpus (before pages and detailed answers)."""
    plain = CorpusConfig(pages=0.0, detailed=0.0)
    text = "".join(documents(2000, seed=0, config=plain))
    digest = "6c812ae83ff1d74b720cfc1d404b895d74af482ff59d42288e883ba81392d574"
    assert hashlib.sha256(text.encode()).hexdigest() == digest
    assert documents(300, seed=2, config=plain) != documents(300, seed=2)


def test_corpus_shares_follow_the_config():
    config = CorpusConfig(pages=0.0, detailed=0.0, reasoning=0.3, noisy=0.0, plain_chains=0.0, mixed_cot=0.5,
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
def test_shipped_card_is_the_one_todays_code_writes(model_dir, tmp_path):
    """``python -m r1lab.tiny.card DIR --card-only --regenerate "r1lab pretrain ROLE
    --overwrite" --role ROLE`` rewrites README.md and profile.json byte for byte."""
    role = model_dir.name.removeprefix("tiny-")
    copy = tmp_path / model_dir.name
    copy.mkdir()
    for name in ("pretrain.json", "config.json"):
        (copy / name).write_bytes((model_dir / name).read_bytes())
    measured = json.loads((model_dir / "profile.json").read_text())
    assert write_card(copy, measured, f"r1lab pretrain {role} --overwrite", role) == (
        copy / "README.md")
    for name in ("README.md", "profile.json"):
        assert (copy / name).read_bytes() == (model_dir / name).read_bytes(), name
    assert sorted(p.name for p in copy.iterdir()) == [  # written whole: no partial file left
        "README.md", "config.json", "pretrain.json", "profile.json"]


@pytest.mark.parametrize("model_dir", SHIPPED, ids=lambda p: p.name)
def test_shipped_checkpoint_reproduces_its_reasoning_accuracy(model_dir):
    """A small re-run of the card's prefilled-<think> evaluation lands near the card."""
    measured = json.loads((model_dir / "profile.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    problems = generate(64, split="test", seed=1)
    report = evaluate(model, tokenizer, problems, k=4, max_new_tokens=MAX_NEW_TOKENS, prefill="<think>",
                      batch_size=256, progress=False)
    assert abs(report.pass_at_1 - measured["profile"]["reasoning_accuracy"]) < 0.15


def test_shipped_base_meets_the_tiny_world_targets():
    """pass@1 10-40%, P_think 45-70%, reasons <= 30%, re-checks <= 20%, mixes >= 10%."""
    measured = json.loads((ROOT / "data/models/tiny-base/profile.json").read_text())
    assert check_targets(measured["profile"]) == []
    assert measured["protocol"]["n"] >= 500 and measured["protocol"]["k"] >= 8


def test_student_shares_the_base_tokenizer_and_is_smaller():
    base, student = SHIPPED
    assert (base / "tokenizer.json").read_bytes() == (student / "tokenizer.json").read_bytes()
    sizes = [json.loads((d / "pretrain.json").read_text())["parameters"] for d in SHIPPED]
    assert sizes[1] < sizes[0] / 2


@pytest.mark.slow
def test_pretrain_command_runs_a_few_steps(tmp_path):
    """The regeneration command itself, with a tiny budget."""
    out = tmp_path / "cli-base"
    subprocess.run([sys.executable, "-m", "r1lab", "pretrain", "base", "--documents", "300",
                    "--max-steps", "2", "--out", str(out)], check=True, capture_output=True,
                   cwd=ROOT)
    assert json.loads((out / "pretrain.json").read_text())["config"]["documents"] == 300
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.decode(tokenizer("2+3")["input_ids"]) == "2+3"
    for command in (["-m", "r1lab", "pretrain", "--help"], ["-m", "r1lab.tiny.card", "--help"]):
        done = subprocess.run([sys.executable, *command], check=True, capture_output=True,
                              text=True)
        assert "usage:" in done.stdout and "RuntimeWarning" not in done.stderr


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if pretraining gets as far as building its corpus."""
    def refuse(*args, **kwargs):
        raise AssertionError("pretrain started building its corpus")

    monkeypatch.setattr(pretrain_module, "documents", refuse)


def one_line_error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("r1lab pretrain: error: ") and err.count("\n") == 1
    return err


@pytest.mark.parametrize("name", ["tiny-base", "tiny-student"])
def test_pretrain_refuses_the_shipped_model_before_training(name, no_training, capsys,
                                                            monkeypatch):
    shipped = ROOT / "data/models" / name
    before = weights_sha256(shipped)
    monkeypatch.chdir(ROOT)  # the default --out is data/models/<name>
    err = one_line_error(capsys, "pretrain", name.removeprefix("tiny-"))
    assert f"data/models/{name} holds the shipped {name} model: pass --overwrite" in err
    assert weights_sha256(shipped) == before


def test_pretrain_replaces_an_existing_model_only_with_overwrite(tmp_path, capsys):
    out = tmp_path / "m"
    out.mkdir()
    (out / "config.json").write_text("{}")
    args = ["pretrain", "base", "--documents", "300", "--max-steps", "1", "--out", str(out),
            "--no-progress"]
    assert "already holds a model: pass --overwrite" in one_line_error(capsys, *args)
    assert (out / "config.json").read_text() == "{}"
    assert main([*args, "--overwrite"]) == 0
    assert AutoModelForCausalLM.from_pretrained(out).config.hidden_size == 128


MIN = min_documents(PRESETS["base"])
BASE_BATCH = PRESETS["base"].batch_size, PRESETS["base"].block_size


@pytest.mark.parametrize("argv, message", [
    (["--documents", "1"], f"too few documents to train (1): two optimizer steps of "
                           f"{BASE_BATCH[0]} blocks of {BASE_BATCH[1]} tokens need about {MIN}; "
                           f"use --documents {MIN} or more"),
    (["--seed", str(2**64)], f"seed {2**64} is out of range: use --seed (seed=) an integer "
                             f"from 0 to {2**32 - 1}"),
    (["--seed", "-1"], "seed -1 is out of range: use --seed"),
    (["--out", "{file}"], "output folder {file} is a file: pass --out a new or empty folder"),
    (["--out", "{file}/m"], "output folder {file}/m is inside the file {file}"),
    (["--out", "{folder}"], "{folder} is not empty: pass --out a new or empty folder, or "
                            "--overwrite"),
])
def test_pretrain_mistakes_are_one_line(argv, message, tmp_path, no_training, capsys):
    file, folder = tmp_path / "notes.txt", tmp_path / "notes"
    file.write_text("not a model folder")
    (folder / "a").mkdir(parents=True)
    fill = {"file": file, "folder": folder}
    argv = [a.format(**fill) for a in argv]
    assert message.format(**fill) in one_line_error(capsys, "pretrain", "base", *argv)


def test_pretrain_checks_before_it_builds_anything(tmp_path, no_training):
    with pytest.raises(PretrainError, match="too few documents to train"):
        pretrain(replace(PRESETS["base"], documents=10), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_cold_start_and_tasks_do_not_load_the_tiny_models():
    """The tiny world's sentences are the task's (r1lab.tasks), not the models package's."""
    check = ("import r1lab.cold_start, r1lab.tasks, sys; "
             "assert not [m for m in sys.modules if m.startswith(('r1lab.tiny', 'r1lab.models'))]")
    subprocess.run([sys.executable, "-c", check], check=True, cwd=ROOT)


def test_only_main_imports_the_cli():
    """cli sits on top (DESIGN.md layers): a module it imports must not import it back."""
    importers = []
    for path in sorted((ROOT / "r1lab").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [f"{node.module}.{a.name}" for a in node.names]
                     if isinstance(node, ast.ImportFrom) and node.module else [])
            if any(n == "r1lab.cli" or n.startswith("r1lab.cli.") for n in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(importers)) == ["r1lab/__main__.py"]


def test_corpus_plants_slips_and_careful_chains_that_catch_them():
    """Uncaught slips make reasoning documents wrong; careful ones (every step checked) are
    right whatever slipped: checking pays in the corpus, at the configured rates."""
    from r1lab.rewards.reflection import rechecks

    config = CorpusConfig(pages=0.0, detailed=0.0, reasoning=1.0, noisy=0.0, plain_chains=0.0, reflection=0.3,
                          slip=0.3, zh_questions=0.0)
    problems = {p.question: p.answer for p in generate(3000, split="train", seed=0,
                                                        config=config.task)}
    careful, careless = [], []
    for doc in documents(3000, seed=0, config=config):
        question = doc.split("User: ")[1].split(". Assistant:")[0]
        parsed = parse(doc.split("Assistant:")[1].removesuffix(EOS))
        (careful if rechecks(parsed.think) else careless).append(
            parsed.answer == problems[question])
    assert 0.25 < len(careful) / 3000 < 0.35
    assert all(careful)
    assert 0.3 < 1 - sum(careless) / len(careless) < 0.6  # slips that no check caught


def test_no_slips_means_every_reasoning_document_is_right():
    config = CorpusConfig(pages=0.0, detailed=0.0, reasoning=1.0, noisy=0.0, plain_chains=0.0, slip=0.0, zh_questions=0.0)
    docs = documents(500, seed=1, config=config)
    problems = {p.question: p.answer for p in generate(500, split="train", seed=1,
                                                        config=config.task)}
    for doc in docs:
        question = doc.split("User: ")[1].split(". Assistant:")[0]
        assert parse(doc.split("Assistant:")[1].removesuffix(EOS)).answer == problems[question]


def test_card_targets_name_what_is_missed():
    profile = {"pass_at_1": 0.3, "reasoning_accuracy": 0.75, "reasoning_rate": 0.1,
               "recheck_rate": 0.25, "mixing_rate": 0.12}
    missed = check_targets(profile)
    assert len(missed) == 2
    assert missed[0].startswith("reasoning_accuracy = 0.750, outside [0.45, 0.7]")
    assert missed[1].startswith("recheck_rate = 0.250")
