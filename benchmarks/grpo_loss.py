"""Benchmark: the GRPO loss, forward + backward, r1lab's Triton kernel vs TRL and Liger.

N completion tokens (completions of 1024), a V-token vocabulary (default: Qwen2.5's 151,936),
bf16. Methods that start from the same logits [B, T, V] and return d(logits):

- ``r1lab-inplace``: ``r1lab.kernels.fused_grpo_loss(..., inplace_backward=True)``;
- ``r1lab``: the same kernel writing d(logits) into a new buffer;
- ``trl``: ``trl.trainer.utils.selective_log_softmax(logits, ids, temperature)`` (on CUDA, TRL's
  own Triton log-prob kernel), then the GRPO loss as TRL computes it (``r1lab.grpo.grpo_loss``,
  checked equal to TRL's in tests/test_grpo_trl.py);
- ``torch-eager``: fp32 ``log_softmax`` of logits / τ, then gather: r1lab's CPU fallback;
- ``liger``: ``liger_kernel.transformers.grpo_loss.triton_grpo_loss``, Liger's Triton GRPO loss
  on logits (it scores positions 0..T-1 of [B, T + 1, V]: one more position per completion).

Methods that start from the last hidden states [B, T, H] and the LM head [V, H], and return
their gradients (the projection and its backward matmuls included):

- ``r1lab-fused-linear``: ``r1lab.kernels.fused_linear_log_probs`` (what ``loss_impl: triton``
  trains with: the logits are never whole, each tile stays in registers), then the loss;
- ``r1lab-lm-head``: ``hidden @ weight.T``, then ``r1lab-inplace`` (the logits kernel);
- ``trl-fused-lm-head``: ``trl.kernels.ChunkedLogProbFunction``, what TRL 1.16's GRPOTrainer
  runs (``add_fused_lm_head``: vocabulary chunks, the logits are never whole), on the rows its
  trainer scores on a GPU (those the mask keeps), then the loss;
- ``liger-fused-linear``: ``liger_kernel.chunked_loss.LigerFusedLinearGRPOLoss``.

Reported per method: the median of ``--repeats`` timed runs after ``--warmup`` (CUDA events,
forward + backward) and the peak memory above the inputs. The bound is three passes over the
logits (read forward, read + write backward) at the copy bandwidth measured on this GPU.
Writes ``grpo_loss.json`` and ``grpo_loss.md`` to ``--out``. Without a CUDA GPU it says so and
exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from importlib import metadata
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
LOSS_KNOBS = dict(loss_type="grpo", epsilon_low=0.2, epsilon_high=0.2, beta=0.04)
COMPLETION_LENGTH = 1024  # tokens per completion: N = B × 1024


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, nargs="+", default=[4096, 16384],
                        help="completion tokens N (multiples of 1024); default 4096 16384")
    parser.add_argument("--vocab", type=int, default=151_936,
                        help="vocabulary size V (Qwen2.5: 151,936)")
    parser.add_argument("--hidden-size", type=int, default=3584,
                        help="hidden size H for the LM-head methods (Qwen2.5-7B: 3584)")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="sampling temperature the logits are divided by")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (compiles)")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs; the median is kept")
    parser.add_argument("--methods", nargs="+", default=None,
                        help="subset of: " + ", ".join(METHODS))
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help=f"folder for grpo_loss.json and grpo_loss.md (default {RESULTS})")
    return parser.parse_args(argv)


def make_batch(n_tokens, vocab, temperature, layout="logits", hidden_size=3584,
               completion_length=COMPLETION_LENGTH, device="cuda"):
    """A GRPO micro-batch: bf16 inputs for ``layout``, ratios around 1, some padding.

    ``logits``: logits [B, T, V]; ``logits+1``: [B, T + 1, V], the same T positions and one
    more (Liger scores positions 0..T-1 of T + 1); ``hidden``: the last hidden states [B, T, H]
    and an LM head [V, H] instead of logits.
    """
    g = torch.Generator(device=device).manual_seed(0)
    B, T = n_tokens // completion_length, completion_length
    ids = torch.randint(0, vocab, (B, T), device=device, generator=g)
    mask = torch.ones(B, T, device=device)
    mask[::2, T // 2:] = 0  # every other completion stops halfway
    batch = dict(ids=ids, mask=mask)
    if layout == "hidden":
        batch["hidden"] = torch.randn(B, T, hidden_size, device=device, generator=g).bfloat16()
        head = torch.randn(vocab, hidden_size, device=device, generator=g) * (2 / hidden_size**0.5)
        batch["weight"] = head.bfloat16()  # logits of std 2, like the logits layouts
        rows = [h @ batch["weight"].T for h in batch["hidden"]]  # B × [T, V]
    else:
        logits = (2 * torch.randn(B, T + 1, vocab, device=device, generator=g)).bfloat16()
        batch["logits"] = logits if layout == "logits+1" else logits[:, :T].contiguous()
        rows = list(logits[:, :T])  # B × [T, V]
    with torch.no_grad():  # one sequence at a time: [T, V] fp32 is 0.6 GB at V = 151,936
        logps = torch.stack([
            torch.log_softmax(row.float() / temperature, -1).gather(-1, row_ids[:, None])[:, 0]
            for row, row_ids in zip(rows, ids)
        ])  # [B, T]
    batch["old"] = logps + 0.2 * torch.randn(B, T, device=device, generator=g)  # ratios near 1
    batch["ref"] = logps + 0.2 * torch.randn(B, T, device=device, generator=g)
    batch["advantages"] = torch.randn(B, device=device, generator=g)
    return batch


def _r1lab(logits, batch, temperature, inplace):
    from r1lab.kernels import fused_grpo_loss

    loss, _ = fused_grpo_loss(logits, batch["ids"], batch["old"], batch["ref"],
                              batch["advantages"], batch["mask"], temperature=temperature,
                              inplace_backward=inplace, **LOSS_KNOBS)
    return loss


def _grpo_loss(logps, batch):
    from r1lab.grpo import grpo_loss

    loss, _ = grpo_loss(logps, batch["old"], batch["ref"], batch["advantages"], batch["mask"],
                        **LOSS_KNOBS)
    return loss


def r1lab_inplace(batch, temperature):
    loss = _r1lab(batch["logits"], batch, temperature, inplace=True)
    return loss, torch.autograd.grad(loss, batch["logits"])


def r1lab_buffer(batch, temperature):
    loss = _r1lab(batch["logits"], batch, temperature, inplace=False)
    return loss, torch.autograd.grad(loss, batch["logits"])


def trl_path(batch, temperature):
    from trl.trainer.utils import selective_log_softmax

    logps = selective_log_softmax(batch["logits"], batch["ids"], temperature=temperature)
    loss = _grpo_loss(logps.float(), batch)  # [B, T] log-probs in
    return loss, torch.autograd.grad(loss, batch["logits"])


def torch_eager(batch, temperature):
    logp_all = torch.log_softmax(batch["logits"].float() / temperature, dim=-1)  # [B, T, V]
    logps = logp_all.gather(-1, batch["ids"].unsqueeze(-1)).squeeze(-1)  # [B, T]
    loss = _grpo_loss(logps, batch)
    return loss, torch.autograd.grad(loss, batch["logits"])


def liger(batch, temperature):
    from liger_kernel.transformers.grpo_loss import triton_grpo_loss

    loss, _ = triton_grpo_loss(
        batch["logits"], batch["old"], batch["ref"], batch["ids"], batch["advantages"],
        batch["mask"], temperature=temperature, beta=LOSS_KNOBS["beta"],
        eps_low=LOSS_KNOBS["epsilon_low"], eps_high=LOSS_KNOBS["epsilon_high"], inplace=True,
        loss_type=LOSS_KNOBS["loss_type"], reduce=True,
        use_bias_correction_kl=True,  # TRL's default, as in r1lab.grpo
    )
    return loss, torch.autograd.grad(loss, batch["logits"])


def r1lab_fused_linear(batch, temperature):
    from r1lab.kernels import fused_linear_log_probs

    hidden = batch["hidden"]
    logps, _ = fused_linear_log_probs(hidden, batch["weight"], batch["ids"], temperature,
                                      mask=batch["mask"])  # [B, T] fp32
    loss = _grpo_loss(logps, batch)
    return loss, torch.autograd.grad(loss, (hidden, batch["weight"]))


def r1lab_lm_head(batch, temperature):
    logits = batch["hidden"] @ batch["weight"].T  # [B, T, V] bf16
    loss = _r1lab(logits, batch, temperature, inplace=True)  # matmul backward needs no logits
    return loss, torch.autograd.grad(loss, (batch["hidden"], batch["weight"]))


def trl_fused_lm_head(batch, temperature):
    """What TRL 1.16's GRPOTrainer runs: its chunked LM head (add_fused_lm_head) on the rows
    the mask keeps (its trainer scores only those on a GPU)."""
    from trl.kernels import ChunkedLogProbFunction
    from trl.trainer.utils import _CHUNKED_LOGPROB_CHUNK_SIZE

    hidden, active = batch["hidden"], batch["mask"] != 0
    kept = ChunkedLogProbFunction.apply(
        hidden[active], batch["weight"], None, batch["ids"][active], temperature,
        _CHUNKED_LOGPROB_CHUNK_SIZE, None, 1.0, ("log_probs",),
    )[0]  # [n] fp32
    logps = kept.new_zeros(active.shape).masked_scatter(active, kept)  # [B, T]
    loss = _grpo_loss(logps, batch)
    return loss, torch.autograd.grad(loss, (hidden, batch["weight"]))


def liger_fused_linear(batch, temperature):
    from liger_kernel.chunked_loss import LigerFusedLinearGRPOLoss

    hidden = batch["hidden"]
    loss_fn = LigerFusedLinearGRPOLoss(
        beta=LOSS_KNOBS["beta"], epsilon_low=LOSS_KNOBS["epsilon_low"],
        epsilon_high=LOSS_KNOBS["epsilon_high"], loss_type=LOSS_KNOBS["loss_type"],
        temperature=temperature, use_bias_correction_kl=True, compiled=hidden.is_cuda,
    )
    loss = loss_fn(hidden, batch["weight"], batch["ids"], batch["mask"],  # [B, T, H] in
                   batch["advantages"], ref_per_token_logps=batch["ref"],
                   old_per_token_logps=batch["old"])[0]
    return loss, torch.autograd.grad(loss, (hidden, batch["weight"]))


# name: (function, input layout)
METHODS = {
    "r1lab-inplace": (r1lab_inplace, "logits"),
    "r1lab": (r1lab_buffer, "logits"),
    "trl": (trl_path, "logits"),
    "torch-eager": (torch_eager, "logits"),
    "liger": (liger, "logits+1"),
    "r1lab-fused-linear": (r1lab_fused_linear, "hidden"),
    "r1lab-lm-head": (r1lab_lm_head, "hidden"),
    "trl-fused-lm-head": (trl_fused_lm_head, "hidden"),
    "liger-fused-linear": (liger_fused_linear, "hidden"),
}


def copy_bandwidth() -> float:
    """Bytes per second of a device-to-device copy (one read + one write per byte)."""
    source = torch.empty(4 << 30, dtype=torch.uint8, device="cuda")
    target = torch.empty_like(source)
    for _ in range(3):
        target.copy_(source)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        target.copy_(source)
    end.record()
    torch.cuda.synchronize()
    seconds = start.elapsed_time(end) / 1e3 / 10
    del source, target
    torch.cuda.empty_cache()
    return 2 * (4 << 30) / seconds


def measure(method, layout, batch, temperature, warmup, repeats, device="cuda"):
    """Median fwd+bwd milliseconds, peak bytes above the inputs, and the loss.

    Logits are cloned before each run (in-place methods destroy them), outside the timing.
    """
    on_gpu = device == "cuda"
    if layout == "hidden":
        batch["hidden"].requires_grad_()
        batch["weight"].requires_grad_()
    master = batch.get("logits")
    times, peak_extra, loss_value = [], 0, None
    for run in range(warmup + repeats):
        if master is not None:
            batch["logits"] = master.clone().requires_grad_()
        if on_gpu:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            inputs_bytes = torch.cuda.memory_allocated()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
        loss, grads = method(batch, temperature)
        if on_gpu:
            end.record()
            torch.cuda.synchronize()
            peak_extra = max(peak_extra, torch.cuda.max_memory_allocated() - inputs_bytes)
            if run >= warmup:
                times.append(start.elapsed_time(end))
        loss_value = loss.item()
        del loss, grads
    batch["logits"] = master
    return (statistics.median(times) if times else None), peak_extra, loss_value


def versions() -> dict:
    found = {}
    for package in ("torch", "triton", "trl", "liger_kernel", "transformers"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    found["cuda"] = torch.version.cuda
    return found


def markdown(report) -> str:
    versions = report["versions"]
    lines = [
        f"GRPO loss, forward + backward, bf16, V = {report['vocab']:,}, τ = "
        f"{report['temperature']}, on {report['gpu']} ({report['date']}; torch "
        f"{versions['torch']}, triton {versions['triton']}, trl {versions['trl']}, "
        f"liger-kernel {versions['liger_kernel']}).",
        "",
        "| N tokens | input | method | time (ms, median) | × bound | peak extra (GiB) | loss |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rows"]:
        start = f"| {row['tokens']:,} | {row['layout']} | {row['method']} |"
        if "error" in row:
            lines.append(f"{start} failed: {row['error']} | | | |")
            continue
        lines.append(
            f"{start} {row['ms']:.2f} | {row['ms'] / row['bound_ms']:.2f} | "
            f"{row['peak_extra_bytes'] / 2**30:.2f} | {row['loss']:.5f} |"
        )
    lines += [
        "",
        "× bound: time over three passes across the bf16 logits (read forward, read + write "
        f"backward) at this GPU's measured copy bandwidth, {report['copy_bandwidth_gbs']:.0f} "
        "GB/s. Peak extra: memory above the inputs; it includes d(logits) where that is a new "
        f"buffer. `hidden` rows start from hidden states [N, {report['hidden_size']}] and the LM "
        "head, so they include the projection and its two backward matmuls.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA GPU here: this benchmark needs one, nothing was measured")
        return 0
    names = args.methods or list(METHODS)
    unknown = sorted(set(names) - set(METHODS))
    if unknown:
        print(f"unknown --methods {unknown}; choose from {list(METHODS)}", file=sys.stderr)
        return 2
    if str(ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
        sys.path.insert(0, str(ROOT))
    bandwidth = copy_bandwidth()
    rows = []
    for tokens in args.tokens:
        if tokens % COMPLETION_LENGTH:
            print(f"--tokens must be multiples of {COMPLETION_LENGTH}; got {tokens}",
                  file=sys.stderr)
            return 2
        bound_ms = 3 * tokens * args.vocab * 2 / bandwidth * 1e3
        for name in names:
            method, layout = METHODS[name]
            batch = make_batch(tokens, args.vocab, args.temperature, layout, args.hidden_size)
            row = dict(tokens=tokens, method=name, layout=layout, bound_ms=bound_ms)
            try:
                ms, peak, loss = measure(method, layout, batch, args.temperature, args.warmup,
                                         args.repeats)
                row.update(ms=ms, peak_extra_bytes=peak, loss=loss)
            except Exception as error:  # a missing package, out of memory, an API change
                row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
            rows.append(row)
            print(json.dumps(row), flush=True)
            del batch
            torch.cuda.empty_cache()
    report = dict(
        gpu=torch.cuda.get_device_name(), vocab=args.vocab, temperature=args.temperature,
        hidden_size=args.hidden_size,
        warmup=args.warmup, repeats=args.repeats, copy_bandwidth_gbs=bandwidth / 1e9,
        date=datetime.date.today().isoformat(), versions=versions(), rows=rows,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "grpo_loss.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "grpo_loss.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
