"""R1-Zero on the tiny world over seeds, against its controls: ``python benchmarks/r1_zero_seeds.py``.

What notebook 04 draws and asserts from (it trains one seed live and checks that it lands in
this spread). For each training seed (default 0, 1, 2):

* ``r1lab train tiny/r1_zero`` with ``trainer.seed`` set (the shipped recipe otherwise);
* the ablation with the accuracy reward only (``rewards.format=0``; seed 0 by default,
  ``--ablation-seeds`` for more);
* each final model on the held-out test split, paper protocol (500 questions x k = 8,
  T = 0.6, top-p 0.95, seed 0), unprompted.

and once, the controls on the same questions: the base model unprompted and forced to reason
(prefilled ``<think>``: P_think, the accuracy the base already has in its reasoning mode).

Per run it keeps the held-out report's headline numbers (pass@1 and its CI, format, reasoning,
re-check rate and the accuracy of chains with and without a check, mean tokens of reasoning
completions, mixing, the slip rate: ``slip_rate``), the training curves (accuracy, reasoning share, re-check share, length
per step) and the training minutes. Runs go to ``runs/r1-zero-seeds/`` and are resumed or
skipped when done, so a killed benchmark continues where it stopped. The results file
records the SHA-256 of the recipe and of the base weights it ran with.

Writes ``benchmarks/results/r1_zero_seeds.json``. Each run is also kept as ``result.json`` in
its folder, so two processes with one torch thread each (``OMP_NUM_THREADS=1 python
benchmarks/r1_zero_seeds.py --seeds 0 --no-controls`` beside ``--seeds 1``) share the two
cores (the tiny model gains little from a second thread), and a last plain run gathers them.
Times: each run's ``train_minutes`` and their sum, ``train_minutes_total``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seed_jobs import write_json  # noqa: E402  (beside this script)

RECIPE = "tiny/r1_zero"
RESULTS = ROOT / "benchmarks" / "results" / "r1_zero_seeds.json"
RUNS = ROOT / "runs" / "r1-zero-seeds"
VARIANTS = {"r1_zero": [], "accuracy_only": ["rewards.format=0"]}
REPORT_FIELDS = ("pass_at_1", "pass_at_1_ci", "pass_at_k", "format_rate", "reasoning_rate",
                 "recheck_rate", "accuracy_when_rechecking", "accuracy_without_recheck",
                 "accuracy_when_reasoning", "mean_reasoning_tokens", "mean_completion_tokens",
                 "mixing_rate")
CURVE_FIELDS = ("accuracy", "format", "reasoning_share", "recheck_share", "completion_length")


def recipe_sha256() -> str:
    """Fingerprint of the shipped recipe's content: the results say which recipe they measured."""
    from r1lab.train.recipe import recipe_sha256 as content_sha256

    return content_sha256(RECIPE)


def protocol(n: int, k: int, prefill: str = ""):
    """The held-out protocol of every run and control: ``n`` English test questions (seed 0)
    x ``k`` samples, T 0.6, top-p 0.95, sampling seed 0, 256 sequences per call."""
    from r1lab.eval import Protocol

    return Protocol(n=n, split="test", seed=0, zh_fraction=0.0, k=k, batch_size=256,
                    sampling_seed=0, prefill=prefill)


def held_out(model_dir, n: int, k: int, prefill: str = "") -> dict:
    """The headline numbers of ``r1lab.eval.held_out`` (``REPORT_FIELDS``, the slip rate) and
    each question's correct samples (``correct_per_question``) and its re-checking samples
    (``recheck_per_question``)."""
    from r1lab.eval import held_out as held_out_report

    report = held_out_report(model_dir, protocol(n, k, prefill))
    out = {name: getattr(report, name) for name in REPORT_FIELDS}
    out["slip_rate"] = slip_rate(report.records)
    out["pass_at_1_ci"] = list(out["pass_at_1_ci"])
    out["pass_at_k"] = {str(kk): v for kk, v in out["pass_at_k"].items()}
    out["correct_per_question"] = report.per_question()
    out["recheck_per_question"] = recheck_per_question(report.records)
    return out


def recheck_per_question(records) -> dict:
    """Per question, in question order: how many samples reasoned and re-checked a step
    (``samples``) and how many of those were right (``correct``). The accuracy of a model's
    re-checking chains, with an interval over questions, is the control for "RL selected the
    careful mode": R1-Zero's chains against the base's own careful ones, on the same questions."""
    samples: dict[int, int] = {}
    correct: dict[int, int] = {}
    for record in records:
        i = record["index"]
        samples.setdefault(i, 0)
        correct.setdefault(i, 0)
        if record["rechecks"]:
            samples[i] += 1
            correct[i] += bool(record["correct"])
    order = sorted(samples)
    return {"samples": [samples[i] for i in order], "correct": [correct[i] for i in order]}


def slip_rate(records) -> float | None:
    """Share of the slip-prone steps in reasoning samples that were written with their slip
    (``r1lab.tasks.chains.count_slips``): how often the model makes the tiny world's planted
    mistakes, whether or not a check then catches them."""
    from r1lab.tasks.chains import count_slips
    from r1lab.template import parse_completion

    prone = slipped = 0
    for record in records:
        think = parse_completion(record["completion"]).think
        if think:
            p, s = count_slips(think)
            prone, slipped = prone + p, slipped + s
    return round(slipped / prone, 6) if prone else None


def train_one(variant: str, seed: int, n: int, k: int, stamp: dict) -> dict:
    """One training run and its held-out evaluation; kept in the run folder as
    ``result.json`` so that parallel benchmark processes (``--seeds 0`` beside ``--seeds 1``)
    and a re-run share what is done."""
    from r1lab.train import load_recipe, run
    from r1lab.train.metrics import curves

    output_dir = RUNS / f"{variant}-seed{seed}"
    saved = output_dir / "result.json"
    if saved.is_file():
        result = json.loads(saved.read_text())
        if all(result.get(key) == value for key, value in stamp.items()):
            return result
    overrides = [*VARIANTS[variant], f"trainer.seed={seed}", f"output_dir={output_dir}"]
    started = time.perf_counter()
    result = run(load_recipe(RECIPE, overrides), resume="auto", progress=False)
    minutes = (time.perf_counter() - started) / 60
    out = {**stamp, "variant": variant, "seed": seed, "overrides": overrides,
           "train_minutes": round(minutes, 2), "steps": len(result.metrics),
           "torch_threads": _threads(),
           "held_out": held_out(result.final_dir, n, k),
           "curves": curves(output_dir, ("step", *CURVE_FIELDS))}
    write_json(saved, out)
    return out


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="training seeds (trainer.seed)")
    parser.add_argument("--ablation-seeds", type=int, nargs="+", default=[0],
                        help="training seeds of the accuracy-only ablation (one by default: "
                             "it is a control for the curves, not a headline)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--n", type=int, default=500, help="held-out questions")
    parser.add_argument("--k", type=int, default=8, help="samples per question")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-controls", action="store_true",
                        help="a worker beside others: skip the base-model controls and write "
                             "only the runs' own result.json (a last plain run gathers them)")
    args = parser.parse_args(argv)

    from r1lab.tiny.card import weights_sha256
    from r1lab.train import load_recipe

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    base = ROOT / load_recipe(RECIPE).model
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results = {
        "recipe": RECIPE, "recipe_sha256": recipe_sha256(),
        "base_weights_sha256": weights_sha256(base),
        "protocol": {"n": args.n, "k": args.k, "temperature": 0.6, "top_p": 0.95, "seed": 0,
                     "split": "test"},
        "controls": {}, "runs": [],
    }
    same = all(previous.get(key) == results[key] for key in
               ("recipe_sha256", "base_weights_sha256", "protocol"))
    if same:  # keep what an earlier, identical benchmark measured; redo the rest
        results["controls"] = previous.get("controls", {})
        results["runs"] = previous.get("runs", [])
    for name, prefill in (("base", ""), ("base_forced_think", "<think>")):
        if name not in results["controls"] and not args.no_controls:
            print(f"[controls] {name}", flush=True)
            results["controls"][name] = held_out(base, args.n, args.k, prefill)
            write_json(args.out, results)
    done = {(r["variant"], r["seed"]) for r in results["runs"]}
    for variant in args.variants:
        for seed in args.seeds if variant == "r1_zero" else args.ablation_seeds:
            if (variant, seed) in done:
                continue
            print(f"[train] {variant} seed {seed}", flush=True)
            stamp = {key: results[key] for key in ("recipe_sha256", "base_weights_sha256",
                                                   "protocol")}
            results["runs"].append(train_one(variant, seed, args.n, args.k, stamp))
            if not args.no_controls:
                write_json(args.out, results)
    if args.no_controls:
        return 0
    results["runs"].sort(key=lambda r: (list(VARIANTS).index(r["variant"]), r["seed"]))
    # Training time of the runs (each measured in its own process; parallel workers share the
    # cores, so this is not the wall time of the whole benchmark).
    results["train_minutes_total"] = round(sum(r["train_minutes"] for r in results["runs"]), 1)
    write_json(args.out, results)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
