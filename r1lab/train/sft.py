"""Supervised fine-tuning stages through TRL's ``SFTTrainer``: cold start (R1 §2.3.1) and,
later, the rejection-sampling SFT (§2.3.3) and distillation (§2.4).

A recipe with ``stage: sft`` trains on rows of ``prompt`` and ``completion`` (the task
``prompt_completion``, from a local file or a hub dataset) with the loss on the completion
only, like the paper's SFT on responses. Full fine-tuning by default; ``peft`` gives LoRA,
``quantization`` QLoRA (GPU). ``r1lab.train.run`` runs it with the same run folder, metrics
log and resume as the RL stages.
"""

from __future__ import annotations

from r1lab.sources import local_path
from r1lab.train.recipe import Recipe, RecipeError

# metrics.jsonl columns of an SFT run (our name: TRL's log key).
SFT_COLUMNS = {
    "loss": "loss",
    "token_accuracy": "mean_token_accuracy",
    "entropy": "entropy",
    "num_tokens": "num_tokens",
    "grad_norm": "grad_norm",
    "learning_rate": "learning_rate",
}


def sft_dataset(recipe: Recipe, dry_run: bool):
    """The recipe's prompt/completion rows (None in a dry run for hub data)."""
    import datasets

    task = recipe.task
    path = local_path(task.source)
    if path is None and dry_run:
        return None  # a hub dataset: a dry run does not contact the hub
    try:
        if path is not None:
            # Dataset.from_json/from_parquet, not load_dataset: the latter pings the hub to
            # count the "download" even for a local file, which an offline machine waits on.
            if path.suffix in (".jsonl", ".json"):
                rows = datasets.Dataset.from_json(str(path))
            elif path.suffix == ".parquet":
                rows = datasets.Dataset.from_parquet(str(path))
            else:
                raise RecipeError(f"recipe field `task.source`: {path} must be a .jsonl, .json "
                                  "or .parquet file of prompt/completion rows")
        else:
            rows = datasets.load_dataset(task.source, split="train")
    except (OSError, ValueError) as error:
        raise RecipeError(f"recipe field `task.source`: cannot load {task.source}: "
                          f"{error}") from None
    missing = {"prompt", "completion"} - set(rows.column_names)
    if missing:
        raise RecipeError(f"recipe field `task.source`: {task.source} lacks the column(s) "
                          f"{', '.join(sorted(missing))}; SFT needs prompt and completion")
    rows = rows.select_columns(["prompt", "completion"])
    return rows.select(range(min(task.n, len(rows))))
