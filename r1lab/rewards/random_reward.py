"""A spurious reward for the findings lab (notebook 11): a coin toss, blind to the answer.

Shao et al. ("Spurious Rewards", arXiv 2506.10947) trained Qwen2.5-Math-7B with a reward that
is 1 with probability gamma and 0 otherwise, whatever the model wrote, and still gained 21.4
points on MATH-500. This is that reward, gamma = 0.5 as in their headline run.

The coin is Python's ``random`` module: ``transformers.set_seed`` (called by every trainer
from ``trainer.seed``) seeds it, so a run is repeatable and each seed tosses its own coins.
"""

from __future__ import annotations

import random

GAMMA = 0.5  # probability of a reward of 1 (the paper's headline setting)


def random_reward(completions, **columns) -> list[float]:
    """1.0 with probability ``GAMMA``, else 0.0, for each completion, ignoring its text.

    >>> random.seed(0); random_reward(["<answer>14</answer>"] * 6)
    [0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    """
    return [float(random.random() < GAMMA) for _ in completions]
