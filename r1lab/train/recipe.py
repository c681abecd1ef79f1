"""Recipes: one YAML schema for every scale, from the tiny world on a laptop to many nodes.

A recipe names the model, the prompts, the reward weights and TRL's trainer arguments;
only the recipe changes between scales (DESIGN "Recipes"). ``parse_recipe`` reads one,
applies ``--set key=value`` overrides and checks every field's name and type;
``check_fields`` checks what the fields say on their own (a missing model folder, a task
without its source…). What needs the recipe's stage (its TRL config, a group size that does
not divide the batch) is checked in ``r1lab.train.recipe_checks``, whose ``load_recipe``
does all of it before anything slow runs; every failure names the field and the fix. This
module knows no stage, so the stages' modules build on it.

>>> recipe = parse_recipe("tiny/r1_zero", ["task.n=8"])
>>> recipe.model, recipe.task.n, recipe.rewards
('data/models/tiny-base', 8, {'accuracy': 1.0, 'format': 0.5})
>>> parse_recipe("tiny/r1_zero", ["task.nn=8"])
Traceback (most recent call last):
...
r1lab.train.recipe.RecipeError: recipe field `task.nn` is not a known field; did you mean `n`?
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from r1lab.sources import data_location, local_path, model_location

# TRL 1.16 and the Trainer themselves call transformers 5's deprecated gradient-checkpointing
# names (at config time and at every save); nothing a user can change, so not shown.
TRANSFORMERS_RENAMES = ".*gradient_checkpointing.* is deprecated"

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
TASKS = ("arithmetic", "gsm8k", "math", "prompt_completion", "preference_pairs", "all_scenario",
         "general")
# Tasks the tiny world generates (no `source`); `arithmetic` overrides apply to their
# reasoning prompts.
GENERATED_TASKS = ("arithmetic", "all_scenario", "general")
# A recipe with this top-level block is a sampling recipe (``r1lab sample --recipe``,
# ``r1lab.sampling_recipe``), not a training one: rejection sampling is not a training stage.
SAMPLING_BLOCK = "sampling"
RECIPE_KINDS = ("train", "sample")
# A recipe's YAML may expand (through anchors and aliases) to this many values at most: a
# few lines of aliases can otherwise stand for gigabytes.
MAX_RECIPE_VALUES = 100_000
# Trainer fields that trade memory for time and change no number of a run (a forward
# recomputed in the backward is the same forward): a benchmark's recipe stamp
# (``recipe_sha256``) does not count them, and a run may resume with them changed.
# tests/test_train.py checks tiny/r1_zero's steps are bit-identical either way.
SAME_NUMBERS = ("trainer.activation_checkpointing", "trainer.gradient_checkpointing")


class RecipeError(ValueError):
    """A recipe that cannot run; the message names the field and what to write instead."""


@dataclass
class TaskSpec:
    """The training prompts."""

    name: str = "arithmetic"
    """``arithmetic`` (the tiny world, generated), ``gsm8k`` or ``math`` (need ``source``);
    for SFT, ``prompt_completion``: rows with ``prompt`` and ``completion`` (need ``source``);
    for a reward model, ``preference_pairs``: rows with ``chosen`` and ``rejected`` (and
    ``prompt``; need ``source``); for all-scenario RL (R1 §2.3.4), ``all_scenario`` (the tiny
    world's reasoning prompts and general prompts, half each, generated) or ``general``
    (general prompts only, ``r1lab.tasks.general``)."""
    source: str | None = None
    """gsm8k/math/prompt_completion: a local .jsonl/.json/.parquet file or a hub dataset id."""
    n: int = 4000
    """Number of training prompts (at most, for gsm8k/math)."""
    seed: int = 0
    """Seeds the arithmetic generator (its train split is disjoint from the test split)."""
    arithmetic: dict = field(default_factory=dict)
    """Overrides of ``r1lab.tasks.ArithmeticConfig`` (operands, zh_fraction, …)."""
    repeat: int = 1
    """GRPO on ``arithmetic``/``gsm8k``/``math``: each prompt appears this many times in the
    training set. RL with one example (arXiv 2504.20571) repeats its single problem to fill
    every batch; a set smaller than one batch of prompts would otherwise give no batch."""
    general_source: str | None = None
    """all_scenario / general at full scale: a local file or hub dataset of general prompts (a
    ``prompt`` column; ``r1lab.tasks.general.load_general``) instead of the tiny world's."""


@dataclass
class Recipe:
    """What to train, on what, with which rewards and trainer arguments."""

    model: str
    """A local folder written by ``save_pretrained`` or a hub id (``Qwen/Qwen2.5-Math-1.5B``)."""
    task: TaskSpec = field(default_factory=TaskSpec)
    """The prompts, rendered with the R1-Zero template (R1 Table 1)."""
    rewards: dict = field(default_factory=dict)
    """Reward name -> weight (``r1lab.rewards.REWARDS``), for stages that score completions
    (``grpo``: at least one; rule-based, R1 §2.2.2); empty for ``sft``."""
    trainer: dict = field(default_factory=dict)
    """Keyword arguments of the stage's TRL config (``trl.GRPOConfig``, ``trl.SFTConfig``;
    the paper's knobs are named in the recipes)."""
    stage: str = "grpo"
    """The stage to run: a row of the stage table ``r1lab.train.stage.STAGES`` (each row
    names the module that trains it; ``r1lab train --help`` lists them)."""
    peft: dict | None = None
    """Keyword arguments of ``peft.LoraConfig``; None trains every weight."""
    quantization: dict | None = None
    """Keyword arguments of ``transformers.BitsAndBytesConfig`` (QLoRA; CUDA only; needs peft)."""
    accelerate: str | None = None
    """The ``accelerate launch --config_file`` this recipe is meant for (checked by dry runs)."""
    reward_models: dict = field(default_factory=dict)
    """Reward models the ``rewards`` may name (R1 §2.3.4): name -> ``{model: folder or hub id,
    view: summary | whole, kinds: [request, …], batch_size: 64, max_length: 512}``
    (``r1lab.rewards.RewardModelReward``). ``model`` must be a one-score sequence classifier
    (a ``tiny/reward_model_*`` run's ``final/``; a hub id is read when the trainer is built);
    ``kinds``, if given, only kinds the task's rows carry (``r1lab.train.grpo.task_kinds``);
    ``max_length``, the most tokens of one text (its end kept), at most the model's window,
    which is the default."""
    loss_impl: str = "torch"
    """GRPO's per-token log-probs: ``torch`` (TRL's own path) or ``triton`` (the fused kernel
    of ``r1lab.kernels``: one pass over the logits, gradient written in place)."""
    time_budget_minutes: float | None = None
    """Stop training once this many minutes of training have passed (resumed runs count their
    earlier minutes), whatever ``trainer.max_steps`` says; None: no limit. R1 §4.1 compares RL
    and distillation on the small student at equal cost: ``tiny/student_rl`` gets the minutes
    distillation took. (r1lab's own: transformers' Trainer has no wall-clock limit.)"""
    output_dir: str = "runs/r1-zero"
    """Run folder: checkpoints, metrics.jsonl/csv, the resolved recipe and the final model."""
    name: str = ""
    """Where the recipe came from (set by ``load_recipe``)."""

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("name")
        return data


# ---------------------------------------------------------------- loading


def recipe_path(name: str | os.PathLike, kind: str = "train") -> Path:
    """The YAML file ``name`` refers to: a path, or a name under ``r1lab/recipes``; when
    there is none, the error lists the shipped recipes of ``kind``."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    for candidate in (RECIPES_DIR / name, RECIPES_DIR / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    known = ", ".join(available_recipes(kind))
    raise RecipeError(f"recipe {str(name)!r} not found: give a YAML file or one of {known}")


def recipe_sha256(name: str | os.PathLike) -> str:
    """SHA-256 of what a recipe says: its YAML parsed and written canonically, so comments and
    layout do not count (a benchmark stamped with it stays valid when a comment is mended),
    nor do the fields of ``SAME_NUMBERS`` (activation checkpointing: memory for time).

    >>> recipe_sha256("tiny/r1_zero") == recipe_sha256(recipe_path("tiny/r1_zero"))
    True
    """
    import hashlib
    import json

    content = yaml.safe_load(recipe_path(name).read_text(encoding="utf-8"))
    for key in SAME_NUMBERS:  # memory for time: the same numbers either way
        section, field_name = key.split(".")
        if isinstance(content, dict) and isinstance(content.get(section), dict):
            content[section].pop(field_name, None)
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _kind(data) -> str:
    """``sample`` for a sampling recipe (a top-level ``sampling:`` block), else ``train``."""
    return "sample" if isinstance(data, dict) and SAMPLING_BLOCK in data else "train"


def available_recipes(kind: str = "train") -> list[str]:
    """Names of the shipped recipes of ``kind`` (``tiny/r1_zero``, ``single_gpu/…``):
    ``train`` for ``r1lab train``, ``sample`` for ``r1lab sample --recipe``."""
    one_of("kind", kind, RECIPE_KINDS)
    names = []
    for path in RECIPES_DIR.glob("*/*.yaml"):
        if path.parent.name == "accelerate":
            continue
        try:
            data = read_yaml(path.read_text(encoding="utf-8"))
        except (RecipeError, OSError, UnicodeDecodeError):
            data = None  # listed as a training recipe: loading it says what is wrong
        if _kind(data) == kind:
            names.append(str(path.relative_to(RECIPES_DIR).with_suffix("")))
    return sorted(names)


def read_recipe(name: str | os.PathLike, kind: str = "train") -> tuple[str, dict]:
    """The display name and the raw YAML mapping of a recipe of ``kind``; a recipe of the
    other kind is refused with the command that runs it."""
    path = recipe_path(name, kind)
    data = _yaml_mapping(path, f"recipe {path}", "a mapping of fields (model:, task:, …)")
    shown = _display_name(path)
    if _kind(data) != kind:
        if kind == "train":
            raise RecipeError(f"recipe {shown} is a sampling recipe (it has a `{SAMPLING_BLOCK}:` "
                              f"block): run it with r1lab sample --recipe {shown}")
        raise RecipeError(f"recipe {shown} has no `{SAMPLING_BLOCK}:` block, so it is not a "
                          f"sampling recipe: train it with r1lab train {shown}, or add the "
                          f"sampling settings, e.g. {SAMPLING_BLOCK}: {{k: 4}}")
    return shown, data


Override = typing.Union[str, typing.Mapping[str, object]]
"""A ``"key.sub=value"`` string, its value in YAML syntax (``--set`` on the command line), or a
mapping of dotted keys to values already typed, set as they are: what a program hands on (a
path is never re-read as YAML, where ``" #"`` would start a comment and cut it)."""


def parse_recipe(name: str | os.PathLike, overrides: typing.Sequence[Override] = ()) -> Recipe:
    """Read and override (``Override``: ``"key.sub=value"`` strings or ``{"key.sub": value}``
    mappings, in order, a later one winning) a recipe, its fields' names and types checked;
    ``r1lab.train.load_recipe`` checks the rest.

    >>> parse_recipe("tiny/r1_zero", [{"output_dir": "runs/a #b: c"}]).output_dir
    'runs/a #b: c'
    """
    shown, data = read_recipe(name, "train")
    for item in overrides:
        apply_override(data, item)
    recipe = from_dict(data)
    recipe.name = shown
    return recipe


def _display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(RECIPES_DIR).with_suffix(""))
    except ValueError:
        return str(path)


def apply_override(data: dict, item: Override) -> None:
    """Set ``data[a][b] = value`` for ``"a.b=value"`` (value parsed as YAML) or, for a mapping,
    for each of its ``"a.b": value`` (value as it is)."""
    if isinstance(item, typing.Mapping):
        for key, value in item.items():
            if not isinstance(key, str) or not key:
                raise RecipeError(f"override {item!r}: keys must be dotted field names, e.g. "
                                  f"trainer.learning_rate; got {key!r}")
            _set_field(data, key, value, f"{key}={value!r}")
        return
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise RecipeError(f"override {item!r} must look like key=value, e.g. "
                          "trainer.learning_rate=1e-4")
    try:
        value = read_yaml(text) if text else None
    except RecipeError as error:
        raise RecipeError(f"override {item!r}: the value is not valid YAML ({error}); quote "
                          "text, e.g. --set 'output_dir=\"runs/a: b\"'") from None
    _set_field(data, key, value, item)


def _set_field(data: dict, key: str, value, item: str) -> None:
    """``data[a][b] = value`` for the dotted ``key`` "a.b"; ``item`` names the override in
    errors."""
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


def from_dict(data: dict, cls: type = Recipe):
    """A ``Recipe`` (or another recipe dataclass, e.g. ``r1lab.sampling_recipe``'s) from plain
    data, with every field's name and type checked; nested dataclasses are built the same way.
    A top-level ``name`` is the loader's to set (where the recipe came from), not the file's."""
    return _build(cls, data, "")


def _build(cls, data: dict, prefix: str):
    if not isinstance(data, dict):
        raise RecipeError(f"recipe field `{prefix.rstrip('.') or 'recipe'}` must be a mapping; "
                          f"got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and not (
        f.name == "name" and not prefix)}
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        if key not in fields:
            raise RecipeError(unknown(f"{prefix}{key}", key, fields))
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


def unknown(where: str, key: str, known) -> str:
    """The message for an unknown field, with the closest known name."""
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


def _enum_values(hint) -> set:
    """The values of the str-valued enums a type hint admits (IntervalStrategy…)."""
    args = typing.get_args(hint) or (hint,)
    return {member.value for arg in args if isinstance(arg, type) and issubclass(arg, str)
            and hasattr(arg, "__members__") for member in arg}


_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _checked(where: str, value, hint):
    allowed = _allowed_types(hint)
    if allowed is None:
        return value
    if float in allowed and str not in allowed and isinstance(value, str) and _FLOAT.match(value):
        # PyYAML reads YAML 1.1, where `3e-6` (no dot) is a string, not a number.
        return float(value)
    if isinstance(value, bool) and bool not in allowed:
        if value is False and "no" in _enum_values(hint):
            return "no"  # YAML 1.1 reads an unquoted `no` (save_strategy: no) as false
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


def declared_default(config_class: type, name: str):
    """The default a TRL config class declares for a field (before its ``__post_init__``)."""
    declared = config_class.__dataclass_fields__[name]
    if declared.default_factory is not dataclasses.MISSING:
        return declared.default_factory()
    return declared.default


def check_fields(recipe: Recipe, trainer_fields: dict, config_name: str) -> None:
    """Raise ``RecipeError`` for what the recipe's fields say on their own: the task, the
    ``trainer`` fields against ``trainer_fields`` (name -> type hint of the stage's TRL
    config ``config_name``; their values are typed in place), PEFT, quantization, the time
    budget. ``r1lab.train.recipe_checks.check`` calls it between the stage's checks."""
    _check_task(recipe.task)
    for key, value in recipe.trainer.items():
        if key not in trainer_fields:
            close = difflib.get_close_matches(key, list(trainer_fields), n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"see trl.{config_name}"
            raise RecipeError(f"recipe field `trainer.{key}` is not a {config_name} argument; "
                              f"{hint}")
        reserved = {"output_dir": "output_dir", "reward_weights": "rewards"}
        if key in reserved:
            raise RecipeError(f"recipe field `trainer.{key}` is set by r1lab: use the recipe's "
                              f"`{reserved[key]}` field")
        recipe.trainer[key] = _checked(f"trainer.{key}", value, trainer_fields[key])
    _check_kwargs("peft", recipe.peft, _lora_fields)
    _check_kwargs("quantization", recipe.quantization, _bnb_fields)
    if recipe.peft is not None and not recipe.peft.get("r", 1) >= 1:
        raise RecipeError(f"recipe field `peft.r` (the LoRA rank) must be >= 1; got "
                          f"{recipe.peft['r']!r}")
    if recipe.quantization and not recipe.peft:
        raise RecipeError("recipe field `quantization` needs `peft` too: a 4-bit model trains "
                          "through LoRA adapters (QLoRA); add peft: {r: 16, lora_alpha: 32}")
    budget = recipe.time_budget_minutes
    if budget is not None and not (math.isfinite(budget) and budget > 0):
        raise RecipeError(f"recipe field `time_budget_minutes` must be a number of minutes > 0 "
                          f"(or left out for no limit); got {budget!r}")


def launch_processes(launch: dict) -> int:
    """Processes the recipe's job will have: the running job's (accelerate, torchrun and
    Slurm set WORLD_SIZE) or, before launch, its accelerate file's ``num_processes``."""
    if "WORLD_SIZE" in os.environ:
        return int(os.environ["WORLD_SIZE"])
    return int(launch.get("num_processes") or 1)


def accelerate_file(name: str | None) -> dict:
    """The raw accelerate config a recipe names ({} when none)."""
    if name is None:
        return {}
    path = local_path(name)
    if path is None:
        raise RecipeError(f"recipe field `accelerate`: file {name} not found; give a path such "
                          "as r1lab/recipes/accelerate/zero3.yaml")
    return _yaml_mapping(path, f"recipe field `accelerate`: {path}", "an accelerate config")


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the
    last one silently, so a second ``trainer:`` block would replace the first)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping (the second would "
                    "silently replace the first): keep one", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _one_line(error: yaml.YAMLError) -> str:
    """PyYAML's multi-line message as one line: the problem and where it is."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(error, "context", None)
    return f"{problem}{where}" + (f" ({context})" if context else "")


def read_yaml(text: str):
    """Recipe YAML: duplicate keys refused, the expanded size capped (``MAX_RECIPE_VALUES``).

    ``RecipeError`` says what is wrong; the caller adds where.
    """
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        raise RecipeError(_one_line(error)) from None
    if _expanded_size(data, {}) > MAX_RECIPE_VALUES:
        raise RecipeError(f"it expands to more than {MAX_RECIPE_VALUES:,} values through YAML "
                          "aliases (*name); write the values out instead")
    return data


def _expanded_size(value, sizes: dict) -> int:
    """How many values ``value`` stands for once every alias is expanded (shared objects are
    measured once, so a few lines that stand for gigabytes are measured in microseconds)."""
    if not isinstance(value, (dict, list)):
        return 1
    if id(value) not in sizes:
        sizes[id(value)] = 0  # a self-referencing alias counts its cycle once
        items = value.items() if isinstance(value, dict) else enumerate(value)
        sizes[id(value)] = 1 + sum(_expanded_size(v, sizes) for _, v in items)
    return sizes[id(value)]


def _yaml_mapping(path: Path, what: str, expected: str) -> dict:
    """The YAML mapping in ``path``; ``RecipeError`` naming ``what`` if it is not one."""
    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
    except RecipeError as error:
        raise RecipeError(f"{what} is not valid: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RecipeError(f"{what} cannot be read: {error}") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{what} must be {expected}")
    return data


def one_of(where: str, value, choices) -> None:
    """``RecipeError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise RecipeError(f"recipe field `{where}` must be one of {', '.join(choices)}; "
                          f"got {value!r}")


def check_model(model: str) -> None:
    """``RecipeError`` for a model folder that is missing or cannot load (a hub id passes)."""
    try:
        model_location(model)
    except ValueError as error:
        raise RecipeError(f"recipe field `model`: {error}; give a folder written by "
                          "save_pretrained, or a hub id such as Qwen/Qwen2.5-Math-1.5B") from None


def _check_task(task: TaskSpec) -> None:
    one_of("task.name", task.name, TASKS)
    if task.n < 1:
        raise RecipeError(f"recipe field `task.n` must be >= 1; got {task.n}")
    if task.repeat < 1:
        raise RecipeError(f"recipe field `task.repeat` must be >= 1 (1: each prompt once); "
                          f"got {task.repeat}")
    if task.repeat != 1 and task.name in ("all_scenario", "general"):
        raise RecipeError(f"recipe field `task.repeat` is for the arithmetic, gsm8k and math "
                          f"tasks; remove it for {task.name}")
    if task.general_source is not None:
        if task.name not in ("all_scenario", "general"):
            raise RecipeError(f"recipe field `task.general_source` is for the all_scenario and "
                              f"general tasks; remove it for {task.name}")
        _check_source("task.general_source", task.general_source)
    if task.name == "general":
        if task.source is not None or task.arithmetic:
            raise RecipeError("recipe field `task.source` / `task.arithmetic`: the general task "
                              "has general prompts only (the tiny world's, or "
                              "`task.general_source`): remove them")
        return
    if task.name == "all_scenario" and task.source is not None:
        if task.arithmetic:
            raise RecipeError("recipe field `task.arithmetic` applies to the tiny world's "
                              "problems; with `task.source` (MATH-style rows) remove it")
        _check_source("task.source", task.source)
        return
    if task.name in GENERATED_TASKS:
        if task.source is not None:
            raise RecipeError(f"recipe field `task.source` is for gsm8k/math; the {task.name} "
                              "task is generated (remove `source`)")
        from r1lab.tasks import ArithmeticConfig

        names = {f.name for f in dataclasses.fields(ArithmeticConfig)}
        for key in task.arithmetic:
            if key not in names:
                raise RecipeError(unknown(f"task.arithmetic.{key}", key, names))
        try:
            config = arithmetic_config(task)
        except (TypeError, ValueError) as error:
            raise RecipeError(f"recipe field `task.arithmetic`: {error}") from None
        from r1lab.tasks.arithmetic import check_room

        try:
            check_room(reasoning_count(task), "train", config)
        except ValueError as error:
            raise RecipeError(f"recipe field `task.n`: {error}") from None
        return
    if task.arithmetic:
        raise RecipeError(f"recipe field `task.arithmetic` applies to the arithmetic task only; "
                          f"remove it for {task.name}")
    if not task.source:
        raise RecipeError(f"recipe field `task.source` is missing: {task.name} needs a local "
                          ".jsonl/.json/.parquet file or a hub dataset id (e.g. openai/gsm8k)")
    _check_source("task.source", task.source)


def _check_source(where: str, source: str) -> None:
    try:
        data_location(source)
    except ValueError as error:
        raise RecipeError(f"recipe field `{where}`: {error}; fix the path or give a hub "
                          "dataset id") from None


def reasoning_count(task: TaskSpec) -> int:
    """How many of a generated task's ``n`` prompts are arithmetic (all_scenario: half)."""
    return task.n - task.n // 2 if task.name == "all_scenario" else task.n


def arithmetic_config(task: TaskSpec):
    """The ``r1lab.tasks.ArithmeticConfig`` a task's ``arithmetic`` overrides describe."""
    from r1lab.tasks import ArithmeticConfig

    # YAML has no tuples; ArithmeticConfig takes tuples for its ranges.
    return ArithmeticConfig(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in task.arithmetic.items()})


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
            raise RecipeError(unknown(f"{where}.{key}", key, known))
