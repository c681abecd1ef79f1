"""R1-Zero's learning rate, chosen again on the validation split: ``python benchmarks/tuning_seeds.py``.

``tiny/r1_zero``'s learning rate (1e-4) was picked by looking at test results (issue 31). This
benchmark makes the choice the way it should be made, on questions no result is reported on:

* ``{arm}-seed{s}``: ``r1lab train tiny/r1_zero`` with ``trainer.seed`` = s and the arm's
  rate (``ARMS``: the shipped 1e-4, and 3e-4 and 3e-5 beside it), 3 seeds each;
* each final model on the **validation** split (``r1lab.tasks.generate(n, "validation")``:
  the held-out side of the hash, never a reported test question; ``PROTOCOL``), the paper's
  sampling (T 0.6, top-p 0.95), English questions as in ``benchmarks/r1_zero_seeds.py``, with
  each question's correct samples;
* the choice: the arm with the highest mean pass@1 over seeds, the arms the interval cannot
  tell from it (ties), and the shipped rate against each other arm
  (``r1lab.stats.paired_difference``: seeds and questions resampled together). The shipped
  rate stays unless validation says another arm is better ("agrees" against it);
* each final model on the test split as well (the same protocol, test questions): what a choice
  made on test would have picked, and whether validation ranks the arms as test does. Test is
  read here only to report that, never to choose.

The shipped arm's runs repeat ``r1_zero_seeds.py``'s (same recipe, seeds, base, one thread).
On another machine they are not bit-identical (the logged figures part after about 30 of
200 steps): ``shipped_vs_r1_zero_seeds`` gives the first step whose logged figures
differ and both runs' test pass@1.

Runs go to ``runs/tuning-seeds/``; each job keeps its result in ``results/<job>.json`` there
(``benchmarks/seed_jobs.py``): two workers with one torch thread each share the two cores
(``OMP_NUM_THREADS=1 python benchmarks/tuning_seeds.py --jobs lr_1e-4-seed0 --no-gather``
beside another), and a last plain run gathers them into
``benchmarks/results/tuning_seeds.json``. 11-18 min of training per job at one thread (144 in all).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seed_jobs import run_jobs, write_json  # noqa: E402  (beside this script)

RECIPE = "tiny/r1_zero"
RESULTS = ROOT / "benchmarks" / "results" / "tuning_seeds.json"
RUNS = ROOT / "runs" / "tuning-seeds"
SHIPPED = "lr_1e-4"
ARMS = {SHIPPED: [], "lr_3e-4": ["trainer.learning_rate=3.0e-4"],
        "lr_3e-5": ["trainer.learning_rate=3.0e-5"]}
SEEDS = (0, 1, 2)
CURVE_FIELDS = ("accuracy", "format", "reasoning_share", "completion_length")
PROTOCOL = {"n": 500, "k": 4, "split": "validation", "seed": 0, "zh_fraction": 0.0}
"""500 English validation questions x 4 samples, T 0.6, top-p 0.95, sampling seed 0."""


def jobs() -> list[str]:
    """Seed by seed, arm by arm: a stopped benchmark has whole seeds to compare."""
    return [f"{arm}-seed{s}" for s in SEEDS for arm in ARMS]


def train(job: str) -> tuple[Path, dict]:
    """Train ``job`` unless its folder holds a finished run; its ``final/`` and the training
    record (overrides, minutes, threads, curves), kept beside it as ``train.json``."""
    import torch

    from r1lab.train import load_recipe, run
    from r1lab.train.metrics import curves

    arm, _, seed = job.rpartition("-seed")
    output_dir = RUNS / job
    record = output_dir / "train.json"
    if record.is_file():
        return output_dir / "final", json.loads(record.read_text())
    overrides = [*ARMS[arm], f"trainer.seed={seed}", f"output_dir={output_dir}"]
    started = time.perf_counter()
    result = run(load_recipe(RECIPE, overrides), resume="auto", progress=False)
    out = {"arm": arm, "seed": int(seed), "overrides": overrides[:-1],
           "train_minutes": round((time.perf_counter() - started) / 60, 2),
           "steps": len(result.metrics), "torch_threads": torch.get_num_threads(),
           "curves": curves(output_dir, ("step", *CURVE_FIELDS))}
    write_json(record, out)
    return result.final_dir, out


def protocol(split: str = "validation"):
    """``PROTOCOL`` on ``split`` (validation chooses; test only reports)."""
    from r1lab.eval import Protocol

    return Protocol(**{**PROTOCOL, "split": split}, batch_size=256, sampling_seed=0)


def stamp() -> dict:
    """What every job ran on: the recipe's and the base's SHA-256, the arms, the protocol."""
    from r1lab.tiny.card import weights_sha256
    from r1lab.train import load_recipe
    from r1lab.train.recipe import recipe_sha256

    return {"recipe": RECIPE, "recipe_sha256": recipe_sha256(RECIPE),
            "base_weights_sha256": weights_sha256(ROOT / load_recipe(RECIPE).model),
            "arms": ARMS, "protocol": protocol().as_dict(), "splits": ["validation", "test"]}


def run_job(job: str) -> dict:
    """Train ``job`` (or read its finished run) and score it on the validation questions (to
    choose) and the test questions (to report), with each question's correct samples."""
    from r1lab.eval import held_out
    from r1lab.sources import load_model_and_tokenizer

    final, record = train(job)
    model = load_model_and_tokenizer(final)
    out = dict(record)
    for split in ("validation", "test"):
        report = held_out(model, protocol(split))
        out[split] = {"pass_at_1": report.pass_at_1, "pass_at_1_ci": list(report.pass_at_1_ci),
                      "format_rate": report.format_rate,
                      "reasoning_rate": report.reasoning_rate,
                      "correct_per_question": report.per_question()}
    return out


def choice(results: dict) -> dict:
    """Per split: each arm's pass@1 over seeds (``stats.seed_interval``), the arm with the
    highest mean, and the shipped rate against every other arm on the same questions
    (``stats.paired_difference``, claimed better: ``stats.verdict``). Validation's pick is the
    choice; test's is reported beside it."""
    from r1lab.stats import paired_difference, seed_interval, verdict

    def scores(arm, split):
        rows = [job[split]["correct_per_question"] for job in results["jobs"].values()
                if job["arm"] == arm]
        return [[c / row["k"] for c in row["correct"]] for row in rows]

    out = {"shipped": SHIPPED}
    for split in ("validation", "test"):
        arms = {arm: scores(arm, split) for arm in ARMS}
        pass_at_1 = {arm: seed_interval([sum(r) / len(r) for r in rows])
                     for arm, rows in arms.items()}
        against = {}
        for arm in arms:
            if arm != SHIPPED:
                diff, low, high = paired_difference(arms[SHIPPED], arms[arm])
                against[arm] = {"difference": diff, "interval": [low, high],
                                "verdict": verdict(low, high)}
        best = max(pass_at_1, key=lambda arm: pass_at_1[arm][0])
        # The highest mean alone is no choice: an arm the interval cannot tell from it ties.
        ties = [arm for arm in arms if arm != best
                and verdict(*paired_difference(arms[best], arms[arm])[1:]) == "cannot tell"]
        out[split] = {"pass_at_1": {arm: {"mean": m, "interval": [lo, hi]}
                                    for arm, (m, lo, hi) in pass_at_1.items()},
                      "picked": best, "cannot_tell_from_picked": ties,
                      "shipped_minus": against}
    out["shipped_vs_r1_zero_seeds"] = against_committed(results)
    return out


def against_committed(results: dict) -> dict:
    """Per seed, the shipped arm against ``r1_zero_seeds.json``'s run of the same seed: the
    first step whose logged figures differ (None: none) and both runs' test pass@1 (theirs:
    k = 8; ours: ``PROTOCOL``'s k on the same first questions)."""
    committed = json.loads((ROOT / "benchmarks" / "results" / "r1_zero_seeds.json").read_text())
    theirs = {run["seed"]: run for run in committed["runs"] if run["variant"] == "r1_zero"}
    out = {}
    for job in results["jobs"].values():
        if job["arm"] != SHIPPED or job["seed"] not in theirs:
            continue
        other = theirs[job["seed"]]
        steps = job["curves"]["step"]
        differ = [steps[i] for i in range(len(steps))
                  if any(job["curves"][f][i] != other["curves"][f][i] for f in CURVE_FIELDS)]
        out[str(job["seed"])] = {"first_different_step": differ[0] if differ else None,
                                 "test_pass_at_1": job["test"]["pass_at_1"],
                                 "committed_test_pass_at_1": other["held_out"]["pass_at_1"]}
    return out


def main(argv=None) -> int:
    import argparse
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", nargs="+", default=jobs(), choices=jobs())
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-gather", action="store_true",
                        help="a worker beside others: write only the jobs' own results")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    results = run_jobs(args.jobs, jobs(), run_job, stamp(), RUNS / "results", args.out,
                       gather=not args.no_gather)
    if results is not None:
        results["choice"] = choice(results)
        write_json(args.out, results)
        print(json.dumps(results["choice"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
