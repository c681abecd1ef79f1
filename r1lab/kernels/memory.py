"""Memory by construction: the bytes each log-prob path allocates, from shapes, and as measured.

Three ways to get per-token log-probs (and their gradients) from the LM head's input, hidden
states [N, H] and the head W [V, H], for N scored tokens:

- ``r1lab``: ``fused_linear_log_probs`` (``loss_impl: triton``): per-token fp32 statistics
  forward; d(hidden) and d(W) accumulated in fp32 in the backward, then cast to the inputs' dtype;
- ``trl``: TRL 1.16's fused LM head (``trl.kernels.ChunkedLogProbFunction``, what its
  GRPOTrainer runs by default): the same fp32 gradients, plus a [min(N, 4,096) x 32,768] buffer
  that holds one tile of logits in the inputs' dtype, forward and backward;
- ``logits``: the full logits, ``log_softmax((hidden @ W.T).float() / τ)`` then gather: what a
  path that starts from ``model(...).logits`` pays.

``predicted_bytes`` gives each path's peak from the shapes (the tensors it allocates beyond its
inputs: outputs and gradients included, nothing freed early that autograd keeps);
``measured_bytes`` runs the path on the CPU under an allocation hook (a ``TorchDispatchMode``
that adds each new storage's bytes when an op makes it and subtracts them when it is freed)
and returns the peak. The kernels run in Triton's interpreter for that (TRL's too, which needs
``TRITON_INTERPRET=1`` set before triton is imported), so the tensors counted are those the
GPU path allocates; at fp32 inputs, where no cast copies anything, the two agree to the byte
(tests/test_kernels.py).

>>> sizes = predicted_bytes(16_384, 1_536, 151_936, element_bytes=2)
>>> {path: round(total / 2**30, 2) for path, total in sizes.items()}
{'r1lab': 1.44, 'trl': 1.69, 'logits': 27.82}
"""

from __future__ import annotations

import gc
import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode

PATHS = ("r1lab", "trl", "logits")
# TRL 1.16's tile: tokens per projection (trl.kernels.chunked_logprob.TOKEN_CHUNK_SIZE) and the
# vocabulary width its trainer passes (trl.trainer.utils._CHUNKED_LOGPROB_CHUNK_SIZE); read from
# TRL where installed, so a new TRL that changes them shows here.
try:
    from trl.kernels.chunked_logprob import TOKEN_CHUNK_SIZE as TRL_TOKENS
    from trl.trainer.utils import _CHUNKED_LOGPROB_CHUNK_SIZE as TRL_VOCAB_CHUNK
except ImportError:  # pragma: no cover - trl is a dependency; this keeps the doc importable
    TRL_TOKENS, TRL_VOCAB_CHUNK = 4096, 32768


def predicted_bytes(n_tokens: int, hidden_size: int, vocab: int, element_bytes: int = 2
                    ) -> dict[str, int]:
    """Peak bytes each path allocates for fwd + bwd, from the shapes (inputs not counted).

    ``element_bytes``: the hidden states' and W's dtype (2 for bf16, 4 for fp32). With bf16
    inputs the fp32 gradients are cast back, so both copies are alive at the end.
    """
    N, H, V, e = n_tokens, hidden_size, vocab, element_bytes
    grads_fp32 = 4 * (N * H + V * H)  # d(hidden), d(W) accumulated in fp32
    casts = e * (N * H + V * H) if e < 4 else 0  # .to(input dtype) copies
    r1lab = 4 * N + 4 * N + grads_fp32 + casts  # log-probs, log-sum-exp
    tile = min(N, TRL_TOKENS) * TRL_VOCAB_CHUNK * e  # TRL's logits tile buffer
    trl = 4 * N + 4 * N + tile + grads_fp32 + casts  # log-probs, log-sum-exp
    # logits: forward, e·NV logits, their fp32 copy (when e < 4), / τ and log-softmax (4·NV
    # each, two alive at a time); backward, gather's gradient is a zero [N, V] fp32 filled by
    # scatter_add (a second 4·NV) while the saved log-softmax is alive: 12·NV at its peak.
    logits = 3 * 4 * N * V + 4 * N + 4 * N  # log-probs and their gradient [N] beside
    return {"r1lab": r1lab, "trl": trl, "logits": logits}


class AllocationHook(TorchDispatchMode):
    """Live and peak bytes of the storages that ops make while this mode is on.

    ``inputs``: tensors allocated before, whose storages ops may view (Triton's interpreter
    re-wraps its arguments with ``set_``): never counted.
    """

    def __init__(self, inputs=()):
        super().__init__()
        self.live = self.peak = 0
        self.storages: set[int] = set()
        self.inputs = {tensor.untyped_storage().data_ptr() for tensor in inputs}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for tensor in torch.utils._pytree.tree_leaves(out):
            if not isinstance(tensor, torch.Tensor):
                continue
            storage = tensor.untyped_storage()
            key, size = storage.data_ptr(), storage.nbytes()
            if size == 0 or key in self.storages or key in self.inputs:  # a view, not new
                continue
            self.storages.add(key)
            self.live += size
            self.peak = max(self.peak, self.live)
            # torch keeps a storage's Python object while C++ holds it (autograd's saved
            # tensors too), so this runs when the memory itself is freed
            weakref.finalize(storage, self._free, key, size)
        return out

    def _free(self, key: int, size: int) -> None:
        self.storages.discard(key)
        self.live -= size


def _run(path, hidden, weight, ids, temperature):
    """Forward and backward of one path; returns the log-probs [N]."""
    if path == "r1lab":
        from r1lab.kernels import triton_linear
        from r1lab.kernels.fused_linear import _FusedLinearLogProbs

        logps, _ = _FusedLinearLogProbs.apply(hidden, weight, ids, temperature, False,
                                              dict(triton_linear.INTERPRETER_BLOCKS), True)
    elif path == "trl":
        from trl.kernels import chunked_logprob

        logps = chunked_logprob.ChunkedLogProbFunction.apply(
            hidden, weight, None, ids, temperature, TRL_VOCAB_CHUNK, None, 1.0, ("log_probs",)
        )[0]
    else:
        logps = torch.log_softmax((hidden @ weight.T).float() / temperature, -1)
        logps = logps.gather(-1, ids[:, None])[:, 0]
    return logps


def measured_bytes(path: str, n_tokens: int, hidden_size: int, vocab: int,
                   dtype: torch.dtype = torch.float32, temperature: float = 0.7) -> int:
    """Peak bytes ``path`` allocates for fwd + bwd on the CPU, under ``AllocationHook``.

    Runs the kernels in Triton's interpreter (CPU, slow: scaled shapes only). ``trl`` runs
    TRL's Triton kernels there too, which needs ``TRITON_INTERPRET=1`` set before triton was
    imported (TRL decides at import); without it this raises rather than measure TRL's
    torch fallback, whose temporaries differ from its GPU path.
    """
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}; got {path!r}")
    if path == "trl":
        import os

        from trl.kernels import chunked_logprob

        if os.environ.get("TRITON_INTERPRET") != "1":
            raise RuntimeError("measuring TRL's fused head needs TRITON_INTERPRET=1 set before "
                               "triton is imported (run python with it in the environment)")
        chunked_logprob._use_triton = lambda device: True  # its GPU path, interpreted
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(n_tokens, hidden_size, generator=generator).to(dtype)
    weight = (torch.randn(vocab, hidden_size, generator=generator) / hidden_size**0.5).to(dtype)
    hidden.requires_grad_()
    weight.requires_grad_()
    ids = torch.randint(0, vocab, (n_tokens,), generator=generator)
    grad = torch.randn(n_tokens, generator=generator)
    hook = AllocationHook(inputs=(hidden, weight, ids, grad))
    with hook:
        logps = _run(path, hidden, weight, ids, temperature)
        # Triton's interpreter leaves each launch's frame in a reference cycle, which would keep
        # a forward's temporaries (TRL's tile buffer) alive; compiled launches do not
        gc.collect()
        logps.backward(grad)
        del logps
    return hook.peak
