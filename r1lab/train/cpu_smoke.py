"""A full-scale recipe on a CPU for a smoke check: two optimizer steps, nothing that needs a GPU.

    r1lab train single_gpu/r1_zero_lora --cpu-smoke --set model=FOLDER --set task.source=FILE
    r1lab sample --recipe single_gpu/rejection_sampling_vllm --cpu-smoke --set model=FOLDER

The recipes under single_gpu/, multi_gpu/ and multi_node/ are written for CUDA GPUs. A smoke
check runs one of them as written (its prompts rendered, its columns read, its LoRA adapters
wired, its rewards and reward models called, its ``final/`` saved) with only what needs a GPU
turned off and the run made as small as a run can be: ``CPU_SMOKE_OVERRIDES``, field by field.

What needs a GPU:

* ``trainer.bf16: false``: fp32 (TRL's GRPOConfig turns bf16 on even when a recipe is silent);
* ``trainer.use_vllm: false``: vLLM needs CUDA; transformers' ``generate`` samples instead;
* ``accelerate: null``: one CPU process, not the ZeRO-3 / FSDP launch of 8-16 GPU processes
  (nor its batch arithmetic);
* ``quantization: null``: r1lab runs bitsandbytes' 4-bit weights on CUDA only (``prepare``
  refuses them on a CPU); the LoRA adapters are kept, in fp32.

The size of the run:

* ``trainer.max_steps: 2``: two optimizer steps (``num_train_epochs`` is then ignored);
* ``trainer.gradient_accumulation_steps: 1``: one micro-batch per step;
* ``trainer.per_device_train_batch_size: 4``: GRPO, two prompts of G completions; SFT, four rows;
* ``trainer.num_generations: 2``: G, the smallest group GRPO can compare within;
* ``trainer.max_completion_length: 16``: GRPO samples sixteen tokens per completion;
* ``trainer.max_length: 256``: SFT rows cut at 256 tokens (the prompt and the start of the
  completion, ``<think>`` included);
* ``trainer.warmup_steps: 0``: both steps move the weights (the SFT recipes' warmup of 10-45
  steps would hold step 1 at learning rate 0);
* ``task.n: 4``: the rows two steps read (for all_scenario, two reasoning and two general).

What it leaves behind:

* ``trainer.save_strategy: "no"``: no checkpoints; the runner saves ``final/`` at the end;
* ``trainer.push_to_hub: false``: a smoke check publishes nothing.

``cpu_smoke_overrides(recipe)`` is what ``--cpu-smoke`` applies: the fields above that the
recipe's stage has (a ``trainer`` field its TRL config lacks, e.g. ``num_generations`` for
SFT, is left out: the config class says, not a list kept here), and ``output_dir`` moved
beside the recipe's own (``runs/single-gpu-r1-zero-lora-cpu-smoke``), so the real run's
folder is never touched. ``--set`` overrides come after it and win. What the smoke check
cannot replace is the model and the data: on a machine without the hub, give local ones
(``--set model=FOLDER``, ``--set task.source=FILE``); tests/test_full_scale_cpu.py runs every
full-scale recipe this way, with a tiny model of each recipe's architecture.

Sampling recipes (``r1lab sample --recipe``) have ``CPU_SMOKE_SAMPLING_OVERRIDES``:
backend transformers instead of vLLM (its engine block dropped), two samples of sixteen
tokens for each of two prompts; ``cpu_smoke_sampling_overrides(recipe)`` moves ``out`` aside
the same way.

>>> CPU_SMOKE_OVERRIDES["trainer.bf16"], CPU_SMOKE_OVERRIDES["accelerate"]
(False, None)
>>> overrides = cpu_smoke_overrides("multi_gpu/cold_start_zero3")
>>> "trainer.num_generations" in overrides, overrides["trainer.max_length"]
(False, 256)
>>> overrides["output_dir"]
'runs/multi-gpu-cold-start-zero3-cpu-smoke'
"""

from __future__ import annotations

import dataclasses
import os

from r1lab.train.recipe import Recipe, read_recipe
from r1lab.train.stage import STAGES, get_stage

CPU_SMOKE_OVERRIDES = {
    "trainer.bf16": False,
    "trainer.use_vllm": False,
    "accelerate": None,
    "quantization": None,
    "trainer.max_steps": 2,
    "trainer.gradient_accumulation_steps": 1,
    "trainer.per_device_train_batch_size": 4,
    "trainer.num_generations": 2,
    "trainer.max_completion_length": 16,
    "trainer.max_length": 256,
    "trainer.warmup_steps": 0,
    "trainer.save_strategy": "no",
    "trainer.push_to_hub": False,
    "task.n": 4,
}
"""Dotted recipe field -> value: a full-scale training recipe, made to run on a CPU in two
optimizer steps (the module's docstring says why, field by field)."""

CPU_SMOKE_SAMPLING_OVERRIDES = {
    "backend": "transformers",
    "vllm": None,
    "task.n": 2,
    "sampling.k": 2,
    "sampling.max_new_tokens": 16,
}
"""Dotted sampling-recipe field -> value: transformers' ``generate`` on a CPU instead of vLLM
(whose engine block goes with it), two samples of sixteen tokens for each of two prompts."""

SUFFIX = "-cpu-smoke"
"""Appended to a recipe's output folder for its smoke check."""


def cpu_smoke_overrides(recipe: str | os.PathLike) -> dict:
    """``CPU_SMOKE_OVERRIDES`` as they apply to a training recipe (a name or a YAML path): the
    ``trainer`` fields its stage's TRL config lacks left out, ``output_dir`` moved aside."""
    _, data = read_recipe(recipe, "train")
    stage = data.get("stage", Recipe.stage)
    if stage not in STAGES:  # load_recipe refuses it, naming the stages
        return dict(CPU_SMOKE_OVERRIDES)
    config_class = get_stage(stage).config_class()
    fields = {f.name for f in dataclasses.fields(config_class) if f.init}
    overrides = {key: value for key, value in CPU_SMOKE_OVERRIDES.items()
                 if not key.startswith("trainer.") or key.partition(".")[2] in fields}
    overrides["output_dir"] = str(data.get("output_dir", Recipe.output_dir)) + SUFFIX
    return overrides


def cpu_smoke_sampling_overrides(recipe: str | os.PathLike) -> dict:
    """``CPU_SMOKE_SAMPLING_OVERRIDES`` for a sampling recipe, ``out`` moved aside."""
    from r1lab.sampling_recipe import SamplingRecipe

    _, data = read_recipe(recipe, "sample")
    return {**CPU_SMOKE_SAMPLING_OVERRIDES,
            "out": str(data.get("out", SamplingRecipe.out)) + SUFFIX}
