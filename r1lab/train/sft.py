"""The SFT stage through TRL's ``SFTTrainer``: cold start (R1 §2.3.1) and, later, the
rejection-sampling SFT (§2.3.3) and distillation (§2.4).

A recipe with ``stage: sft`` trains on rows of ``prompt`` and ``completion`` (the task
``prompt_completion``, from a local file or a hub dataset) with the loss on the completion
only, like the paper's SFT on responses. Rows of ``messages`` alone (a chat, as teacher
datasets on the hub ship R1's samples, e.g. ``open-r1/OpenR1-Math-220k``) are read as the
chat so far (prompt) and its last, assistant turn (completion), in TRL's conversational form. Full fine-tuning by default; ``peft`` gives LoRA,
``quantization`` QLoRA (GPU). A LoRA run saves a merged model in ``final/``, so the next
stage starts from a whole model. The runner (``r1lab.train.runner``) does the rest.
"""

from __future__ import annotations

from typing import Any

from r1lab.train.recipe import Recipe, RecipeError
from r1lab.train.stage import RowsStage, source_rows

# metrics.jsonl columns of an SFT run (our name: TRL's log key).
SFT_COLUMNS = {
    "loss": "loss",
    "token_accuracy": "mean_token_accuracy",
    "entropy": "entropy",
    "num_tokens": "num_tokens",
    "grad_norm": "grad_norm",
    "learning_rate": "learning_rate",
}


MESSAGES = "messages"


def _chat_problem(chat) -> str | None:
    """Why a ``messages`` value is not a chat ending in the assistant's answer (None if it is)."""
    if not isinstance(chat, list) or len(chat) < 2 or not all(
            isinstance(turn, dict) and isinstance(turn.get("content"), str) for turn in chat):
        return (f"{MESSAGES} must be a list of at least two turns, each "
                f"{{\"role\": …, \"content\": text}}; got {chat!r:.200}")
    if chat[-1].get("role") != "assistant":
        return f"the last turn of {MESSAGES} must be the assistant's answer; got role " \
               f"{chat[-1].get('role')!r}"
    return None


class SFTStage(RowsStage):
    name = "sft"
    label = "SFT"
    tasks = ("prompt_completion",)
    step_key = "loss"
    shown = ("loss", "token_accuracy")
    needed = ("prompt", "completion")
    a_recipe = "an sft recipe"
    trains_on = "finished completions"

    def dataset(self, recipe, dry_run: bool) -> Any:
        """The recipe's rows (None in a dry run for hub data); a ``messages`` source becomes
        conversational prompt-completion rows."""
        rows = source_rows(recipe, dry_run, (), optional=(*self.needed, MESSAGES))
        if rows is None:
            return None
        columns = set(rows.column_names)
        if set(self.needed) <= columns:
            return rows.select_columns(list(self.needed))
        if MESSAGES not in columns:
            missing = ", ".join(sorted(set(self.needed) - columns))
            raise RecipeError(f"recipe field `task.source`: {recipe.task.source} lacks the "
                              f"column(s) {missing} and has no {MESSAGES} column; stage sft "
                              f"trains on finished completions (prompt, completion) or on "
                              f"chats ending in the answer ({MESSAGES})")
        for index, chat in enumerate(rows[MESSAGES]):
            problem = _chat_problem(chat)
            if problem:
                raise RecipeError(f"recipe field `task.source`: {recipe.task.source} row "
                                  f"{index}: {problem}")
        # TRL's SFTTrainer would train a messages row on every turn; the paper's SFT puts the
        # loss on the response only, which TRL does for prompt-completion rows.
        return rows.map(lambda row: {"prompt": row[MESSAGES][:-1],
                                     "completion": row[MESSAGES][-1:]},
                        remove_columns=[MESSAGES])

    def config_class(self) -> type:
        from trl import SFTConfig

        return SFTConfig

    def config_kwargs(self, recipe: Recipe) -> dict:
        # R1 §2.3.1 fine-tunes on the responses: no loss on the prompt tokens.
        return {} if "completion_only_loss" in recipe.trainer else {"completion_only_loss": True}

    def columns(self, recipe: Recipe) -> dict[str, str]:
        return SFT_COLUMNS

    def trainer(self, plan) -> Any:
        from trl import SFTTrainer

        return SFTTrainer(model=plan.model, args=plan.args, train_dataset=plan.train_dataset,
                          peft_config=plan.peft_config)

    def describe(self, plan) -> list[str]:
        a = plan.args
        return [f"SFT         batch/device={a.per_device_train_batch_size} "
                f"accumulation={a.gradient_accumulation_steps} lr={a.learning_rate} "
                f"epochs={a.num_train_epochs} completion-only loss={a.completion_only_loss} "
                f"max_length={a.max_length}"]
