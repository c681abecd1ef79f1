"""r1lab's GRPO trainer: TRL's ``GRPOTrainer`` with a choice of log-prob implementation.

``loss_impl="torch"`` is TRL unchanged: since TRL 1.16 its fused LM head computes the per-token
log-probs from the hidden states in tiles (``trl.trainer.utils.add_fused_lm_head``).
``loss_impl="triton"`` overrides one method, ``_get_per_token_logps_and_entropies``: the model
runs up to its last hidden states (its LM head on one position only), and
``r1lab.kernels.fused_linear_log_probs`` turns the hidden states at the completion positions and
the LM head's weight into log-probs and entropies, keeping every tile of logits in registers
instead of TRL's [4,096 x 32,768] tile buffer. TRL's own ``_compute_loss`` then runs on those
[B, T] log-probs, so every loss type, normalizer and distributed metric stays TRL's.

The model is called whole (``output_hidden_states=True``), never its backbone alone, so DDP and
FSDP wrappers see their forward. Heads that scale or soft-cap their logits, or carry a bias, are
refused at construction (TRL's head handles them; this kernel does not).

Off a GPU the kernels run in Triton's interpreter when ``TRITON_INTERPRET=1`` (tests) and as
plain torch otherwise, with the same numbers.
"""

from __future__ import annotations

import torch
from trl import GRPOTrainer

from r1lab.kernels import LOSS_IMPLS, fused_linear_log_probs

# Config fields with which a model scales or soft-caps its logits (TRL's fused head reads them).
LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "output_multiplier",
                    "lm_head_multiplier", "logits_scaling")


class R1LabGRPOTrainer(GRPOTrainer):
    """``trl.GRPOTrainer`` plus ``loss_impl`` (``"torch"``: TRL's path; ``"triton"``: the kernel)."""

    def __init__(self, *args, loss_impl: str = "torch", **kwargs):
        if loss_impl not in LOSS_IMPLS:
            raise ValueError(f"loss_impl must be one of {LOSS_IMPLS}; got {loss_impl!r}")
        self.loss_impl = loss_impl
        super().__init__(*args, **kwargs)
        if loss_impl == "triton":
            check_plain_lm_head(self.model)
            check_unsharded_head(self.accelerator)

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
        head = self.accelerator.unwrap_model(model).get_output_embeddings()
        all_logps, all_entropies = [], []
        for start in range(0, input_ids.size(0), batch_size):
            ids = input_ids[start:start + batch_size]  # [b, P + T]
            attention = attention_mask[start:start + batch_size]  # [b, P + T]
            with self.accelerator.autocast():
                # the LM head runs on one position; the kernel scores the others from hidden
                output = model(input_ids=ids, attention_mask=attention, logits_to_keep=1,
                               use_cache=False, output_hidden_states=True)
            # position p predicts token p + 1: the T positions before the completion's end
            hidden = output.hidden_states[-1][:, -logits_to_keep - 1:-1]  # [b, T, H]
            weight = head.weight  # [V, H]
            if self.args.cast_lm_head_to_fp32:
                hidden, weight = hidden.float(), weight.float()
            logps, entropy = fused_linear_log_probs(  # [b, T] fp32 each
                hidden, weight, ids[:, -logits_to_keep:], self.temperature,
                mask=attention[:, -logits_to_keep:], compute_entropy=compute_entropy)
            all_logps.append(logps)
            all_entropies.append(entropy)
        logps = torch.cat(all_logps)  # [B, T]
        entropies = torch.cat(all_entropies) if compute_entropy else None
        return logps, entropies, None


def check_unsharded_head(accelerator) -> None:
    """Refuse sharded LM heads: the kernel reads ``W`` directly, and FSDP or DeepSpeed ZeRO-3
    hand it one shard (TRL's head gathers it; this path does not)."""
    from accelerate.utils import DistributedType
    from transformers.integrations.deepspeed import is_deepspeed_zero3_enabled

    if accelerator.distributed_type == DistributedType.FSDP or is_deepspeed_zero3_enabled():
        raise ValueError("loss_impl: triton reads the LM head's weight whole, but FSDP / "
                         "DeepSpeed ZeRO-3 shard it across processes. Use loss_impl: torch "
                         "(TRL's fused head gathers it), or DDP / ZeRO-2")


def check_plain_lm_head(model) -> None:
    """Refuse, with the way out, a model whose LM head is more than ``hidden @ W.T``."""
    config = model.config.get_text_config()
    transforms = {name: getattr(config, name) for name in LOGIT_TRANSFORMS
                  if getattr(config, name, None) not in (None, 1, 1.0)}
    head = model.get_output_embeddings()
    if head is None or getattr(head, "bias", None) is not None or transforms:
        why = ("it has no output embedding" if head is None else
               "its LM head has a bias" if getattr(head, "bias", None) is not None else
               f"its config transforms the logits ({transforms})")
        raise ValueError(f"loss_impl: triton computes log-probs as softmax(hidden @ W.T / τ), "
                         f"but this model's head is more than that: {why}. Use loss_impl: torch "
                         "(TRL's fused head handles it)")
