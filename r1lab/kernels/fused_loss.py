"""The GRPO loss straight from the logits, without an [N, V] fp32 tensor.

``fused_log_probs`` is a ``torch.autograd.Function`` over the two Triton kernels of
``triton_logprobs``: it returns log π_θ(completion token) and the entropy per token, keeping one
fp32 log-sum-exp per token for the backward. ``fused_grpo_loss`` feeds those [B, T] log-probs to
``r1lab.grpo.grpo_loss``; the [B, T] math is cheap, so it stays in torch and is the very code the
reference runs. Autograd hands d(loss)/d(log p) per token back to the kernel, which rebuilds the
softmax tile by tile and writes d(logits).

Where the kernels run:
- logits on a CUDA device: compiled Triton kernels;
- ``interpret=True`` (or ``TRITON_INTERPRET=1`` in the environment): Triton's interpreter, on
  the CPU, slowly: for tests and for reading the kernel at tiny shapes;
- otherwise (CPU, or no triton installed): plain torch, ``log_softmax`` then ``grpo_loss``,
  with the same signature and results.
"""

from __future__ import annotations

import os

import torch

from r1lab.grpo import grpo_loss
from r1lab.grpo.loss import check_loss_inputs
from r1lab.kernels import triton_logprobs

LOGIT_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def _backend(logits: torch.Tensor, interpret: bool | None) -> str:
    """``interpreter``, ``triton`` (compiled, CUDA) or ``torch``."""
    if interpret is None:
        interpret = os.environ.get("TRITON_INTERPRET", "0") == "1"
    if interpret:
        if not triton_logprobs.triton_available():
            raise ImportError(
                "interpret=True runs the Triton kernels in Triton's interpreter, but triton is "
                "not installed: `pip install triton`, or pass interpret=False for the torch path"
            )
        return "interpreter"
    if logits.is_cuda and triton_logprobs.triton_available():
        return "triton"
    return "torch"


def _check_inputs(logits, completion_ids, mask, temperature):
    """Validate shapes and dtypes; returns logits as [B, L, V] (a view, never a copy)."""
    if completion_ids.dim() != 2:
        raise ValueError(
            f"completion_ids must be [B, T] (one token id per completion position); "
            f"got shape {tuple(completion_ids.shape)}"
        )
    B, T = completion_ids.shape
    if mask.shape != completion_ids.shape:
        raise ValueError(
            f"mask has shape {tuple(mask.shape)}; it must match completion_ids [B, T] = {[B, T]}"
        )
    if logits.dim() == 2:
        if logits.shape[0] != B * T:
            raise ValueError(
                f"logits [N, V] = {list(logits.shape)} needs N = B*T = {B * T} rows "
                f"(completion_ids is [B, T] = {[B, T]}); pass one row per completion token"
            )
        logits = logits.view(B, T, logits.shape[1])  # [B, T, V]
    elif logits.dim() != 3 or logits.shape[0] != B or logits.shape[1] < T:
        raise ValueError(
            f"logits has shape {tuple(logits.shape)}; with completion_ids [B, T] = {[B, T]} it "
            "must be [B, T, V] (row t predicts completion token t) or a causal LM's [B, L > T, V] "
            "(e.g. model(..., logits_to_keep=T + 1).logits: the last T + 1 positions, of which "
            "the very last predicts nothing)"
        )
    if logits.dtype not in LOGIT_DTYPES:
        raise ValueError(f"logits dtype must be one of {LOGIT_DTYPES}; got {logits.dtype}")
    if logits.stride(-1) != 1:
        raise ValueError(
            f"logits must be contiguous along the vocabulary (stride 1); got strides "
            f"{logits.stride()}: pass logits.contiguous()"
        )
    if completion_ids.dtype not in (torch.int32, torch.int64):
        raise ValueError(
            f"completion_ids must be int32 or int64 token ids; got {completion_ids.dtype}"
        )
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0 (the sampler's); got {temperature}")
    for name, tensor in (("completion_ids", completion_ids), ("mask", mask)):
        if tensor.device != logits.device:
            raise ValueError(
                f"{name} is on {tensor.device}; move it to the logits' device, {logits.device}"
            )
    active = mask != 0  # [B, T]
    scored = completion_ids[active]  # [n_active]
    V = logits.shape[-1]
    if scored.numel() and (scored.min() < 0 or scored.max() >= V):
        raise ValueError(
            f"completion_ids must lie in [0, V) = [0, {V}) where mask is 1; got ids from "
            f"{int(scored.min())} to {int(scored.max())} (check the tokenizer matches the model)"
        )
    return logits


def _scoring_positions(logits: torch.Tensor, T: int) -> slice:
    """The T positions of logits [B, L, V] that predict the completion tokens.

    A causal LM's position p predicts token p + 1, so with L > T the completion (the last T
    tokens of the input) is predicted by positions L - T - 1 ... L - 2.
    """
    L = logits.shape[1]
    first = 0 if L == T else L - T - 1
    return slice(first, first + T)


def _torch_log_probs(logits, completion_ids, active, temperature, compute_entropy):
    """The reference path: fp32 log_softmax over the whole vocabulary, then gather."""
    logits = logits[:, _scoring_positions(logits, completion_ids.shape[1])]  # [B, T, V]
    logps_all = torch.log_softmax(logits.float() / temperature, dim=-1)  # [B, T, V]
    ids = completion_ids.long().masked_fill(~active, 0)  # [B, T]
    logps = logps_all.gather(-1, ids.unsqueeze(-1)).squeeze(-1).masked_fill(~active, 0.0)  # [B, T]
    if not compute_entropy:
        return logps, None
    entropy = -(logps_all.exp() * logps_all).sum(-1).masked_fill(~active, 0.0)  # [B, T]
    return logps, entropy


def _block_size(V: int, block_size: int | None) -> int:
    if block_size is None:
        return min(triton_logprobs.DEFAULT_BLOCK, 1 << max(V - 1, 0).bit_length())
    if block_size < 1 or block_size & (block_size - 1):
        raise ValueError(f"block_size must be a power of 2 (Triton tiles); got {block_size}")
    return block_size


class _FusedLogProbs(torch.autograd.Function):
    """log p(completion token) and entropy per position; d(logits) by recomputing the softmax.

    It takes the whole logits [B, L, V], not a slice of them: autograd's backward of a slice
    would allocate a zero [B, L, V] gradient and copy into it, undoing the in-place saving.
    """

    @staticmethod
    def forward(ctx, logits, completion_ids, active, temperature, compute_entropy,
                inplace_backward, block, interpret):
        # entropy is often only logged: leave its gradient None then, not a [B, T] of zeros,
        # so the backward kernel skips the entropy term
        ctx.set_materialize_grads(False)
        scoring = _scoring_positions(logits, completion_ids.shape[1])
        logps, lse, entropy = triton_logprobs.logprob_forward(
            logits[:, scoring], completion_ids, active, temperature=temperature,
            with_entropy=compute_entropy, block=block, interpret=interpret,
        )  # [B, T] fp32 each
        if entropy is None:
            entropy = logps.new_empty(0)
            ctx.mark_non_differentiable(entropy)
        ctx.save_for_backward(logits, completion_ids, active, lse, entropy)
        ctx.scoring, ctx.temperature, ctx.inplace_backward = scoring, temperature, inplace_backward
        ctx.block, ctx.interpret = block, interpret
        return logps, entropy

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_logps, grad_entropy):
        logits, completion_ids, active, lse, entropy = ctx.saved_tensors
        if grad_logps is None:
            grad_logps = torch.zeros_like(lse)  # [B, T]
        if entropy.numel() == 0:
            grad_entropy = None
        elif grad_entropy is not None:
            grad_entropy = grad_entropy.float().contiguous()  # [B, T]
        if ctx.inplace_backward:
            grad_logits = logits  # [B, L, V]  the logits are overwritten by their gradient
            torch.autograd.graph.increment_version(logits)  # a later use of them now fails loudly
        else:
            grad_logits = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device)
        scoring = ctx.scoring
        grad_logits[:, :scoring.start].zero_()  # positions that predict no completion token
        grad_logits[:, scoring.stop:].zero_()
        triton_logprobs.logprob_backward(
            logits[:, scoring], grad_logits[:, scoring], completion_ids, active, lse,
            grad_logps.float().contiguous(), entropy, grad_entropy,
            temperature=ctx.temperature, block=ctx.block, interpret=ctx.interpret,
        )
        return grad_logits, None, None, None, None, None, None, None


def fused_log_probs(
    logits: torch.Tensor,
    completion_ids: torch.Tensor,
    mask: torch.Tensor,
    *,
    temperature: float = 1.0,
    compute_entropy: bool = True,
    inplace_backward: bool = False,
    block_size: int | None = None,
    interpret: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-token log π_θ and entropy of softmax(logits / temperature), differentiable.

    Args:
        logits: fp32/bf16/fp16 logits that predict ``completion_ids``: [B, T, V], [B*T, V], or
            a causal LM's [B, L > T, V] where position L - T - 1 + t predicts token t (pass
            ``model(..., logits_to_keep=T + 1).logits`` whole rather than a slice of it: the
            other positions get a zero gradient, written in place too).
        completion_ids: [B, T] sampled token ids.
        mask: [B, T] 1 for completion tokens, 0 for padding (padding rows are not read).
        temperature: the sampler's temperature τ; logits are divided by it in fp32.
        compute_entropy: also return H = -Σ p log p per token (gradient flows through it too).
        inplace_backward: write d(logits) into the logits' own memory. Saves one [B, T, V]
            buffer; the logits are destroyed by the backward, so nothing else may use them after.
            Ignored on the torch path.
        block_size: vocabulary tile of the kernels (a power of 2); default min(4096, V rounded up).
        interpret: run the Triton kernels in Triton's interpreter (CPU); default: whether
            ``TRITON_INTERPRET=1``. Off a GPU without it, plain torch computes the same numbers.

    Returns:
        ``(logps, entropy)``: fp32 [B, T] each, 0 where ``mask`` is 0; entropy is None unless
        ``compute_entropy``.

    >>> logits = torch.tensor([[[0.0, 0.0], [2.0, 0.0]]])  # [B=1, T=2, V=2]
    >>> logps, entropy = fused_log_probs(logits, torch.tensor([[0, 0]]), torch.ones(1, 2))
    >>> [round(p, 4) for p in logps.exp()[0].tolist()]  # 1/2, then e^2 / (e^2 + 1)
    [0.5, 0.8808]
    """
    logits = _check_inputs(logits, completion_ids, mask, temperature)  # [B, L, V]
    active = mask != 0  # [B, T]
    backend = _backend(logits, interpret)
    if backend == "torch":
        return _torch_log_probs(logits, completion_ids, active, temperature, compute_entropy)
    block = _block_size(logits.shape[-1], block_size)
    logps, entropy = _FusedLogProbs.apply(
        logits, completion_ids.contiguous(), active.to(torch.int32).contiguous(),
        float(temperature), compute_entropy, inplace_backward, block, backend == "interpreter",
    )
    return logps, (entropy if compute_entropy else None)


def fused_grpo_loss(
    logits: torch.Tensor,
    completion_ids: torch.Tensor,
    old_logps: torch.Tensor | None,
    ref_logps: torch.Tensor | None,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    temperature: float = 1.0,
    loss_type: str = "grpo",
    epsilon_low: float = 0.2,
    epsilon_high: float | None = None,
    delta: float | None = None,
    beta: float = 0.0,
    importance_sampling_level: str = "token",
    max_completion_length: int | None = None,
    num_items_in_batch: float | None = None,
    kl_importance_correction: bool = True,
    compute_entropy: bool = True,
    inplace_backward: bool = False,
    block_size: int | None = None,
    interpret: bool | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """``r1lab.grpo.grpo_loss`` of ``log_softmax(logits / temperature)`` at ``completion_ids``.

    The log-probs come from ``fused_log_probs`` (one pass over the logits, fp32 math, no
    [N, V] fp32 tensor); the loss knobs, their defaults and the metrics are ``grpo_loss``'s
    (see its docstring), plus ``entropy`` (masked mean over tokens, TRL's metric) when
    ``compute_entropy``. ``temperature``, ``inplace_backward`` (the backward overwrites the
    logits with their gradient), ``block_size`` and ``interpret`` are ``fused_log_probs``'s.

    >>> logits = torch.zeros(2, 3, 5)  # uniform: every log-prob is log(1/5)
    >>> loss, metrics = fused_grpo_loss(logits, torch.zeros(2, 3, dtype=torch.long), None,
    ...                                 None, torch.tensor([1.0, -1.0]), torch.ones(2, 3))
    >>> float(loss), round(metrics["entropy"], 4)  # ratios are 1, so loss = -mean(A); H = log 5
    (0.0, 1.6094)
    """
    check_loss_inputs(completion_ids.shape, old_logps, ref_logps, advantages, mask,
                      loss_type=loss_type, importance_sampling_level=importance_sampling_level,
                      beta=beta, max_completion_length=max_completion_length,
                      epsilon_low=epsilon_low, epsilon_high=epsilon_low if epsilon_high is None
                      else epsilon_high, like="completion_ids")
    logps, entropy = fused_log_probs(
        logits, completion_ids, mask, temperature=temperature, compute_entropy=compute_entropy,
        inplace_backward=inplace_backward, block_size=block_size, interpret=interpret,
    )  # [B, T] fp32 each
    loss, metrics = grpo_loss(
        logps, old_logps, ref_logps, advantages, mask,
        loss_type=loss_type, epsilon_low=epsilon_low, epsilon_high=epsilon_high, beta=beta,
        importance_sampling_level=importance_sampling_level, delta=delta,
        max_completion_length=max_completion_length, num_items_in_batch=num_items_in_batch,
        kl_importance_correction=kl_importance_correction,
    )
    if entropy is not None:
        with torch.no_grad():
            weights = mask.to(entropy.dtype)  # [B, T]
            metrics["entropy"] = ((entropy * weights).sum() / weights.sum().clamp(min=1.0)).item()
    return loss, metrics
