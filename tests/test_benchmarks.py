"""The committed benchmark results describe the code and weights shipped today."""

import hashlib
import importlib
import json
from pathlib import Path

import pytest

from r1lab.tiny.card import weights_sha256
from r1lab.train.recipe import recipe_sha256

ROOT = Path(__file__).resolve().parents[1]
R1_ZERO_SEEDS = ROOT / "benchmarks" / "results" / "r1_zero_seeds.json"


def test_r1_zero_seeds_were_measured_on_todays_recipe_and_base():
    """Notebook 04 reads these numbers; `python benchmarks/r1_zero_seeds.py` rewrites them
    when the recipe or the base model changes."""
    results = json.loads(R1_ZERO_SEEDS.read_text())
    recipe = recipe_sha256(results["recipe"])
    assert results["recipe_sha256"] == recipe, "tiny/r1_zero changed: re-run the benchmark"
    assert results["base_weights_sha256"] == weights_sha256(ROOT / "data/models/tiny-base")
    assert results["protocol"] == {"n": 500, "k": 8, "temperature": 0.6, "top_p": 0.95,
                                   "seed": 0, "split": "test"}
    assert set(results["controls"]) == {"base", "base_forced_think"}
    seeds = sorted(r["seed"] for r in results["runs"] if r["variant"] == "r1_zero")
    assert seeds == [0, 1, 2]
    assert any(r["variant"] == "accuracy_only" for r in results["runs"])
    for run in results["runs"]:
        assert run["recipe_sha256"] == recipe and run["steps"] > 0
        held_out = run["held_out"]
        assert 0 <= held_out["pass_at_1"] <= 1 and len(held_out["pass_at_1_ci"]) == 2
        for key in ("recheck_rate", "slip_rate", "mean_reasoning_tokens", "pass_at_k"):
            assert key in held_out, key
        assert len(run["curves"]["step"]) == run["steps"]


COLD_START_SEEDS = ROOT / "benchmarks" / "results" / "cold_start_seeds.json"


def test_cold_start_seeds_were_measured_on_todays_recipes_and_base():
    """Notebooks 05 and 06 read these numbers; `python benchmarks/cold_start_seeds.py`
    rewrites them when a recipe of the pipeline or the base model changes."""
    results = json.loads(COLD_START_SEEDS.read_text())
    for name, digest in results["recipes_sha256"].items():
        assert recipe_sha256(name) == digest, (
            f"{name} changed: re-run python benchmarks/cold_start_seeds.py")
    assert set(results["recipes_sha256"]) == {"tiny/r1_zero", "tiny/cold_start_sft",
                                              "tiny/reasoning_rl"}
    assert results["base_weights_sha256"] == weights_sha256(ROOT / "data/models/tiny-base")
    jobs = results["jobs"]
    assert set(jobs) == {"pipeline", *(f"{arm}-seed{s}" for arm in
                                       ("r1_zero", "language", "no_language") for s in range(3))}
    paths = jobs["pipeline"]["manifest"]["paths"]
    assert len(paths) == 3 and all(path["kept"] > 0 for path in paths)
    for job in jobs.values():
        for lang in ("all", "en", "zh"):
            report = job["held_out"][lang]
            assert 0 <= report["pass_at_1"] <= 1 and 0 <= report["clean"] <= report["readable"]
    for arm in ("r1_zero", "language"):
        for seed in range(3):
            assert jobs[f"{arm}-seed{seed}"]["checkpoints"]["step"][0] == 0


REJECTION_SEEDS = ROOT / "benchmarks" / "results" / "rejection_sampling_seeds.json"


def test_rejection_sampling_seeds_were_measured_on_todays_recipe_and_models():
    """Notebook 07 reads these numbers; `python benchmarks/rejection_sampling_seeds.py`
    rewrites them when tiny/rejection_sft, the base or the stage-2 checkpoint changes."""
    results = json.loads(REJECTION_SEEDS.read_text())
    recipe = recipe_sha256("tiny/rejection_sft")
    assert results["recipe_sha256"] == recipe, "tiny/rejection_sft changed: re-run the benchmark"
    assert results["base_weights_sha256"] == weights_sha256(ROOT / "data/models/tiny-base")
    assert results["stage2_weights_sha256"] == weights_sha256(
        ROOT / "data/models/tiny-reasoning-rl")
    jobs = results["jobs"]
    assert set(jobs) == {"sampling", "stage2", *(f"{arm}-seed{s}" for s in range(3) for arm in
                                                 ("rejection", "unfiltered", "paper_ratio",
                                                  "careful", "right_answers"))}
    manifest = jobs["sampling"]["manifest"]
    removed = sum(row["removed"] for row in manifest["filters"])
    assert removed + manifest["kept"] == manifest["samples"]
    assert manifest["rows"]["reasoning"] == manifest["kept"] > 0
    assert manifest["rows"]["non-reasoning"] == manifest["kept"]  # one request per chain
    assert jobs["sampling"]["unfiltered"]["reasoning_rows"] == manifest["kept"]
    assert jobs["sampling"]["paper_ratio"] == {"reasoning_rows": manifest["kept"],
                                               "non_reasoning_rows": round(manifest["kept"] / 3)}
    for arm in ("careful", "right_answers"):  # (run later, with each question's right samples)
        for s in range(3):
            assert jobs[f"{arm}-seed{s}"]["overrides"][0].endswith(f"{arm}.jsonl")
            found = jobs[f"{arm}-seed{s}"]["held_out"]["reasoning"]["all"]
            assert sum(found["correct_per_question"]["correct"]) == round(
                found["pass_at_1"] * found["samples"])
    for name, job in jobs.items():
        if name == "sampling":
            continue
        reasoning, requests = job["held_out"]["reasoning"], job["held_out"]["requests"]
        assert 0 <= reasoning["all"]["pass_at_1"] <= 1 and set(reasoning) == {"all", "en", "zh"}
        assert 0 <= requests["correct"] <= 1 and 0 <= requests["cot_rate"] <= 1


ALL_SCENARIO_SEEDS = ROOT / "benchmarks" / "results" / "all_scenario_seeds.json"


def test_all_scenario_seeds_were_measured_on_todays_recipes_pairs_and_models():
    """Notebook 08 reads these numbers; `python benchmarks/all_scenario_seeds.py` rewrites
    them when a stage-4 recipe, the preference pairs or the stage-3 model changes."""
    results = json.loads(ALL_SCENARIO_SEEDS.read_text())
    for name, digest in results["recipes_sha256"].items():
        assert recipe_sha256(name) == digest, f"{name} changed: re-run the benchmark"
    assert set(results["recipes_sha256"]) == {
        "tiny/reward_model_helpful", "tiny/reward_model_harmless", "tiny/all_scenario_rl",
        "tiny/rm_hacking", "tiny/rm_hacking_control"}
    for aspect, digest in results["pairs_sha256"].items():
        path = ROOT / "data" / "preferences" / f"{aspect}.jsonl"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, aspect
    assert results["stage3_weights_sha256"] == weights_sha256(
        ROOT / "data/models/tiny-rejection-sft")
    jobs = results["jobs"]
    assert set(jobs) == {"rm-helpful", "rm-harmless", "stage3", *(
        f"{arm}-seed{s}" for arm in ("stage4", "hacking", "control") for s in range(3))}
    for aspect in ("helpful", "harmless"):
        job = jobs[f"rm-{aspect}"]
        assert 0.5 < job["held_out_pairs"]["accuracy"] <= 1
        assert job["on_policy"]["good"] + job["on_policy"]["bad"] == job["on_policy"]["samples"]
    for name, job in jobs.items():
        if name.startswith("rm-"):
            continue
        general = job["held_out"]["general"]
        assert 0 <= job["held_out"]["reasoning"]["pass_at_1"] <= 1
        assert 0 <= general["helpful"] <= 1 and 0 <= general["harmless"] <= 1
        if name != "stage3":
            assert job["steps"] == len(job["curves"]["step"]) > 0


DISTILL_SEEDS = ROOT / "benchmarks" / "results" / "distill_seeds.json"


def test_distill_seeds_were_measured_on_todays_recipes_teacher_and_student():
    """Notebook 09 reads these numbers; `python benchmarks/distill_seeds.py` rewrites them."""
    from dataclasses import asdict

    from r1lab.eval import Evaluation
    from r1lab.pipeline import BUDGETS

    results = json.loads(DISTILL_SEEDS.read_text())
    for name, digest in results["recipes_sha256"].items():
        assert digest == recipe_sha256(name), (
            f"{name} changed: re-run benchmarks/distill_seeds.py")
    assert set(results["recipes_sha256"]) == {"tiny/distill", "tiny/student_rl",
                                              "tiny/distill_rl"}
    assert results["teacher_weights_sha256"] == weights_sha256(ROOT / "data/models/tiny-r1")
    assert results["student_weights_sha256"] == weights_sha256(ROOT / "data/models/tiny-student")
    assert results["distill_data"] == asdict(BUDGETS["full"].distill)
    assert results["protocol"] == asdict(Evaluation())
    jobs = results["jobs"]
    assert set(jobs) == {"distill-data", "student", *(f"{arm}-seed{s}" for arm in (
        "distill", "rl", "distill_rl", "careful") for s in range(3))}
    for s in range(3):
        distilled, rl = jobs[f"distill-seed{s}"], jobs[f"rl-seed{s}"]
        # (a) had the minutes (b) took: the teacher's sampling plus the student's SFT
        assert rl["budget_minutes"] == round(jobs["distill-data"]["minutes"]
                                             + distilled["train_minutes"], 2)
        assert f"time_budget_minutes={rl['budget_minutes']}" in rl["overrides"]
        # (d), the control: the generator's careful chains, as many rows as the teacher's set
        careful = jobs[f"careful-seed{s}"]
        assert "task.source=runs/distill-seeds/careful.jsonl" in careful["overrides"]
        per_question = careful["held_out"]["correct_per_question"]  # recorded since (d) ran
        assert per_question["k"] == results["protocol"]["k"]
        assert len(per_question["correct"]) == results["protocol"]["questions"]
        assert sum(per_question["correct"]) / (per_question["k"] * len(per_question["correct"])) \
            == pytest.approx(careful["held_out"]["pass_at_1"], abs=1e-6)
        for job in (distilled, rl, jobs[f"distill_rl-seed{s}"], careful):
            held = job["held_out"]
            assert 0 <= held["pass_at_1_ci"][0] <= held["pass_at_1"] <= held["pass_at_1_ci"][1]
            assert job["steps"] > 0


PIPELINE_TINY = ROOT / "benchmarks" / "results" / "pipeline_tiny"


def test_the_pipelines_timing_was_measured_on_todays_recipes_and_budget():
    """README and notebook 09 quote it; `python benchmarks/pipeline_tiny.py` rewrites it."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from pipeline_tiny import stamp
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from r1lab.pipeline import ROWS, STEP_NAMES

    timing = json.loads((PIPELINE_TINY / "timing.json").read_text())
    now = stamp()
    assert timing["recipes_sha256"] == now["recipes_sha256"], "a recipe changed: re-run it"
    assert timing["budget"] == now["budget"], "the quick budget changed: re-run it"
    assert list(timing["steps_minutes"]) == list(STEP_NAMES) and not timing["resumed"]
    assert abs(sum(timing["steps_minutes"].values()) - timing["first_run_minutes"]) < 1.5
    results = json.loads((PIPELINE_TINY / "results.json").read_text())
    assert results["budget"] == "quick" and results["seed"] == 0
    assert [row["label"] for row in results["rows"]] == [row.label for row in ROWS]
    table = (PIPELINE_TINY / "results.md").read_text()
    assert all(f"| {row.label} |" in table for row in ROWS)
    assert (PIPELINE_TINY / "results.png").stat().st_size > 10_000


def test_recipe_stamps_read_the_content_not_the_comments(tmp_path):
    original = (ROOT / "r1lab/recipes/tiny/distill.yaml").read_text()
    mended, changed = tmp_path / "mended.yaml", tmp_path / "changed.yaml"
    mended.write_text("# a mended comment\n" + original.replace("# Hardware:", "#  Hardware:"))
    changed.write_text(original + "\nextra_field: 1\n")
    assert recipe_sha256(mended) == recipe_sha256("tiny/distill")
    assert recipe_sha256(changed) != recipe_sha256("tiny/distill")


@pytest.fixture
def seed_jobs(monkeypatch):
    """benchmarks/seed_jobs.py, imported as the scripts beside it import it."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import seed_jobs

    return seed_jobs


def test_results_are_written_whole_and_as_committed(seed_jobs, tmp_path):
    out = tmp_path / "results" / "a.json"
    seed_jobs.write_json(out, {"question": "多少", "runs": [1, 2]})
    assert out.read_text(encoding="utf-8") == ('{\n "question": "多少",\n'
                                               ' "runs": [\n  1,\n  2\n ]\n}\n')
    assert [p.name for p in out.parent.iterdir()] == ["a.json"]  # no partial file left
    for committed in (ROOT / "benchmarks" / "results").glob("*.json"):  # a re-run: no churn
        again = tmp_path / committed.name
        seed_jobs.write_json(again, json.loads(committed.read_text(encoding="utf-8")))
        assert again.read_bytes() == committed.read_bytes(), committed.name


def test_a_worker_waits_for_another_workers_file_and_says_what_to_run_first(seed_jobs,
                                                                              tmp_path):
    import threading

    late = tmp_path / "late.json"
    writer = threading.Timer(0.2, seed_jobs.write_json, (late, {"minutes": 1.5}))
    writer.start()
    seed_jobs.wait_for(late, timeout_s=30, first="the writer", poll_s=0.05)
    writer.join()
    assert seed_jobs.wait_for_job(tmp_path, "late", timeout_s=0) == {"minutes": 1.5}
    with pytest.raises(SystemExit, match=r"no .*sampling.json after 0 s: run the 'sampling' "
                                         r"job \(--jobs sampling\) first"):
        seed_jobs.wait_for_job(tmp_path, "sampling", timeout_s=0)


def test_a_job_the_committed_file_holds_is_carried_not_run_again(seed_jobs, tmp_path):
    """A benchmark that gains an arm runs only the new jobs: the others come from the committed
    results when they were made under the same stamp; --fresh, or another stamp, runs them."""
    stamp = {"recipe_sha256": "ab", "protocol": {"k": 4, "top_p": 0.95}}
    out = tmp_path / "results.json"
    seed_jobs.write_json(out, {**stamp, "jobs": {"old-seed0": {"job": "old-seed0", "score": 0.5,
                                                               "torch_threads": 1}}})
    ran = []

    def run_job(job):
        ran.append(job)
        return {"score": 0.75}

    every = ["old-seed0", "new-seed0"]
    results = seed_jobs.run_jobs(every, every, run_job, stamp, tmp_path / "a", out)
    assert ran == ["new-seed0"]
    assert results["jobs"]["old-seed0"] == {"job": "old-seed0", "score": 0.5, "torch_threads": 1}
    assert results["jobs"]["new-seed0"]["score"] == 0.75
    assert json.loads(out.read_text())["jobs"].keys() == {"old-seed0", "new-seed0"}
    ran.clear()
    seed_jobs.run_jobs(every, every, run_job, stamp, tmp_path / "b", out, fresh=True)
    assert ran == every
    ran.clear()
    seed_jobs.run_jobs(every, every, run_job, {**stamp, "recipe_sha256": "cd"}, tmp_path / "c",
                       out)
    assert ran == every  # another recipe: nothing carried
    ran.clear()  # a figure written after gathering (findings' wall_minutes) is not the stamp
    seed_jobs.write_json(out, {**stamp, "wall_minutes": 12.5, "jobs": {
        job: {"job": job, "score": 0.5} for job in every}})
    seed_jobs.run_jobs(every, every, run_job, stamp, tmp_path / "d", out)
    assert ran == []
    ran.clear()  # ... but a stamp key the committed file lacks is another stamp
    seed_jobs.run_jobs(every, every, run_job, {**stamp, "seeds": [0, 1, 2]}, tmp_path / "e", out)
    assert ran == every


def test_the_careful_control_set_is_written_once_from_a_sampled_sets_counts(seed_jobs, tmp_path):
    from r1lab.cold_start import careful_rows
    from r1lab.sampling import RejectionData

    path = tmp_path / "careful.jsonl"
    seed_jobs.write_careful(path, {"reasoning": 5, "non-reasoning": 3}, RejectionData(seed=7), 0)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows == careful_rows(5, 3, RejectionData(seed=7), seed=0)
    seed_jobs.write_careful(path, {"reasoning": 9, "non-reasoning": 9}, RejectionData(), 1)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 8  # written: kept as it is


SHIPPED_CARDS = {  # data/models/<name>: the benchmark whose --ship copies it and writes its card
    "tiny-r1-zero": "cold_start_seeds", "tiny-cold-start": "cold_start_seeds",
    "tiny-reasoning-rl": "cold_start_seeds", "tiny-rejection-sft": "rejection_sampling_seeds",
    "tiny-r1": "all_scenario_seeds", "tiny-rm-helpful": "all_scenario_seeds",
    "tiny-rm-harmless": "all_scenario_seeds",
}


def test_every_shipped_model_has_one_card_writer():
    """The pretrained models' cards come from r1lab.tiny.card (tests/test_tiny.py), the
    others' from one benchmark each."""
    models = {p.name for p in (ROOT / "data" / "models").iterdir() if p.is_dir()}
    assert models == {"tiny-base", "tiny-student", *SHIPPED_CARDS}


@pytest.mark.parametrize("name", SHIPPED_CARDS)
def test_each_shipped_card_is_the_one_its_benchmark_writes(name, monkeypatch):
    """`python benchmarks/<benchmark>.py --ship` copies data/models/<name>; its card, rendered
    from the committed results and the committed weights' SHA-256 (nothing copied), is the
    committed README.md byte for byte."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    benchmark = importlib.import_module(SHIPPED_CARDS[name])
    assert name in benchmark.SHIPPED
    folder = ROOT / "data" / "models" / name
    results = json.loads(benchmark.RESULTS.read_text(encoding="utf-8"))
    card = benchmark.card(name, results, weights_sha256(folder))
    assert card.encode("utf-8") == (folder / "README.md").read_bytes()


def test_shipping_copies_the_model_and_writes_the_card_of_the_copied_weights(seed_jobs,
                                                                              tmp_path, capsys):
    final = tmp_path / "run" / "final"
    final.mkdir(parents=True)
    for file in ("config.json", "model.safetensors", "optimizer.pt"):
        (final / file).write_text(file)
    target = tmp_path / "models" / "tiny-x"
    seed_jobs.ship_model(final, target, lambda sha: seed_jobs.card_text(
        "tiny-x", "A model.", "python benchmarks/x.py --ship", "Measured: nothing.", sha))
    assert sorted(p.name for p in target.iterdir()) == [  # no checkpoint, no partial file
        "README.md", "config.json", "model.safetensors"]
    card = (target / "README.md").read_text(encoding="utf-8")
    assert card.startswith("# tiny-x\n\nA model.\n\nRegenerate: `python benchmarks/x.py --ship`.")
    assert card.endswith(f"\n\nWeights SHA-256: `{weights_sha256(target)}`.\n")
    assert capsys.readouterr().out == f"shipped {target}\n"


def test_a_held_out_report_is_summarised_overall_and_per_language(seed_jobs):
    from r1lab.eval import Report, grade

    problems = [{"question": "What is 2+3?", "answer": "5", "lang": "en"},
                {"question": "2+2 等于多少？", "answer": "4", "lang": "zh"}]
    completions = ["<think>2+3 = 5</think><answer>5</answer>", "<answer>6</answer>",
                   "<think>2+2 = 4</think><answer>4</answer>", "<answer>4</answer>"]
    report = Report.from_records(grade(problems, completions, [8, 3, 8, 3], k=2), 2, {})
    summary = seed_jobs.summary_by_language(report, ("pass_at_1", "pass_at_1_ci"), 16)
    assert summary["all"]["pass_at_1"] == 0.75 and summary["all"]["samples"] == 4
    assert summary["all"]["correct_per_question"] == {"k": 2, "correct": [1, 2]}
    assert (summary["en"]["pass_at_1"], summary["zh"]["pass_at_1"]) == (0.5, 1.0)
    assert isinstance(summary["en"]["pass_at_1_ci"], list) and "readable" in summary["zh"]


def test_r1_zero_seeds_keep_per_question_records_that_add_up():
    """Each run and control keeps its per-question correct counts (paired differences need
    no re-run); they add up to the pass@1 printed beside them, and the forced base's re-check
    counts to its accuracy when re-checking."""
    results = json.loads(R1_ZERO_SEEDS.read_text())
    n, k = results["protocol"]["n"], results["protocol"]["k"]
    reports = [*results["controls"].values(), *(run["held_out"] for run in results["runs"])]
    for report in reports:
        per_question = report["correct_per_question"]
        assert per_question["k"] == k and len(per_question["correct"]) == n
        assert round(sum(per_question["correct"]) / (n * k), 3) == round(report["pass_at_1"], 3)
    recheck = results["controls"]["base_forced_think"]["recheck_per_question"]
    assert all(c <= s <= k for c, s in zip(recheck["correct"], recheck["samples"]))
    assert round(sum(recheck["correct"]) / sum(recheck["samples"]), 3) == round(
        results["controls"]["base_forced_think"]["accuracy_when_rechecking"], 3)


TUNING_SEEDS = ROOT / "benchmarks" / "results" / "tuning_seeds.json"


@pytest.fixture
def tuning_seeds():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module("tuning_seeds")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_the_learning_rate_was_chosen_on_validation_with_todays_recipe_and_base(tuning_seeds):
    """README and the recipe quote the choice; `python benchmarks/tuning_seeds.py` rewrites it.
    Every arm ran 3 seeds, each scored on the validation and the test split with per-question
    records that add up to its pass@1, and the choice is what those records say."""
    results = json.loads(TUNING_SEEDS.read_text())
    now = tuning_seeds.stamp()
    assert {key: results[key] for key in now} == json.loads(json.dumps(now)), "re-run it"
    assert results["protocol"]["split"] == "validation"
    assert sorted(results["jobs"]) == sorted(tuning_seeds.jobs())
    n, k = results["protocol"]["n"], results["protocol"]["k"]
    for job in results["jobs"].values():
        assert job["steps"] == 200
        for split in ("validation", "test"):
            correct = job[split]["correct_per_question"]["correct"]
            assert len(correct) == n and round(sum(correct) / (n * k), 6) == round(
                job[split]["pass_at_1"], 6)
    assert results["choice"] == json.loads(json.dumps(tuning_seeds.choice(results)))
    assert sorted(results["choice"]["shipped_vs_r1_zero_seeds"]) == ["0", "1", "2"]
