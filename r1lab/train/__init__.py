"""Training stages as thin wrappers over TRL trainers, built from YAML recipes.

* ``r1lab.train.recipe``: the recipe schema, ``load_recipe`` and its checks.
* ``r1lab.train.runner``: the stage-neutral runner: ``prepare`` (recipe -> TRL/PEFT/accelerate
  objects, or a dry run) and ``run`` (train, log metrics, resume, save ``final/``).
* ``r1lab.train.stage``: what a stage provides, and the table of stages: ``grpo``
  (``r1lab.train.grpo``, TRL's GRPOTrainer) and ``sft`` (``r1lab.train.sft``, SFTTrainer).
* ``r1lab.train.run_folder`` / ``metrics`` / ``probes`` / ``checkpoints``: the run folder's
  rules and lock, its log, the zero-weight measurements in it, and the resume logic.

``run`` and ``prepare`` import TRL only when called.
"""

from r1lab.train.recipe import Recipe, RecipeError, TaskSpec, available_recipes, load_recipe
from r1lab.train.run_folder import RunFolderError


def run(recipe, overrides=(), resume="auto", progress=True, callbacks=()):
    """Train a recipe, any stage (see ``r1lab.train.runner.run``)."""
    from r1lab.train.runner import run as _run

    return _run(recipe, overrides, resume=resume, progress=progress, callbacks=callbacks)


def prepare(recipe, overrides=(), dry_run=False):
    """Resolve a recipe without training (see ``r1lab.train.runner.prepare``)."""
    from r1lab.train.runner import prepare as _prepare

    return _prepare(recipe, overrides, dry_run=dry_run)


__all__ = ["Recipe", "RecipeError", "RunFolderError", "TaskSpec", "available_recipes",
           "load_recipe", "prepare", "run"]
