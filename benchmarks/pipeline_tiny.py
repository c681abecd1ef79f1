"""The whole pipeline, timed as a user runs it: ``python benchmarks/pipeline_tiny.py``.

Runs ``r1lab pipeline tiny`` (seed 0, the default ``quick`` budget) into a fresh
``runs/pipeline-bench`` from a new process, as after a fresh clone, then the same command again
with every step complete, and writes ``benchmarks/results/pipeline_tiny/``: the run's
``results.json``, ``results.md`` and ``results.png`` (the paper's comparison in miniature) and
``timing.json`` (both runs' wall minutes, each step's minutes, the machine), stamped with the
SHA-256 of every tiny recipe the pipeline trains and the budget's settings. Notebook 09 and the
README read it; run it alone on the machine (it uses every core). ``--resume`` continues a
killed run instead of starting afresh (the first run's minutes then say so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "pipeline_tiny"
RUN = ROOT / "runs" / "pipeline-bench"
RECIPES = ("tiny/r1_zero", "tiny/cold_start_sft", "tiny/reasoning_rl", "tiny/rejection_sft",
           "tiny/reward_model_helpful", "tiny/reward_model_harmless", "tiny/all_scenario_rl",
           "tiny/distill", "tiny/student_rl", "tiny/distill_rl")
BUDGET = "quick"


def stamp() -> dict:
    from r1lab.pipeline import BUDGETS
    from r1lab.train.recipe import recipe_sha256

    budget = asdict(BUDGETS[BUDGET])
    budget["train"] = {step: list(lines) for step, lines in budget["train"].items()}
    return {"recipes_sha256": {name: recipe_sha256(name) for name in RECIPES}, "budget": budget}


def timed_run() -> float:
    """One ``r1lab pipeline tiny`` in a new process; its wall minutes."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "r1lab", "pipeline", "tiny", "--out", str(RUN),
                    "--budget", BUDGET, "--seed", "0"], cwd=ROOT, check=True)
    return round((time.perf_counter() - started) / 60, 2)


def main(argv=None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resume", action="store_true",
                        help="continue runs/pipeline-bench instead of starting afresh")
    args = parser.parse_args(argv)
    if RUN.exists() and not args.resume:
        shutil.rmtree(RUN)
    first = timed_run()
    second = timed_run()
    record = json.loads((RUN / "pipeline.json").read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("results.json", "results.md", "results.png"):
        shutil.copyfile(RUN / "results" / name, OUT / name)
    timing = {**stamp(), "first_run_minutes": first, "resumed": args.resume,
              "second_run_minutes": second, "steps_minutes": record["steps"],
              "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                          "torch": torch.__version__, "python": platform.python_version()}}
    (OUT / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    print(f"first run {first:.1f} min, second {second:.2f} min; wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
