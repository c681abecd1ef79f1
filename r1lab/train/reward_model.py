"""The reward-model stage through TRL's ``RewardTrainer`` (R1 §2.3.4).

A recipe with ``stage: reward_model`` trains a sequence-classification model with one
output (a score) on preference pairs, the task ``preference_pairs``: rows of ``chosen`` and
``rejected`` responses, with or without a shared ``prompt`` (a local file, such as the tiny
world's ``data/preferences/helpful.jsonl``, or a hub dataset). TRL's loss is Bradley–Terry:
``-log sigmoid(r(chosen) - r(rejected))``; its log has the pair accuracy (how often the
chosen response scores higher). The saved ``final/`` folder is what a GRPO recipe names in
``reward_models`` (``r1lab.rewards.RewardModelReward``). The runner does the rest.
"""

from __future__ import annotations

from typing import Any

from r1lab.train.recipe import Recipe
from r1lab.train.stage import RowsStage

# metrics.jsonl columns of a reward-model run (our name: TRL's log key).
REWARD_MODEL_COLUMNS = {
    "loss": "loss",
    "pair_accuracy": "accuracy",
    "margin": "margin",
    "mean_reward": "mean_reward",
    "grad_norm": "grad_norm",
    "learning_rate": "learning_rate",
}


class RewardModelStage(RowsStage):
    name = "reward_model"
    label = "Reward model"
    tasks = ("preference_pairs",)
    step_key = "loss"
    shown = ("loss", "pair_accuracy")
    needed = ("chosen", "rejected")
    optional = ("prompt",)
    a_recipe = "a reward_model recipe"
    trains_on = "preference pairs"

    def config_class(self) -> type:
        from trl import RewardConfig

        return RewardConfig

    def columns(self, recipe: Recipe) -> dict[str, str]:
        return REWARD_MODEL_COLUMNS

    def trainer(self, plan) -> Any:
        from trl import RewardTrainer

        return RewardTrainer(model=plan.model, args=plan.args, train_dataset=plan.train_dataset,
                             peft_config=plan.peft_config)

    def describe(self, plan) -> list[str]:
        a = plan.args
        return [f"reward      batch/device={a.per_device_train_batch_size} "
                f"accumulation={a.gradient_accumulation_steps} lr={a.learning_rate} "
                f"epochs={a.num_train_epochs} max_length={a.max_length} "
                f"(Bradley-Terry, TRL's RewardTrainer)"]
