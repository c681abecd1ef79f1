"""Rule-based rewards (R1 §2.2.2, §2.3.2), TRL reward functions ``f(completions, **columns)``.

R1-Zero uses rules, not a neural reward model: a neural reward model can be hacked by the
policy and must be retrained as the policy moves. All-scenario RL (§2.3.4) adds reward
models for general prompts (``RewardModelReward``, torch imported when it first scores).
"""

from r1lab.rewards.accuracy import accuracy_reward
from r1lab.rewards.assistant import for_kinds, harmless_reward, helpful_reward
from r1lab.rewards.combined import REWARD_KINDS, REWARDS, combined_reward
from r1lab.rewards.format import format_reward, readable_format_reward
from r1lab.rewards.language import language_consistency_reward
from r1lab.rewards.random_reward import random_reward
from r1lab.rewards.requests import has_chain_of_thought, request_reward
from r1lab.rewards.reward_model import RewardModelReward

__all__ = [
    "REWARDS",
    "REWARD_KINDS",
    "RewardModelReward",
    "accuracy_reward",
    "combined_reward",
    "for_kinds",
    "format_reward",
    "harmless_reward",
    "helpful_reward",
    "has_chain_of_thought",
    "language_consistency_reward",
    "random_reward",
    "readable_format_reward",
    "request_reward",
]
