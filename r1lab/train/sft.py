"""The SFT stage through TRL's ``SFTTrainer``: cold start (R1 §2.3.1) and, later, the
rejection-sampling SFT (§2.3.3) and distillation (§2.4).

A recipe with ``stage: sft`` trains on rows of ``prompt`` and ``completion`` (the task
``prompt_completion``, from a local file or a hub dataset) with the loss on the completion
only, like the paper's SFT on responses. Full fine-tuning by default; ``peft`` gives LoRA,
``quantization`` QLoRA (GPU). A LoRA run saves a merged model in ``final/``, so the next
stage starts from a whole model. The runner (``r1lab.train.runner``) does the rest.
"""

from __future__ import annotations

from typing import Any

from r1lab.train.recipe import Recipe
from r1lab.train.stage import RowsStage

# metrics.jsonl columns of an SFT run (our name: TRL's log key).
SFT_COLUMNS = {
    "loss": "loss",
    "token_accuracy": "mean_token_accuracy",
    "entropy": "entropy",
    "num_tokens": "num_tokens",
    "grad_norm": "grad_norm",
    "learning_rate": "learning_rate",
}


class SFTStage(RowsStage):
    name = "sft"
    label = "SFT"
    tasks = ("prompt_completion",)
    step_key = "loss"
    shown = ("loss", "token_accuracy")
    needed = ("prompt", "completion")
    a_recipe = "an sft recipe"
    trains_on = "finished completions"

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
