"""Rule-based rewards (R1 §2.2.2, §2.3.2), TRL reward functions ``f(completions, **columns)``.

R1-Zero uses rules, not a neural reward model: a neural reward model can be hacked by the
policy and must be retrained as the policy moves.
"""

from r1lab.rewards.accuracy import accuracy_reward
from r1lab.rewards.combined import REWARDS, combined_reward
from r1lab.rewards.format import format_reward, readable_format_reward
from r1lab.rewards.language import language_consistency_reward
from r1lab.rewards.requests import has_chain_of_thought, request_reward

__all__ = [
    "REWARDS",
    "accuracy_reward",
    "combined_reward",
    "format_reward",
    "has_chain_of_thought",
    "language_consistency_reward",
    "readable_format_reward",
    "request_reward",
]
