"""Training stages as thin wrappers over TRL trainers, built from YAML recipes.

* ``r1lab.train.recipe``: the recipe schema, reading and the checks of its own fields.
* ``r1lab.train.recipe_checks``: ``load_recipe``: a recipe read and checked against its stage
  and the TRL config it resolves to.
* ``r1lab.train.runner``: the stage-neutral runner: ``prepare`` (recipe -> TRL/PEFT/accelerate
  objects, or a dry run) and ``run`` (train, log metrics, resume, save ``final/``).
* ``r1lab.train.stage``: what a stage provides, and the table of stages, ``STAGES``:
  {stages}.
* ``r1lab.train.run_folder`` / ``metrics`` / ``probes`` / ``checkpoints``: the run folder's
  rules and lock, its log, the zero-weight measurements in it, and the resume logic.

Importing this package imports neither torch nor TRL; ``run`` and ``prepare`` import them
when called.
"""

from r1lab.train.recipe import Recipe, RecipeError, TaskSpec, available_recipes
from r1lab.train.recipe_checks import load_recipe
from r1lab.train.run_folder import RunFolderError
from r1lab.train.stage import STAGES

# The stage list above is the table's, so a new row shows in help(r1lab.train) too.
__doc__ = __doc__.format(stages=", ".join(
    f"``{name}`` (``{target.partition(':')[0]}``)" for name, target in STAGES.items()))


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
