"""The findings lab (notebook 11): its new pieces (the coin-toss reward, the length probes,
repeated prompts, the log of steps that do not sample), the arms it runs, pass@k curves,
and the committed results file."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from r1lab.findings import (ARMS, FINDINGS, RECIPE, arm_overrides, curve, pass_at_k_curve,
                            window_mean)
from r1lab.rewards import REWARDS, random_reward
from r1lab.train import RecipeError, load_recipe, prepare, run
from r1lab.train.metrics import MetricsLog, read_metrics
from r1lab.train.probes import right_length, wrong_length

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "findings.json"


def test_the_random_reward_is_a_fair_coin_blind_to_the_text_and_seeded():
    random.seed(3)
    first = random_reward(["<answer>14</answer>"] * 2000)
    random.seed(3)
    again = random_reward(["nonsense"] * 2000)
    assert first == again  # the text plays no part: same seed, same coins
    assert set(first) == {0.0, 1.0} and 0.45 < sum(first) / 2000 < 0.55
    assert REWARDS["random"] is random_reward


def test_length_probes_split_completions_by_the_accuracy_rule():
    texts = ["<answer>14</answer>", "<answer>20</answer>", "<answer>x</answer>", "hi"]
    ids = [[1] * 3, [1] * 5, [1] * 7, [1] * 2]
    assert right_length(texts, answer=["14"] * 4, completion_ids=ids) == [3.0, None, None, None]
    assert wrong_length(texts, answer=["14"] * 4, completion_ids=ids) == [None, 5.0, 7.0, 2.0]
    # no gold answer (a general prompt in a mixed batch), or no token ids: nothing to say
    assert wrong_length(texts[:2], answer=["", None], completion_ids=ids[:2]) == [None, None]
    assert right_length(texts, answer=["14"] * 4) == [None] * 4


def test_repeat_fills_the_training_set_with_copies_and_is_checked():
    plan = prepare(load_recipe(RECIPE, ["task.n=2", "task.repeat=5"]))
    questions = plan.train_dataset["question"]
    assert len(questions) == 10 and len(set(questions)) == 2
    assert questions[:2] * 5 == questions
    with pytest.raises(RecipeError, match="task.repeat` must be >= 1"):
        load_recipe(RECIPE, ["task.repeat=0"])
    with pytest.raises(RecipeError, match="task.repeat` is for the arithmetic"):
        load_recipe("tiny/all_scenario_rl", ["task.repeat=2"])
    with pytest.raises(RecipeError, match="use `trainer.num_train_epochs`"):
        prepare(load_recipe("tiny/reward_model_helpful", ["task.repeat=2"]), dry_run=True)


def test_steps_that_do_not_sample_are_logged_and_the_summary_is_not(tmp_path):
    log = MetricsLog(tmp_path, {"reward": "reward", "clip_ratio": "clip_ratio/region_mean"})
    state = SimpleNamespace(is_world_process_zero=True, global_step=1)
    log.on_log(None, state, None, logs={"reward": 0.5, "clip_ratio/region_mean": 0.0})
    state.global_step = 2  # num_iterations 2: the second step reuses the batch, no rewards
    log.on_log(None, state, None, logs={"clip_ratio/region_mean": 0.01})
    log.on_log(None, state, None, logs={"train_runtime": 9.0, "train_loss": 0.1})
    rows = read_metrics(tmp_path)
    assert [(r["step"], r.get("reward"), r["clip_ratio"]) for r in rows] == [
        (1, 0.5, 0.0), (2, None, 0.01)]


@pytest.mark.parametrize("arm", sorted(ARMS))
def test_every_arm_is_a_valid_recipe_that_changes_only_what_it_names(arm, tmp_path):
    base = load_recipe(RECIPE, [f"output_dir={tmp_path}"])
    recipe = load_recipe(RECIPE, arm_overrides(arm, 1, tmp_path))
    assert recipe.trainer["seed"] == 1 and str(recipe.output_dir).endswith(tmp_path.name)
    changed = {key for key in ("rewards", "task") if getattr(recipe, key) != getattr(base, key)}
    changed |= {f"trainer.{k}" for k in recipe.trainer
                if k != "seed" and recipe.trainer.get(k) != base.trainer.get(k)}
    named = {o.split("=")[0].split(".")[0] if not o.startswith("trainer.") else o.split("=")[0]
             for o in ARMS[arm]}
    assert changed == named
    if recipe.task.n < 4000:  # one or sixteen problems, repeated to the same 4,000 prompts
        assert recipe.task.n * recipe.task.repeat == 4000
    for finding in FINDINGS.values():
        assert set(finding.arms) <= set(ARMS)
    with pytest.raises(ValueError, match="unknown arm"):
        arm_overrides("nope", 0, tmp_path)


def test_pass_at_k_curve_is_unbiased_monotone_and_brackets_its_mean():
    counts = [0, 1, 3, 8, 0, 2, 8, 5]
    c = pass_at_k_curve(counts, n=8)
    assert c["k"] == [1, 2, 4, 8]
    assert c["mean"][0] == round(sum(counts) / 64, 6)  # pass@1: share right
    assert c["mean"][-1] == 6 / 8  # pass@n: questions with any right sample
    assert c["mean"] == sorted(c["mean"])
    assert all(lo <= m <= hi for lo, m, hi in zip(c["low"], c["mean"], c["high"]))
    assert pass_at_k_curve([4] * 5, n=4)["low"] == [1.0, 1.0, 1.0]  # no spread, no interval
    with pytest.raises(ValueError, match="at least one question"):
        pass_at_k_curve([], n=4)
    # several seeds on the same questions: each question's pass@k is its mean over seeds
    two = pass_at_k_curve([[0, 8], [8, 8]], n=8, ks=[1, 8])
    assert two["mean"] == [0.75, 0.75] and two["low"][0] == 0.5
    with pytest.raises(ValueError, match="the same questions"):
        pass_at_k_curve([[0, 8], [8]], n=8)


def test_curve_helpers_skip_steps_that_did_not_log():
    curves = {"step": [1, 2, 3, 4], "accuracy": [0.2, None, 0.4, None]}
    assert curve(curves, "accuracy") == ([1, 3], [0.2, 0.4])
    assert window_mean(curves, "accuracy", 1, 4) == pytest.approx(0.3)
    assert window_mean(curves, "accuracy", 5, 9) is None


@pytest.mark.slow
def test_two_steps_of_an_arm_log_lengths_and_the_clip_of_the_reused_batch(tmp_path):
    result = run(RECIPE, arm_overrides("one_example", 0, tmp_path, steps=2) + [
        "trainer.per_device_train_batch_size=16", "trainer.max_completion_length=64"],
        progress=False)
    rows = read_metrics(tmp_path)
    assert [r["step"] for r in rows] == [1, 2]
    sampled, reused = rows
    assert "accuracy" in sampled and "reward" not in reused  # step 2 reuses step 1's batch
    assert "clip_ratio" in reused and "entropy" in reused
    lengths = [sampled.get("right_length"), sampled.get("wrong_length")]
    assert any(v is not None and v > 0 for v in lengths)
    assert (result.final_dir / "model.safetensors").is_file()


def test_the_findings_results_were_measured_by_todays_recipe_arms_and_models():
    """Notebook 11 reads these; `python benchmarks/findings.py` rewrites them when the recipe,
    the arms or a model changes."""
    from r1lab.tiny.card import weights_sha256
    from r1lab.train.recipe import recipe_sha256

    results = json.loads(RESULTS.read_text())
    assert results["recipe"] == RECIPE
    assert results["recipe_sha256"] == recipe_sha256(RECIPE), "tiny/findings changed: re-run it"
    assert results["arms_sha256"] == hashlib.sha256(
        json.dumps(ARMS, sort_keys=True).encode()).hexdigest(), "ARMS changed: re-run it"
    weights = results["weights_sha256"]
    assert weights["base"] == weights_sha256(ROOT / "data/models/tiny-base")
    assert weights["student"] == weights_sha256(ROOT / "data/models/tiny-student")
    for seed in results["seeds"]:  # the distilled students are not shipped: checked if here
        folder = ROOT / "runs" / "distill-seeds" / f"distill-seed{seed}" / "final"
        if folder.is_dir():
            assert weights[f"distilled-seed{seed}"] == weights_sha256(folder)
    assert results["seeds"] == [0, 1, 2]
    jobs = results["jobs"]
    n, questions = results["pass_at_k"]["n"], results["pass_at_k"]["questions"]
    assert n == 256
    for arm in ARMS:
        for seed in results["seeds"]:
            job = jobs[f"{arm}-seed{seed}"]
            assert job["train_minutes"] > 0 and 0 <= job["held_out"]["pass_at_1"] <= 1
            steps = job["curves"]["step"]
            assert steps == list(range(1, len(steps) + 1)) and len(steps) == 40
            assert len(curve(job["curves"], "accuracy")[0]) == 20  # one batch per 2 steps
    for name in ("held_out", "made_to_reason"):
        assert 0 <= jobs["base"][name]["pass_at_1"] <= 1
    counts = [jobs[j][v]["counts"] for j in ("passk-base", "passk-student")
              for v in ("unprompted", "made_to_reason")]
    counts += [jobs[f"passk-{m}-seed{s}"]["counts"] for m in ("dapo", "distilled")
               for s in results["seeds"]]
    for c in counts:
        assert len(c) == questions and all(0 <= x <= n for x in c)
    assert all(job["minutes"] > 0 for job in jobs.values())


def test_gains_and_windows_read_one_number_per_seed():
    from r1lab.findings import gain, seed_values, windows

    def job(p, acc):
        return {"held_out": {"pass_at_1": p},
                "curves": {"step": [1, 2, 3], "accuracy": [acc, None, acc + 0.2]}}

    results = {"seeds": [0, 1, 2], "jobs": {"x-seed0": job(0.5, 0.1), "x-seed1": job(0.6, 0.2),
                                            "x-seed2": job(0.7, 0.3)}}
    assert seed_values(results, "x") == [0.5, 0.6, 0.7]
    mean, low, high = gain(results, "x", control=0.3, control_ci=(0.3, 0.3))
    assert mean == 30.0 and low < 30.0 < high  # points, t-interval over the 3 seeds
    wider = gain(results, "x", control=0.3, control_ci=(0.2, 0.4))
    assert wider[0] == 30.0 and wider[1] < low and wider[2] > high  # the control's own error
    assert windows(results, "x", "accuracy", 1, 3) == pytest.approx([0.2, 0.3, 0.4])


def test_pass_at_k_difference_is_paired_over_the_same_questions():
    from r1lab.findings import pass_at_k_difference

    a, b = [8, 0, 4, 8, 2], [8, 0, 0, 4, 2]
    assert pass_at_k_difference(a, a, n=8, k=2) == (0.0, 0.0, 0.0)  # paired: no spread
    mean, low, high = pass_at_k_difference(a, b, n=8, k=1)
    assert mean == pytest.approx((4 + 4) / 8 / 5) and 0 <= low <= mean <= high
    assert pass_at_k_difference([[8, 0], [0, 8]], [4, 4], n=8, k=1)[0] == 0.0  # seeds averaged
    with pytest.raises(ValueError, match="same questions"):
        pass_at_k_difference(a, b[:3], n=8, k=1)
