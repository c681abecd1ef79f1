"""r1lab.kernels: the Triton GRPO kernel equals r1lab.grpo on torch's log_softmax.

The CPU tests run the very Triton kernels in Triton's interpreter (``interpret=True`` takes the
interpreter per kernel, so it works whether or not triton was imported before), at tiny odd
shapes: V = 37 in tiles of 16, padded and fully masked rows, one-token completions. The
reference is fp32 autograd through ``log_softmax(logits.float() / τ)`` and ``grpo_loss``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from r1lab.grpo import LOSS_TYPES, grpo_loss
from r1lab.kernels import fused_grpo_loss, fused_log_probs
from r1lab.kernels.fused_loss import _backend

ROOT = Path(__file__).resolve().parents[1]
V, BLOCK = 37, 16  # three tiles, the last one mostly out of the row
TOL = dict(rtol=1e-5, atol=1e-5)
# One completion of each kind: long, short with padding, fully masked, one token, empty row at T
MASK = torch.tensor([
    [1, 1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [1, 0, 0, 0, 0, 0],
], dtype=torch.float32)  # [B=4, T=6]
ADVANTAGES = torch.tensor([1.3, -0.7, 0.4, -1.1])  # both signs, one per completion


def make_batch(seed=0, dtype=torch.float32, temperature=1.0):
    """Logits [B, T, V] and per-token log-probs whose ratios land on both sides of the clip."""
    g = torch.Generator().manual_seed(seed)
    B, T = MASK.shape
    logits = (3 * torch.randn(B, T, V, generator=g)).to(dtype)  # [B, T, V]
    ids = torch.randint(0, V, (B, T), generator=g)  # [B, T]
    ids[2] = -100  # a padding id where the mask is 0: never read
    logps = reference_logps(logits, ids, temperature).detach()  # [B, T]
    old = logps + 0.6 * (2 * torch.rand(B, T, generator=g) - 1)  # ratios in [e^-0.6, e^0.6]
    ref = logps + 0.5 * (2 * torch.rand(B, T, generator=g) - 1)  # [B, T]
    return logits, ids, old, ref


def reference_logps(logits, ids, temperature):
    """What the kernel must equal: fp32 log_softmax over the vocabulary, then gather."""
    logps = torch.log_softmax(logits.float() / temperature, dim=-1)  # [B, T, V]
    return logps.gather(-1, ids.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # [B, T]


def reference(logits, ids, old, ref, **knobs):
    """Loss, metrics (with entropy) and fp32 d(logits) by autograd through plain torch."""
    temperature = knobs.pop("temperature", 1.0)
    leaf = logits.detach().float().requires_grad_()  # [B, T, V]
    loss, metrics = grpo_loss(reference_logps(leaf, ids, temperature), old, ref, ADVANTAGES,
                              MASK, **knobs)
    loss.backward()
    with torch.no_grad():
        logp_all = torch.log_softmax(leaf / temperature, dim=-1)  # [B, T, V]
        entropy = -(logp_all.exp() * logp_all).sum(-1)  # [B, T]
        metrics["entropy"] = ((entropy * MASK).sum() / MASK.sum()).item()
    return loss.detach(), metrics, leaf.grad


def run_kernel(logits, ids, old, ref, **knobs):
    leaf = logits.detach().clone().requires_grad_()  # [B, T, V]
    loss, metrics = fused_grpo_loss(leaf, ids, old, ref, ADVANTAGES, MASK, block_size=BLOCK,
                                    interpret=True, **knobs)
    loss.backward()
    return loss.detach(), metrics, leaf.grad


def assert_metrics_close(got, expected, **tol):
    assert got.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(torch.tensor(got[name]), torch.tensor(expected[name]),
                                   equal_nan=True, msg=name, **tol)


KNOBS = [
    dict(),
    dict(temperature=0.7, beta=0.04),
    dict(temperature=0.7, beta=0.04, delta=1.3, epsilon_high=0.28),
]


@pytest.mark.parametrize("level", ["token", "sequence"])
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("knobs", KNOBS, ids=["plain", "kl_temperature", "delta_kl_temperature"])
def test_interpreted_kernel_matches_reference(loss_type, level, knobs):
    knobs = dict(knobs, loss_type=loss_type, importance_sampling_level=level,
                 max_completion_length=8)
    logits, ids, old, ref = make_batch(temperature=knobs.get("temperature", 1.0))
    loss, metrics, grad = run_kernel(logits, ids, old, ref, **knobs)
    ref_loss, ref_metrics, ref_grad = reference(logits, ids, old, ref, **knobs)
    torch.testing.assert_close(loss, ref_loss, **TOL)
    assert_metrics_close(metrics, ref_metrics, **TOL)
    torch.testing.assert_close(grad, ref_grad, **TOL)
    assert grad[2].abs().max() == 0 and grad[1, 3:].abs().max() == 0  # padding rows


def test_the_batch_exercises_clipping_on_both_sides():
    logits, ids, old, ref = make_batch()
    _, metrics, _ = run_kernel(logits, ids, old, ref)
    assert 0 < metrics["clip_ratio/low_mean"] < 1 and 0 < metrics["clip_ratio/high_mean"] < 1


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_logits(dtype):
    """fp32 math on the same half-precision values; d(logits) comes back in the logits' dtype."""
    knobs = dict(temperature=0.7, beta=0.04, loss_type="dapo")
    logits, ids, old, ref = make_batch(dtype=dtype, temperature=0.7)
    loss, metrics, grad = run_kernel(logits, ids, old, ref, **knobs)
    ref_loss, ref_metrics, ref_grad = reference(logits, ids, old, ref, **knobs)
    torch.testing.assert_close(loss, ref_loss, **TOL)
    assert_metrics_close(metrics, ref_metrics, **TOL)
    assert grad.dtype == dtype
    torch.testing.assert_close(grad, ref_grad.to(dtype))  # within one rounding of the dtype


def test_log_probs_and_entropy_gradient():
    """fused_log_probs alone: values, 0 on padding, and a gradient through the entropy too."""
    logits, ids, _, _ = make_batch(seed=1)
    g = torch.Generator().manual_seed(2)
    w_logp, w_entropy = torch.randn(2, *MASK.shape, generator=g)  # [B, T] each
    leaf = logits.clone().requires_grad_()
    logps, entropy = fused_log_probs(leaf, ids, MASK, temperature=0.7, block_size=BLOCK,
                                     interpret=True)
    ((logps * w_logp).sum() + (entropy * w_entropy).sum()).backward()

    ref_leaf = logits.clone().requires_grad_()
    logp_all = torch.log_softmax(ref_leaf / 0.7, dim=-1)  # [B, T, V]
    ref_logps = reference_logps(ref_leaf, ids, 0.7) * MASK  # [B, T]
    ref_entropy = -(logp_all.exp() * logp_all).sum(-1) * MASK  # [B, T]
    ((ref_logps * w_logp).sum() + (ref_entropy * w_entropy).sum()).backward()
    torch.testing.assert_close(logps, ref_logps, **TOL)
    torch.testing.assert_close(entropy, ref_entropy, **TOL)
    torch.testing.assert_close(leaf.grad, ref_leaf.grad, **TOL)


def test_banned_tokens_at_minus_infinity():
    """-inf logits (a whole first tile of them, too) give p = 0, not NaN."""
    logits, ids, _, _ = make_batch(seed=3)
    logits[..., :20] = float("-inf")
    ids = ids.clamp(min=20)
    leaf = logits.clone().requires_grad_()
    logps, entropy = fused_log_probs(leaf, ids, MASK, block_size=BLOCK, interpret=True)
    (logps.sum() + entropy.sum()).backward()
    finite = logits[..., 20:]  # [B, T, 17]
    logp_all = torch.log_softmax(finite, dim=-1)
    torch.testing.assert_close(logps, logp_all.gather(-1, (ids - 20).unsqueeze(-1))[..., 0] * MASK,
                               **TOL)
    torch.testing.assert_close(entropy, -(logp_all.exp() * logp_all).sum(-1) * MASK, **TOL)
    assert leaf.grad.isfinite().all() and leaf.grad[..., :20].abs().max() == 0


def test_inplace_backward_writes_the_gradient_into_the_logits():
    logits, ids, old, ref = make_batch()
    _, _, ref_grad = reference(logits, ids, old, ref)
    leaf = logits.clone().requires_grad_()
    loss, _ = fused_grpo_loss(leaf, ids, old, ref, ADVANTAGES, MASK, block_size=BLOCK,
                              interpret=True, inplace_backward=True)
    (grad,) = torch.autograd.grad(loss, leaf)
    assert grad.data_ptr() == leaf.data_ptr()  # no [B, T, V] buffer was allocated for d(logits)
    torch.testing.assert_close(leaf.detach(), ref_grad, **TOL)  # the logits are gone


def test_causal_lm_logits_whole_as_a_view_and_as_rows():
    """A causal LM's [B, L, V] logits whole (other positions: zero gradient, in place too),
    a strided view of them, and [B*T, V] rows all give the reference loss and gradient."""
    logits, ids, old, ref = make_batch()
    expected, expected_metrics, expected_grad = reference(logits, ids, old, ref)
    B, T = MASK.shape
    model_logits = torch.randn(B, T + 3, V)  # [B, L, V]: 2 prompt positions, T, 1 past the end
    model_logits[:, 2:-1] = logits
    for inplace in (False, True):
        leaf = model_logits.clone().requires_grad_()
        loss, metrics = fused_grpo_loss(leaf, ids, old, ref, ADVANTAGES, MASK, block_size=BLOCK,
                                        interpret=True, inplace_backward=inplace)
        (grad,) = torch.autograd.grad(loss, leaf)  # [B, L, V]
        torch.testing.assert_close(loss, expected, **TOL)
        assert_metrics_close(metrics, expected_metrics, **TOL)
        torch.testing.assert_close(grad[:, 2:-1], expected_grad, **TOL)
        assert grad[:, :2].abs().max() == 0 and grad[:, -1].abs().max() == 0
    view = model_logits[:, -T - 1:-1]  # [B, T, V] with the strides of [B, L, V]
    for shaped, interpret in ((view, True), (logits.reshape(B * T, V), True),
                              (model_logits, False)):
        loss, _ = fused_grpo_loss(shaped, ids, old, ref, ADVANTAGES, MASK, block_size=BLOCK,
                                  interpret=interpret)
        torch.testing.assert_close(loss, expected, **TOL)


def test_torch_fallback_off_gpu():
    """Without interpret on a CPU, plain torch gives the same loss, metrics and gradient."""
    knobs = dict(temperature=0.7, beta=0.04, importance_sampling_level="sequence")
    logits, ids, old, ref = make_batch(temperature=0.7)
    assert _backend(logits, interpret=False) == "torch"
    leaf = logits.clone().requires_grad_()
    loss, metrics = fused_grpo_loss(leaf, ids, old, ref, ADVANTAGES, MASK, interpret=False,
                                    inplace_backward=True, **knobs)
    loss.backward()
    ref_loss, ref_metrics, ref_grad = reference(logits, ids, old, ref, **knobs)
    torch.testing.assert_close(loss, ref_loss, **TOL)
    assert_metrics_close(metrics, ref_metrics, **TOL)
    torch.testing.assert_close(leaf.grad, ref_grad, **TOL)
    torch.testing.assert_close(leaf.detach(), logits)  # in place is a kernel-only saving


def test_triton_interpret_environment_variable():
    """TRITON_INTERPRET=1 set before anything is imported selects the interpreter by itself."""
    code = (
        "import torch; from r1lab.kernels import fused_log_probs; "
        "from r1lab.kernels.fused_loss import _backend; "
        "x = torch.randn(2, 3, 37); ids = torch.randint(0, 37, (2, 3)); "
        "logps, _ = fused_log_probs(x, ids, torch.ones(2, 3), block_size=16); "
        "ref = torch.log_softmax(x, -1).gather(-1, ids[..., None])[..., 0]; "
        "torch.testing.assert_close(logps, ref); print(_backend(x, None))"
    )
    env = {**os.environ, "TRITON_INTERPRET": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "interpreter"


@pytest.mark.parametrize("change, message", [
    (dict(loss_type="ppo"), "loss_type must be one of"),
    (dict(importance_sampling_level="batch"), "importance_sampling_level must be one of"),
    (dict(loss_type="dr_grpo", max_completion_length=None), "pass it"),
    (dict(beta=0.04, ref_logps=None), "needs ref_logps"),
    (dict(old_logps=torch.zeros(4, 5)), r"old_logps has shape \(4, 5\); it must be \[B, T\]"),
    (dict(advantages=torch.zeros(3)), r"advantages must be \[B\] = \[4\]"),
    (dict(mask=torch.ones(4, 5)), "mask has shape"),
    (dict(logits=torch.zeros(4, 5, V)), r"logits_to_keep=T \+ 1"),
    (dict(logits=torch.zeros(23, V)), r"N = B\*T = 24"),
    (dict(logits=torch.zeros(4, 6, V, dtype=torch.float64)), "logits dtype must be one of"),
    (dict(logits=torch.zeros(4, 6, 2 * V)[..., ::2]), r"logits.contiguous\(\)"),
    (dict(completion_ids=torch.full((4, 6), V)), r"must lie in \[0, V\) = \[0, 37\)"),
    (dict(completion_ids=torch.zeros(4, 6)), "int32 or int64"),
    (dict(temperature=0.0), "temperature must be > 0"),
    (dict(block_size=24), "power of 2"),
])
def test_errors_name_the_argument(change, message):
    logits, ids, old, ref = make_batch()
    args = dict(logits=logits, completion_ids=ids, old_logps=old, ref_logps=ref,
                advantages=ADVANTAGES, mask=MASK, loss_type="grpo", max_completion_length=8,
                interpret=True)
    args.update(change)
    with pytest.raises(ValueError, match=message):
        fused_grpo_loss(**args)


def test_benchmark_without_a_gpu_says_so():
    script = ROOT / "benchmarks" / "grpo_loss.py"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no CUDA GPU" in result.stdout
    helped = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert helped.returncode == 0 and "--tokens" in helped.stdout


@pytest.mark.gpu
def test_compiled_kernel_matches_interpreter_and_torch_on_gpu():
    logits, ids, old, ref = make_batch()
    knobs = dict(temperature=0.7, beta=0.04, loss_type="bnpo")
    expected, expected_metrics, expected_grad = reference(logits, ids, old, ref, **knobs)
    cuda = [t.cuda() for t in (logits, ids, old, ref)]
    leaf = cuda[0].clone().requires_grad_()
    loss, metrics = fused_grpo_loss(leaf, *cuda[1:], ADVANTAGES.cuda(), MASK.cuda(),
                                    inplace_backward=True, **knobs)
    loss.backward()
    torch.testing.assert_close(loss.cpu(), expected, **TOL)
    assert_metrics_close(metrics, expected_metrics, **TOL)
    torch.testing.assert_close(leaf.grad.cpu(), expected_grad, **TOL)


@pytest.mark.gpu
def test_bf16_at_a_real_shape_is_no_worse_than_trls_path():
    """CCE-style: against fp32 math on the same bf16 logits, the kernel's error (loss, and the
    relative L2 error of d(logits)) is at most that of TRL's path on those bf16 logits."""
    from trl.trainer.utils import selective_log_softmax

    g = torch.Generator(device="cuda").manual_seed(0)
    B, T, vocab, temperature = 4, 1024, 151_936, 0.7  # N = 4096 completion tokens
    logits = (2 * torch.randn(B, T, vocab, device="cuda", generator=g)).bfloat16()
    ids = torch.randint(0, vocab, (B, T), device="cuda", generator=g)
    mask = torch.ones(B, T, device="cuda")
    mask[1, 700:] = 0
    advantages = torch.tensor([1.0, -0.5, 0.3, -1.2], device="cuda")
    with torch.no_grad():
        base = reference_logps(logits, ids, temperature)  # [B, T]
    old = base + 0.2 * torch.randn(B, T, device="cuda", generator=g)
    ref = base + 0.2 * torch.randn(B, T, device="cuda", generator=g)
    knobs = dict(beta=0.04, loss_type="dapo")

    def loss_and_grad(leaf, logps_of):
        leaf.requires_grad_()
        loss, _ = grpo_loss(logps_of(leaf), old, ref, advantages, mask, **knobs)
        (grad,) = torch.autograd.grad(loss, leaf)
        return loss.detach(), grad.float()

    exact_loss, exact_grad = loss_and_grad(  # fp32 leaf: an fp32 gradient
        logits.float(), lambda x: reference_logps(x, ids, temperature))
    trl_loss, trl_grad = loss_and_grad(
        logits.clone(), lambda x: selective_log_softmax(x, ids, temperature=temperature).float())
    leaf = logits.clone().requires_grad_()
    loss, _ = fused_grpo_loss(leaf, ids, old, ref, advantages, mask, temperature=temperature,
                              **knobs)
    (grad,) = torch.autograd.grad(loss, leaf)

    def relative_error(x):
        return float((x - exact_grad).norm() / exact_grad.norm())

    assert abs(float(loss.detach() - exact_loss)) <= abs(float(trl_loss - exact_loss)) + 1e-5
    assert relative_error(grad.float()) <= 1.01 * relative_error(trl_grad) + 1e-5
