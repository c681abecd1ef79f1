"""The GRPO stage: R1-Zero and the reasoning RL stages through TRL's ``GRPOTrainer``.

TRL does the training (generation, rewards, advantages, the clipped objective, KL,
distribution); this stage adds the prompts in the R1-Zero template (R1 Table 1), the
recipe's rule rewards with their weights (R1 §2.2.2) plus the zero-weight probes of
``r1lab.train.probes``, the checks TRL or transformers would only make once the GPUs are
allocated, and ``loss_impl`` (TRL's fused LM head, or r1lab's kernel from the hidden states).
The runner (``r1lab.train.runner``) does the rest.
"""

from __future__ import annotations

import difflib
from typing import Any

from r1lab.grpo import LOSS_TYPES
from r1lab.kernels import LOSS_IMPLS
from r1lab.sources import local_path, resolved_model
from r1lab.train.metrics import FIXED_COLUMNS
from r1lab.train.recipe import (Recipe, RecipeError, arithmetic_config, declared_default,
                                launch_processes, one_of, reasoning_count, unknown)
from r1lab.train.stage import Stage


class GRPOStage(Stage):
    name = "grpo"
    label = "GRPO"
    tasks = ("arithmetic", "gsm8k", "math", "all_scenario", "general")
    uses_rewards = True
    step_key = "reward"
    shown = ("reward", "accuracy", "format", "completion_length")

    def config_class(self) -> type:
        from trl import GRPOConfig

        return GRPOConfig

    def config_kwargs(self, recipe: Recipe) -> dict:
        return {"reward_weights": self._reward_weights(recipe)}

    def check_fields(self, recipe: Recipe, launch: dict) -> None:
        _check_reward_models(recipe.reward_models, recipe.task)
        _check_rewards(recipe.rewards, recipe.reward_models)
        one_of("loss_impl", recipe.loss_impl, LOSS_IMPLS)
        _check_group_size(self.config_class(), recipe.trainer, launch_processes(launch))

    def check_config(self, recipe: Recipe, args: Any, launch: dict) -> None:
        supported = supported_values(type(args), "loss_type")
        if supported and args.loss_type not in supported:
            raise RecipeError(f"recipe field `trainer.loss_type` must be one of "
                              f"{', '.join(supported)} (TRL's); got {args.loss_type!r}")
        _check_loss_impl(recipe, args)
        _check_trl_combinations(recipe, args, launch)

    def dataset(self, recipe: Recipe, dry_run: bool) -> Any:
        from r1lab.tasks import generate, load_gsm8k, load_math, to_dataset

        task = recipe.task
        if task.name == "arithmetic":
            problems = generate(task.n, split="train", seed=task.seed,
                                config=arithmetic_config(task))
            return to_dataset(list(problems) * task.repeat)
        if task.name in MIXED_TASKS:
            return _mixed_dataset(task, dry_run)
        source = local_path(task.source)
        if source is None and dry_run:
            return None  # a hub dataset: a dry run does not contact the hub
        loader = load_gsm8k if task.name == "gsm8k" else load_math
        try:
            problems = loader(str(source or task.source), split="train", limit=task.n)
        except (OSError, ValueError, TypeError) as error:
            raise RecipeError(f"recipe field `task.source`: cannot load {task.source}: "
                              f"{error}") from None
        if not problems:
            raise RecipeError(f"recipe field `task.source`: {task.source} has no rows")
        return to_dataset(list(problems) * task.repeat)

    def columns(self, recipe: Recipe) -> dict[str, str]:
        rewards = {name: f"rewards/{name_of(name, recipe)}/mean" for name in recipe.rewards}
        return {"reward": "reward", **rewards, **FIXED_COLUMNS}

    def plan_extras(self, recipe: Recipe) -> dict:
        from r1lab.train.probes import PROBES

        return {"reward_funcs": [reward_function(name, recipe) for name in recipe.rewards]
                + list(PROBES), "reward_weights": self._reward_weights(recipe)}

    def trainer(self, plan) -> Any:
        from r1lab.rewards import RewardModelReward
        from r1lab.train.trainer import R1LabGRPOTrainer

        # A hub reward model is first read here (a dry run and the recipe check do not
        # contact the hub): refused before any step, not at the first reward call.
        for judge in plan.extras["reward_funcs"]:
            if isinstance(judge, RewardModelReward) and (problem := judge.problem()):
                raise RecipeError(f"recipe field `reward_models.{judge.__name__}`: model "
                                  f"{judge.model_name} {problem}")
        return R1LabGRPOTrainer(model=plan.model, reward_funcs=plan.extras["reward_funcs"],
                                args=plan.args, train_dataset=plan.train_dataset,
                                peft_config=plan.peft_config, loss_impl=plan.recipe.loss_impl)

    def describe(self, plan) -> list[str]:
        a, recipe = plan.args, plan.recipe
        kernel = " (r1lab.kernels, from the hidden states)" if recipe.loss_impl == "triton" else " (TRL)"
        return [
            "rewards     " + ", ".join(f"{n} x {w}" for n, w in recipe.rewards.items()),
            f"GRPO        G={a.num_generations} batch/device={a.per_device_train_batch_size} "
            f"lr={a.learning_rate} beta={a.beta} epsilon={a.epsilon} loss={a.loss_type} "
            f"T={a.temperature} max_completion={a.max_completion_length}",
            f"loss        {recipe.loss_impl} log-probs{kernel}",
        ]

    @staticmethod
    def _reward_weights(recipe: Recipe) -> list[float]:
        from r1lab.train.probes import PROBES

        return [float(w) for w in recipe.rewards.values()] + [0.0] * len(PROBES)


# Tasks whose batches mix prompt kinds (the dataset column `kind`): each rule reward is kept
# to the kinds it judges (``r1lab.rewards.REWARD_KINDS``).
MIXED_TASKS = ("all_scenario", "general")


def _mixed_dataset(task, dry_run: bool):
    """R1 §2.3.4's prompts: reasoning and general in one run (rows take turns). The tiny
    world's by default; MATH-style rows from ``source`` and chat prompts from
    ``general_source`` at full scale (None in a dry run when either is a hub dataset)."""
    from r1lab.tasks import general, generate, load_math

    hub = [s for s in (task.source, task.general_source) if s and local_path(s) is None]
    if hub and dry_run:
        return None  # a hub dataset: a dry run does not contact the hub
    n_reasoning = reasoning_count(task) if task.name == "all_scenario" else 0
    try:
        if task.source:
            problems = load_math(str(local_path(task.source) or task.source), split="train",
                                 limit=n_reasoning)
        else:
            problems = generate(n_reasoning, split="train", seed=task.seed,
                                config=arithmetic_config(task))
        if task.general_source:
            prompts = general.load_general(
                str(local_path(task.general_source) or task.general_source),
                limit=task.n - n_reasoning)
        else:
            prompts = general.generate_general(task.n - n_reasoning, split="train",
                                               seed=task.seed)
    except (OSError, ValueError, TypeError) as error:
        raise RecipeError(f"recipe field `task.source` / `task.general_source`: {error}") \
            from None
    return general.to_dataset(problems, prompts)


def name_of(name: str, recipe: Recipe) -> str:
    """The name TRL logs a recipe reward under (``rewards/<it>/mean``)."""
    from r1lab.rewards import REWARDS

    return name if name in recipe.reward_models else REWARDS[name].__name__


def reward_function(name: str, recipe: Recipe):
    """The TRL reward function a recipe's reward ``name`` stands for: a reward model of
    ``reward_models`` (``RewardModelReward``, loaded on first use; its ``kinds`` scope it),
    or a rule of ``REWARDS``, kept to the kinds it judges in a mixed task."""
    from r1lab.rewards import REWARD_KINDS, REWARDS, RewardModelReward, for_kinds

    if name in recipe.reward_models:
        spec = recipe.reward_models[name]
        return RewardModelReward(resolved_model(spec["model"]), view=spec.get("view", "whole"),
                                 kinds=spec.get("kinds"), batch_size=spec.get("batch_size", 64),
                                 name=name, max_length=spec.get("max_length"))
    if recipe.task.name in MIXED_TASKS:
        return for_kinds(REWARDS[name], REWARD_KINDS[name])
    return REWARDS[name]


def supported_values(config_class: type, name: str) -> tuple[str, ...]:
    """The values a TRL config field's help text lists ("Supported values are 'a', 'b'…").

    TRL accepts any string for some fields (``loss_type``) and fails only at the first
    training step; its help text is where it lists what it supports. Empty when the help
    text has no such list (then nothing is checked).
    """
    import re

    help_text = config_class.__dataclass_fields__[name].metadata.get("help", "")
    listed = re.search(r"Supported values are (.*?)\.\s", help_text)
    return tuple(re.findall(r"'([^']+)'", listed.group(1))) if listed else ()


REWARD_MODEL_FIELDS = {"model": str, "view": str, "kinds": list, "batch_size": int,
                       "max_length": int}
REWARD_MODEL_TYPES = {str: "text", list: "a list", int: "a whole number"}


def task_kinds(task) -> tuple[str, ...]:
    """The values of the dataset column ``kind`` a GRPO task's rows carry: what a reward
    model's ``kinds`` may name. ``reasoning`` for arithmetic and MATH-style rows (every row
    of the arithmetic, gsm8k and math tasks, which have no ``kind`` column: a reward model
    scores them all), ``request`` and ``private`` for the tiny world's general prompts,
    ``general`` for the prompts of ``task.general_source`` (``r1lab.tasks.general``).

    >>> from r1lab.train.recipe import TaskSpec
    >>> task_kinds(TaskSpec("all_scenario")), task_kinds(TaskSpec("general", general_source="p"))
    (('reasoning', 'request', 'private'), ('general',))
    """
    from r1lab.tasks.general import GENERAL_KINDS

    general = ("general",) if task.general_source else GENERAL_KINDS
    if task.name == "general":
        return general
    return ("reasoning", *general) if task.name == "all_scenario" else ("reasoning",)


def _check_reward_models(reward_models: dict, task) -> None:
    from r1lab.rewards import REWARDS, RewardModelReward
    from r1lab.rewards.reward_model import VIEWS
    from r1lab.sources import model_location

    for name, spec in reward_models.items():
        where = f"reward_models.{name}"
        if name in REWARDS:
            raise RecipeError(f"recipe field `{where}`: {name!r} is a rule reward's name; give "
                              "the reward model another name, e.g. helpful_rm")
        if not isinstance(spec, dict):
            raise RecipeError(f"recipe field `{where}` must be a mapping, e.g. {{model: "
                              f"data/models/tiny-rm-helpful, view: summary}}; got {spec!r}")
        for key, value in spec.items():
            if key not in REWARD_MODEL_FIELDS:
                raise RecipeError(unknown(f"{where}.{key}", key, REWARD_MODEL_FIELDS))
            kind = REWARD_MODEL_FIELDS[key]
            if isinstance(value, bool) or not isinstance(value, kind):
                raise RecipeError(f"recipe field `{where}.{key}` must be "
                                  f"{REWARD_MODEL_TYPES[kind]}; got {value!r}")
        if "model" not in spec:
            raise RecipeError(f"recipe field `{where}.model` is missing: a local folder or a hub "
                              "id of a sequence-classification reward model")
        one_of(f"{where}.view", spec.get("view", "whole"), VIEWS)
        for key, what in (("batch_size", "texts per forward pass"),
                          ("max_length", "the most tokens of one text; leave it out for the "
                                         "model's window")):
            if spec.get(key, 1) < 1:
                raise RecipeError(f"recipe field `{where}.{key}` must be >= 1 ({what}); got "
                                  f"{spec[key]}")
        _check_kinds(f"{where}.kinds", spec.get("kinds"), task)
        try:
            folder = model_location(spec["model"])
        except ValueError as error:
            raise RecipeError(f"recipe field `{where}.model`: {error}; train it first (e.g. "
                              "r1lab train tiny/reward_model_helpful) or give a hub id") from None
        if folder is None:
            continue  # a hub id: read when the trainer is built (GRPOStage.trainer)
        judge = RewardModelReward(str(folder), max_length=spec.get("max_length"))
        problem = judge.problem()
        if problem:
            raise RecipeError(f"recipe field `{where}`: model {spec['model']} {problem}")


def _check_kinds(where: str, kinds, task) -> None:
    """A reward model's ``kinds`` read strictly: a kind the task never produces would leave
    its column null on every step."""
    if kinds is None:
        return
    valid = task_kinds(task)
    if not kinds:
        raise RecipeError(f"recipe field `{where}` is empty: name the kinds it scores ("
                          f"{', '.join(valid)} in task {task.name}) or leave it out to score "
                          "every row")
    for kind in kinds:
        if kind not in valid:
            close = difflib.get_close_matches(str(kind), valid, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise RecipeError(f"recipe field `{where}`: {kind!r} is not a kind of task "
                              f"{task.name}'s rows, so it would score none; {hint}its kinds "
                              f"are {', '.join(valid)}")


def _check_rewards(rewards: dict, reward_models: dict | None = None) -> None:
    import math

    from r1lab.rewards import REWARDS

    if not rewards:
        raise RecipeError("recipe field `rewards` is empty: stage grpo needs at least one, e.g. "
                          "rewards: {accuracy: 1.0, format: 0.1}")
    known = {**REWARDS, **(reward_models or {})}
    for name, weight in rewards.items():
        if name not in known:
            raise RecipeError(unknown(f"rewards.{name}", name, known).replace(
                "is not a known field", "is not a known reward") + " (a rule of "
                "r1lab.rewards.REWARDS or a name in the recipe's `reward_models`)")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise RecipeError(f"recipe field `rewards.{name}` must be a number (its weight); "
                              f"got {weight!r}")
        if not math.isfinite(weight):
            raise RecipeError(f"recipe field `rewards.{name}` must be a finite number; got "
                              f"{weight!r}")


def _check_loss_impl(recipe: Recipe, args: Any) -> None:
    if recipe.loss_impl != "triton":
        return
    # What the fused kernel covers (r1lab.grpo's loss types); anything else keeps TRL's code.
    if args.loss_type not in LOSS_TYPES:
        raise RecipeError(f"recipe field `trainer.loss_type` {args.loss_type!r} is not covered "
                          f"by loss_impl: triton (covered: {', '.join(LOSS_TYPES)}); use "
                          "loss_impl: torch")
    if args.top_entropy_quantile < 1.0:
        raise RecipeError("recipe field `trainer.top_entropy_quantile` < 1 needs TRL's entropy "
                          "masking: use loss_impl: torch")


def _check_group_size(config_class: type, trainer: dict, processes: int) -> None:
    """TRL samples G completions per prompt: the generation batch must hold whole groups.

    Checked on the recipe's fields (TRL's declared defaults for the rest) before TRL builds
    the config, so the refusal names the recipe fields and the fix; ``processes`` is the
    job's (``launch_processes``).
    """
    def value(name):
        return trainer.get(name, declared_default(config_class, name))

    group, per_device = value("num_generations"), value("per_device_train_batch_size")
    # TRL: steps_per_generation defaults to gradient_accumulation_steps.
    steps = value("steps_per_generation") or value("gradient_accumulation_steps")
    batch = value("generation_batch_size") or per_device * processes * steps
    if group is not None and group < 2:
        raise RecipeError(f"recipe field `trainer.num_generations` must be >= 2 (GRPO compares "
                          f"completions within a group); got {group}")
    if per_device < 1:
        raise RecipeError(f"recipe field `trainer.per_device_train_batch_size` must be >= 1; "
                          f"got {per_device}")
    if group and batch % group:
        raise RecipeError(
            f"recipe field `trainer.num_generations` ({group}) must divide the generation batch "
            f"({batch} = per_device_train_batch_size {per_device} x {processes} processes x "
            f"{steps} steps_per_generation); set per_device_train_batch_size to a multiple of "
            f"{group} or pick a group size that divides {batch}")


def _check_trl_combinations(recipe: Recipe, args: Any, launch: dict) -> None:
    """Settings TRL or transformers only refuse once the model is loaded or the GPUs are
    allocated, read from the resolved config."""
    if args.sync_ref_model:
        if recipe.peft is not None:
            raise RecipeError("recipe field `trainer.sync_ref_model` cannot be used with `peft`: "
                              "with LoRA the reference is the base model under the adapters, so "
                              "there is no separate copy to refresh; remove one of the two")
        if not args.beta:
            raise RecipeError("recipe field `trainer.sync_ref_model` needs `trainer.beta` > 0: "
                              "with beta 0 there is no reference model to refresh")
    if args.max_completion_length < 1:
        raise RecipeError(f"recipe field `trainer.max_completion_length` must be >= 1; got "
                          f"{args.max_completion_length}")
    if not args.temperature > 0:
        raise RecipeError(f"recipe field `trainer.temperature` must be > 0 (GRPO samples its "
                          f"completions; 1.0 is R1's); got {args.temperature}")
    vllm_length = args.vllm_max_model_length
    if args.use_vllm and vllm_length is not None and vllm_length <= args.max_completion_length:
        raise RecipeError(f"recipe field `trainer.vllm_max_model_length` ({vllm_length}) must "
                          f"exceed max_completion_length ({args.max_completion_length}) by the "
                          "prompt length")
    fsdp = launch.get("fsdp_config") or {}
    if fsdp.get("fsdp_activation_checkpointing") and args.activation_checkpointing:
        raise RecipeError(f"recipe field `trainer.activation_checkpointing` must be false: "
                          f"{recipe.accelerate} already checkpoints activations inside FSDP and "
                          "transformers refuses both (TRL turns the trainer's on by default)")
