"""Cold start + reasoning RL over seeds, against its controls: ``python benchmarks/cold_start_seeds.py``.

What notebooks 05 and 06 draw and assert from (each trains one seed live and checks that it
lands in this spread). Needs ``benchmarks/r1_zero_seeds.py`` to have run first: its R1-Zero
runs are the control here, and seed 0's model is path 3 of the cold start.

* ``pipeline``: ``r1lab pipeline tiny`` (seed 0) up to the cold-start SFT, with R1-Zero's seed-0
  run as its first step: the three collection paths (their manifest: tried, kept, dropped
  and why) and the SFT checkpoint every RL run below starts from (one cold start; the seeds
  are RL's).
* ``language-seed{s}``: ``tiny/reasoning_rl`` from that checkpoint (accuracy + readable format +
  language consistency), ``trainer.seed`` = s; ``no_language-seed{s}``: the same with
  ``rewards.language=0``. Both have R1-Zero's RL budget (steps, group, rate, lengths).
* ``r1_zero-seed{s}``: R1-Zero's runs (``runs/r1-zero-seeds``), evaluated here as well.

Every final model (and the SFT checkpoint) is evaluated on one held-out set, paper protocol:
500 test-split questions, half of them in Chinese, k = 4, T = 0.6, top-p 0.95, seed 0;
overall and per language: pass@1 and its CI, the readable-format and clean rates
(``r1lab.cold_start.readability``), mixing on the chain of thought, reasoning tokens. For
convergence, R1-Zero's and the language runs' checkpoints (every 40 steps) are evaluated on
the same questions with k = 1.

Runs go to ``runs/cold-start-seeds/``; each job keeps its result in ``results/<job>.json``
there, so a killed benchmark continues where it stopped and two processes with one torch
thread each share the two cores (``OMP_NUM_THREADS=1 python benchmarks/cold_start_seeds.py
--jobs pipeline language-seed0 --no-gather`` beside ``--jobs r1_zero-seed0 no_language-seed0
--no-gather``); a last plain run gathers them into ``benchmarks/results/cold_start_seeds.json``,
stamped with the SHA-256 of the recipes and of the base weights.

``--ship`` then copies seed 0's models into ``data/models/`` (weights, config, tokenizer), so
that notebooks and later stages start from them without retraining: ``tiny-r1-zero`` (R1-Zero),
``tiny-cold-start`` (the cold-start SFT checkpoint) and ``tiny-reasoning-rl`` (reasoning RL
with the language reward: the stage-2 checkpoint rejection sampling starts from). Each gets
a card with its figures from the results file and the SHA-256 of its weights.
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seed_jobs import (card_text, main, ship_model, summary_by_language,  # noqa: E402
                       wait_for)  # (beside this script)

RESULTS = ROOT / "benchmarks" / "results" / "cold_start_seeds.json"
RUNS = ROOT / "runs" / "cold-start-seeds"
R1_ZERO_RUNS = ROOT / "runs" / "r1-zero-seeds"
PIPELINE = RUNS / "pipeline"
RECIPES = ("tiny/r1_zero", "tiny/cold_start_sft", "tiny/reasoning_rl")
VARIANTS = {"language": [], "no_language": ["rewards.language=0"]}
SEEDS = (0, 1, 2)
PROTOCOL = {"n": 500, "k": 4, "zh_fraction": 0.5, "split": "test", "seed": 0,
            "temperature": 0.6, "top_p": 0.95, "checkpoint_k": 1}
REPORT_FIELDS = ("pass_at_1", "pass_at_1_ci", "format_rate", "reasoning_rate", "mixing_rate",
                 "recheck_rate", "mean_reasoning_tokens", "mean_completion_tokens")
CURVE_FIELDS = ("accuracy", "format", "readable_format", "language", "reasoning_share",
                "completion_length")


def jobs() -> list[str]:
    return ["pipeline", *(f"r1_zero-seed{s}" for s in SEEDS),
            *(f"{v}-seed{s}" for v in VARIANTS for s in SEEDS)]


def stamp() -> dict:
    from r1lab.tiny.card import weights_sha256
    from r1lab.train import load_recipe
    from r1lab.train.recipe import recipe_sha256

    return {"recipes_sha256": {name: recipe_sha256(name) for name in RECIPES},
            "base_weights_sha256": weights_sha256(ROOT / load_recipe(RECIPES[0]).model),
            "protocol": PROTOCOL}


def protocol(k: int):
    """``PROTOCOL`` as an ``r1lab.eval.Protocol`` with ``k`` samples per question (``k`` for
    final models, ``checkpoint_k`` for the convergence curves); its seed draws the questions
    and seeds the sampling, 256 sequences per call."""
    from r1lab.eval import Protocol

    return Protocol(n=PROTOCOL["n"], split=PROTOCOL["split"], seed=PROTOCOL["seed"],
                    zh_fraction=PROTOCOL["zh_fraction"], k=k,
                    temperature=PROTOCOL["temperature"], top_p=PROTOCOL["top_p"],
                    batch_size=256, sampling_seed=PROTOCOL["seed"])


def held_out(model_dir: Path, k: int) -> dict:
    """The model's report on the held-out set: overall and per language (each question's
    correct samples in ``all``)."""
    from r1lab.eval import held_out as held_out_report

    chosen = protocol(k)
    report = held_out_report(model_dir, chosen)

    return summary_by_language(report, REPORT_FIELDS, chosen.max_new_tokens)


def checkpoint_curve(run_dir: Path, start_dir: Path) -> dict:
    """pass@1 (k = 1) of the start model and of every saved checkpoint, by step."""
    from r1lab.train.checkpoints import checkpoints

    points = [(0, start_dir)] + sorted(
        (int(path.name.split("-")[1]), path) for path in checkpoints(run_dir))
    curve = {"step": [], "pass_at_1": [], "mixing_rate": [], "readable": []}
    for step, folder in points:
        report = held_out(folder, PROTOCOL["checkpoint_k"])["all"]
        curve["step"].append(step)
        for name in ("pass_at_1", "mixing_rate", "readable"):
            curve[name].append(report[name])
    return curve


def train_curves(output_dir: Path) -> dict:
    """The run's ``CURVE_FIELDS`` by step, less those it never logged (a reward its recipe
    lacks)."""
    from r1lab.train.metrics import curves

    found = curves(output_dir, ("step", *CURVE_FIELDS))
    return {name: values for name, values in found.items()
            if name == "step" or any(value is not None for value in values)}


def _final(folder: Path) -> Path:
    from r1lab.train.run_folder import FINAL_DIR

    return folder / FINAL_DIR


def sft_dir() -> Path:
    return _final(PIPELINE / "cold_start_sft")


def run_pipeline_part() -> dict:
    """The cold-start data and SFT (pipeline seed 0), R1-Zero's seed-0 run as its step 1."""
    from r1lab.pipeline import MANIFEST, run_pipeline

    r1_zero = R1_ZERO_RUNS / "r1_zero-seed0"
    if not (_final(r1_zero) / "tokenizer_config.json").exists():
        raise SystemExit(f"R1-Zero's seed-0 run is not in {r1_zero}: run "
                         "python benchmarks/r1_zero_seeds.py first")
    PIPELINE.mkdir(parents=True, exist_ok=True)
    link = PIPELINE / "r1_zero"
    if not link.exists():
        link.symlink_to(r1_zero.resolve(), target_is_directory=True)
    started = time.perf_counter()
    folders = run_pipeline(PIPELINE, seed=0, until="cold_start_sft", progress=False,
                           budget="full")
    minutes = (time.perf_counter() - started) / 60
    manifest = json.loads((folders["cold_start_data"] / MANIFEST).read_text())
    return {"manifest": manifest, "minutes": round(minutes, 2),
            "sft_curves": train_curves(folders["cold_start_sft"]),
            "held_out": held_out(sft_dir(), PROTOCOL["k"])}


def run_job(job: str) -> dict:
    from r1lab.train import load_recipe, run

    name, _, seed_text = job.rpartition("-seed")
    if job == "pipeline":
        return run_pipeline_part()
    seed = int(seed_text)
    if name == "r1_zero":
        run_dir = R1_ZERO_RUNS / f"r1_zero-seed{seed}"
        if not (_final(run_dir) / "tokenizer_config.json").exists():
            raise SystemExit(f"no R1-Zero run in {run_dir}: run "
                             "python benchmarks/r1_zero_seeds.py first")
        base = ROOT / load_recipe(RECIPES[0]).model
        return {"held_out": held_out(_final(run_dir), PROTOCOL["k"]),
                "checkpoints": checkpoint_curve(run_dir, base)}
    # Another worker may be running the pipeline: wait for its SFT checkpoint.
    wait_for(sft_dir() / "tokenizer_config.json", 3600, "the 'pipeline' job (--jobs pipeline)")
    output_dir = RUNS / job
    overrides = [f"model={sft_dir()}", *VARIANTS[name], f"trainer.seed={seed}",
                 f"output_dir={output_dir}"]
    started = time.perf_counter()
    result = run(load_recipe(RECIPES[2], overrides), resume="auto", progress=False)
    minutes = (time.perf_counter() - started) / 60
    out = {"overrides": overrides, "train_minutes": round(minutes, 2),
           "steps": len(result.metrics), "held_out": held_out(result.final_dir, PROTOCOL["k"]),
           "curves": train_curves(output_dir)}
    if name == "language":
        out["checkpoints"] = checkpoint_curve(output_dir, sft_dir())
    return out


SHIPPED = {  # data/models/<name>: (job whose model it is, run folder, what it is)
    "tiny-r1-zero": ("r1_zero-seed0", R1_ZERO_RUNS / "r1_zero-seed0",
                     "R1-Zero: GRPO from tiny-base with the rule rewards (tiny/r1_zero, seed 0)"),
    "tiny-cold-start": ("pipeline", PIPELINE / "cold_start_sft",
                        "the cold-start SFT of tiny-base (tiny/cold_start_sft) on the three "
                        "collection paths' data"),
    "tiny-reasoning-rl": ("language-seed0", RUNS / "language-seed0",
                          "reasoning RL with the language reward from tiny-cold-start "
                          "(tiny/reasoning_rl, seed 0): the stage-2 checkpoint"),
}


def card(name: str, results: dict, weights_sha256: str) -> str:
    """The card of the shipped model ``name`` (``SHIPPED``), from the gathered ``results``."""
    job, _, what = SHIPPED[name]
    rows = "\n".join(
        f"| {lang} | {r['pass_at_1']:.3f} [{r['pass_at_1_ci'][0]:.3f}, {r['pass_at_1_ci'][1]:.3f}]"
        f" | {r['readable']:.3f} | {r['clean']:.3f} | {r['mixing_rate']:.3f} |"
        for lang, r in results["jobs"][job]["held_out"].items())
    return card_text(
        name, f"{what[0].upper() + what[1:]}.",
        "python benchmarks/r1_zero_seeds.py && python benchmarks/cold_start_seeds.py --ship",
        f"Held-out, paper protocol ({PROTOCOL['n']} test-split questions, half in Chinese, "
        f"k = {PROTOCOL['k']}, T = {PROTOCOL['temperature']}, top-p {PROTOCOL['top_p']}; "
        f"`benchmarks/results/cold_start_seeds.json`, job `{job}`):\n\n"
        "| questions | pass@1 [95% CI] | readable format | clean | mixing |\n"
        f"|---|---|---|---|---|\n{rows}",
        weights_sha256,
        regenerate_note="or `r1lab pipeline tiny`, whose seed-0 steps train the same recipes; "
                        "a retrained model matches this one statistically, not bit for bit")


def ship(results: dict, models: Path = ROOT / "data" / "models") -> None:
    """Copy seed 0's models into ``data/models`` with a card each (see the module docstring)."""
    for name, (_, run_dir, _) in SHIPPED.items():
        ship_model(_final(run_dir), models / name, partial(card, name, results))


if __name__ == "__main__":
    sys.exit(main(None, __doc__.splitlines()[0], jobs(), run_job, stamp, RUNS, RESULTS,
                  ("after gathering, copy seed 0's models into data/models", ship)))
