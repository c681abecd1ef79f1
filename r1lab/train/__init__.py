"""Training stages as thin wrappers over TRL trainers, built from YAML recipes.

* ``r1lab.train.recipe``: the recipe schema, ``load_recipe`` and its checks.
* ``r1lab.train.grpo``: ``prepare`` (recipe -> TRL/PEFT/accelerate objects, or a dry run)
  and ``run`` (train with ``trl.GRPOTrainer``, log metrics, resume).
* ``r1lab.train.metrics`` / ``probes`` / ``checkpoints``: the run folder's log, the
  zero-weight measurements in it, and the resume logic.

``run`` and ``prepare`` import TRL only when called.
"""

from r1lab.train.recipe import Recipe, RecipeError, TaskSpec, available_recipes, load_recipe


def run(recipe, overrides=(), resume="auto", progress=True, callbacks=()):
    """Train a recipe (see ``r1lab.train.grpo.run``)."""
    from r1lab.train.grpo import run as _run

    return _run(recipe, overrides, resume=resume, progress=progress, callbacks=callbacks)


def prepare(recipe, overrides=(), dry_run=False):
    """Resolve a recipe without training (see ``r1lab.train.grpo.prepare``)."""
    from r1lab.train.grpo import prepare as _prepare

    return _prepare(recipe, overrides, dry_run=dry_run)


__all__ = ["Recipe", "RecipeError", "TaskSpec", "available_recipes", "load_recipe", "prepare",
           "run"]
