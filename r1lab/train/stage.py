"""What a training stage provides to the runner (``r1lab.train.runner``), and the table of stages.

A stage is one module under ``r1lab/train/`` with a ``Stage`` subclass: the TRL config class
its recipe's ``trainer`` fields fill, the checks only it needs, its training rows, its trainer
and the columns of its metrics log. The runner does everything else the same way for every
stage (recipe, run folder, resume, metrics, final model). Adding a stage is adding a module
and a row to ``STAGES``.

>>> sorted(STAGES)
['grpo', 'reward_model', 'sft']
>>> get_stage("sft").config_class().__name__
'SFTConfig'
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any

from r1lab.train.recipe import RecipeError


# Stage name -> "module:class". Modules are imported when a recipe names their stage, so
# loading a recipe never imports a trainer it does not use.
STAGES = {
    "grpo": "r1lab.train.grpo:GRPOStage",  # R1-Zero and the reasoning RL stages (R1 §2.2, §2.3.2)
    "sft": "r1lab.train.sft:SFTStage",  # cold start, rejection-sampling SFT (R1 §2.3.1, §2.3.3)
    "reward_model": "r1lab.train.reward_model:RewardModelStage",  # reward models (R1 §2.3.4)
}


class Stage(ABC):
    """The part of a run that differs between stages (the abstract methods), and neutral
    defaults for the rest.

    ``recipe`` is an ``r1lab.train.recipe.Recipe``, ``plan`` the runner's
    ``r1lab.train.runner.Plan`` (the runner imports this module, so it is not imported
    here).
    """

    name: str = ""
    """The recipe's ``stage`` value."""
    label: str = ""
    """The progress bar's label."""
    tasks: tuple[str, ...] = ()
    """The ``task.name`` values this stage trains on."""
    uses_rewards: bool = False
    """Whether the recipe's ``rewards`` score completions in this stage."""
    step_key: str = "loss"
    """A TRL log key present in training-step logs only (not in the final summary)."""
    shown: tuple[str, ...] = ("loss",)
    """Metric columns shown on the progress bar."""

    @abstractmethod
    def config_class(self) -> type:
        """The TRL config class (a ``transformers.TrainingArguments``) of ``trainer``."""

    def config_kwargs(self, recipe) -> dict:
        """Arguments the stage adds to the recipe's ``trainer`` fields."""
        return {}

    def check_fields(self, recipe, launch: dict) -> None:
        """Raise ``RecipeError`` for fields this stage refuses, before TRL builds the config
        (where TRL's own refusal would not name the recipe field and the fix). ``launch`` is
        the raw accelerate file the recipe names ({} when none)."""

    def check_config(self, recipe, args: Any, launch: dict) -> None:
        """Raise ``RecipeError`` for what this stage refuses in the resolved TRL config
        ``args`` (TRL's defaults filled in)."""

    @abstractmethod
    def dataset(self, recipe, dry_run: bool) -> Any:
        """The training rows (a ``datasets.Dataset``; None in a dry run for hub data)."""

    @abstractmethod
    def columns(self, recipe) -> dict[str, str]:
        """Metric column -> TRL log key, for ``metrics.jsonl``."""

    def plan_extras(self, recipe) -> dict:
        """Stage objects the trainer needs beyond the config (``Plan.extras``)."""
        return {}

    @abstractmethod
    def trainer(self, plan) -> Any:
        """The TRL trainer for a plan (this loads the model)."""

    def describe(self, plan) -> list[str]:
        """Lines of the dry-run summary that only this stage has."""
        return []

    def before_save(self, trainer: Any, plan) -> None:
        """Called after training, before the final model is saved."""


def source_rows(recipe, dry_run: bool, columns: tuple[str, ...], optional: tuple[str, ...] = (),
                needs: str = ""):
    """The rows of a recipe's ``task.source`` (a local file or a hub dataset), cut to
    ``task.n``, with ``columns`` (required) and those of ``optional`` it has; every value must
    be non-empty text or a non-empty list (TRL's conversational form). None in a dry run for
    hub data (a dry run does not contact the hub). ``needs`` ends the missing-column message.
    """
    from r1lab.sources import local_path
    from r1lab.tasks import read_rows

    task = recipe.task
    path = local_path(task.source)  # found from any working folder (the repository's too)
    if path is None and dry_run:
        return None
    try:
        rows = read_rows(str(path or task.source), split="train")
    except (OSError, ValueError) as error:
        raise RecipeError(f"recipe field `task.source`: cannot load {task.source}: "
                          f"{error}") from None
    missing = set(columns) - set(rows.column_names)
    if missing:
        raise RecipeError(f"recipe field `task.source`: {task.source} lacks the column(s) "
                          f"{', '.join(sorted(missing))}; {needs}")
    keep = [c for c in (*optional, *columns) if c in rows.column_names]
    rows = rows.select_columns(keep)
    rows = rows.select(range(min(task.n, len(rows))))
    for column in keep:
        for index, value in enumerate(rows[column]):
            if not (isinstance(value, str) and value.strip()) and not (
                    isinstance(value, list) and value):
                raise RecipeError(f"recipe field `task.source`: {task.source} row {index}: "
                                  f"{column} must be non-empty text; got {value!r}")
    return rows


class RowsStage(Stage):
    """A stage that trains on finished rows of ``task.source`` (SFT, reward models): it
    scores no completions, so it refuses ``rewards``, ``reward_models`` and the GRPO kernel;
    its rows need ``needed`` columns (``optional`` ones are kept when present); a LoRA run
    is merged before saving, so the next stage starts from a whole model."""

    needed: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    trains_on: str = ""
    """What the rows are, for the messages ("finished completions")."""
    a_recipe: str = ""
    """"an sft recipe", for the messages."""

    def check_fields(self, recipe, launch: dict) -> None:
        for field in ("rewards", "reward_models"):
            if getattr(recipe, field):
                raise RecipeError(f"recipe field `{field}` is not used by stage {self.name} (it "
                                  f"trains on {self.trains_on}, it scores none): remove it")
        if recipe.loss_impl != "torch":
            raise RecipeError(f"recipe field `loss_impl: triton` is the fused GRPO kernel; "
                              f"{self.a_recipe} uses TRL's loss: remove `loss_impl`")
        if recipe.task.repeat != 1:
            raise RecipeError(f"recipe field `task.repeat` repeats GRPO prompts; {self.a_recipe} "
                              f"reads its rows as they are (use `trainer.num_train_epochs`): "
                              f"remove it")

    def check_config(self, recipe, args: Any, launch: dict) -> None:
        if args.max_length is not None and args.max_length < 1:
            raise RecipeError(f"recipe field `trainer.max_length` must be >= 1; got "
                              f"{args.max_length}")

    def dataset(self, recipe, dry_run: bool) -> Any:
        """The recipe's rows (None in a dry run for hub data)."""
        return source_rows(recipe, dry_run, self.needed, optional=self.optional,
                           needs=f"stage {self.name} trains on {self.trains_on} "
                                 f"({', '.join(self.needed)})")

    def before_save(self, trainer: Any, plan) -> None:
        if plan.peft_config and not plan.quantization_config:
            # The next stage starts from this folder: merge the LoRA adapters into a whole
            # model (a 4-bit QLoRA base cannot be merged losslessly; its adapters are saved
            # as they are).
            trainer.model = trainer.model.merge_and_unload()


def get_stage(name: str) -> Stage:
    """The ``Stage`` registered as ``name`` in ``STAGES`` (``KeyError`` if none)."""
    module, _, cls = STAGES[name].partition(":")
    return getattr(importlib.import_module(module), cls)()
