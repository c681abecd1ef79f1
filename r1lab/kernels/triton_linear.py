"""Triton kernels for log p(token) of softmax((hidden @ W.T) / τ), never making the logits.

The logits-level kernels (``triton_logprobs``) start from [N, V] logits that the model had to
build. These start one step earlier, from the LM head's input: hidden states [N, H] and the
head's weight W [V, H]. A program owns ``BLOCK_N`` tokens and walks the vocabulary in tiles of
``BLOCK_V``; each tile of logits, z = hidden_block @ W_tile.T / τ ([BLOCK_N, BLOCK_V], fp32
accumulation over H in steps of ``BLOCK_H``), lives only in registers.

Forward: the online log-sum-exp of ``triton_logprobs`` (running max m, s = Σ exp(z - m),
a = Σ exp(z - m)(z - m)), now per row of a tile, plus the target's logit picked out of the tile
that holds it. Saved for the backward: lse [N] (fp32) and, with entropy, H [N]. Nothing else.

Backward: with g = dL/d log p(target) and h = dL/dH per token, each tile's logit gradient is

    dz_j = [g·(1[j = target] - p_j) - h·p_j·(log p_j + H)] / τ,   p_j = exp(z_j - lse)

rebuilt from the recomputed tile. Then d(hidden) = dz @ W and d(W) = dz.T @ hidden. Two kernels
share that recomputation, so neither needs atomics (deterministic sums): one owns blocks of
tokens and walks the vocabulary, adding dz @ W_tile into its rows of d(hidden); the other owns
tiles of the vocabulary and walks the tokens, adding dz.T @ hidden_block into its rows of d(W).
Both accumulate in fp32 in memory ([N, H] and [V, H]). The price: the logits are recomputed
twice in the backward (four matmuls in all, where a backward that kept the logits makes two).
"""

from __future__ import annotations

import functools
import types

import torch

from r1lab.kernels.triton_logprobs import _add, _device_function, _kernel, _maximum, tl, triton

# Tiles on a GPU: tl.dot wants every side >= 16; 64 x 128 fp32 logits per program fit in
# registers at 8 warps, and 64 along H keeps each loaded slice of hidden and W small.
GPU_BLOCKS = {"BLOCK_N": 64, "BLOCK_V": 128, "BLOCK_H": 64}
# The interpreter runs numpy per tile: the smallest tiles tl.dot allows.
INTERPRETER_BLOCKS = {"BLOCK_N": 16, "BLOCK_V": 16, "BLOCK_H": 16}


@_device_function
def _logit_tile(hidden_ptr, weight_ptr, rows, cols, H, stride_h, stride_w, inv_temperature,
                BLOCK_N: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_H: tl.constexpr,
                FP32: tl.constexpr):
    """z = hidden[rows] @ W[cols].T / τ: [BLOCK_N, BLOCK_V], fp32 (out-of-range entries 0)."""
    acc = tl.full((BLOCK_N, BLOCK_V), 0.0, tl.float32)
    for start in range(0, H, BLOCK_H):
        ks = start + tl.arange(0, BLOCK_H)
        x = tl.load(hidden_ptr + rows[:, None].to(tl.int64) * stride_h + ks[None, :],
                    mask=(ks[None, :] < H), other=0.0)  # [BLOCK_N, BLOCK_H]
        w = tl.load(weight_ptr + cols[:, None].to(tl.int64) * stride_w + ks[None, :],
                    mask=(ks[None, :] < H), other=0.0)  # [BLOCK_V, BLOCK_H]
        if FP32:  # the interpreter has no bf16 arithmetic; fp32 on request too
            x = x.to(tl.float32)
            w = w.to(tl.float32)
        else:  # tensor cores: both sides in the hidden states' dtype, fp32 accumulation
            w = w.to(x.dtype)
        acc = tl.dot(x, tl.trans(w), acc)
    return acc * inv_temperature


def _linear_forward_kernel(
    hidden_ptr, weight_ptr, ids_ptr, logp_ptr, lse_ptr, entropy_ptr,
    N, V, H, stride_h, stride_w, inv_temperature,
    BLOCK_N: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_H: tl.constexpr,
    WITH_ENTROPY: tl.constexpr, FP32: tl.constexpr,
):
    rows = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)  # [BLOCK_N]
    row_ok = rows < N
    rows = tl.where(row_ok, rows, 0)  # rows past N read row 0 and store nothing
    targets = tl.load(ids_ptr + rows)  # [BLOCK_N]
    running_max = tl.full((BLOCK_N,), float("-inf"), tl.float32)
    sum_exp = tl.full((BLOCK_N,), 0.0, tl.float32)
    sum_exp_shifted = tl.full((BLOCK_N,), 0.0, tl.float32)  # a = Σ exp(z - m)(z - m)
    z_target = tl.full((BLOCK_N,), 0.0, tl.float32)
    for start in range(0, V, BLOCK_V):
        cols = start + tl.arange(0, BLOCK_V)  # [BLOCK_V]
        col_ok = cols < V
        z = _logit_tile(hidden_ptr, weight_ptr, rows, tl.where(col_ok, cols, 0), H, stride_h,
                        stride_w, inv_temperature, BLOCK_N, BLOCK_V, BLOCK_H, FP32)
        z = tl.where(col_ok[None, :], z, float("-inf"))  # [BLOCK_N, BLOCK_V]
        z_target += tl.reduce(tl.where(cols[None, :] == targets[:, None], z, 0.0), 1, _add)
        new_max = tl.maximum(running_max, tl.reduce(z, 1, _maximum))  # finite: a tile has a col
        rescale = tl.exp(running_max - new_max)  # 0 on the first tile
        e = tl.exp(z - new_max[:, None])  # [BLOCK_N, BLOCK_V]  0 beyond V
        if WITH_ENTROPY:
            # earlier terms' z - m shift by m - m'; the select keeps -inf·0 out on the first tile
            moved = tl.where(sum_exp > 0.0, running_max - new_max, 0.0) * sum_exp
            tile = tl.reduce(e * tl.where(col_ok[None, :], z - new_max[:, None], 0.0), 1, _add)
            sum_exp_shifted = rescale * (sum_exp_shifted + moved) + tile
        sum_exp = sum_exp * rescale + tl.reduce(e, 1, _add)
        running_max = new_max
    lse = running_max + tl.log(sum_exp)
    tl.store(logp_ptr + rows, z_target - lse, mask=row_ok)
    tl.store(lse_ptr + rows, lse, mask=row_ok)
    if WITH_ENTROPY:
        tl.store(entropy_ptr + rows, tl.log(sum_exp) - sum_exp_shifted / sum_exp, mask=row_ok)


@_device_function
def _grad_tile(hidden_ptr, weight_ptr, ids_ptr, lse_ptr, grad_logp_ptr, entropy_ptr,
               grad_entropy_ptr, rows, row_ok, cols, col_ok, H, stride_h, stride_w,
               inv_temperature, BLOCK_N: tl.constexpr, BLOCK_V: tl.constexpr,
               BLOCK_H: tl.constexpr, WITH_ENTROPY_GRAD: tl.constexpr, FP32: tl.constexpr):
    """dL/dz for one recomputed tile, τ included: [BLOCK_N, BLOCK_V] fp32 (0 beyond N and V)."""
    targets = tl.load(ids_ptr + rows)
    lse = tl.load(lse_ptr + rows)
    g = tl.where(row_ok, tl.load(grad_logp_ptr + rows), 0.0)  # rows past N add nothing
    z = _logit_tile(hidden_ptr, weight_ptr, rows, cols, H, stride_h, stride_w, inv_temperature,
                    BLOCK_N, BLOCK_V, BLOCK_H, FP32)
    log_p = z - lse[:, None]
    p = tl.where(col_ok[None, :], tl.exp(log_p), 0.0)
    # cols past V were mapped to column 0 for their loads: they must not match a target 0
    is_target = (cols[None, :] == targets[:, None]) & col_ok[None, :]
    grad = tl.where(is_target, g[:, None], 0.0) - g[:, None] * p
    if WITH_ENTROPY_GRAD:
        g_entropy = tl.where(row_ok, tl.load(grad_entropy_ptr + rows), 0.0)
        entropy = tl.load(entropy_ptr + rows)
        grad -= g_entropy[:, None] * p * tl.where(p > 0.0, log_p + entropy[:, None], 0.0)
    return grad * inv_temperature


def _linear_grad_hidden_kernel(
    hidden_ptr, weight_ptr, ids_ptr, lse_ptr, grad_logp_ptr, entropy_ptr, grad_entropy_ptr,
    grad_hidden_ptr, N, V, H, stride_h, stride_w, inv_temperature,
    BLOCK_N: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_H: tl.constexpr,
    WITH_ENTROPY_GRAD: tl.constexpr, FP32: tl.constexpr,
):
    """One block of tokens: d(hidden)[rows] = Σ over vocabulary tiles of dz @ W_tile (fp32)."""
    rows = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    row_ok = rows < N
    rows = tl.where(row_ok, rows, 0)
    for start in range(0, V, BLOCK_V):
        cols = start + tl.arange(0, BLOCK_V)
        col_ok = cols < V
        cols = tl.where(col_ok, cols, 0)
        dz = _grad_tile(hidden_ptr, weight_ptr, ids_ptr, lse_ptr, grad_logp_ptr, entropy_ptr,
                        grad_entropy_ptr, rows, row_ok, cols, col_ok, H, stride_h, stride_w,
                        inv_temperature, BLOCK_N, BLOCK_V, BLOCK_H, WITH_ENTROPY_GRAD, FP32)
        for k in range(0, H, BLOCK_H):
            ks = k + tl.arange(0, BLOCK_H)
            k_ok = ks < H
            w = tl.load(weight_ptr + cols[:, None].to(tl.int64) * stride_w + ks[None, :],
                        mask=k_ok[None, :], other=0.0)  # [BLOCK_V, BLOCK_H]
            if FP32:
                part = tl.dot(dz, w.to(tl.float32))  # [BLOCK_N, BLOCK_H]
            else:
                part = tl.dot(dz.to(w.dtype), w)
            out = grad_hidden_ptr + rows[:, None].to(tl.int64) * H + ks[None, :]
            keep = row_ok[:, None] & k_ok[None, :]
            tl.store(out, tl.load(out, mask=keep, other=0.0) + part, mask=keep)


def _linear_grad_weight_kernel(
    hidden_ptr, weight_ptr, ids_ptr, lse_ptr, grad_logp_ptr, entropy_ptr, grad_entropy_ptr,
    grad_weight_ptr, N, V, H, stride_h, stride_w, inv_temperature,
    BLOCK_N: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_H: tl.constexpr,
    WITH_ENTROPY_GRAD: tl.constexpr, FP32: tl.constexpr,
):
    """One vocabulary tile: d(W)[cols] = Σ over token blocks of dz.T @ hidden_block (fp32)."""
    cols = tl.program_id(0) * BLOCK_V + tl.arange(0, BLOCK_V)
    col_ok = cols < V
    cols = tl.where(col_ok, cols, 0)
    for start in range(0, N, BLOCK_N):
        rows = start + tl.arange(0, BLOCK_N)
        row_ok = rows < N
        rows = tl.where(row_ok, rows, 0)
        dz = _grad_tile(hidden_ptr, weight_ptr, ids_ptr, lse_ptr, grad_logp_ptr, entropy_ptr,
                        grad_entropy_ptr, rows, row_ok, cols, col_ok, H, stride_h, stride_w,
                        inv_temperature, BLOCK_N, BLOCK_V, BLOCK_H, WITH_ENTROPY_GRAD, FP32)
        for k in range(0, H, BLOCK_H):
            ks = k + tl.arange(0, BLOCK_H)
            k_ok = ks < H
            x = tl.load(hidden_ptr + rows[:, None].to(tl.int64) * stride_h + ks[None, :],
                        mask=k_ok[None, :], other=0.0)  # [BLOCK_N, BLOCK_H]
            if FP32:
                part = tl.dot(tl.trans(dz), x.to(tl.float32))  # [BLOCK_V, BLOCK_H]
            else:
                part = tl.dot(tl.trans(dz.to(x.dtype)), x)
            out = grad_weight_ptr + cols[:, None].to(tl.int64) * H + ks[None, :]
            keep = col_ok[:, None] & k_ok[None, :]
            tl.store(out, tl.load(out, mask=keep, other=0.0) + part, mask=keep)


HELPERS = ("_logit_tile", "_grad_tile")


@functools.cache
def _runnable(fn, interpret: bool):
    """``fn`` compiled, or for Triton's interpreter with its helpers as plain Python.

    An interpreted kernel cannot call an ``@triton.jit`` helper unless ``TRITON_INTERPRET=1``
    was set before triton was imported; r1lab picks the interpreter per call instead, so the
    interpreted copy of ``fn`` sees the helpers' undecorated functions.
    """
    if not interpret:
        return _kernel(fn, False)
    scope = dict(fn.__globals__)
    for name in HELPERS:
        helper = getattr(scope[name], "fn", scope[name])
        scope[name] = types.FunctionType(helper.__code__, scope, name)
    return _kernel(types.FunctionType(fn.__code__, scope, fn.__name__), True)


def _launch_args(hidden, weight, temperature, blocks, fp32):
    N, H = hidden.shape
    V = weight.shape[0]
    return (N, V, H, hidden.stride(0), weight.stride(0), 1.0 / temperature), dict(
        **blocks, FP32=fp32, num_warps=8 if not fp32 else 4, enable_fp_fusion=True)


def linear_forward(hidden, weight, ids, *, temperature, with_entropy, blocks, interpret):
    """fp32 (logp, lse, entropy) [N] for hidden [N, H], W [V, H] (entropy None when off)."""
    N = hidden.shape[0]
    logp = torch.empty(N, dtype=torch.float32, device=hidden.device)  # [N]
    lse = torch.empty_like(logp)  # [N]
    entropy = torch.empty_like(logp) if with_entropy else logp  # [N]; unused when off
    args, options = _launch_args(hidden, weight, temperature, blocks, interpret)
    grid = (triton.cdiv(N, blocks["BLOCK_N"]),)
    _runnable(_linear_forward_kernel, interpret)[grid](
        hidden, weight, ids, logp, lse, entropy, *args, WITH_ENTROPY=with_entropy, **options)
    return logp, lse, (entropy if with_entropy else None)


def linear_backward(hidden, weight, ids, lse, grad_logp, entropy, grad_entropy, *, temperature,
                    blocks, interpret, need_hidden, need_weight):
    """fp32 (d hidden [N, H] | None, d W [V, H] | None), accumulated tile by tile."""
    args, options = _launch_args(hidden, weight, temperature, blocks, interpret)
    with_entropy_grad = grad_entropy is not None
    common = (hidden, weight, ids, lse, grad_logp, entropy if with_entropy_grad else lse,
              grad_entropy if with_entropy_grad else grad_logp)
    grad_hidden = grad_weight = None
    if need_hidden:
        grad_hidden = torch.zeros(hidden.shape, dtype=torch.float32, device=hidden.device)
        _runnable(_linear_grad_hidden_kernel, interpret)[(triton.cdiv(hidden.shape[0],
                                                                    blocks["BLOCK_N"]),)](
            *common, grad_hidden, *args, WITH_ENTROPY_GRAD=with_entropy_grad, **options)
    if need_weight:
        grad_weight = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device)
        _runnable(_linear_grad_weight_kernel, interpret)[(triton.cdiv(weight.shape[0],
                                                                    blocks["BLOCK_V"]),)](
            *common, grad_weight, *args, WITH_ENTROPY_GRAD=with_entropy_grad, **options)
    return grad_hidden, grad_weight

