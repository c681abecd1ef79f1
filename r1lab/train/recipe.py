"""Recipes: one YAML schema for every scale, from the tiny world on a laptop to many nodes.

A recipe names the model, the prompts, the reward weights and TRL's trainer arguments;
only the recipe changes between scales (DESIGN "Recipes"). ``load_recipe`` reads one,
applies ``--set key=value`` overrides and checks every field before anything slow runs:
an unknown field, a wrong type, a missing model folder or a group size that does not
divide the batch fails at once with a message naming the field and the fix.

>>> recipe = load_recipe("tiny/r1_zero", ["trainer.learning_rate=5e-5"])
>>> recipe.model, recipe.trainer["learning_rate"], recipe.rewards
('data/models/tiny-base', 5e-05, {'accuracy': 1.0, 'format': 0.5})
>>> load_recipe("tiny/r1_zero", ["trainer.num_generation=8"])
Traceback (most recent call last):
...
r1lab.train.recipe.RecipeError: recipe field `trainer.num_generation` is not a GRPOConfig argument; did you mean `num_generations`?
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from r1lab.sources import REPO_ROOT, local_path, looks_like_path

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
STAGES = ("grpo", "sft")
LOSS_IMPLS = ("torch", "triton")
# What the Triton path covers; anything else keeps TRL's own log-prob code (loss_impl: torch).
TRITON_LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")
TASKS = ("arithmetic", "gsm8k", "math", "prompt_completion")
# What each stage trains on: RL needs questions with gold answers; SFT needs finished texts.
STAGE_TASKS = {"grpo": ("arithmetic", "gsm8k", "math"), "sft": ("prompt_completion",)}


class RecipeError(ValueError):
    """A recipe that cannot run; the message names the field and what to write instead."""


@dataclass
class TaskSpec:
    """The training prompts."""

    name: str = "arithmetic"
    """``arithmetic`` (the tiny world, generated), ``gsm8k`` or ``math`` (need ``source``);
    for SFT, ``prompt_completion``: rows with ``prompt`` and ``completion`` (need ``source``)."""
    source: str | None = None
    """gsm8k/math/prompt_completion: a local .jsonl/.json/.parquet file or a hub dataset id."""
    n: int = 4000
    """Number of training prompts (at most, for gsm8k/math)."""
    seed: int = 0
    """Seeds the arithmetic generator (its train split is disjoint from the test split)."""
    arithmetic: dict = field(default_factory=dict)
    """Overrides of ``r1lab.tasks.ArithmeticConfig`` (operands, zh_fraction, …)."""


@dataclass
class Recipe:
    """What to train, on what, with which rewards and trainer arguments."""

    model: str
    """A local folder written by ``save_pretrained`` or a hub id (``Qwen/Qwen2.5-Math-1.5B``)."""
    task: TaskSpec = field(default_factory=TaskSpec)
    """The prompts, rendered with the R1-Zero template (R1 Table 1)."""
    rewards: dict = field(default_factory=lambda: {"accuracy": 1.0, "format": 0.1})
    """Reward name -> weight (``r1lab.rewards.REWARDS``); rule-based only (R1 §2.2.2)."""
    trainer: dict = field(default_factory=dict)
    """Keyword arguments of ``trl.GRPOConfig`` (the paper's knobs are named in the recipes)."""
    stage: str = "grpo"
    """The trainer to build: ``grpo`` (R1-Zero and the reasoning RL stages, TRL's
    GRPOTrainer) or ``sft`` (cold start and the SFT stages, TRL's SFTTrainer; ``trainer``
    then holds ``trl.SFTConfig`` arguments and ``rewards`` is not used)."""
    peft: dict | None = None
    """Keyword arguments of ``peft.LoraConfig``; None trains every weight."""
    quantization: dict | None = None
    """Keyword arguments of ``transformers.BitsAndBytesConfig`` (QLoRA; CUDA only; needs peft)."""
    accelerate: str | None = None
    """The ``accelerate launch --config_file`` this recipe is meant for (checked by dry runs)."""
    loss_impl: str = "torch"
    """Per-token log-probs for the loss: ``torch`` (TRL's own path) or ``triton`` (the fused
    kernel of ``r1lab.kernels``: one pass over the logits, gradient written in place)."""
    output_dir: str = "runs/r1-zero"
    """Run folder: checkpoints, metrics.jsonl/csv, the resolved recipe and the final model."""
    name: str = ""
    """Where the recipe came from (set by ``load_recipe``)."""

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("name")
        return data


# ---------------------------------------------------------------- loading


def recipe_path(name: str | os.PathLike) -> Path:
    """The YAML file ``name`` refers to: a path, or a name under ``r1lab/recipes``."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    for candidate in (RECIPES_DIR / name, RECIPES_DIR / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    known = ", ".join(available_recipes())
    raise RecipeError(f"recipe {str(name)!r} not found: give a YAML file or one of {known}")


def available_recipes() -> list[str]:
    """Names of the shipped recipes (``tiny/r1_zero``, ``single_gpu/…``)."""
    return sorted(str(p.relative_to(RECIPES_DIR).with_suffix("")) for p in
                  RECIPES_DIR.glob("*/*.yaml") if p.parent.name != "accelerate")


def load_recipe(name: str | os.PathLike, overrides: typing.Sequence[str] = ()) -> Recipe:
    """Read, override (``key.sub=value``, value in YAML syntax) and check a recipe."""
    path = recipe_path(name)
    data = _yaml_mapping(path, f"recipe {path}", "a mapping of fields (model:, task:, …)")
    for item in overrides:
        apply_override(data, item)
    recipe = from_dict(data)
    recipe.name = _display_name(path)
    check(recipe)
    return recipe


def _display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(RECIPES_DIR).with_suffix(""))
    except ValueError:
        return str(path)


def apply_override(data: dict, item: str) -> None:
    """Set ``data[a][b] = value`` for ``"a.b=value"`` (value parsed as YAML)."""
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise RecipeError(f"override {item!r} must look like key=value, e.g. "
                          "trainer.learning_rate=1e-4")
    value = yaml.safe_load(text) if text else None
    *parents, last = key.split(".")
    node = data
    for i, part in enumerate(parents):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise RecipeError(f"override {item!r}: `{'.'.join(parents[:i + 1])}` is not a "
                              "mapping, so it has no sub-fields")
        node = child
    node[last] = value


def from_dict(data: dict) -> Recipe:
    """A ``Recipe`` from plain data, with every field's name and type checked."""
    return _build(Recipe, data, "")


def _build(cls, data: dict, prefix: str):
    if not isinstance(data, dict):
        raise RecipeError(f"recipe field `{prefix.rstrip('.') or 'recipe'}` must be a mapping; "
                          f"got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and (cls, f.name) != (
        Recipe, "name")}
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        if key not in fields:
            raise RecipeError(_unknown(f"{prefix}{key}", key, fields))
        if dataclasses.is_dataclass(hints[key]):
            values[key] = _build(hints[key], value or {}, f"{prefix}{key}.")
        else:
            values[key] = _checked(f"{prefix}{key}", value, hints[key])
    missing = [name for name, f in fields.items() if name not in values
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise RecipeError(f"recipe field `{prefix}{missing[0]}` is missing: add it, e.g. "
                          "model: data/models/tiny-base")
    return cls(**values)


def _unknown(where: str, key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"did you mean `{close[0]}`?" if close else f"known fields: {', '.join(sorted(known))}"
    return f"recipe field `{where}` is not a known field; {hint}"


def _allowed_types(hint) -> tuple | None:
    """The runtime types a type hint admits (None: anything)."""
    if hint is typing.Any:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        allowed = []
        for arg in typing.get_args(hint):
            sub = _allowed_types(arg)
            if sub is None:
                return None
            allowed.extend(sub)
        return tuple(allowed)
    if origin is typing.Literal:
        return tuple({type(a) for a in typing.get_args(hint)})
    if origin is not None:
        return (origin,)
    if hint is type(None):
        return (type(None),)
    if hint is float:
        return (float, int)
    if isinstance(hint, type):
        if issubclass(hint, str):  # str-valued enums (IntervalStrategy…) take their names
            return (str,)
        return (hint,)
    return None


_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _checked(where: str, value, hint):
    allowed = _allowed_types(hint)
    if allowed is None:
        return value
    if float in allowed and str not in allowed and isinstance(value, str) and _FLOAT.match(value):
        # PyYAML reads YAML 1.1, where `3e-6` (no dot) is a string, not a number.
        return float(value)
    if isinstance(value, bool) and bool not in allowed:
        ok = False
    else:
        ok = isinstance(value, allowed)
    if not ok:
        names = " or ".join(sorted({"null" if t is type(None) else t.__name__ for t in allowed}))
        raise RecipeError(f"recipe field `{where}` must be {names}; got {value!r} "
                          f"({type(value).__name__})")
    if float in allowed and int in allowed and isinstance(value, int) and not isinstance(
            value, bool) and hint is float:
        return float(value)
    return value


# ---------------------------------------------------------------- checking


def world_size() -> int:
    """Processes this run will have: accelerate/torchrun set WORLD_SIZE; 1 otherwise."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def trainer_config_class(stage: str):
    """``trl.GRPOConfig`` or ``trl.SFTConfig``: the class a stage's ``trainer`` fields fill."""
    import trl

    return trl.SFTConfig if stage == "sft" else trl.GRPOConfig


def trainer_fields(stage: str = "grpo") -> dict:
    """Name -> type hint of every argument of the stage's TRL config class."""
    config_class = trainer_config_class(stage)
    hints = typing.get_type_hints(config_class)
    return {f.name: hints.get(f.name, typing.Any) for f in dataclasses.fields(config_class)
            if f.init}


def check(recipe: Recipe) -> None:
    """Raise ``RecipeError`` for anything that would fail later, before any slow work."""
    from r1lab.rewards import REWARDS

    _one_of("stage", recipe.stage, STAGES)
    _check_model(recipe.model)
    _one_of("task.name", recipe.task.name, TASKS)
    if recipe.task.name not in STAGE_TASKS[recipe.stage]:
        raise RecipeError(f"recipe field `task.name` {recipe.task.name!r} does not fit stage "
                          f"{recipe.stage!r}: use one of {', '.join(STAGE_TASKS[recipe.stage])}")
    _check_task(recipe.task)
    _check_loss_impl(recipe)
    if not recipe.rewards:
        raise RecipeError("recipe field `rewards` is empty: give at least one, e.g. "
                          "rewards: {accuracy: 1.0, format: 0.1}")
    for name, weight in recipe.rewards.items():
        if name not in REWARDS:
            raise RecipeError(_unknown(f"rewards.{name}", name, REWARDS).replace(
                "is not a known field", "is not a known reward"))
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise RecipeError(f"recipe field `rewards.{name}` must be a number (its weight); "
                              f"got {weight!r}")
    known = trainer_fields(recipe.stage)
    config_name = trainer_config_class(recipe.stage).__name__
    for key, value in recipe.trainer.items():
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"see trl.{config_name}"
            raise RecipeError(f"recipe field `trainer.{key}` is not a {config_name} argument; "
                              f"{hint}")
        if key in ("reward_weights", "output_dir"):
            raise RecipeError(f"recipe field `trainer.{key}` is set by r1lab: use the recipe's "
                              f"`{'rewards' if key == 'reward_weights' else 'output_dir'}` field")
        recipe.trainer[key] = _checked(f"trainer.{key}", value, known[key])
    launch = _accelerate_file(recipe.accelerate)
    if recipe.stage == "grpo":
        _check_group_size(recipe.trainer, launch.get("num_processes"))
        _check_trl_combinations(recipe, launch)
    _check_kwargs("peft", recipe.peft, _lora_fields)
    _check_kwargs("quantization", recipe.quantization, _bnb_fields)
    if recipe.quantization and not recipe.peft:
        raise RecipeError("recipe field `quantization` needs `peft` too: a 4-bit model trains "
                          "through LoRA adapters (QLoRA); add peft: {r: 16, lora_alpha: 32}")


def _accelerate_file(name: str | None) -> dict:
    """The raw accelerate config a recipe names ({} when none)."""
    if name is None:
        return {}
    path = local_path(name)
    if path is None:
        raise RecipeError(f"recipe field `accelerate`: file {name} not found; give a path such "
                          "as r1lab/recipes/accelerate/zero3.yaml")
    return _yaml_mapping(path, f"recipe field `accelerate`: {path}", "an accelerate config")


def _yaml_mapping(path: Path, what: str, expected: str) -> dict:
    """The YAML mapping in ``path``; ``RecipeError`` naming ``what`` if it is not one."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RecipeError(f"{what} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{what} must be {expected}")
    return data


def _check_trl_combinations(recipe: Recipe, launch: dict) -> None:
    """Settings TRL or transformers only refuse once the GPUs are allocated."""
    trainer = recipe.trainer
    if trainer.get("sync_ref_model"):
        if recipe.peft is not None:
            raise RecipeError("recipe field `trainer.sync_ref_model` cannot be used with `peft`: "
                              "with LoRA the reference is the base model under the adapters, so "
                              "there is no separate copy to refresh; remove one of the two")
        if not trainer.get("beta", 0.0):
            raise RecipeError("recipe field `trainer.sync_ref_model` needs `trainer.beta` > 0: "
                              "with beta 0 there is no reference model to refresh")
    vllm_length = trainer.get("vllm_max_model_length")
    completion = trainer.get("max_completion_length", 256)
    if trainer.get("use_vllm") and vllm_length is not None and vllm_length <= completion:
        raise RecipeError(f"recipe field `trainer.vllm_max_model_length` ({vllm_length}) must "
                          f"exceed max_completion_length ({completion}) by the prompt length")
    fsdp = launch.get("fsdp_config") or {}
    if fsdp.get("fsdp_activation_checkpointing") and trainer.get(
            "activation_checkpointing", trainer.get("gradient_checkpointing", True)):
        raise RecipeError(f"recipe field `trainer.activation_checkpointing` must be false: "
                          f"{recipe.accelerate} already checkpoints activations inside FSDP and "
                          "transformers refuses both (TRL turns the trainer's on by default)")


def _one_of(where: str, value, choices) -> None:
    if value not in choices:
        raise RecipeError(f"recipe field `{where}` must be one of {', '.join(choices)}; "
                          f"got {value!r}")


def _check_loss_impl(recipe: Recipe) -> None:
    _one_of("loss_impl", recipe.loss_impl, LOSS_IMPLS)
    if recipe.loss_impl != "triton":
        return
    if recipe.stage != "grpo":
        raise RecipeError("recipe field `loss_impl: triton` is the fused GRPO kernel; an "
                          f"{recipe.stage} recipe uses TRL's loss: remove `loss_impl`")
    loss_type = recipe.trainer.get("loss_type", "dapo")
    if loss_type not in TRITON_LOSS_TYPES:
        raise RecipeError(f"recipe field `trainer.loss_type` {loss_type!r} is not covered by "
                          f"loss_impl: triton (covered: {', '.join(TRITON_LOSS_TYPES)}); use "
                          "loss_impl: torch")
    if recipe.trainer.get("top_entropy_quantile", 1.0) < 1.0:
        raise RecipeError("recipe field `trainer.top_entropy_quantile` < 1 needs TRL's entropy "
                          "masking: use loss_impl: torch")


def _check_model(model: str) -> None:
    path = local_path(model)
    if path is not None:
        if not (path / "config.json").is_file():
            raise RecipeError(f"recipe field `model`: folder {model} has no config.json; give a "
                              "folder written by save_pretrained, or a hub id")
    elif looks_like_path(model):
        raise RecipeError(f"recipe field `model`: folder {model} not found (looked in "
                          f"{Path.cwd()} and {REPO_ROOT}); fix the path or give a hub id "
                          "such as Qwen/Qwen2.5-Math-1.5B")


def _check_task(task: TaskSpec) -> None:
    _one_of("task.name", task.name, TASKS)
    if task.n < 1:
        raise RecipeError(f"recipe field `task.n` must be >= 1; got {task.n}")
    if task.name == "arithmetic":
        if task.source is not None:
            raise RecipeError("recipe field `task.source` is for gsm8k/math; the arithmetic "
                              "task is generated (remove `source`)")
        from r1lab.tasks import ArithmeticConfig

        names = {f.name for f in dataclasses.fields(ArithmeticConfig)}
        for key in task.arithmetic:
            if key not in names:
                raise RecipeError(_unknown(f"task.arithmetic.{key}", key, names))
        try:
            ArithmeticConfig(**_tuples(task.arithmetic))
        except (TypeError, ValueError) as error:
            raise RecipeError(f"recipe field `task.arithmetic`: {error}") from None
        return
    if task.arithmetic:
        raise RecipeError(f"recipe field `task.arithmetic` applies to the arithmetic task only; "
                          f"remove it for {task.name}")
    if not task.source:
        raise RecipeError(f"recipe field `task.source` is missing: {task.name} needs a local "
                          ".jsonl/.json/.parquet file or a hub dataset id (e.g. openai/gsm8k)")
    if local_path(task.source) is None and (looks_like_path(task.source) or Path(
            task.source).suffix in (".jsonl", ".json", ".parquet")):
        raise RecipeError(f"recipe field `task.source`: file {task.source} not found; fix the "
                          "path or give a hub dataset id")


def _tuples(overrides: dict) -> dict:
    """YAML has no tuples; ArithmeticConfig takes tuples for its ranges."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}


def _check_group_size(trainer: dict, launch_processes: int | None = None) -> None:
    """TRL samples G completions per prompt: the generation batch must hold whole groups.

    The process count is the running job's (WORLD_SIZE) or, before launch (a dry run), the
    one the recipe's accelerate file will start.
    """
    group = trainer.get("num_generations", 8)
    per_device = trainer.get("per_device_train_batch_size", 8)
    steps = trainer.get("steps_per_generation") or trainer.get("gradient_accumulation_steps", 1)
    processes = world_size() if "WORLD_SIZE" in os.environ else (launch_processes or 1)
    batch = trainer.get("generation_batch_size") or per_device * processes * steps
    if group is not None and group < 2:
        raise RecipeError(f"recipe field `trainer.num_generations` must be >= 2 (GRPO compares "
                          f"completions within a group); got {group}")
    if group and batch % group:
        raise RecipeError(
            f"recipe field `trainer.num_generations` ({group}) must divide the generation batch "
            f"({batch} = per_device_train_batch_size {per_device} x {processes} processes x "
            f"{steps} steps_per_generation); set per_device_train_batch_size to a multiple of "
            f"{group} or pick a group size that divides {batch}")


def _lora_fields() -> set:
    from peft import LoraConfig

    return {f.name for f in dataclasses.fields(LoraConfig) if f.init}


def _bnb_fields() -> set:
    import inspect

    from transformers import BitsAndBytesConfig

    return set(inspect.signature(BitsAndBytesConfig.__init__).parameters) - {"self", "kwargs"}


def _check_kwargs(where: str, kwargs: dict | None, known_fields) -> None:
    if kwargs is None:
        return
    known = known_fields()
    for key in kwargs:
        if key not in known:
            raise RecipeError(_unknown(f"{where}.{key}", key, known))
