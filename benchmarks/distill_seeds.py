"""Distillation against RL on the small student (R1 §2.4, §4.1) over seeds: ``python benchmarks/distill_seeds.py``.

What notebook 09 draws and asserts from. The teacher is the shipped tiny R1
(``data/models/tiny-r1``, stage 4's seed 0, from ``benchmarks/all_scenario_seeds.py --ship``);
the student is ``data/models/tiny-student``.

* ``distill-data``: the teacher's filtered samples on training questions (the pipeline's
  ``distill_data`` step at the ``full`` budget: ``r1lab.sampling.sample_stage_2``).
* ``student``: the student before anything, unprompted and made to reason (``<think>``
  prefilled): the control that tells RL adding skill from RL switching a mode on.
* ``distill-seed{s}``: arm (b), ``tiny/distill`` (SFT of the student on the teacher's set),
  ``trainer.seed`` = s. Its cost: the teacher's sampling plus this SFT, in minutes.
* ``rl-seed{s}``: arm (a), ``tiny/student_rl`` (R1-Zero's rules from the student) with
  ``time_budget_minutes`` = distill-seed{s}'s cost: the same wall-clock.
* ``distill_rl-seed{s}``: arm (c), ``tiny/distill_rl`` (RL with stage 2's rules after (b)).
* ``careful-seed{s}``: the control for what the teacher adds: ``tiny/distill`` on
  ``careful.jsonl``, as many of the generator's careful chains as the teacher's set keeps
  (``r1lab.cold_start.careful_rows``: the mode the tiny world plants, written exactly right,
  one per training question of the same draw) with the same non-reasoning rows; written by the
  first careful job from the distill-data job's counts (no model in the loop).

Held-out, paper protocol (``r1lab.eval.evaluate_model`` with ``Evaluation()``): 500
test-split questions, half in Chinese, k = 4, T = 0.6, top-p 0.95, seed 0 (as the stage-3 and
stage-4 benchmarks), and 400 general prompts x 4.

Runs go to ``runs/distill-seeds/``; each job keeps its result in ``results/<job>.json`` there
(two workers with one torch thread each: ``OMP_NUM_THREADS=1 python benchmarks/distill_seeds.py
--jobs … --no-gather``; an ``rl`` or ``distill_rl`` job waits for its distillation seed); a plain
run gathers them into ``benchmarks/results/distill_seeds.json``, stamped with the SHA-256 of the
recipes and of the teacher's and the student's weights. About 40 minutes on 2 cores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seed_jobs import main, wait_for_job, write_careful  # noqa: E402  (beside this script)

RESULTS = ROOT / "benchmarks" / "results" / "distill_seeds.json"
RUNS = ROOT / "runs" / "distill-seeds"
TEACHER = ROOT / "data" / "models" / "tiny-r1"
STUDENT = ROOT / "data" / "models" / "tiny-student"
RECIPES = {"distill": "tiny/distill", "rl": "tiny/student_rl", "distill_rl": "tiny/distill_rl",
           "careful": "tiny/distill"}
SAMPLING_SEED = 0  # sample_stage_2's seed for the teacher's set: draws its requests too
SEEDS = (0, 1, 2)
CURVES = ("step", "reward", "accuracy", "completion_length", "entropy", "loss")


def jobs() -> list[str]:
    return ["distill-data", "student", *(f"{arm}-seed{s}" for arm in RECIPES for s in SEEDS)]


def stamp() -> dict:
    from dataclasses import asdict

    from r1lab.eval import Evaluation
    from r1lab.pipeline import BUDGETS
    from r1lab.tiny.card import weights_sha256
    from r1lab.train.recipe import recipe_sha256

    recipes = dict.fromkeys(RECIPES.values())  # each once, in RECIPES' order
    return {"recipes_sha256": {name: recipe_sha256(name) for name in recipes},
            "teacher_weights_sha256": weights_sha256(TEACHER),
            "student_weights_sha256": weights_sha256(STUDENT),
            "distill_data": asdict(BUDGETS["full"].distill),
            "protocol": asdict(Evaluation())}


def _rel(text: str) -> str:
    return text.replace(str(ROOT) + "/", "")


def run_data() -> dict:
    from r1lab.pipeline import BUDGETS
    from r1lab.sampling import sample_stage_2

    started = time.perf_counter()
    manifest = sample_stage_2(TEACHER, RUNS / "distill-data", seed=SAMPLING_SEED,
                              config=BUDGETS["full"].distill, progress=False)
    return {"minutes": round((time.perf_counter() - started) / 60, 2),
            "manifest": {key: manifest[key] for key in (
                "prompts", "samples", "kept", "acceptance", "filters", "rows", "languages")}}


def run_arm(arm: str, seed: int) -> dict:
    from r1lab.eval import evaluate_model
    from r1lab.train import run
    from r1lab.train.metrics import curves

    output_dir = RUNS / f"{arm}-seed{seed}"
    overrides = [f"trainer.seed={seed}", f"output_dir={output_dir}"]
    extra = {}
    if arm == "distill":
        wait_for_job(RUNS / "results", "distill-data")
        overrides.append(f"task.source={RUNS / 'distill-data' / 'data.jsonl'}")
    elif arm == "rl":  # (a): the minutes (b) took, teacher's sampling included
        data = wait_for_job(RUNS / "results", "distill-data")
        distilled = wait_for_job(RUNS / "results", f"distill-seed{seed}")
        extra["budget_minutes"] = round(data["minutes"] + distilled["train_minutes"], 2)
        overrides.append(f"time_budget_minutes={extra['budget_minutes']}")
    elif arm == "careful":  # the control: the generator's careful chains, as many
        from r1lab.pipeline import BUDGETS

        data = wait_for_job(RUNS / "results", "distill-data")
        write_careful(RUNS / "careful.jsonl", data["manifest"]["rows"], BUDGETS["full"].distill,
                      SAMPLING_SEED)
        overrides.append(f"task.source={RUNS / 'careful.jsonl'}")
    else:  # (c): RL after (b)
        wait_for_job(RUNS / "results", f"distill-seed{seed}")
        overrides.append(f"model={RUNS / f'distill-seed{seed}' / 'final'}")
    started = time.perf_counter()
    result = run(RECIPES[arm], overrides, resume="auto", progress=False)
    minutes = (time.perf_counter() - started) / 60
    found = curves(output_dir, CURVES)
    return {"overrides": [_rel(o) for o in overrides], "train_minutes": round(minutes, 2),
            "steps": found["step"][-1] if found["step"] else 0, **extra, "curves": found,
            "held_out": evaluate_model(result.final_dir)}


def run_job(job: str) -> dict:
    from r1lab.eval import evaluate_model

    if job == "distill-data":
        return run_data()
    if job == "student":
        return {"held_out": evaluate_model(STUDENT),
                "made_to_reason": evaluate_model(STUDENT, prefill="<think>")}
    arm, _, seed = job.rpartition("-seed")
    return run_arm(arm, int(seed))


if __name__ == "__main__":
    sys.exit(main(None, __doc__.splitlines()[0], jobs(), run_job, stamp, RUNS, RESULTS,
                  ("nothing to ship: the teacher and student are shipped already",
                   lambda results: None)))
