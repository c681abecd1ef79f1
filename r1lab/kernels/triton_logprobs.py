"""Triton kernels for the per-token log-probability of a completion under softmax(logits / τ).

One program handles one row (one completion token) and streams that row's V logits in tiles of
``BLOCK``, so no [N, V] fp32 tensor is ever made.

Forward: the online softmax (Milakov & Gimelshein, 2018). After the tiles seen so far, keep the
running maximum m, s = Σ exp(z_j - m) and a = Σ exp(z_j - m)·(z_j - m). When a tile raises the
maximum to m', the terms seen so far become s' = exp(m - m')·s and
a' = exp(m - m')·(a + (m - m')·s) (each earlier z_j - m is now z_j - m'), then the tile's own
terms are added. At the end

    lse = m + log s                    log Σ_j exp(z_j), with z = logits / τ in fp32
    log p(target) = z_target - lse
    H = -Σ_j p_j log p_j = log s - a / s

so one read of the logits gives the log-prob, the entropy and the one float (lse) that the
backward needs.

Backward: p_j = exp(z_j - lse). The backward has the logits anyway (they are the input), so
with the one saved float lse per row it rebuilds the softmax tile by tile, instead of keeping
an [N, V] softmax from the forward as autograd through log_softmax does. With
g = dL/d log p(target) and h = dL/dH:

    dL/dlogits_j = [g·(1[j = target] - p_j) - h·p_j·(log p_j + H)] / τ

Each tile is read, then its gradient written (into the logits themselves when the caller
allows it).
"""

from __future__ import annotations

import functools

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU installs without the `gpu` extra: r1lab.kernels falls back to torch
    triton = tl = None

# Tile width on a GPU: 4096 fp32 values are 16 per thread at 8 warps; V = 151,936 takes 38 tiles.
DEFAULT_BLOCK = 4096


def _device_function(fn):
    return fn if triton is None else triton.jit(fn)


# Reductions go through tl.reduce with these rather than tl.max / tl.sum: those are @triton.jit
# library functions, which an interpreted kernel cannot call unless TRITON_INTERPRET was set
# before triton was imported. The compiled reduction is the same.
@_device_function
def _maximum(a, b):
    return tl.maximum(a, b)


@_device_function
def _add(a, b):
    return a + b


def _logprob_forward_kernel(
    logits_ptr, completion_ids_ptr, active_ptr,
    logp_ptr, lse_ptr, entropy_ptr,
    T, V, stride_b, stride_t, inv_temperature,
    BLOCK: tl.constexpr, WITH_ENTROPY: tl.constexpr,
):
    row = tl.program_id(0)
    # int64: N·V passes 2^31 at real shapes (16,384 × 151,936)
    row_logits = (logits_ptr + (row // T).to(tl.int64) * stride_b
                  + (row % T).to(tl.int64) * stride_t)
    if tl.load(active_ptr + row) == 0:  # padding: nothing to score, skip the V reads
        tl.store(logp_ptr + row, 0.0)
        tl.store(lse_ptr + row, 0.0)
        if WITH_ENTROPY:
            tl.store(entropy_ptr + row, 0.0)
    else:
        offsets = tl.arange(0, BLOCK)
        running_max = tl.full((), float("-inf"), tl.float32)
        sum_exp = tl.full((), 0.0, tl.float32)
        sum_exp_shifted = tl.full((), 0.0, tl.float32)  # a = Σ exp(z - m)·(z - m)
        for start in range(0, V, BLOCK):
            cols = start + offsets
            z = tl.load(row_logits + cols, mask=cols < V, other=float("-inf"))
            z = z.to(tl.float32) * inv_temperature  # [BLOCK]
            new_max = tl.maximum(running_max, tl.reduce(z, 0, _maximum))
            # a row may start with -inf logits (banned tokens): shift by 0 until a finite one
            shift = tl.where(new_max == float("-inf"), 0.0, new_max)
            rescale = tl.exp(running_max - shift)
            e = tl.exp(z - shift)  # [BLOCK]  0 beyond V
            if WITH_ENTROPY:
                # the selects keep 0·(-inf) out: e = 0 where z = -inf, s = 0 before any finite z
                moved = tl.where(sum_exp > 0.0, running_max - shift, 0.0) * sum_exp
                tile = tl.reduce(e * tl.where(e > 0.0, z - shift, 0.0), 0, _add)
                sum_exp_shifted = rescale * (sum_exp_shifted + moved) + tile
            sum_exp = sum_exp * rescale + tl.reduce(e, 0, _add)
            running_max = new_max
        lse = running_max + tl.log(sum_exp)
        target = tl.load(completion_ids_ptr + row)
        z_target = tl.load(row_logits + target).to(tl.float32) * inv_temperature
        tl.store(logp_ptr + row, z_target - lse)
        tl.store(lse_ptr + row, lse)
        if WITH_ENTROPY:
            tl.store(entropy_ptr + row, tl.log(sum_exp) - sum_exp_shifted / sum_exp)


def _logprob_backward_kernel(
    logits_ptr, grad_logits_ptr, completion_ids_ptr, active_ptr,
    lse_ptr, grad_logp_ptr, entropy_ptr, grad_entropy_ptr,
    T, V, stride_b, stride_t, grad_stride_b, grad_stride_t, inv_temperature,
    BLOCK: tl.constexpr, WITH_ENTROPY_GRAD: tl.constexpr,
):
    row = tl.program_id(0)
    b = (row // T).to(tl.int64)
    t = (row % T).to(tl.int64)
    row_logits = logits_ptr + b * stride_b + t * stride_t
    row_grad = grad_logits_ptr + b * grad_stride_b + t * grad_stride_t
    grad_dtype = grad_logits_ptr.dtype.element_ty
    offsets = tl.arange(0, BLOCK)
    if tl.load(active_ptr + row) == 0:  # padding: zero gradient (and, in place, zero logits)
        zeros = tl.full((BLOCK,), 0.0, grad_dtype)
        for start in range(0, V, BLOCK):
            cols = start + offsets
            tl.store(row_grad + cols, zeros, mask=cols < V)
    else:
        lse = tl.load(lse_ptr + row)
        target = tl.load(completion_ids_ptr + row)
        g = tl.load(grad_logp_ptr + row) * inv_temperature  # the 1/τ of z = logits / τ
        if WITH_ENTROPY_GRAD:
            g_entropy = tl.load(grad_entropy_ptr + row) * inv_temperature
            entropy = tl.load(entropy_ptr + row)
        for start in range(0, V, BLOCK):
            cols = start + offsets
            z = tl.load(row_logits + cols, mask=cols < V, other=float("-inf"))
            log_p = z.to(tl.float32) * inv_temperature - lse  # [BLOCK]
            p = tl.exp(log_p)  # [BLOCK]
            grad = tl.where(cols == target, g, 0.0) - g * p
            if WITH_ENTROPY_GRAD:
                grad -= g_entropy * p * tl.where(p > 0.0, log_p + entropy, 0.0)
            tl.store(row_grad + cols, grad.to(grad_dtype), mask=cols < V)


def triton_available() -> bool:
    """Whether triton imports here (it ships with CUDA builds of torch)."""
    return triton is not None


@functools.cache
def _kernel(fn, interpret: bool):
    """``fn`` compiled for the GPU, or run by Triton's interpreter (numpy, on CPU tensors).

    The interpreter is taken per kernel, not from ``TRITON_INTERPRET``: that variable is read
    when ``@triton.jit`` runs, so it cannot be switched on once triton was imported without it.
    """
    if interpret:
        from triton.runtime.interpreter import InterpretedFunction

        return InterpretedFunction(fn)
    return triton.jit(fn)


def _num_warps(block: int) -> int:
    return max(1, min(16, block // 512))


def logprob_forward(logits, completion_ids, active, *, temperature, with_entropy, block,
                    interpret):
    """Launch the forward kernel over logits [B, T, V]; fp32 (logp, lse, entropy) [B, T] out."""
    B, T, V = logits.shape
    logp = torch.empty(B, T, dtype=torch.float32, device=logits.device)  # [B, T]
    lse = torch.empty_like(logp)  # [B, T]
    entropy = torch.empty_like(logp) if with_entropy else logp  # [B, T]; unused when off
    _kernel(_logprob_forward_kernel, interpret)[(B * T,)](
        logits, completion_ids, active, logp, lse, entropy,
        T, V, logits.stride(0), logits.stride(1), 1.0 / temperature,
        BLOCK=block, WITH_ENTROPY=with_entropy, num_warps=_num_warps(block),
        enable_fp_fusion=True,  # FMAs; said explicitly since triton 3.9 warns when it is unset
    )
    return logp, lse, (entropy if with_entropy else None)


def logprob_backward(logits, grad_logits, completion_ids, active, lse, grad_logp, entropy,
                     grad_entropy, *, temperature, block, interpret):
    """Launch the backward kernel: writes dL/dlogits into ``grad_logits`` (may be ``logits``)."""
    B, T, V = logits.shape
    with_entropy_grad = grad_entropy is not None
    _kernel(_logprob_backward_kernel, interpret)[(B * T,)](
        logits, grad_logits, completion_ids, active,
        lse, grad_logp, entropy if with_entropy_grad else lse,
        grad_entropy if with_entropy_grad else grad_logp,
        T, V, logits.stride(0), logits.stride(1), grad_logits.stride(0), grad_logits.stride(1),
        1.0 / temperature,
        BLOCK=block, WITH_ENTROPY_GRAD=with_entropy_grad, num_warps=_num_warps(block),
        enable_fp_fusion=True,
    )

