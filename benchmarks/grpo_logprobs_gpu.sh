#!/usr/bin/env bash
# The GRPO log-prob kernels on one CUDA GPU, in under 8 minutes (each part has its own timeout):
#   1. the kernel tests that need a GPU (tests/test_kernels.py -m gpu: the kernels compiled, in
#      bf16, against fp32 math and against TRL's fused LM head);
#   2. forward + backward time and peak memory of r1lab's path from the hidden states
#      (r1lab-fused-linear), TRL's fused LM head, Liger's fused linear GRPO loss (when
#      installed) and the logits path (r1lab-lm-head) at N = 4,096 and 16,384 tokens,
#      H = 1,536, V = 151,936 (Qwen2.5-1.5B's head), bf16:
#      OUT/grpo_loss.json and OUT/grpo_loss.md;
#   3. a smoke run: 10 steps of single_gpu/r1_zero_lora with loss_impl: triton (its model must
#      be in the Hugging Face cache or reachable).
# Usage: bash benchmarks/grpo_logprobs_gpu.sh [OUT]   (OUT defaults to benchmarks/results/gpu)
# Without a CUDA GPU it says so and exits 0, having measured nothing. On a GPU it exits 1 if a
# part failed, after running the others.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
OUT=${1:-benchmarks/results/gpu}

if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "no CUDA GPU here: benchmarks/grpo_logprobs_gpu.sh measures nothing without one"
  echo "(run it on a machine with one CUDA GPU; the CPU tests are in make test)"
  exit 0
fi
mkdir -p "$OUT"
failed=()
start=$SECONDS

echo "== 1/3 kernel tests on the GPU (bf16)"
timeout 150 "$PY" -m pytest -q -m gpu tests/test_kernels.py -o addopts="-p no:cacheprovider" \
  2>&1 | tee "$OUT/gpu_tests.log"
[ "${PIPESTATUS[0]}" = 0 ] || failed+=("kernel tests")

echo "== 2/3 time and peak memory, from the hidden states (N = 4,096 and 16,384)"
timeout 200 "$PY" benchmarks/grpo_loss.py --tokens 4096 16384 --hidden-size 1536 \
  --vocab 151936 --warmup 2 --repeats 5 --out "$OUT" \
  --methods r1lab-fused-linear trl-fused-lm-head liger-fused-linear r1lab-lm-head \
  || failed+=("benchmark")

echo "== 3/3 smoke: 10 steps of single_gpu/r1_zero_lora, loss_impl: triton"
timeout 120 "$PY" -m r1lab train single_gpu/r1_zero_lora --set loss_impl=triton \
  --set trainer.max_steps=10 --set trainer.save_steps=1000 \
  --set "output_dir=$OUT/smoke_r1_zero_lora" 2>&1 | tail -n 25 | tee "$OUT/smoke.log"
[ "${PIPESTATUS[0]}" = 0 ] || failed+=("smoke run")

echo "done in $((SECONDS - start)) s; results in $OUT"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
