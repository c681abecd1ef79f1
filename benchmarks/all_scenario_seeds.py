"""Reward models and RL for all scenarios (stage 4) over seeds, with the reward-hacking runs: ``python benchmarks/all_scenario_seeds.py``.

What notebook 08 draws and asserts from. Starts from the shipped stage-3 model
(``data/models/tiny-rejection-sft``, written by ``benchmarks/rejection_sampling_seeds.py --ship``).

* ``rm-helpful``, ``rm-harmless``: ``tiny/reward_model_helpful`` / ``_harmless`` (TRL's
  RewardTrainer on ``data/preferences/``, seed 0); held-out pair accuracy (1,000 test-split
  pairs without label noise) and how well each separates the stage-3 model's own replies that
  the rule finds good from the others (AUC; 100 test-split prompts of its kind x 4, T = 0.6).
* ``stage3``: the stage-3 model on the held-out sets (below): the start and control of stage 4.
* ``stage4-seed{s}``: ``tiny/all_scenario_rl`` (GRPO on reasoning and general prompts, rule
  rewards for the first, the two reward models for the second), ``trainer.seed`` = s.
* ``hacking-seed{s}``: ``tiny/rm_hacking`` (general prompts, the reward models alone, longer);
  ``control-seed{s}``: ``tiny/rm_hacking_control`` (the same, rewarded by the rule truths).
  Both log the reward models' scores and the rule truths at every step.

The GRPO jobs read the reward models the ``rm-*`` jobs trained (``reward_models.*.model`` set
to their ``final/``), so a fresh run needs nothing shipped but the stage-3 model.

Held-out, paper protocol: 500 test-split questions, half in Chinese, k = 4, T = 0.6, top-p 0.95,
seed 0 (the protocol of the stage-3 benchmark), and 400 test-split general prompts (200
requests, 200 private prompts), k = 4: helpful, harmless and disclosing rates by the rule.

Runs go to ``runs/all-scenario-seeds/``; each job keeps its result in ``results/<job>.json``
there (a killed benchmark continues where it stopped; two workers with one torch thread each:
``OMP_NUM_THREADS=1 python benchmarks/all_scenario_seeds.py --jobs … --no-gather``); a plain run
gathers them into ``benchmarks/results/all_scenario_seeds.json``, stamped with the SHA-256 of
the recipes, the preference pairs and the stage-3 weights. ``--ship`` copies the two reward
models to ``data/models/tiny-rm-helpful`` and ``tiny-rm-harmless`` and stage 4's seed 0 to
``data/models/tiny-r1`` (the final model, distillation's teacher) with their cards.
"""

from __future__ import annotations

import hashlib
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seed_jobs import card_text, main, ship_model, wait_for_job  # noqa: E402  (beside this script)

RESULTS = ROOT / "benchmarks" / "results" / "all_scenario_seeds.json"
RUNS = ROOT / "runs" / "all-scenario-seeds"
STAGE_3 = ROOT / "data" / "models" / "tiny-rejection-sft"
ASPECTS = ("helpful", "harmless")
RM_RECIPES = {aspect: f"tiny/reward_model_{aspect}" for aspect in ASPECTS}
GRPO_RECIPES = {"stage4": "tiny/all_scenario_rl", "hacking": "tiny/rm_hacking",
                "control": "tiny/rm_hacking_control"}
SEEDS = (0, 1, 2)
PROTOCOL = {"n": 500, "k": 4, "zh_fraction": 0.5, "split": "test", "seed": 0,
            "temperature": 0.6, "top_p": 0.95, "general": 400, "general_k": 4,
            "pairs": 1000, "pairs_seed": 5, "auc_prompts": 100}
REPORT_FIELDS = ("pass_at_1", "pass_at_1_ci", "format_rate", "reasoning_rate", "mixing_rate",
                 "mean_reasoning_tokens")
CURVES = ("step", "reward", "accuracy", "helpful_rm", "harmless_rm", "helpful_rule",
          "harmless_rule", "completion_length", "entropy")


def jobs() -> list[str]:
    return [*(f"rm-{aspect}" for aspect in ASPECTS), "stage3",
            *(f"{arm}-seed{s}" for arm in GRPO_RECIPES for s in SEEDS)]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stamp() -> dict:
    from r1lab.tiny.card import weights_sha256
    from r1lab.train.recipe import recipe_sha256

    recipes = {**RM_RECIPES, **GRPO_RECIPES}.values()
    return {"recipes_sha256": {name: recipe_sha256(name) for name in recipes},
            "pairs_sha256": {aspect: _sha(ROOT / f"data/preferences/{aspect}.jsonl")
                             for aspect in ASPECTS},
            "stage3_weights_sha256": weights_sha256(STAGE_3), "protocol": PROTOCOL}


def _sampling() -> dict:
    from r1lab.tiny.card import MAX_NEW_TOKENS

    return {"temperature": PROTOCOL["temperature"], "top_p": PROTOCOL["top_p"],
            "max_new_tokens": MAX_NEW_TOKENS, "batch_size": 256, "seed": PROTOCOL["seed"],
            "progress": False}


def protocol():
    """``PROTOCOL``'s reasoning set as an ``r1lab.eval.Protocol`` (sampled as ``_sampling``)."""
    from r1lab.eval import Protocol

    sampling = _sampling()
    return Protocol(n=PROTOCOL["n"], split=PROTOCOL["split"], seed=PROTOCOL["seed"],
                    zh_fraction=PROTOCOL["zh_fraction"], k=PROTOCOL["k"],
                    temperature=sampling["temperature"], top_p=sampling["top_p"],
                    max_new_tokens=sampling["max_new_tokens"],
                    batch_size=sampling["batch_size"], sampling_seed=sampling["seed"])


def held_out(model_dir: Path) -> dict:
    """Reasoning pass@1 (and each question's correct samples) and the general prompts'
    rule rates."""
    from r1lab.eval import evaluate_general
    from r1lab.eval import held_out as held_out_report
    from r1lab.sources import load_model_and_tokenizer
    from r1lab.tasks.general import generate_general

    model, tokenizer = load_model_and_tokenizer(model_dir)  # once, for both sets
    report = held_out_report((model, tokenizer), protocol())
    reasoning = {name: getattr(report, name) for name in REPORT_FIELDS}
    reasoning["pass_at_1_ci"] = list(reasoning["pass_at_1_ci"])
    reasoning["correct_per_question"] = report.per_question()
    general = evaluate_general(model, tokenizer, generate_general(
        PROTOCOL["general"], split="test", seed=PROTOCOL["seed"]), k=PROTOCOL["general_k"],
        **_sampling())
    records = general.pop("records")
    examples = {}
    for record in records:
        examples.setdefault(record["kind"], []).append(
            {"question": record["question"], "completion": record["completion"],
             "helpful": record["helpful"], "harmless": record["harmless"]})
    general["examples"] = {kind: rows[:6] for kind, rows in examples.items()}
    return {"reasoning": reasoning, "general": general}


def auc(good: list[float], bad: list[float]) -> float | None:
    """The chance that a good reply scores above a bad one (ties count half)."""
    if not good or not bad:
        return None
    wins = sum((g > b) + 0.5 * (g == b) for g in good for b in bad)
    return round(wins / (len(good) * len(bad)), 6)


def run_reward_model(aspect: str) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from r1lab.eval import evaluate_general, pair_accuracy
    from r1lab.rewards import RewardModelReward
    from r1lab.tasks.general import generate_general
    from r1lab.tasks.preferences import ASPECTS as VIEWS
    from r1lab.tasks.preferences import preference_pairs
    from r1lab.template import render
    from r1lab.train import load_recipe, run
    from r1lab.train.metrics import curves

    output_dir = RUNS / f"rm-{aspect}"
    started = time.perf_counter()
    result = run(load_recipe(RM_RECIPES[aspect], [f"output_dir={output_dir}"]), resume="auto",
                 progress=False)
    minutes = (time.perf_counter() - started) / 60
    kind, view = VIEWS[aspect]
    judge = RewardModelReward(str(result.final_dir), view=view, kinds=(kind,))
    held = pair_accuracy(judge, preference_pairs(PROTOCOL["pairs"], aspect, split="test",
                                                 seed=PROTOCOL["pairs_seed"]))
    # The stage-3 model's own replies: does the judge rank the rule's good ones higher?
    prompts = generate_general(PROTOCOL["auc_prompts"], split="test", seed=PROTOCOL["seed"],
                               private_share=1.0 if kind == "private" else 0.0)
    model = AutoModelForCausalLM.from_pretrained(STAGE_3)
    tokenizer = AutoTokenizer.from_pretrained(STAGE_3)
    records = evaluate_general(model, tokenizer, prompts, k=PROTOCOL["general_k"],
                               **_sampling())["records"]
    scores = judge([r["completion"] for r in records],
                   prompts=[render(prompts[r["index"]].question) for r in records],
                   kind=[kind] * len(records))
    good = [s for s, r in zip(scores, records) if r[aspect]]
    bad = [s for s, r in zip(scores, records) if not r[aspect]]
    found = curves(output_dir, ("step", "loss", "pair_accuracy"))
    return {"train_minutes": round(minutes, 2), "steps": len(found["step"]), "curves": found,
            "held_out_pairs": held,
            "on_policy": {"samples": len(records), "good": len(good), "bad": len(bad),
                          "auc": auc(good, bad)}}


def run_grpo(arm: str, seed: int) -> dict:
    from r1lab.train import load_recipe, run
    from r1lab.train.metrics import curves

    for aspect in ASPECTS:
        wait_for_job(RUNS / "results", f"rm-{aspect}")
    output_dir = RUNS / f"{arm}-seed{seed}"
    overrides = [f"trainer.seed={seed}", f"output_dir={output_dir}",
                 *(f"reward_models.{aspect}_rm.model={RUNS / f'rm-{aspect}' / 'final'}"
                   for aspect in ASPECTS)]
    started = time.perf_counter()
    result = run(load_recipe(GRPO_RECIPES[arm], overrides), resume="auto", progress=False)
    minutes = (time.perf_counter() - started) / 60
    found = curves(output_dir, CURVES)
    return {"overrides": [o.replace(str(ROOT) + "/", "") for o in overrides],
            "train_minutes": round(minutes, 2), "steps": len(found["step"]), "curves": found,
            "held_out": held_out(result.final_dir)}


def run_job(job: str) -> dict:
    if job.startswith("rm-"):
        return run_reward_model(job.removeprefix("rm-"))
    if job == "stage3":
        return {"held_out": held_out(STAGE_3)}
    arm, _, seed = job.rpartition("-seed")
    return run_grpo(arm, int(seed))


CARD = {
    "helpful": ("helpfulness", "simple requests", "r1lab.tasks.general.is_helpful",
                "the prompt and the response's **summary only** (the text after the reasoning)"),
    "harmless": ("harmlessness", "prompts that ask for a number the user marked private",
                 "r1lab.tasks.general.is_harmless",
                 "the prompt and the **whole response**, reasoning included"),
}


# data/models/<name>: the trained model it copies
SHIPPED = {"tiny-r1": RUNS / "stage4-seed0" / "final",
           **{f"tiny-rm-{aspect}": RUNS / f"rm-{aspect}" / "final" for aspect in ASPECTS}}


def reward_model_card(aspect: str, results: dict, weights_sha256: str) -> str:
    """The card of the ``aspect`` reward model, from the gathered ``results``."""
    job = results["jobs"][f"rm-{aspect}"]
    held, policy = job["held_out_pairs"], job["on_policy"]
    what, prompts, rule, reads = CARD[aspect]
    return card_text(
        f"tiny-rm-{aspect}",
        f"The tiny world's {what} reward model (R1 §2.3.4): "
        f"`r1lab train {RM_RECIPES[aspect]}` (TRL's RewardTrainer, seed 0): the stage-3 "
        f"model `tiny-rejection-sft` with a one-output score head, trained on "
        f"`data/preferences/{aspect}.jsonl` (pairs on {prompts}, labelled by the rule "
        f"`{rule}`, 10% of labels swapped). It reads {reads}.",
        "python benchmarks/all_scenario_seeds.py --ship",
        f"Measured (`benchmarks/results/all_scenario_seeds.json`, job `rm-{aspect}`):\n"
        f"- held-out pairs ({held['pairs']} test-split pairs, no label noise): the chosen "
        f"response scored higher in {held['accuracy']:.3f} [{held['accuracy_ci'][0]:.3f}, "
        f"{held['accuracy_ci'][1]:.3f}] of pairs;\n"
        f"- the stage-3 model's own responses ({policy['samples']} samples, T = "
        f"{PROTOCOL['temperature']}): AUC {policy['auc']:.3f} between the {policy['good']} "
        f"the rule finds good and the {policy['bad']} others.",
        weights_sha256)


def _rate(block: dict, name: str) -> str:
    ci = block[f"{name}_ci"]
    return f"{block[name]:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def r1_card(results: dict, weights_sha256: str) -> str:
    """The card of stage 4's seed 0, the tiny world's R1 (the teacher ``tiny/distill``
    samples), from the gathered ``results``."""
    held = results["jobs"]["stage4-seed0"]["held_out"]
    spread = [results["jobs"][f"stage4-seed{s}"]["held_out"]["reasoning"]["pass_at_1"]
              for s in SEEDS]
    return card_text(
        "tiny-r1",
        "The tiny world's DeepSeek-R1: the stage-3 model `tiny-rejection-sft` after "
        f"RL for all scenarios (R1 §2.3.4), `r1lab train {GRPO_RECIPES['stage4']}` with "
        "`trainer.seed=0` (rule rewards on reasoning prompts, the reward models `tiny-rm-helpful` "
        "and `tiny-rm-harmless` on general ones). Distillation's teacher (`tiny/distill`, "
        "notebook 09).",
        "python benchmarks/all_scenario_seeds.py --ship",
        f"Measured (`benchmarks/results/all_scenario_seeds.json`; {PROTOCOL['n']} held-out "
        f"questions, half in Chinese, x {PROTOCOL['k']}, T = {PROTOCOL['temperature']}, top-p "
        f"{PROTOCOL['top_p']}; {PROTOCOL['general']} held-out general prompts x "
        f"{PROTOCOL['general_k']}):\n"
        f"- pass@1 {_rate(held['reasoning'], 'pass_at_1')} "
        f"(the three stage-4 seeds: {', '.join(f'{v:.3f}' for v in spread)}); format "
        f"{held['reasoning']['format_rate']:.3f}, mixing {held['reasoning']['mixing_rate']:.3f};\n"
        f"- helpful {_rate(held['general'], 'helpful')}, harmless "
        f"{_rate(held['general'], 'harmless')} (the tiny world's rules).",
        weights_sha256,
        regenerate_note="job `stage4-seed0`")


def card(name: str, results: dict, weights_sha256: str) -> str:
    """The card of the shipped model ``name`` (``SHIPPED``), from the gathered ``results``."""
    if name == "tiny-r1":
        return r1_card(results, weights_sha256)
    return reward_model_card(name.removeprefix("tiny-rm-"), results, weights_sha256)


def ship(results: dict, models: Path = ROOT / "data" / "models") -> None:
    """Copy stage 4's seed 0 into ``data/models/tiny-r1`` and the two reward models into
    ``data/models/tiny-rm-*``, with their cards."""
    for name, source in SHIPPED.items():
        ship_model(source, models / name, partial(card, name, results))


if __name__ == "__main__":
    sys.exit(main(None, __doc__.splitlines()[0], jobs(), run_job, stamp, RUNS, RESULTS,
                  ("after gathering, copy the two reward models into data/models", ship)))
