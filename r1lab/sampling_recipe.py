"""Sampling recipes: rejection sampling (R1 §2.3.3) at any scale, from one YAML file.

Rejection sampling is not a training stage, so it has its own small recipe, run by
``r1lab sample --recipe NAME_OR_FILE [--set key=value] [--dry-run]``: the model to sample (the
stage-2 checkpoint), the prompts, the ``r1lab.sampling.SamplingConfig`` fields under
``sampling:`` (the block that marks a sampling recipe: ``r1lab train`` lists and runs the
others), the backend (``transformers`` or ``vllm``), ``vllm.LLM``'s arguments and the output
folder. It is read by the training recipes' code (``r1lab.train.recipe``), as strictly: an
unknown field with "did you mean", a wrong type, a key given twice, ``--set`` overrides; then
every value is checked before anything loads, each refusal one line naming the field.

>>> recipe = load_sampling_recipe("single_gpu/rejection_sampling_vllm",
...                               ["model=data/models/tiny-reasoning-rl", "sampling.k=4"])
>>> recipe.backend, recipe.sampling.k, recipe.vllm.tensor_parallel_size
('vllm', 4, 1)
>>> load_sampling_recipe("single_gpu/rejection_sampling_vllm", ["sampling.top_k=20"])
Traceback (most recent call last):
...
r1lab.train.recipe.RecipeError: recipe field `sampling.top_k` is not a known field; did you mean `top_p`?
"""

from __future__ import annotations

import dataclasses
import os
import re
import typing
from dataclasses import dataclass, field

from r1lab.sampling import (BACKENDS, SamplingConfig, prompt_seed, vllm_sampling_kwargs)
from r1lab.train.recipe import (Override, RecipeError, apply_override, check_model, from_dict,
                                one_of, read_recipe)

SPLITS = ("train", "test")
DTYPES = ("auto", "bfloat16", "float16", "float32", "half", "float")  # vLLM's --dtype choices
# Room a prompt needs beside the completion in vLLM's context window: the R1 template and a
# MATH problem, a few hundred tokens (the GRPO recipes keep the same 512).
PROMPT_ROOM = 512


@dataclass
class SamplingTask:
    """The prompts, named as ``r1lab sample --task`` names them (the command checks the name:
    arithmetic, arithmetic-zh, arithmetic-mix, gsm8k:SOURCE or math:SOURCE)."""

    name: str = "arithmetic-mix"
    """The tiny world's arithmetic (``-zh``: in Chinese, ``-mix``: half), or GSM8K / MATH from
    SOURCE, a local .jsonl/.json/.parquet file or a hub dataset id."""
    n: int = 1000
    """Number of prompts (at most, for gsm8k/math)."""
    split: str = "train"
    """``train`` (R1 samples training prompts, not its benchmarks) or ``test``."""


@dataclass
class VllmEngine:
    """Keyword arguments of ``vllm.LLM`` (its engine arguments, under vLLM's names); a field
    left out keeps vLLM's own default."""

    tensor_parallel_size: int | None = None
    """GPUs one copy of the model is split over (vLLM: 1); it must divide the model's
    attention heads (28 for Qwen2.5-Math-7B: 1, 2, 4 or 7)."""
    gpu_memory_utilization: float | None = None
    """Share of each GPU vLLM takes for weights, activations and KV cache (vLLM: 0.9)."""
    dtype: str | None = None
    """Weights and activations: auto (the model's torch_dtype), bfloat16, float16, float32."""
    max_model_len: int | None = None
    """Context window, prompt and completion together (vLLM: the model's)."""
    seed: int | None = None
    """The engine's seed (every request carries its own seed as well)."""
    enable_prefix_caching: bool | None = None
    """Compute a prompt's KV cache once for its k samples (and the template's shared prefix
    once for all prompts)."""
    max_num_seqs: int | None = None
    """Sequences decoded together at most (more: throughput, if the KV cache has room)."""
    enforce_eager: bool | None = None
    """Run without CUDA graphs: less memory, slower decoding."""

    def kwargs(self) -> dict:
        """The fields that are set, as ``vllm.LLM`` keyword arguments."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass
class SamplingRecipe:
    """What to sample, from which model, with which backend, into which folder."""

    model: str
    """The model to sample: the stage-2 checkpoint (R1 §2.3.3 samples the reasoning-RL
    checkpoint), a local folder written by ``save_pretrained`` or a hub id."""
    task: SamplingTask = field(default_factory=SamplingTask)
    """The prompts."""
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    """``r1lab.sampling.SamplingConfig`` fields: k, temperature, top_p, max_new_tokens, the
    filters' knobs, chunk, seed (which also draws the arithmetic prompts), non_reasoning."""
    backend: str = "transformers"
    """``transformers`` (``r1lab.eval.evaluate``: any model, CPU or GPU) or ``vllm``
    (``vllm.LLM``: CUDA GPUs; pip install vllm)."""
    vllm: VllmEngine = field(default_factory=VllmEngine)
    """backend vllm: the engine's arguments."""
    out: str = "runs/rejection-sampling"
    """Output folder: samples.jsonl, data.jsonl (the SFT rows), manifest.json; running the
    recipe again resumes it."""
    name: str = ""
    """Where the recipe came from (set by ``load_sampling_recipe``)."""

    def llm_kwargs(self, model: str | None = None) -> dict:
        """``vllm.LLM``'s keyword arguments; ``model`` replaces the recipe's (a local folder
        resolved to its path)."""
        return {"model": model or self.model, **self.vllm.kwargs()}

    def sampling_params_kwargs(self, index: int = 0) -> dict:
        """``vllm.SamplingParams``' keyword arguments for prompt ``index``."""
        return vllm_sampling_kwargs(self.sampling, prompt_seed(self.sampling.seed, index))

    def summary(self, model: str | None = None) -> str:
        """The resolved objects, one per line: what a run would build, nothing loaded."""
        task = self.task
        lines = [f"recipe      {self.name}"] if self.name else []
        lines += [f"model       {model or self.model}",
                  f"task        {task.name}, {task.n} prompts (at most), {task.split} split",
                  f"backend     {self.backend}", f"sampling    {self.sampling!r}"]
        if self.backend == "vllm":
            lines += [f"vllm        vllm.LLM({_call(self.llm_kwargs(model))})",
                      f"            vllm.SamplingParams({_call(self.sampling_params_kwargs())})"
                      "  (prompt 0's; every prompt its own seed, from sampling.seed and its "
                      "index)"]
        else:
            c = self.sampling
            lines.append(f"generate    r1lab.eval.evaluate(k={c.k}, temperature={c.temperature}, "
                         f"top_p={c.top_p}, max_new_tokens={c.max_new_tokens}, "
                         f"batch_size={c.batch_size}), one seed per chunk of {c.chunk} prompts")
        lines.append(f"out         {self.out}")
        return "\n".join(lines)


def _call(kwargs: dict) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in kwargs.items())


def load_sampling_recipe(name: str | os.PathLike,
                         overrides: typing.Sequence[Override] = ()) -> SamplingRecipe:
    """Read, override (``key.sub=value``, value in YAML syntax, or ``{"key.sub": value}``
    mappings, as ``r1lab.train.recipe.Override``) and check a sampling recipe;
    ``RecipeError`` names the field and the fix."""
    shown, data = read_recipe(name, "sample")
    for item in overrides:
        apply_override(data, item)
    try:
        recipe = from_dict(data, SamplingRecipe)
    except RecipeError:
        raise
    except ValueError as error:  # SamplingConfig's own checks, in its words
        raise RecipeError(re.sub(r"SamplingConfig\.(\w+)", r"recipe field `sampling.\1`",
                                 str(error))) from None
    recipe.name = shown
    check_sampling_recipe(recipe)
    return recipe


def check_sampling_recipe(recipe: SamplingRecipe) -> None:
    """``RecipeError`` for anything that would fail later, before any model loads."""
    check_model(recipe.model)
    one_of("backend", recipe.backend, BACKENDS)
    task = recipe.task
    if not task.name.strip():
        raise RecipeError("recipe field `task.name` is empty: name the prompts, e.g. "
                          "math:DigitalLearningGmbH/MATH-lighteval")
    if task.n < 1:
        raise RecipeError(f"recipe field `task.n` must be >= 1; got {task.n}")
    one_of("task.split", task.split, SPLITS)
    if not recipe.out.strip():
        raise RecipeError("recipe field `out` is empty: name the output folder, e.g. "
                          "runs/rejection-sampling")
    engine = recipe.vllm.kwargs()
    if recipe.backend != "vllm":
        if engine:
            raise RecipeError(f"recipe field `vllm` ({', '.join(engine)}) is for backend vllm, "
                              f"and this recipe's backend is {recipe.backend}: set backend: "
                              "vllm, or drop the block (--set vllm=null)")
        return
    for key in ("tensor_parallel_size", "max_model_len", "max_num_seqs"):
        if key in engine and engine[key] < 1:
            raise RecipeError(f"recipe field `vllm.{key}` must be >= 1; got {engine[key]}")
    share = engine.get("gpu_memory_utilization", 0.9)
    if not 0 < share <= 1:
        raise RecipeError(f"recipe field `vllm.gpu_memory_utilization` is a share of each GPU, "
                          f"in (0, 1]; got {share}")
    if "dtype" in engine:
        one_of("vllm.dtype", engine["dtype"], DTYPES)
    if engine.get("seed", 0) < 0:
        raise RecipeError(f"recipe field `vllm.seed` must be >= 0; got {engine['seed']}")
    needed = recipe.sampling.max_new_tokens + PROMPT_ROOM
    if engine.get("max_model_len", needed) < needed:
        raise RecipeError(f"recipe field `vllm.max_model_len` ({engine['max_model_len']}) "
                          f"leaves no room for a prompt beside sampling.max_new_tokens "
                          f"({recipe.sampling.max_new_tokens}): make it at least {needed}, or "
                          "lower sampling.max_new_tokens")
