"""r1lab's GRPO trainer: TRL's ``GRPOTrainer`` with a choice of log-prob implementation.

``loss_impl="torch"`` is TRL unchanged. ``loss_impl="triton"`` overrides one method,
``_get_per_token_logps_and_entropies``: the per-token log-probs and entropies, the only part of
the GRPO loss that touches the [B, T, V] logits, come from ``r1lab.kernels.fused_log_probs``
(one pass over the logits, the gradient written back into the logits' own memory). TRL's own
``_compute_loss`` then runs on those [B, T] log-probs, so every loss type, normalizer and
distributed metric stays TRL's.

Off a GPU the kernels run in Triton's interpreter when ``TRITON_INTERPRET=1`` (tests) and as
plain torch otherwise, with the same numbers.

Memory, honestly: TRL 1.16's own path never builds the [B, T, V] logits (it computes
log-probs from the hidden states through a chunked LM head), while this path asks the model
for bf16 logits and then needs nothing bigger than them. So ``triton`` saves memory against
logits-based paths (plain ``log_softmax``, older TRL), not against TRL 1.16's default; its
speed and memory are not yet measured on a GPU.
"""

from __future__ import annotations

import torch
from trl import GRPOTrainer

from r1lab.kernels import LOSS_IMPLS, fused_log_probs


class R1LabGRPOTrainer(GRPOTrainer):
    """``trl.GRPOTrainer`` plus ``loss_impl`` (``"torch"``: TRL's path; ``"triton"``: the kernel)."""

    def __init__(self, *args, loss_impl: str = "torch", **kwargs):
        if loss_impl not in LOSS_IMPLS:
            raise ValueError(f"loss_impl must be one of {LOSS_IMPLS}; got {loss_impl!r}")
        self.loss_impl = loss_impl
        super().__init__(*args, **kwargs)

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep,
                                           batch_size=None, compute_entropy=False,
                                           compute_aux_loss=False, **multimodal):
        if (self.loss_impl == "torch" or compute_aux_loss
                or any(value is not None for value in multimodal.values())):
            # MoE aux losses and vision inputs keep TRL's path (the recipe check refuses them
            # with triton; this guard keeps direct users of the class correct too).
            return super()._get_per_token_logps_and_entropies(
                model, input_ids, attention_mask, logits_to_keep, batch_size=batch_size,
                compute_entropy=compute_entropy, compute_aux_loss=compute_aux_loss, **multimodal)
        batch_size = batch_size or input_ids.size(0)  # TRL's chunking, for the same memory peak
        all_logps, all_entropies = [], []
        for start in range(0, input_ids.size(0), batch_size):
            ids = input_ids[start:start + batch_size]  # [b, P + T]
            attention = attention_mask[start:start + batch_size]  # [b, P + T]
            with self.accelerator.autocast():
                # T + 1 positions: the one before the first completion token predicts it.
                logits = model(input_ids=ids, attention_mask=attention,
                               logits_to_keep=logits_to_keep + 1, use_cache=False).logits
            logps, entropy = fused_log_probs(  # [b, T] fp32 each
                logits, ids[:, -logits_to_keep:], attention[:, -logits_to_keep:],
                temperature=self.temperature, compute_entropy=compute_entropy,
                inplace_backward=torch.is_grad_enabled())  # nothing else reads these logits
            all_logps.append(logps)
            all_entropies.append(entropy)
        logps = torch.cat(all_logps)  # [B, T]
        entropies = torch.cat(all_entropies) if compute_entropy else None
        return logps, entropies, None
