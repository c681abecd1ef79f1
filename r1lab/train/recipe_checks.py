"""A recipe checked against its stage: ``load_recipe``, ``check`` and the TRL config a recipe
resolves to (``trainer_config``).

``r1lab.train.recipe`` reads a recipe and checks what its fields say on their own; what
needs the recipe's stage (a row of ``r1lab.train.stage.STAGES``) is checked here: the
``trainer`` fields against the stage's TRL config class, the config TRL builds from them
(TRL's defaults filled in), and the stage's own checks. It sits above the stage table and
the stages' modules, which build on ``r1lab.train.recipe``, so imports point one way.

A recipe's ``Stage`` and its TRL config are built once per recipe and reused (by the dry
run and the runner) while the recipe's fields stay as they were checked.

>>> recipe = load_recipe("tiny/r1_zero", ["trainer.learning_rate=5e-5"])
>>> recipe.model, recipe.trainer["learning_rate"], recipe.rewards
('data/models/tiny-base', 5e-05, {'accuracy': 1.0, 'format': 0.5})
>>> load_recipe("tiny/r1_zero", ["trainer.num_generation=8"])
Traceback (most recent call last):
...
r1lab.train.recipe.RecipeError: recipe field `trainer.num_generation` is not a GRPOConfig argument; did you mean `num_generations`?
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import math
import os
import typing
import warnings

from r1lab.train.recipe import (TASKS, TRANSFORMERS_RENAMES, Override, Recipe, RecipeError,
                                accelerate_file, check_fields, check_model, launch_processes,
                                one_of, parse_recipe)
from r1lab.train.stage import STAGES, Stage, get_stage

# What a recipe object carries once resolved (not dataclass fields: not saved, not compared).
_STAGE = "_r1lab_stage"  # (stage name, Stage)
_CONFIGS = "_r1lab_configs"  # (the recipe's fields as JSON, {processes: TRL config})


def load_recipe(name, overrides: typing.Sequence[Override] = ()) -> Recipe:
    """Read, override (``Override``: ``"key.sub=value"`` strings or ``{"key.sub": value}``
    mappings, in order, a later one winning) and check a recipe (``check``)."""
    recipe = parse_recipe(name, overrides)
    check(recipe)
    return recipe


def stage_of(recipe: Recipe) -> Stage:
    """The recipe's ``Stage`` (``get_stage(recipe.stage)``), built once per recipe."""
    name, stage = vars(recipe).get(_STAGE, (None, None))
    if name != recipe.stage:
        stage = get_stage(recipe.stage)
        setattr(recipe, _STAGE, (recipe.stage, stage))
    return stage


def trainer_config_class(stage: str) -> type:
    """The TRL config class a stage's ``trainer`` fields fill (``trl.GRPOConfig``…)."""
    return get_stage(stage).config_class()


def _config_fields(config_class: type) -> dict:
    """Name -> type hint of every argument of a TRL config class."""
    hints = typing.get_type_hints(config_class)
    return {f.name: hints.get(f.name, typing.Any) for f in dataclasses.fields(config_class)
            if f.init}


def trainer_config(recipe: Recipe, for_this_machine: bool = False,
                   processes: int | None = None):
    """The stage's TRL config, built by TRL from the recipe's ``trainer`` fields.

    With ``for_this_machine`` it is the config this machine trains with (CPU settings when it
    has no GPU; a recipe that needs one is refused). Without, it is the config the machine
    the recipe is meant for builds: every check of TRL and transformers runs except the one
    that asks this machine for a bf16 GPU (a dry run, and the recipe checks, read it), and
    with ``processes`` TRL counts that many processes instead of this one (the recipe checks
    pass the launch's count, so TRL's batch arithmetic is the launched job's).

    The meant config is built once per recipe, processes and field values; each call gets
    its own shallow copy. The machine's config is built at each call (a trainer changes it).
    """
    if not for_this_machine:
        fields = json.dumps(recipe.to_dict(), sort_keys=True, default=repr)
        built_for, configs = vars(recipe).get(_CONFIGS, (None, {}))
        if built_for != fields:  # changed since: those configs describe another recipe
            configs = {}
            setattr(recipe, _CONFIGS, (fields, configs))
        if processes not in configs:
            configs[processes] = _build_config(recipe, _as_meant(stage_of(recipe).config_class(),
                                                                 processes))
        return copy.copy(configs[processes])
    if _cuda():
        return _build_config(recipe, stage_of(recipe).config_class())
    meant = trainer_config(recipe)
    if meant.bf16 or meant.fp16 or getattr(meant, "use_vllm", False):
        raise RecipeError(
            f"recipe {recipe.name or ''} needs a CUDA GPU (trainer.bf16/fp16/use_vllm) and "
            "none is present: run a tiny/ recipe, add --set trainer.bf16=false (and "
            "trainer.use_vllm=false) for fp32 on CPU, or --cpu-smoke for a two-step check of a "
            "full-scale recipe on CPU (r1lab.train.cpu_smoke)")
    return _build_config(recipe, stage_of(recipe).config_class(), use_cpu=True)


def _build_config(recipe: Recipe, build: type, use_cpu: bool = False):
    """The recipe's TRL config, built by ``build`` (the config class, or ``_as_meant``'s)."""
    stage = stage_of(recipe)
    config_class = stage.config_class()
    kwargs = {"report_to": "none",
              "disable_tqdm": True,  # r1lab's ProgressBar replaces the printed dicts
              **recipe.trainer, **stage.config_kwargs(recipe), "output_dir": recipe.output_dir}
    if use_cpu:
        kwargs["use_cpu"] = True
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=TRANSFORMERS_RENAMES, category=FutureWarning)
            args = build(**kwargs)
    except (ValueError, TypeError) as error:
        raise RecipeError(f"recipe field `trainer`: TRL rejected it: {error}") from None
    args.__class__ = config_class  # the object TRL would build, whichever machine built it
    return args


@functools.cache
def _as_meant(config_class: type, processes: int | None = None) -> type:
    """``config_class`` as the machine a recipe is meant for builds it.

    Why a subclass: ``TrainingArguments._validate_args`` refuses bf16 unless this machine
    has a bf16 GPU or ``use_cpu`` is set, and TRL sizes the generation batch with this
    process's ``world_size``; transformers has no switch for describing another machine's
    config. ``use_cpu`` is set for that one check only (it reads nothing else there), so
    every other field is validated as the GPU machine validates it; ``processes`` (when
    given) replaces ``world_size``.
    """

    def _validate_args(self):
        use_cpu, self.use_cpu = self.use_cpu, True
        try:
            config_class._validate_args(self)
        finally:
            self.use_cpu = use_cpu

    body = {"_validate_args": _validate_args}
    if processes is not None:
        body["world_size"] = property(lambda self: processes)
    return type(config_class.__name__, (config_class,), body)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def check(recipe: Recipe) -> None:
    """Raise ``RecipeError`` for anything that would fail later, before any slow work.

    The fields are checked first (``r1lab.train.recipe.check_fields`` and the stage's
    ``check_fields``), then the TRL config they resolve to (TRL's own defaults filled in),
    then what the recipe's stage adds to it (``Stage.check_config``).
    """
    one_of("stage", recipe.stage, tuple(STAGES))
    stage = stage_of(recipe)
    check_model(recipe.model)
    one_of("task.name", recipe.task.name, TASKS)
    if recipe.task.name not in stage.tasks:
        raise RecipeError(f"recipe field `task.name` {recipe.task.name!r} does not fit stage "
                          f"{recipe.stage!r}: use one of {', '.join(stage.tasks)}")
    config_class = stage.config_class()
    check_fields(recipe, _config_fields(config_class), config_class.__name__)
    launch = accelerate_file(recipe.accelerate)
    stage.check_fields(recipe, launch)
    args = trainer_config(recipe, processes=_told_processes(launch))
    _check_resolved(args)
    stage.check_config(recipe, args, launch)


def _told_processes(launch: dict) -> int | None:
    """The process count TRL is told for the recipe's job (``launch_processes``); None when
    the job is this one process, which TRL counts itself: the config is then the dry run's
    (``r1lab.train.runner.prepare``), built once for both."""
    processes = launch_processes(launch)
    return None if processes == 1 and "WORLD_SIZE" not in os.environ else processes


def _check_resolved(args) -> None:
    """What TRL and transformers accept at config time but fail on (or train wrongly with)."""
    if not math.isfinite(args.learning_rate) or args.learning_rate < 0:
        raise RecipeError(f"recipe field `trainer.learning_rate` must be a finite number >= 0; "
                          f"got {args.learning_rate}")
    for name in ("seed", "data_seed"):
        value = getattr(args, name)
        if value is not None and not 0 <= value < 2**32:  # numpy's generator takes no more
            raise RecipeError(f"recipe field `trainer.{name}` must be from 0 to 2**32 - 1; "
                              f"got {value}")
    for name in ("per_device_train_batch_size", "gradient_accumulation_steps"):
        if getattr(args, name) < 1:
            raise RecipeError(f"recipe field `trainer.{name}` must be >= 1; got "
                              f"{getattr(args, name)}")
