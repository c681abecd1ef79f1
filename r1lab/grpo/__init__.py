"""GRPO math in plain torch (R1 §2.2.1): the reference the trainer and the kernel must match."""

from r1lab.grpo.advantages import group_advantages
from r1lab.grpo.loss import IMPORTANCE_SAMPLING_LEVELS, LOSS_TYPES, grpo_loss

__all__ = ["IMPORTANCE_SAMPLING_LEVELS", "LOSS_TYPES", "grpo_loss", "group_advantages"]
