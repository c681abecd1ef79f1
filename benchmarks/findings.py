"""The findings lab over seeds: ``python benchmarks/findings.py`` (notebook 11 reads its results).

Five claims later papers made about R1-Zero-like training, tested in the tiny world
(``r1lab.findings``: the claims, the arms, the helpers). Jobs:

* ``base``: the base model on the held-out questions, unprompted and made to reason
  (``<think>`` prefilled): the control every gain is measured from.
* ``{arm}-seed{s}``: one arm of ``r1lab.findings.ARMS`` on ``tiny/findings`` (40 optimizer steps,
  num_iterations 2) with ``trainer.seed`` = s, seeds 0, 1, 2: its training curves (accuracy,
  lengths of right and wrong completions, entropy, KL, clip ratios) and the final model on
  the held-out questions.
* ``passk-{model}``: right answers among 256 samples for each of 32 held-out questions, for
  unbiased pass@k up to k = 256: ``base`` (unprompted and made to reason), ``dapo-seed{s}``
  (RL from the base, the common arm), ``student`` (``data/models/tiny-student``, unprompted
  and made to reason) and ``distilled-seed{s}`` (the student distilled from the tiny R1,
  ``runs/distill-seeds/distill-seed{s}/final``: run ``benchmarks/distill_seeds.py`` first).

Held-out protocol: 500 test-split questions (English), k = 4, T = 0.6, top-p 0.95, seed 0;
pass@k on 32 other test-split questions (seed 1), n = 256, same sampling.

Runs go to ``runs/findings/``; each job keeps its result in ``results/<job>.json`` there, so a
killed benchmark continues where it stopped and two workers with one torch thread each share
the two cores (``OMP_NUM_THREADS=1 python benchmarks/findings.py --jobs … --no-gather``; a
``passk-dapo`` job waits for its run). A plain run gathers them into
``benchmarks/results/findings.json``, stamped with the SHA-256 of the recipe, of the arms'
overrides and of every model's weights. Each job records its minutes (their sum: the
benchmark's one-thread time); ``wall_minutes`` is the wall-clock from the first job's start
to the last one's end.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seed_jobs import main, wait_for_job, write_json  # noqa: E402  (beside this script)

RESULTS = ROOT / "benchmarks" / "results" / "findings.json"
RUNS = ROOT / "runs" / "findings"
BASE = ROOT / "data" / "models" / "tiny-base"
STUDENT = ROOT / "data" / "models" / "tiny-student"
DISTILLED = ROOT / "runs" / "distill-seeds"
SEEDS = (0, 1, 2)
HELD_OUT = {"questions": 500, "k": 4, "seed": 0, "split": "test", "lang": "en"}
PASS_AT_K = {"questions": 32, "n": 256, "seed": 1, "split": "test", "lang": "en"}


def jobs() -> list[str]:
    from r1lab.findings import ARMS

    return ["base", "passk-base", "passk-student",
            *(f"{arm}-seed{s}" for arm in ARMS for s in SEEDS),
            *(f"passk-dapo-seed{s}" for s in SEEDS),
            *(f"passk-distilled-seed{s}" for s in SEEDS)]


def distilled(seed: int) -> Path:
    path = DISTILLED / f"distill-seed{seed}" / "final"
    if not (path / "model.safetensors").is_file():
        raise SystemExit(f"no distilled student at {path.relative_to(ROOT)}: run "
                         f"`python benchmarks/distill_seeds.py --jobs distill-data "
                         f"distill-seed{seed} --no-gather` first")
    return path


def stamp() -> dict:
    from r1lab.findings import ARMS, RECIPE
    from r1lab.tiny.card import weights_sha256
    from r1lab.train.recipe import recipe_sha256

    return {"recipe": RECIPE, "recipe_sha256": recipe_sha256(RECIPE),
            "arms_sha256": hashlib.sha256(json.dumps(ARMS, sort_keys=True).encode()).hexdigest(),
            "weights_sha256": {"base": weights_sha256(BASE), "student": weights_sha256(STUDENT),
                               **{f"distilled-seed{s}": weights_sha256(distilled(s))
                                  for s in SEEDS}},
            "seeds": list(SEEDS), "held_out": HELD_OUT, "pass_at_k": PASS_AT_K}


def protocol(prefill: str = ""):
    """``HELD_OUT`` as an ``r1lab.eval.Protocol``: English test questions, its seed drawing
    them and seeding the sampling, 256 sequences per call."""
    from r1lab.eval import Protocol

    return Protocol(n=HELD_OUT["questions"], split=HELD_OUT["split"], seed=HELD_OUT["seed"],
                    zh_fraction=0.0, k=HELD_OUT["k"], batch_size=256,
                    sampling_seed=HELD_OUT["seed"], prefill=prefill)


def held_out(model_dir, prefill: str = "") -> dict:
    """pass@1 (CI over questions), format, reasoning, the lengths of right and wrong
    held-out completions and each question's correct samples."""
    from r1lab.eval import held_out as held_out_report

    report = held_out_report(model_dir, protocol(prefill))

    def mean_tokens(correct: bool) -> float | None:
        lengths = [r["n_tokens"] for r in report.records if r["correct"] == correct]
        return round(sum(lengths) / len(lengths), 2) if lengths else None

    return {"pass_at_1": report.pass_at_1, "pass_at_1_ci": list(report.pass_at_1_ci),
            "format_rate": report.format_rate, "reasoning_rate": report.reasoning_rate,
            "mean_completion_tokens": report.mean_completion_tokens,
            "right_tokens": mean_tokens(True), "wrong_tokens": mean_tokens(False),
            "correct_per_question": report.per_question()}


def pass_at_k_job(model_dir, prefill: str = "") -> dict:
    from r1lab.findings import pass_at_k_counts, pass_at_k_protocol

    return {"counts": pass_at_k_counts(model_dir, pass_at_k_protocol(
        PASS_AT_K["questions"], PASS_AT_K["n"], PASS_AT_K["seed"], prefill=prefill))}


def run_job(job: str) -> dict:
    from r1lab.findings import run_arm

    started = time.perf_counter()
    if job == "base":
        result = {"held_out": held_out(BASE), "made_to_reason": held_out(BASE, "<think>")}
    elif job in ("passk-base", "passk-student"):
        model = BASE if job == "passk-base" else STUDENT
        result = {"unprompted": pass_at_k_job(model),
                  "made_to_reason": pass_at_k_job(model, "<think>")}
    elif job.startswith("passk-dapo-seed"):
        wait_for_job(RUNS / "results", job.removeprefix("passk-"))
        seed = int(job.rpartition("seed")[2])
        result = pass_at_k_job(RUNS / f"dapo-seed{seed}" / "final")
    elif job.startswith("passk-distilled-seed"):
        result = pass_at_k_job(distilled(int(job.rpartition("seed")[2])))
    else:
        arm, _, seed = job.rpartition("-seed")
        final, curves = run_arm(arm, int(seed), RUNS / job)
        trained = time.perf_counter() - started
        result = {"train_minutes": round(trained / 60, 2), "curves": curves,
                  "held_out": held_out(final)}
    return {"minutes": round((time.perf_counter() - started) / 60, 2), **result}


def wall_minutes(folder: Path, names) -> float:
    """Wall-clock from the first job's start to the last job's end, read from each result
    file's time of writing less its own minutes (workers ran side by side)."""
    spans = []
    for name in names:
        path = folder / f"{name}.json"
        end = path.stat().st_mtime
        spans.append((end - 60 * json.loads(path.read_text())["minutes"], end))
    return round((max(e for _, e in spans) - min(s for s, _ in spans)) / 60, 1)


def add_wall_minutes(out: Path) -> None:
    results = json.loads(out.read_text())
    results["wall_minutes"] = wall_minutes(RUNS / "results", results["jobs"])
    write_json(out, results)
    print(f"{results['wall_minutes']} min wall-clock")


if __name__ == "__main__":
    code = main(None, __doc__.splitlines()[0], jobs(), run_job, stamp, RUNS, RESULTS,
                ("nothing to ship: the findings train no model the lab ships",
                 lambda results: None))
    if "--no-gather" not in sys.argv and "--out" not in sys.argv:
        add_wall_minutes(RESULTS)
    sys.exit(code)
