"""r1lab.sources: where a model lives, whether its folder is whole, and the one loader.

A LoRA or QLoRA run saves only its adapter as ``final/`` (``adapter_config.json`` and
``adapter_model.safetensors``, no ``config.json``): the lab's commands must read it.
"""

import json

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from r1lab.cli import main
from r1lab.sources import (REPO_ROOT, adapter_base, load_model_and_tokenizer,
                           model_folder_problem)
from r1lab.train import load_recipe
from r1lab.train.recipe import parse_recipe

BASE = REPO_ROOT / "data/models/tiny-base"
STAGE_2 = REPO_ROOT / "data/models/tiny-reasoning-rl"  # answers well: sampling keeps rows


def save_adapter(folder, peft_options: dict, with_tokenizer: bool = True, base=BASE,
                 std: float = 0.2):
    """A LoRA adapter on a tiny model, its B matrices random (a fresh adapter is the
    identity), saved as PEFT and a LoRA run save it."""
    model = AutoModelForCausalLM.from_pretrained(base)
    peft_model = get_peft_model(model, LoraConfig(**peft_options))
    torch.manual_seed(0)
    for name, parameter in peft_model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=std)
    peft_model.save_pretrained(folder)
    if with_tokenizer:
        AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    return peft_model


def recipe_peft(name: str) -> dict:
    return dict(parse_recipe(name).peft)  # the options alone: no data or model is needed


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lora") / "final"
    # a small change: the adapted model still answers, so rejection sampling keeps rows
    peft_model = save_adapter(folder, recipe_peft("single_gpu/r1_zero_lora"), base=STAGE_2,
                              std=0.002)
    return folder, peft_model


def test_an_adapter_folder_is_whole_and_names_its_base(adapter, tmp_path):
    folder, _ = adapter
    assert not (folder / "config.json").exists()  # what used to be refused
    assert model_folder_problem(folder) is None
    assert adapter_base(folder) == str(STAGE_2)
    assert adapter_base(BASE) is None  # a full model folder is not an adapter


def test_a_broken_adapter_folder_says_what_is_wrong(adapter, tmp_path):
    folder, _ = adapter
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    (tmp_path / "adapter_config.json").write_text(json.dumps(
        {**config, "base_model_name_or_path": "runs/nowhere/final"}))
    assert "base model runs/nowhere/final" in model_folder_problem(tmp_path)
    (tmp_path / "adapter_config.json").write_text("{not json")
    assert "corrupt adapter_config.json" in model_folder_problem(tmp_path)
    (tmp_path / "adapter_config.json").write_text(json.dumps(config))
    (tmp_path / "adapter_model.safetensors").unlink()
    assert "no adapter weights" in model_folder_problem(tmp_path)


@pytest.mark.parametrize("recipe", ["single_gpu/r1_zero_lora", "single_gpu/r1_zero_qlora",
                                    "single_gpu/cold_start_qlora"])
def test_the_loader_merges_lora_and_qlora_adapters_into_their_base(recipe, tmp_path):
    """QLoRA's adapter is a LoRA adapter trained on a 4-bit base; read here (no GPU) it is
    merged into the base in full precision."""
    peft_model = save_adapter(tmp_path, recipe_peft(recipe), with_tokenizer=False)
    model, tokenizer = load_model_and_tokenizer(tmp_path)
    assert not hasattr(model, "peft_config")  # merged: a plain model samples at full speed
    ids = tokenizer("What is 2+3*4?", return_tensors="pt")  # the base's tokenizer
    with torch.no_grad():
        expected = peft_model(**ids).logits  # [1, T, V]
        merged = model(**ids).logits  # [1, T, V]
        base = AutoModelForCausalLM.from_pretrained(BASE)(**ids).logits  # [1, T, V]
    torch.testing.assert_close(merged, expected, atol=1e-4, rtol=1e-4)
    assert (merged - base).abs().max() > 1e-2  # the adapter changed the model


def test_r1lab_eval_and_sample_read_a_lora_runs_final_folder(adapter, tmp_path, capsys):
    folder, _ = adapter
    report = tmp_path / "eval.json"
    assert main(["eval", str(folder), "--n", "2", "--k", "2", "--max-new-tokens", "16",
                 "--no-progress", "--json", str(report)]) == 0
    assert json.loads(report.read_text())["n_problems"] == 2
    out = tmp_path / "rs"
    assert main(["sample", str(folder), "--out", str(out), "--n", "2", "--k", "2",
                 "--no-progress"]) == 0
    assert "4 samples of 2 prompts" in capsys.readouterr().out
    assert (out / "manifest.json").is_file()


@pytest.mark.slow
def test_a_trained_lora_runs_final_folder_is_evaluated(tmp_path, capsys):
    """Two real steps of tiny R1-Zero with the LoRA options of single_gpu/r1_zero_lora: the
    run's final/ is the adapter alone, and r1lab eval reads it."""
    from r1lab.train import run

    recipe = load_recipe("tiny/r1_zero", [
        {"peft": recipe_peft("single_gpu/r1_zero_lora"), "output_dir": str(tmp_path / "run")},
        "trainer.max_steps=2", "trainer.per_device_train_batch_size=8",
        "trainer.num_generations=4", "trainer.max_completion_length=16", "trainer.save_steps=2"])
    final = run(recipe, progress=False).final_dir
    assert (final / "adapter_config.json").is_file() and not (final / "config.json").exists()
    assert model_folder_problem(final) is None
    assert main(["eval", str(final), "--n", "2", "--k", "2", "--max-new-tokens", "16",
                 "--no-progress"]) == 0
    assert "2 problems x 2 samples" in capsys.readouterr().out
