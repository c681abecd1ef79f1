"""The Triton GRPO kernels: per-token log-probs from the LM head's input, and the GRPO loss
(R1 §2.2.1) straight from the logits.

``fused_linear_log_probs`` (what ``loss_impl: triton`` trains with) takes the hidden states and
the LM head's weight and never makes the [tokens x vocab] logits (``fused_linear``).

``fused_grpo_loss`` equals ``r1lab.grpo.grpo_loss`` applied to
``log_softmax(logits / temperature)`` gathered at the completion tokens, without making the
[N, V] fp32 log-softmax: one pass over the logits gives each token's log-prob and entropy, one
more rebuilds the softmax from a saved log-sum-exp and writes d(logits). Off a GPU it runs
Triton's interpreter when asked (``interpret=True``) and plain torch otherwise.
"""

from r1lab.kernels.fused_linear import fused_linear_log_probs
from r1lab.kernels.fused_loss import fused_grpo_loss, fused_log_probs

LOSS_IMPLS = ("torch", "triton")
"""A GRPO recipe's ``loss_impl``: TRL's own per-token log-probs (its fused LM head), or
``fused_linear_log_probs``."""

__all__ = ["LOSS_IMPLS", "fused_grpo_loss", "fused_linear_log_probs", "fused_log_probs"]
