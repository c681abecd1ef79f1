"""Rejection sampling + SFT (stage 3) over seeds, with its ablation: ``python benchmarks/rejection_sampling_seeds.py``.

What notebook 07 draws and asserts from. Starts from the shipped stage-2 checkpoint
(``data/models/tiny-reasoning-rl``, written by ``benchmarks/cold_start_seeds.py --ship``).

* ``sampling``: the pipeline's ``rejection_sampling`` step (``r1lab.sampling.sample_stage_2``,
  seed 0): 4,000 training questions, half in Chinese, k = 4, the filters of ``r1lab.sampling``,
  at most 2 kept per question, plus one non-reasoning request per reasoning row. It also
  writes the ablation's set, ``unfiltered.jsonl``: as many reasoning rows drawn at random from
  *all* the samples (right or wrong, readable or not), with the same non-reasoning rows; and
  ``paper_ratio.jsonl``: the kept rows with one request per three (the paper's 3:1).
* ``stage2``: the stage-2 checkpoint on the held-out sets (below): the model stage 3 is
  compared with, and its "over-thinking" of simple requests.
* ``rejection-seed{s}``: ``tiny/rejection_sft`` (SFT of the base, two epochs) on the
  rejection-sampled set, ``trainer.seed`` = s; ``unfiltered-seed{s}``: the same on the
  unfiltered set of the same size; ``paper_ratio-seed{s}``: on the kept rows at the paper's
  3:1. One sampled set; the seeds are the SFT's.
* ``right_answers-seed{s}``: the ablation's middle arm, so that each step changes one thing:
  as many reasoning rows drawn at random from the samples whose answer is right
  (``r1lab.sampling.right_answer_rows``; duplicates and the per-prompt cap not applied), with
  the same non-reasoning rows. Unfiltered -> right answers drops the wrong answers; right
  answers -> rejection drops the duplicates. Written by the first such job from the sampling
  folder (re-sampled if absent, and checked against the sampling job's manifest); each job
  records the set's questions and distinct chains (``set``).
* ``careful-seed{s}``: the control for what the stage-2 model's samples carry: the same SFT on
  ``careful.jsonl``, as many of the generator's careful chains (``r1lab.cold_start.careful_rows``:
  the mode the tiny world plants and RL selects, written exactly right, one per training
  question of the same draw) with the same non-reasoning rows. Written by the first careful job
  from the sampling job's counts (no model in the loop).

Held-out, paper protocol: 500 test-split questions, half in Chinese, k = 4, T = 0.6, top-p 0.95,
seed 0 (the protocol of ``cold_start_seeds.py``, whose three stage-2 seeds this file's
comparison also reads), and 200 test-split non-reasoning requests, k = 4: correct without a
chain of thought, chain-of-thought rate and length.

Runs go to ``runs/rejection-seeds/``; each job keeps its result in ``results/<job>.json``
there, so a killed benchmark continues where it stopped, and two workers with one torch
thread each share the two cores (``OMP_NUM_THREADS=1 python benchmarks/rejection_sampling_seeds.py
--jobs … --no-gather``); a plain run gathers them into
``benchmarks/results/rejection_sampling_seeds.json``, stamped with the SHA-256 of the recipe
and of the base and stage-2 weights. ``--ship`` copies seed 0's stage-3 model to
``data/models/tiny-rejection-sft``.
"""

from __future__ import annotations

import json
import random
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seed_jobs import (card_text, main, ship_model, summary_by_language,  # noqa: E402
                       wait_for, wait_for_job, write_careful)  # (beside this script)

RESULTS = ROOT / "benchmarks" / "results" / "rejection_sampling_seeds.json"
RUNS = ROOT / "runs" / "rejection-seeds"
SAMPLING = RUNS / "sampling"
UNFILTERED = RUNS / "unfiltered.jsonl"
STAGE_2 = ROOT / "data" / "models" / "tiny-reasoning-rl"
RECIPE = "tiny/rejection_sft"
PAPER_RATIO = RUNS / "paper_ratio.jsonl"
CAREFUL = RUNS / "careful.jsonl"
RIGHT_ANSWERS = RUNS / "right_answers.jsonl"
SETS = {"rejection": SAMPLING / "data.jsonl", "unfiltered": UNFILTERED,
        "paper_ratio": PAPER_RATIO, "careful": CAREFUL, "right_answers": RIGHT_ANSWERS}
SEEDS = (0, 1, 2)
PROTOCOL = {"n": 500, "k": 4, "zh_fraction": 0.5, "split": "test", "seed": 0,
            "temperature": 0.6, "top_p": 0.95, "requests": 200, "requests_k": 4}
REPORT_FIELDS = ("pass_at_1", "pass_at_1_ci", "format_rate", "reasoning_rate", "mixing_rate",
                 "mean_reasoning_tokens")


def jobs() -> list[str]:
    return ["sampling", "stage2", *(f"{arm}-seed{s}" for arm in SETS for s in SEEDS)]


def stamp() -> dict:
    import yaml

    from r1lab.tiny.card import weights_sha256
    from r1lab.train.recipe import recipe_path, recipe_sha256

    recipe = recipe_path(RECIPE).read_bytes()
    return {"recipe_sha256": recipe_sha256(RECIPE),
            "base_weights_sha256": weights_sha256(ROOT / yaml.safe_load(recipe)["model"]),
            "stage2_weights_sha256": weights_sha256(STAGE_2), "protocol": PROTOCOL}


def protocol():
    """``PROTOCOL``'s reasoning set as an ``r1lab.eval.Protocol``: its seed draws the
    questions and seeds the sampling, 256 sequences per call."""
    from r1lab.eval import Protocol

    return Protocol(n=PROTOCOL["n"], split=PROTOCOL["split"], seed=PROTOCOL["seed"],
                    zh_fraction=PROTOCOL["zh_fraction"], k=PROTOCOL["k"],
                    temperature=PROTOCOL["temperature"], top_p=PROTOCOL["top_p"],
                    batch_size=256, sampling_seed=PROTOCOL["seed"])


def held_out(model_dir: Path) -> dict:
    """Reasoning pass@1 (all, en, zh; each question's correct samples in ``all``) and the
    non-reasoning requests' figures."""
    from r1lab.eval import evaluate_requests
    from r1lab.eval import held_out as held_out_report
    from r1lab.sources import load_model_and_tokenizer
    from r1lab.tasks import generate_requests

    model, tokenizer = load_model_and_tokenizer(model_dir)  # once, for both sets
    chosen = protocol()
    report = held_out_report((model, tokenizer), chosen)

    reasoning = summary_by_language(report, REPORT_FIELDS, chosen.max_new_tokens)
    requests = evaluate_requests(model, tokenizer, generate_requests(
        PROTOCOL["requests"], split="test", seed=PROTOCOL["seed"]), k=PROTOCOL["requests_k"],
        temperature=chosen.temperature, top_p=chosen.top_p,
        max_new_tokens=chosen.max_new_tokens, batch_size=chosen.batch_size,
        seed=chosen.sampling_seed, progress=False)
    examples = {}
    for record in requests.pop("records"):
        examples.setdefault(record["kind"], {"question": record["question"],
                                             "completion": record["completion"],
                                             "correct": record["correct"]})
    return {"reasoning": reasoning, "requests": {**requests, "examples": examples}}


def run_sampling() -> dict:
    from r1lab.sampling import non_reasoning_rows, read_samples, sample_stage_2, unfiltered_rows

    started = time.perf_counter()
    manifest = sample_stage_2(STAGE_2, SAMPLING, seed=0, progress=False)
    minutes = (time.perf_counter() - started) / 60
    rows = [json.loads(line) for line in (SAMPLING / "data.jsonl").read_text().splitlines()]
    reasoning = [r for r in rows if r["kind"] == "reasoning"]
    non_reasoning = [r for r in rows if r["kind"] == "non-reasoning"]
    records = read_samples(SAMPLING, manifest["config"]["k"])
    unfiltered = unfiltered_rows(records, manifest["kept"], seed=0) + non_reasoning
    # The paper's ratio by samples: one request per three chains (the requests a prefix of
    # the same draw).
    paper_ratio = reasoning + non_reasoning_rows(round(len(reasoning) / 3), seed=0)
    for path, written in ((UNFILTERED, unfiltered), (PAPER_RATIO, paper_ratio)):
        random.Random(0).shuffle(written)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in written))
    from r1lab.sampling import filter_samples

    judged, _ = filter_samples(records, _config(manifest))
    chosen = {(r["source"]["index"], r["source"]["sample"]) for r in unfiltered
              if r["kind"] == "reasoning"}
    correct = [r for r in judged if (r["index"], r["sample"]) in chosen
               and r["verdict"] != "wrong answer"]
    return {"manifest": manifest, "minutes": round(minutes, 2),
            "unfiltered": {"reasoning_rows": len(chosen), "non_reasoning_rows": len(non_reasoning),
                           "correct_share": round(len(correct) / len(chosen), 6)},
            "paper_ratio": {"reasoning_rows": len(reasoning),
                            "non_reasoning_rows": len(paper_ratio) - len(reasoning)}}


def write_right_answers() -> None:
    """``right_answers.jsonl`` from the sampling folder: as many right-answer rows as the
    rejection kept, with its non-reasoning rows. The folder is sampled again when absent (a
    job carried from the committed results left none); the draw must be the committed one."""
    from r1lab.files import write_jsonl
    from r1lab.sampling import read_samples, right_answer_rows, sample_stage_2

    committed = wait_for_job(RUNS / "results", "sampling")["manifest"]
    manifest = sample_stage_2(STAGE_2, SAMPLING, seed=0, progress=False)
    same = ("prompts", "samples", "kept", "filters")
    if any(manifest[key] != committed[key] for key in same):
        raise RuntimeError(
            f"{SAMPLING} holds another draw than the committed sampling job (kept "
            f"{manifest['kept']}, committed {committed['kept']}): run the benchmark with "
            "--fresh so that every arm reads one draw")
    rows = [json.loads(line) for line in (SAMPLING / "data.jsonl").read_text().splitlines()]
    non_reasoning = [r for r in rows if r["kind"] == "non-reasoning"]
    records = read_samples(SAMPLING, manifest["config"]["k"])
    written = right_answer_rows(records, manifest["kept"], seed=0,
                                config=_config(manifest)) + non_reasoning
    random.Random(0).shuffle(written)
    write_jsonl(RIGHT_ANSWERS, written)


def set_counts(path: Path) -> dict:
    """A training set's reasoning rows, the questions they cover and their distinct chains
    (a question's identical chains count once): what deduplication changes."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    reasoning = [r for r in rows if r["kind"] == "reasoning"]
    chains = {(r["source"]["index"], " ".join(r["completion"].split())) for r in reasoning}
    return {"reasoning_rows": len(reasoning),
            "questions": len({r["source"]["index"] for r in reasoning}),
            "distinct_chains": len(chains)}


def _config(manifest: dict):
    from r1lab.sampling import SamplingConfig

    return SamplingConfig(**manifest["config"])


def run_job(job: str) -> dict:
    if job == "sampling":
        return run_sampling()
    if job == "stage2":
        return {"held_out": held_out(STAGE_2)}
    from r1lab.train import load_recipe, run
    from r1lab.train.metrics import curves

    arm, _, seed_text = job.rpartition("-seed")
    if arm == "right_answers" and int(seed_text) == SEEDS[0]:
        write_right_answers()
    elif arm == "right_answers":  # the first seed's job writes the set: one draw, one writer
        wait_for(RIGHT_ANSWERS, 3600, f"the 'right_answers-seed{SEEDS[0]}' job, which writes it")
    elif arm == "careful":  # from the sampling job's counts: its data need not be on disk
        from r1lab.sampling import RejectionData

        manifest = wait_for_job(RUNS / "results", "sampling")["manifest"]
        write_careful(CAREFUL, manifest["rows"], RejectionData(), manifest["config"]["seed"])
    else:  # another worker may be sampling: wait for its file
        wait_for(PAPER_RATIO, 3600, "the 'sampling' job (--jobs sampling)")
    output_dir = RUNS / job
    overrides = [f"task.source={SETS[arm]}", f"trainer.seed={seed_text}",
                 f"output_dir={output_dir}"]
    started = time.perf_counter()
    result = run(load_recipe(RECIPE, overrides), resume="auto", progress=False)
    minutes = (time.perf_counter() - started) / 60
    found = curves(output_dir, ("step", "loss"))
    counts = {"set": set_counts(SETS[arm])} if arm == "right_answers" else {}
    return {"overrides": [o.replace(str(ROOT) + "/", "") for o in overrides],
            "train_minutes": round(minutes, 2), "steps": len(found["step"]), "curves": found,
            "held_out": held_out(result.final_dir), **counts}


# data/models/<name>: the trained model it copies
SHIPPED = {"tiny-rejection-sft": RUNS / "rejection-seed0" / "final"}


def card(name: str, results: dict, weights_sha256: str) -> str:
    """The card of seed 0's stage-3 model, from the gathered ``results``."""
    report = results["jobs"]["rejection-seed0"]["held_out"]
    rows = "\n".join(
        f"| {lang} | {r['pass_at_1']:.3f} [{r['pass_at_1_ci'][0]:.3f}, {r['pass_at_1_ci'][1]:.3f}]"
        f" | {r['readable']:.3f} | {r['mixing_rate']:.3f} |"
        for lang, r in report["reasoning"].items())
    requests = report["requests"]
    return card_text(
        name,
        f"Stage 3 of R1 (§2.3.3): SFT of tiny-base, two epochs "
        f"(`{RECIPE}`, seed 0), on the rejection-sampled outputs of tiny-reasoning-rl (the "
        f"stage-2 checkpoint) plus as many non-reasoning requests answered without a chain "
        f"of thought (the paper has one per three; notebook 07 measures both).",
        "python benchmarks/rejection_sampling_seeds.py --ship",
        f"Held-out, paper protocol ({PROTOCOL['n']} test-split questions, half in Chinese, "
        f"k = {PROTOCOL['k']}, T = {PROTOCOL['temperature']}, top-p {PROTOCOL['top_p']}; "
        f"`benchmarks/results/rejection_sampling_seeds.json`, job `rejection-seed0`):\n\n"
        "| questions | pass@1 [95% CI] | readable format | mixing |\n"
        f"|---|---|---|---|\n{rows}\n\n"
        f"Non-reasoning requests ({requests['requests']} test-split requests x {requests['k']}):"
        f" right without a chain of thought {requests['correct']:.3f} "
        f"[{requests['correct_ci'][0]:.3f}, {requests['correct_ci'][1]:.3f}], chain-of-thought "
        f"rate {requests['cot_rate']:.3f}.",
        weights_sha256,
        regenerate_note="or `r1lab pipeline tiny`, whose seed-0 steps run the same step and "
                        "recipe; a retrained model matches this one statistically, not bit for bit")


def ship(results: dict, models: Path = ROOT / "data" / "models") -> None:
    """Copy seed 0's stage-3 model into ``data/models/tiny-rejection-sft`` with its card."""
    for name, source in SHIPPED.items():
        ship_model(source, models / name, partial(card, name, results))


if __name__ == "__main__":
    sys.exit(main(None, __doc__.splitlines()[0], jobs(), run_job, stamp, RUNS, RESULTS,
                  ("after gathering, copy seed 0's stage-3 model into data/models", ship)))
