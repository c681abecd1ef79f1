"""r1lab.kernels.fused_linear_log_probs: log-probs from the hidden states, never the logits.

The CPU tests run the Triton kernels in Triton's interpreter at tiny odd shapes (H = 24 and
V = 37 in tiles of 16, more tokens than one block, token ids 0 and V - 1, padded and fully
masked rows, one-token completions) against fp64 autograd through
``log_softmax((hidden @ W.T) / τ)``, and against TRL's fused LM head on the same inputs.
``r1lab.kernels.memory``'s shape formulas are checked to the byte by allocation hooks.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from r1lab.kernels import fused_linear_log_probs
from r1lab.kernels.memory import PATHS, TRL_VOCAB_CHUNK, measured_bytes, \
    predicted_bytes

ROOT = Path(__file__).resolve().parents[1]
H, V = 24, 37
TOL = dict(rtol=1e-5, atol=1e-5)
# [B=5, T=7]: full, padded, fully masked, one token, full: 24 scored rows (two token blocks)
MASK = torch.tensor([
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [1, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1],
])


def make_inputs(seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    B, T = MASK.shape
    hidden = torch.randn(B, T, H, generator=g, dtype=torch.float64)  # [B, T, H]
    weight = torch.randn(V, H, generator=g, dtype=torch.float64) * 0.6  # [V, H]
    ids = torch.randint(0, V, (B, T), generator=g)  # [B, T]
    ids[0, :2] = torch.tensor([0, V - 1])  # the first and the last column (the tiles' edges)
    ids[4, :] = 0  # target 0 beside a last tile mostly past V
    return hidden.to(dtype), weight.to(dtype), ids


def reference(hidden, weight, ids, temperature, entropy_weight):
    """fp64 autograd: log-probs, entropies and d(hidden), d(W) of sum(logp + w·H) over MASK."""
    h = hidden.detach().double().requires_grad_()
    w = weight.detach().double().requires_grad_()
    logps_all = torch.log_softmax(h @ w.T / temperature, dim=-1)  # [B, T, V]
    logps = logps_all.gather(-1, ids.unsqueeze(-1)).squeeze(-1) * MASK  # [B, T]
    entropy = -(logps_all.exp() * logps_all).sum(-1) * MASK  # [B, T]
    (logps * upstream() + entropy_weight * entropy).sum().backward()
    return logps.detach(), entropy.detach(), h.grad, w.grad


def upstream():
    """d(loss)/d(logp) per token, both signs (a GRPO loss's advantages)."""
    return torch.linspace(-1.5, 1.2, MASK.numel(), dtype=torch.float64).view(MASK.shape)


def kernel(hidden, weight, ids, temperature, entropy_weight, **options):
    h = hidden.detach().clone().requires_grad_()
    w = weight.detach().clone().requires_grad_()
    logps, entropy = fused_linear_log_probs(h, w, ids, temperature, mask=MASK,
                                            compute_entropy=True, **options)
    (logps * upstream().to(logps.dtype) + entropy_weight * entropy).sum().backward()
    return logps.detach(), entropy.detach(), h.grad, w.grad


@pytest.mark.parametrize("temperature", [1.0, 0.7])
@pytest.mark.parametrize("entropy_weight", [0.0, 0.3])
def test_interpreted_kernel_matches_fp64(temperature, entropy_weight):
    hidden, weight, ids = make_inputs()
    got = kernel(hidden, weight, ids, temperature, entropy_weight, interpret=True)
    expected = reference(hidden, weight, ids, temperature, entropy_weight)
    for name, a, b in zip(("logps", "entropy", "d hidden", "d W"), got, expected):
        torch.testing.assert_close(a.double(), b, **TOL, msg=name)
    assert got[2].dtype == got[3].dtype == torch.float32  # gradients in the inputs' dtype
    assert (got[0][MASK == 0] == 0).all() and (got[2][MASK == 0] == 0).all()  # masked rows


def test_bf16_inputs_are_read_as_fp32_in_the_interpreter():
    hidden, weight, ids = make_inputs(seed=1, dtype=torch.bfloat16)
    got = kernel(hidden, weight, ids, 0.7, 0.3, interpret=True)
    expected = reference(hidden, weight, ids, 0.7, 0.3)  # fp64 math on the same bf16 values
    torch.testing.assert_close(got[0].double(), expected[0], **TOL)  # fp32 math, fp32 out
    torch.testing.assert_close(got[1].double(), expected[1], **TOL)
    assert got[2].dtype == got[3].dtype == torch.bfloat16
    for a, b in zip(got[2:], expected[2:]):  # the gradients, rounded once to bf16
        torch.testing.assert_close(a.double(), b, rtol=1e-2, atol=1e-2)


def test_same_numbers_as_trls_fused_head():
    """TRL 1.16's ChunkedLogProbFunction (its GRPOTrainer's default) on the same rows."""
    from trl.kernels import ChunkedLogProbFunction

    hidden, weight, ids = make_inputs(seed=2)
    active = MASK.bool()
    h = hidden.detach().clone().requires_grad_()
    w = weight.detach().clone().requires_grad_()
    logps, entropy = ChunkedLogProbFunction.apply(
        h[active], w, None, ids[active], 0.7, 16, None, 1.0, ("log_probs", "entropy"))[:2]
    (logps * upstream()[active].float() + 0.3 * entropy).sum().backward()
    got = kernel(hidden, weight, ids, 0.7, 0.3, interpret=True)
    torch.testing.assert_close(got[0][active], logps.detach(), **TOL)
    torch.testing.assert_close(got[1][active], entropy.detach(), **TOL)
    torch.testing.assert_close(got[2], h.grad, **TOL)
    torch.testing.assert_close(got[3], w.grad, **TOL)


def test_frozen_head_gets_no_gradient_and_torch_fallback_agrees():
    hidden, weight, ids = make_inputs(seed=3)
    results = {}
    for interpret in (True, False):  # the kernels, then plain torch (a CPU without the env)
        h = hidden.detach().clone().requires_grad_()
        logps, _ = fused_linear_log_probs(h, weight, ids, 0.7, mask=MASK, interpret=interpret)
        (logps * upstream().float()).sum().backward()
        results[interpret] = (logps.detach(), h.grad)
    assert not weight.requires_grad and weight.grad is None  # a LoRA model's head
    for a, b in zip(results[True], results[False]):
        torch.testing.assert_close(a, b, **TOL)


def test_rows_without_a_mask_and_an_empty_batch():
    hidden, weight, ids = make_inputs(seed=4)
    logps, entropy = fused_linear_log_probs(hidden[0], weight, ids[0], interpret=True)
    expected = torch.log_softmax(hidden[0].double() @ weight.double().T, -1)
    torch.testing.assert_close(logps.double(), expected.gather(-1, ids[0, :, None])[:, 0], **TOL)
    assert entropy is None
    h = hidden.detach().clone().requires_grad_()
    logps, _ = fused_linear_log_probs(h, weight, ids, mask=torch.zeros_like(MASK))
    logps.sum().backward()  # every row masked: zeros, still connected to the graph
    assert (logps == 0).all() and (h.grad == 0).all()


@pytest.mark.parametrize("change, message", [
    (dict(hidden=torch.zeros(5, 7)), "hidden .* must be completion_ids' shape"),
    (dict(weight=torch.zeros(V, H + 1)), r"lm_head_weight must be \[V, H\] with H = 24"),
    (dict(mask=torch.ones(5, 6)), "mask has shape"),
    (dict(hidden=torch.zeros(5, 7, H, dtype=torch.int32)), "hidden dtype must be one of"),
    (dict(ids=torch.full((5, 7), V)), r"completion_ids must lie in \[0, V\) = \[0, 37\)"),
    (dict(temperature=0.0), "temperature must be > 0"),
])
def test_errors_name_the_argument(change, message):
    hidden, weight, ids = make_inputs()
    args = dict(hidden=hidden.float(), weight=weight.float(), ids=ids, mask=MASK,
                temperature=1.0)
    args.update(change)
    with pytest.raises(ValueError, match=message):
        fused_linear_log_probs(args["hidden"], args["weight"], args["ids"], args["temperature"],
                               mask=args["mask"])


# ---------------------------------------------------------------- memory by construction

SCALED = dict(n_tokens=48, hidden_size=32, vocab=200)


@pytest.mark.parametrize("path, dtype", [("r1lab", torch.float32), ("logits", torch.float32),
                                         ("logits", torch.bfloat16)])
def test_memory_formula_equals_the_allocation_hook(path, dtype):
    """(r1lab's path in bf16 runs on fp32 copies in the interpreter: only fp32 is checkable.)"""
    predicted = predicted_bytes(**SCALED, element_bytes=dtype.itemsize)[path]
    assert measured_bytes(path, **SCALED, dtype=dtype) == predicted


def test_memory_formula_equals_the_allocation_hook_for_trls_fused_head():
    """TRL decides at import whether Triton runs, so its kernels are interpreted in a fresh
    process with TRITON_INTERPRET=1 (its GPU path, with its tile buffer)."""
    code = ("from r1lab.kernels.memory import measured_bytes, predicted_bytes; "
            f"print(measured_bytes('trl', **{SCALED!r}), "
            f"predicted_bytes(**{SCALED!r}, element_bytes=4)['trl'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "TRITON_INTERPRET": "1"}, timeout=300)
    assert result.returncode == 0, result.stderr
    measured, predicted = map(int, result.stdout.split()[-2:])
    assert measured == predicted


def test_memory_at_qwen_scale():
    """N = 16,384 scored tokens, H = 1,536, V = 151,936, bf16: r1lab's path saves TRL's tile
    buffer; both are far below the full logits."""
    sizes = predicted_bytes(16_384, 1_536, 151_936, element_bytes=2)
    assert set(sizes) == set(PATHS)
    assert sizes["r1lab"] < sizes["trl"] < sizes["logits"] / 10
    readme = (ROOT / "README.md").read_text(encoding="utf-8")  # its table is these figures
    for label, path in (("r1lab (`fused_linear_log_probs`)", "r1lab"),
                        ("TRL 1.16 fused LM head", "trl"),
                        ("full logits (`log_softmax(hidden @ W.T)`)", "logits")):
        assert f"| {label} | {sizes[path] / 2**30:.2f} GiB |" in readme


# ---------------------------------------------------------------- trainer and benchmark


def test_trainer_refuses_heads_the_kernel_does_not_compute():
    from transformers import AutoModelForCausalLM

    from r1lab.train.trainer import check_plain_lm_head

    model = AutoModelForCausalLM.from_pretrained(ROOT / "data" / "models" / "tiny-base")
    check_plain_lm_head(model)  # the tiny model: hidden @ W.T
    model.config.final_logit_softcapping = 30.0
    with pytest.raises(ValueError, match="transforms the logits.*Use loss_impl: torch"):
        check_plain_lm_head(model)


def test_trainer_refuses_sharded_heads():
    from types import SimpleNamespace

    from accelerate.utils import DistributedType

    from r1lab.train.trainer import check_unsharded_head

    check_unsharded_head(SimpleNamespace(distributed_type=DistributedType.MULTI_GPU))  # DDP
    with pytest.raises(ValueError, match="FSDP / DeepSpeed ZeRO-3 shard it.*loss_impl: torch"):
        check_unsharded_head(SimpleNamespace(distributed_type=DistributedType.FSDP))


def test_benchmark_hidden_state_methods_agree_on_cpu(monkeypatch):
    """The GPU benchmark's methods from the hidden states compute the same loss (tiny, CPU)."""
    monkeypatch.setenv("TRITON_INTERPRET", "1")  # r1lab's kernels in the interpreter
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import grpo_loss as bench
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    losses = {}
    for name in ("r1lab-fused-linear", "trl-fused-lm-head", "r1lab-lm-head"):
        method, layout = bench.METHODS[name]
        batch = bench.make_batch(32, 37, 0.7, layout, hidden_size=24, completion_length=8,
                                 device="cpu")
        batch["hidden"], batch["weight"] = batch["hidden"].float(), batch["weight"].float()
        _, _, losses[name] = bench.measure(method, layout, batch, 0.7, 0, 1, device="cpu")
    assert losses["r1lab-fused-linear"] == pytest.approx(losses["trl-fused-lm-head"], abs=1e-5)
    assert losses["r1lab-fused-linear"] == pytest.approx(losses["r1lab-lm-head"], abs=1e-5)


def test_gpu_script_without_a_gpu_says_so():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1",
           "PY": sys.executable}
    result = subprocess.run(["bash", str(ROOT / "benchmarks" / "grpo_logprobs_gpu.sh")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no CUDA GPU here" in result.stdout and "measures nothing" in result.stdout


@pytest.mark.gpu
def test_compiled_kernel_in_bf16_is_no_worse_than_trls_fused_head():
    """Against fp32 math on the same bf16 inputs (N = 2,048, H = 1,536, V = 151,936): the
    relative L2 errors of log-probs, d(hidden) and d(W) are at most twice TRL's."""
    from trl.kernels import ChunkedLogProbFunction

    g = torch.Generator(device="cuda").manual_seed(0)
    N, hidden_size, vocab, temperature = 2048, 1536, 151_936, 0.7
    hidden = torch.randn(N, hidden_size, device="cuda", generator=g).bfloat16()
    weight = (torch.randn(vocab, hidden_size, device="cuda", generator=g)
              * (2 / hidden_size**0.5)).bfloat16()
    ids = torch.randint(0, vocab, (N,), device="cuda", generator=g)
    grad = torch.randn(N, device="cuda", generator=g)

    def run(fn, dtype):
        h = hidden.to(dtype).requires_grad_()
        w = weight.to(dtype).requires_grad_()
        logps = fn(h, w)
        logps.backward(grad)
        return logps.detach().float(), h.grad.float(), w.grad.float()

    def plain(h, w):
        logps = torch.log_softmax((h @ w.T) / temperature, -1)
        return logps.gather(-1, ids[:, None])[:, 0]

    exact = run(plain, torch.float32)
    ours = run(lambda h, w: fused_linear_log_probs(h, w, ids, temperature)[0], torch.bfloat16)
    trls = run(lambda h, w: ChunkedLogProbFunction.apply(
        h, w, None, ids, temperature, TRL_VOCAB_CHUNK, None, 1.0, ("log_probs",))[0],
        torch.bfloat16)

    def error(a, b):
        return ((a - b).norm() / b.norm()).item()

    for name, mine, theirs, truth in zip(("logps", "d hidden", "d W"), ours, trls, exact):
        assert error(mine, truth) <= 2 * error(theirs, truth) + 1e-4, name
