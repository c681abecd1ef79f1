"""Per-token log-probs straight from the LM head's input: no [tokens x vocab] logits, ever.

``fused_linear_log_probs(hidden, lm_head_weight, completion_ids)`` equals
``log_softmax((hidden @ W.T) / temperature)`` gathered at the completion ids (and the entropy
of that softmax), with gradients for ``hidden`` and ``W``. It is a ``torch.autograd.Function``
over the kernels of ``triton_linear``: the forward keeps one or two fp32 floats per token (the
log-sum-exp, and the entropy when asked), the backward recomputes the logits tile by tile and
accumulates d(hidden) and d(W) in fp32.

This is what TRL 1.16 does by default (``trl.trainer.utils.add_fused_lm_head``: cuBLAS on
[4,096 tokens x 32,768 vocab] tiles, a Triton fold for the log-sum-exp), with one difference
that matters for memory: TRL keeps each tile of logits in a buffer in GPU memory (256 MiB in
bf16), these kernels keep it in registers. ``r1lab.kernels.memory`` counts both, by shape and by
allocation hooks.

Where it runs: CUDA tensors with triton installed, the compiled kernels; ``interpret=True`` (or
``TRITON_INTERPRET=1``), Triton's interpreter on the CPU in fp32 (tests, tiny shapes); anything
else, plain torch (``log_softmax`` of the full fp32 logits: same numbers, no memory saving).
"""

from __future__ import annotations

import torch

from r1lab.kernels import triton_linear
from r1lab.kernels.fused_loss import _backend

HIDDEN_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def _check(hidden, weight, completion_ids, mask, temperature):
    if hidden.dim() < 2:
        raise ValueError(f"hidden must be [..., H] (one row per scored token); got shape "
                         f"{tuple(hidden.shape)}")
    if hidden.shape[:-1] != completion_ids.shape:
        raise ValueError(
            f"hidden {tuple(hidden.shape)} must be completion_ids' shape "
            f"{tuple(completion_ids.shape)} plus H: row t is the hidden state that predicts "
            "token t (for a causal LM, the position just before it)")
    if weight.dim() != 2 or weight.shape[1] != hidden.shape[-1]:
        raise ValueError(f"lm_head_weight must be [V, H] with H = {hidden.shape[-1]} (the "
                         f"hidden size); got shape {tuple(weight.shape)}")
    if mask is not None and mask.shape != completion_ids.shape:
        raise ValueError(f"mask has shape {tuple(mask.shape)}; it must match completion_ids "
                         f"{tuple(completion_ids.shape)}")
    for name, tensor in (("hidden", hidden), ("lm_head_weight", weight)):
        if tensor.dtype not in HIDDEN_DTYPES:
            raise ValueError(f"{name} dtype must be one of {HIDDEN_DTYPES}; got {tensor.dtype}")
    if completion_ids.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"completion_ids must be int32 or int64 token ids; got "
                         f"{completion_ids.dtype}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0 (the sampler's); got {temperature}")
    for name, tensor in (("lm_head_weight", weight), ("completion_ids", completion_ids),
                         ("mask", mask)):
        if tensor is not None and tensor.device != hidden.device:
            raise ValueError(f"{name} is on {tensor.device}; move it to hidden's device, "
                             f"{hidden.device}")


class _FusedLinearLogProbs(torch.autograd.Function):
    """log p(token) and entropy per row of hidden [n, H]; d(hidden), d(W) by recomputation."""

    @staticmethod
    def forward(ctx, hidden, weight, ids, temperature, with_entropy, blocks, interpret):
        # entropy is often only logged: leave its gradient None, so the backward skips its term
        ctx.set_materialize_grads(False)
        # the interpreter has no bf16 arithmetic: it reads fp32 copies (tiny shapes only)
        run_hidden = (hidden.float() if interpret else hidden).contiguous()  # [n, H]
        run_weight = (weight.float() if interpret else weight).contiguous()  # [V, H]
        logps, lse, entropy = triton_linear.linear_forward(
            run_hidden, run_weight, ids, temperature=temperature, with_entropy=with_entropy,
            blocks=blocks, interpret=interpret)  # [n] fp32 each
        if entropy is None:
            entropy = logps.new_empty(0)
            ctx.mark_non_differentiable(entropy)
        ctx.save_for_backward(run_hidden, run_weight, ids, lse, entropy)
        ctx.dtypes = hidden.dtype, weight.dtype
        ctx.temperature, ctx.blocks, ctx.interpret = temperature, blocks, interpret
        return logps, entropy

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_logps, grad_entropy):
        hidden, weight, ids, lse, entropy = ctx.saved_tensors
        need_hidden, need_weight = ctx.needs_input_grad[:2]
        if grad_logps is None:
            grad_logps = torch.zeros_like(lse)  # [n]
        if entropy.numel() == 0 or grad_entropy is None:
            grad_entropy = None
        else:
            grad_entropy = grad_entropy.float().contiguous()  # [n]
        grad_hidden, grad_weight = triton_linear.linear_backward(
            hidden, weight, ids, lse, grad_logps.float().contiguous(), entropy, grad_entropy,
            temperature=ctx.temperature, blocks=ctx.blocks, interpret=ctx.interpret,
            need_hidden=need_hidden, need_weight=need_weight)  # fp32 [n, H], [V, H]
        hidden_dtype, weight_dtype = ctx.dtypes
        return (None if grad_hidden is None else grad_hidden.to(hidden_dtype),
                None if grad_weight is None else grad_weight.to(weight_dtype),
                None, None, None, None, None)


def _torch_linear_log_probs(hidden, weight, ids, temperature, compute_entropy):
    """The reference: fp32 logits [n, V], log_softmax, gather (memory as the plain path)."""
    logps_all = torch.log_softmax(hidden.float() @ weight.float().T / temperature, dim=-1)
    logps = logps_all.gather(-1, ids.long().unsqueeze(-1)).squeeze(-1)  # [n]
    entropy = -(logps_all.exp() * logps_all).sum(-1) if compute_entropy else None  # [n]
    return logps, entropy


def fused_linear_log_probs(
    hidden: torch.Tensor,
    lm_head_weight: torch.Tensor,
    completion_ids: torch.Tensor,
    temperature: float = 1.0,
    *,
    mask: torch.Tensor | None = None,
    compute_entropy: bool = False,
    blocks: dict[str, int] | None = None,
    interpret: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-token log π_θ (and entropy) of softmax((hidden @ W.T) / τ), differentiable.

    Args:
        hidden: [..., H] the LM head's input, row t predicting ``completion_ids`` t (for a
            causal LM: the last hidden states at the positions just before each token).
        lm_head_weight: [V, H] the output embedding (``model.get_output_embeddings().weight``);
            its gradient is computed when it requires one.
        completion_ids: [...] token ids, hidden's shape without H.
        temperature: the sampler's τ; logits are divided by it in fp32.
        mask: optional, completion_ids' shape; rows where it is 0 are not computed (their
            outputs are 0 and they get no gradient), as TRL's fused head scores valid rows only.
        compute_entropy: also return H = -Σ p log p per token (gradient flows through it too).
        blocks: the kernels' tiles ``{"BLOCK_N", "BLOCK_V", "BLOCK_H"}`` (powers of 2, >= 16);
            default ``triton_linear.GPU_BLOCKS`` (``INTERPRETER_BLOCKS`` in the interpreter).
        interpret: Triton's interpreter on the CPU; default: whether ``TRITON_INTERPRET=1``.

    Returns:
        ``(logps, entropy)``: fp32, completion_ids' shape, 0 where ``mask`` is 0; entropy is
        None unless ``compute_entropy``.

    >>> hidden = torch.tensor([[1.0, 0.0], [0.0, 2.0]])  # [N=2, H=2]
    >>> weight = torch.eye(2)  # [V=2, H=2]: the logits are hidden itself
    >>> logps, _ = fused_linear_log_probs(hidden, weight, torch.tensor([0, 1]))
    >>> [round(p, 4) for p in logps.exp().tolist()]  # e/(e+1), then e^2/(e^2+1)
    [0.7311, 0.8808]
    """
    _check(hidden, lm_head_weight, completion_ids, mask, temperature)
    shape = completion_ids.shape
    active = (torch.ones(shape, dtype=torch.bool, device=hidden.device) if mask is None
              else mask != 0)
    rows, ids = hidden[active], completion_ids[active]  # [n, H], [n]
    V = lm_head_weight.shape[0]
    if ids.numel() and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"completion_ids must lie in [0, V) = [0, {V}) where mask is 1; got ids "
                         f"from {int(ids.min())} to {int(ids.max())} (check the tokenizer "
                         "matches the model)")
    backend = _backend(hidden, interpret)
    if backend == "torch" or ids.numel() == 0:
        logps, entropy = _torch_linear_log_probs(rows, lm_head_weight, ids, temperature,
                                                 compute_entropy)
    else:
        interpreted = backend == "interpreter"
        chosen = blocks or (triton_linear.INTERPRETER_BLOCKS if interpreted
                            else triton_linear.GPU_BLOCKS)
        logps, entropy = _FusedLinearLogProbs.apply(
            rows, lm_head_weight, ids.contiguous(), float(temperature), compute_entropy,
            dict(chosen), interpreted)

    def place(values):  # back to completion_ids' shape; stays connected even with no rows
        return values.new_zeros(shape).masked_scatter(active, values)

    return place(logps), (place(entropy) if compute_entropy else None)
