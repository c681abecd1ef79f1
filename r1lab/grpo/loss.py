"""The GRPO objective (R1 §2.2.1) as a loss over per-token log-probabilities.

Per token t of completion i, with r = π_θ/π_old (the importance ratio) and A_i the
group-relative advantage:

    loss_it = -min(r·A_i, clip(r, 1-ε_low, 1+ε_high)·A_i) + β·KL_it
    KL_it   = π_ref/π_θ - log(π_ref/π_θ) - 1          (k3: unbiased, always >= 0)

then averaged over tokens in one of four ways (``loss_type``). The numbers are those of
TRL's ``GRPOTrainer`` for one process, one micro-batch and no gradient accumulation
(``tests/test_grpo_trl.py`` checks this against TRL's own code).
"""

from __future__ import annotations

import torch

LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")
IMPORTANCE_SAMPLING_LEVELS = ("token", "sequence")


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over active tokens; a [B, 1] sequence-level tensor is averaged over sequences."""
    if x.shape[1] == 1:
        return x.mean()
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def _per_sequence(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B] mean over each sequence's active tokens (NaN for an empty sequence)."""
    if x.shape[1] == 1:
        return x.squeeze(1)
    return (x * mask).sum(-1) / mask.sum(-1)


def _nan_extreme(x: torch.Tensor, largest: bool) -> torch.Tensor:
    finite = x[~x.isnan()]
    if finite.numel() == 0:
        return x.new_tensor(float("nan"))
    return finite.max() if largest else finite.min()


def check_loss_inputs(shape, old_logps, ref_logps, advantages, mask, *, loss_type: str,
                      importance_sampling_level: str, beta: float,
                      max_completion_length: int | None, epsilon_low: float = 0.0,
                      epsilon_high: float = 0.0, like: str = "logps") -> None:
    """Raise ``ValueError`` naming the argument for knobs or tensors the loss cannot take.

    ``shape`` is the [B, T] every per-token tensor must have, the shape of the tensor named
    ``like`` (``logps`` here; ``completion_ids`` for the fused kernel, which checks its
    inputs with this function before it runs).
    """
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {LOSS_TYPES}; got {loss_type!r}")
    if importance_sampling_level not in IMPORTANCE_SAMPLING_LEVELS:
        raise ValueError(f"importance_sampling_level must be one of "
                         f"{IMPORTANCE_SAMPLING_LEVELS}; got {importance_sampling_level!r}")
    if len(shape) != 2:
        raise ValueError(f"{like} must be [B, T] per-token values; got shape {tuple(shape)}")
    B, T = shape
    for name, tensor in (("old_logps", old_logps), ("ref_logps", ref_logps), ("mask", mask)):
        if tensor is not None and tuple(tensor.shape) != (B, T):
            raise ValueError(f"{name} has shape {tuple(tensor.shape)}; it must be [B, T] = "
                             f"{[B, T]} like {like} (one value per completion token)")
    if advantages.shape not in ((B,), (B, 1)):
        raise ValueError(f"advantages must be [B] = [{B}] (one per completion); "
                         f"got {tuple(advantages.shape)}")
    if beta != 0.0 and ref_logps is None:
        raise ValueError("beta != 0 needs ref_logps (the reference model's per-token log-probs)")
    if loss_type == "dr_grpo" and not max_completion_length:
        raise ValueError("loss_type 'dr_grpo' divides by max_completion_length: pass it")
    if epsilon_low < 0 or epsilon_high < 0:
        raise ValueError(f"clip epsilons must be >= 0; got {epsilon_low}, {epsilon_high}")


def grpo_loss(
    logps: torch.Tensor,
    old_logps: torch.Tensor | None,
    ref_logps: torch.Tensor | None,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    loss_type: str = "grpo",
    epsilon_low: float = 0.2,
    epsilon_high: float | None = None,
    beta: float = 0.0,
    importance_sampling_level: str = "token",
    delta: float | None = None,
    max_completion_length: int | None = None,
    num_items_in_batch: float | None = None,
    kl_importance_correction: bool = True,
) -> tuple[torch.Tensor, dict[str, float]]:
    """GRPO loss and the metrics TRL logs for it.

    Args:
        logps: [B, T] log π_θ of each completion token (requires grad).
        old_logps: [B, T] log π_old at sampling time; None = on-policy (``logps`` detached,
            so the ratio is 1 but its gradient is not 0).
        ref_logps: [B, T] log π_ref of the frozen reference; needed when ``beta != 0``.
        advantages: [B] one advantage per completion (``group_advantages``).
        mask: [B, T] 1 for completion tokens, 0 for padding.
        loss_type: how per-token losses become one number —
            ``grpo``: mean over each sequence's tokens, then over sequences (the paper);
            ``bnpo``: mean over all tokens in the batch;
            ``dr_grpo``: sum / (B * max_completion_length) (Dr. GRPO, no length bias);
            ``dapo``: sum / ``num_items_in_batch`` (tokens in the whole generation batch;
            defaults to this batch's token count).
        epsilon_low, epsilon_high: clip range [1-ε_low, 1+ε_high]; ε_high defaults to ε_low.
            0.2 is PPO's and DeepSeekMath's value (R1 §2.2.1 writes ε without a number).
        beta: KL coefficient (DeepSeekMath's GRPO: 0.04; TRL's default 0.0 skips the
            reference model).
        importance_sampling_level: ``token`` ratio per token, or ``sequence`` (GSPO): one
            ratio per completion, exp(mean of the token log-ratios).
        delta: optional upper bound on the unclipped ratio (two-sided clipping).
        max_completion_length: the sampler's length limit, for ``dr_grpo``.
        num_items_in_batch: token count for the ``dapo`` normalizer.
        kl_importance_correction: multiply the KL by the ratio (TRL's
            ``use_bias_correction_kl``, default True) so its gradient is unbiased off-policy.

    Returns:
        ``(loss, metrics)``: the scalar loss and floats ``kl`` (when β != 0),
        ``clip_ratio/low_mean``, ``clip_ratio/high_mean``, ``clip_ratio/region_mean``,
        ``clip_ratio/low_min``, ``clip_ratio/high_max`` — TRL's names and formulas.

    >>> logps = torch.log(torch.tensor([[0.5, 0.5], [0.25, 0.25]]))
    >>> loss, metrics = grpo_loss(logps, None, None, torch.tensor([1.0, -1.0]),
    ...                           torch.ones(2, 2))
    >>> float(loss)  # ratios are 1: the loss is -mean(A) = 0, but its gradient is not
    0.0
    """
    epsilon_high = epsilon_low if epsilon_high is None else epsilon_high
    check_loss_inputs(logps.shape, old_logps, ref_logps, advantages, mask, loss_type=loss_type,
                      importance_sampling_level=importance_sampling_level, beta=beta,
                      max_completion_length=max_completion_length, epsilon_low=epsilon_low,
                      epsilon_high=epsilon_high)
    mask = mask.to(logps.dtype)  # [B, T]
    old_logps = logps.detach() if old_logps is None else old_logps  # [B, T]
    advantages = advantages.reshape(-1, 1).to(logps.dtype)  # [B, 1]

    log_ratio = logps - old_logps  # [B, T]
    if importance_sampling_level == "token":
        log_weights = log_ratio  # [B, T]
    else:
        log_weights = ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).unsqueeze(-1)  # [B, 1]
    ratio = torch.exp(log_weights)  # [B, T] or [B, 1]

    if beta != 0.0:
        ref_delta = ref_logps - logps  # [B, T]  log(π_ref/π_θ)
        per_token_kl = torch.exp(ref_delta) - ref_delta - 1  # [B, T]  k3 estimator
        if kl_importance_correction:
            per_token_kl = per_token_kl * ratio

    clipped = torch.clamp(ratio, 1 - epsilon_low, 1 + epsilon_high)
    unclipped = ratio if delta is None else torch.clamp(ratio, max=delta)
    per_token_loss = -torch.min(unclipped * advantages, clipped * advantages)  # [B, T] or [B, 1]
    if beta != 0.0:
        per_token_loss = per_token_loss + beta * per_token_kl  # [B, T]

    if loss_type == "grpo":
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
    elif loss_type == "dr_grpo":
        loss = (per_token_loss * mask).sum() / (per_token_loss.size(0) * max_completion_length)
    else:  # dapo
        tokens = mask.sum() if num_items_in_batch is None else torch.as_tensor(num_items_in_batch)
        loss = (per_token_loss * mask).sum() / tokens.clamp(min=1.0)

    with torch.no_grad():
        low = ((ratio < 1 - epsilon_low) & (advantages < 0)).to(logps.dtype)
        high = ((ratio > 1 + epsilon_high) & (advantages > 0)).to(logps.dtype)
        region = ((low + high) > 0).to(logps.dtype)
        metrics = {
            "clip_ratio/low_mean": _masked_mean(low, mask).item(),
            "clip_ratio/high_mean": _masked_mean(high, mask).item(),
            "clip_ratio/region_mean": _masked_mean(region, mask).item(),
            "clip_ratio/low_min": _nan_extreme(_per_sequence(low, mask), largest=False).item(),
            "clip_ratio/high_max": _nan_extreme(_per_sequence(high, mask), largest=True).item(),
        }
        if beta != 0.0:
            metrics["kl"] = _masked_mean(per_token_kl, mask).item()
    return loss, metrics
