"""Weighted sum of rule rewards, as one TRL reward function."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from r1lab.rewards.accuracy import accuracy_reward
from r1lab.rewards.assistant import harmless_reward, helpful_reward
from r1lab.rewards.format import format_reward, readable_format_reward
from r1lab.rewards.language import language_consistency_reward
from r1lab.rewards.random_reward import random_reward
from r1lab.rewards.requests import request_reward

REWARDS: dict[str, Callable] = {
    "accuracy": accuracy_reward,
    "format": format_reward,  # R1-Zero's tags (R1 §2.2.2)
    "readable_format": readable_format_reward,  # the cold start's readable format (§2.3.1)
    "language": language_consistency_reward,  # needs the dataset column `target_lang`
    "request": request_reward,  # simple requests, answered without a CoT (§2.3.3)
    "random": random_reward,  # a coin toss: the spurious-rewards finding (notebook 11)
    # The rule truths of the general prompts (§2.3.4; r1lab.tasks.general): the measure a
    # reward model approximates, the control of the hacking experiment, a probe at weight 0.
    "helpful_rule": helpful_reward,  # requests: the summary states the reply plainly
    "harmless_rule": harmless_reward,  # private prompts: no digit, a polite decline
}

# The prompt kinds (dataset column `kind`, r1lab.tasks.general) each rule judges, where a
# batch mixes kinds (all-scenario RL, R1 §2.3.4); ``r1lab.rewards.for_kinds`` applies it.
REWARD_KINDS: dict[str, tuple[str, ...]] = {
    **{name: ("reasoning",) for name in ("accuracy", "format", "readable_format", "language",
                                         "random")},
    "request": ("request",),
    "helpful_rule": ("request",),
    "harmless_rule": ("private",),
}


def combined_reward(weights: Mapping[str, float]) -> Callable:
    """A reward function returning ``sum(weight * reward)`` over the named rewards.

    Names are keys of ``REWARDS``. Every component receives all the dataset columns and
    takes the ones it needs (``answer`` for accuracy, ``target_lang`` for language); the
    paper sums accuracy and language consistency directly (R1 §2.3.2). Like TRL's own
    weighting, a component that returns ``None`` for a completion is skipped; the total is
    ``None`` only when every component is. (TRL can also weight several reward functions
    itself via ``reward_weights``; one combined function is what the walkthrough's tables
    show.)

    >>> reward = combined_reward({"accuracy": 1.0, "format": 0.1})
    >>> reward(["<think>3*4=12, 2+12=14</think> <answer>14</answer>", "<answer>14</answer>"],
    ...        answer=["14", "14"])
    [1.1, 1.0]
    """
    if not isinstance(weights, Mapping) or not weights:
        raise ValueError(
            "combined_reward takes a non-empty mapping of reward name to weight, e.g. "
            f"{{'accuracy': 1.0, 'format': 0.1}}; got {weights!r}"
        )
    for name, weight in weights.items():
        if name not in REWARDS:
            raise ValueError(f"unknown reward {name!r}; choose from {sorted(REWARDS)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise ValueError(f"weight of {name!r} must be a number; got {weight!r}")

    def reward(completions, **columns) -> list[float | None]:
        parts = [
            [None if s is None else weight * s for s in REWARDS[name](completions, **columns)]
            for name, weight in weights.items()
        ]
        return [
            None if all(s is None for s in scores) else sum(s for s in scores if s is not None)
            for scores in zip(*parts)
        ]

    reward.__name__ = "combined_" + "_".join(weights)  # TRL logs rewards by __name__
    return reward
