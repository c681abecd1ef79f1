"""r1lab.pipeline and ``r1lab pipeline``: R1's stages in order, skipped when done."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from r1lab import cold_start
from r1lab.cli import main
from r1lab.cold_start import ColdStartData, ColdStartError, collect_cold_start
from r1lab.eval import Evaluation
from r1lab.pipeline import BUDGETS, DATA, MANIFEST, RECORD, RESULTS_JSON, RESULTS_MD, \
    RESULTS_PNG, STEP_NAMES, STEPS, Budget, Context, PipelineError, Training, run_pipeline
from r1lab.sampling import RejectionData
from r1lab.tasks import generate
from r1lab.template import render
from r1lab.train import load_recipe

BASE = Path(__file__).resolve().parents[1] / "data" / "models" / "tiny-base"
# Two optimizer steps of each training recipe, on short completions.
SHORT_RL = ["trainer.max_steps=2", "trainer.save_steps=1", "trainer.max_completion_length=24",
            "trainer.per_device_train_batch_size=16", "task.n=16"]
SHORT_SFT = ["trainer.max_steps=2", "trainer.save_steps=1"]
SHORT = {"r1_zero": SHORT_RL, "reasoning_rl": SHORT_RL, "cold_start_sft": SHORT_SFT,
         "rejection_sft": SHORT_SFT, "reward_model_helpful": SHORT_SFT,
         "reward_model_harmless": SHORT_SFT, "all_scenario_rl": SHORT_RL,
         "distill_sft": SHORT_SFT, "student_rl": SHORT_RL, "distill_rl": SHORT_RL}
STAGE_2 = BASE.parent / "tiny-reasoning-rl"
# Seconds, not minutes: a few questions sampled and held out.
TINY = Budget("test", "seconds", cold_start=ColdStartData(questions=24, prompted=8),
              rejection=RejectionData(questions=12, k=2),
              distill=RejectionData(questions=12, k=2, seed=11),
              evaluation=Evaluation(questions=8, k=2, general=8, general_k=1))
SHIPPED = {"r1_zero": "tiny-r1-zero", "cold_start_sft": "tiny-cold-start",
           "reasoning_rl": "tiny-reasoning-rl", "rejection_sft": "tiny-rejection-sft"}


def _cold_start_data_by_hand(folder: Path, n: int = 40) -> None:
    """What the data step leaves behind, written from the tiny world's ideal samples."""
    folder.mkdir(parents=True)
    rows = [{"prompt": render(p.question), "completion": cold_start.ideal_sample(p, True),
             "path": "by hand"} for p in generate(n, split="train", seed=9)]
    (folder / DATA).write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / MANIFEST).write_text(json.dumps({"samples": n}))


def test_the_stages_share_one_base_and_reasoning_rl_has_r1_zeros_budget():
    r1_zero = load_recipe("tiny/r1_zero")
    rl = load_recipe("tiny/reasoning_rl", [f"model={BASE}"])
    assert r1_zero.model == yaml.safe_load(
        (Path(cold_start.__file__).parent / "recipes/tiny/cold_start_sft.yaml").read_text()
    )["model"]
    assert rl.trainer == r1_zero.trainer  # the same RL budget, the control's
    # the same accuracy and format weights, the format being the one each model writes
    # (R1-Zero's tags, the cold start's readable format), plus the language reward
    assert rl.rewards == {"accuracy": r1_zero.rewards["accuracy"],
                          "readable_format": r1_zero.rewards["format"], "language": 1.0}


def test_reasoning_rl_without_its_sft_checkpoint_says_what_to_run_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="runs/tiny-cold-start-sft/final"):
        load_recipe("tiny/reasoning_rl")


@pytest.mark.slow
def test_sft_then_reasoning_rl_start_from_the_step_before_and_rerun_skips(tmp_path):
    out = tmp_path / "pipe"
    (out / "r1_zero" / "final").mkdir(parents=True)
    (out / "r1_zero" / "final" / "tokenizer_config.json").write_text("{}")  # done: skipped
    _cold_start_data_by_hand(out / "cold_start_data")
    lines = []
    folders = run_pipeline(out, seed=3, overrides=SHORT, progress=False, log=lines.append,
                           until="reasoning_rl", budget=TINY)
    heads = [line.split(":")[0] for line in lines if line.startswith("[")]
    assert heads == [f"[{i}/14] {name}" for i, name in enumerate(STEP_NAMES[:4], 1)]
    assert "skipped" in lines[0] and "skipped" in lines[1]
    sft = yaml.safe_load((folders["cold_start_sft"] / "recipe.yaml").read_text())
    rl = yaml.safe_load((folders["reasoning_rl"] / "recipe.yaml").read_text())
    assert sft["task"]["source"] == str(out / "cold_start_data" / DATA)
    assert rl["model"] == str(out / "cold_start_sft" / "final")
    assert sft["trainer"]["seed"] == rl["trainer"]["seed"] == 3
    assert rl["rewards"]["language"] == 1.0
    assert (folders["reasoning_rl"] / "final" / "model.safetensors").exists()
    again = []
    run_pipeline(out, seed=3, overrides=SHORT, progress=False, log=again.append,
                 until="reasoning_rl", budget=TINY)
    assert all("done, skipped" in line for line in again)


@pytest.mark.slow
def test_rejection_sampling_samples_stage_2_and_stage_3_fine_tunes_the_base_on_it(tmp_path):
    out = tmp_path / "pipe"
    for step in ("r1_zero", "cold_start_sft"):  # done: skipped
        (out / step / "final").mkdir(parents=True)
        (out / step / "final" / "tokenizer_config.json").write_text("{}")
    _cold_start_data_by_hand(out / "cold_start_data")
    (out / "reasoning_rl").mkdir()
    (out / "reasoning_rl" / "final").symlink_to(STAGE_2, target_is_directory=True)
    lines = []
    folders = run_pipeline(out, seed=1, overrides=SHORT, progress=False, log=lines.append,
                           budget=TINY, until="rejection_sft")
    lines = [line for line in lines if line.startswith("[")]
    assert [line.split(":")[0] for line in lines] == [
        f"[{i}/14] {name}" for i, name in enumerate(STEP_NAMES[:6], 1)]
    assert all("skipped" in line for line in lines[:4])
    manifest = json.loads((folders["rejection_sampling"] / MANIFEST).read_text())
    assert manifest["prompts"] == 12 and manifest["samples"] == 24
    assert manifest["model"] == str(out / "reasoning_rl" / "final")
    rows = [json.loads(line) for line in (folders["rejection_sampling"] / DATA).read_text()
            .splitlines()]
    kinds = [row["kind"] for row in rows]
    assert kinds.count("reasoning") == manifest["kept"] > 0
    assert kinds.count("non-reasoning") == manifest["kept"]  # one request per chain
    sft = yaml.safe_load((folders["rejection_sft"] / "recipe.yaml").read_text())
    assert sft["task"]["source"] == str(folders["rejection_sampling"] / DATA)
    assert sft["model"].endswith("data/models/tiny-base")  # R1 §2.3.3 fine-tunes the base
    assert sft["trainer"]["num_train_epochs"] == 2 and sft["trainer"]["seed"] == 1
    assert (folders["rejection_sft"] / "final" / "model.safetensors").exists()


@pytest.mark.slow
def test_the_data_step_runs_three_paths_and_accounts_for_every_sample(tmp_path):
    config = ColdStartData(questions=24, prompted=8)
    manifest = collect_cold_start(BASE, BASE, tmp_path, seed=0, config=config, progress=False)
    paths = {p["name"]: p for p in manifest["paths"]}
    assert list(paths) == ["few-shot prompting (base)", "direct prompting (base)",
                           "refined R1-Zero outputs"]
    assert [p["tried"] for p in paths.values()] == [8, 8, 24]
    for path in paths.values():
        assert path["kept"] + sum(path["dropped"].values()) == path["tried"]
    rows = [json.loads(line) for line in (tmp_path / DATA).read_text().splitlines()]
    assert len(rows) == manifest["samples"] == sum(p["kept"] for p in paths.values())
    assert json.loads((tmp_path / MANIFEST).read_text()) == manifest
    for row in rows:
        assert cold_start.readability_problem(row["completion"], row["lang"]) is None
        assert row["path"] in paths
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.slow
def test_a_data_step_that_keeps_nothing_writes_nothing_and_says_why(tmp_path, monkeypatch):
    from collections import Counter

    monkeypatch.setattr(cold_start, "collect", lambda name, records, *a, **k: cold_start.Yield(
        name, len(records), [], Counter({"wrong answer": len(records)})))
    with pytest.raises(ColdStartError, match="refined R1-Zero outputs: 0 of 6, dropped wrong "
                                            "answer 6. Train R1-Zero longer"):
        collect_cold_start(BASE, BASE, tmp_path / "data", config=ColdStartData(
            questions=6, prompted=2), progress=False)
    assert not (tmp_path / "data").exists()


def test_the_data_step_stops_the_pipeline_with_the_cold_starts_reason(tmp_path, monkeypatch):
    import r1lab.pipeline

    def keeps_nothing(*args, **kwargs):
        raise ColdStartError("no cold-start sample was kept, so there is nothing to fine-tune on")

    monkeypatch.setattr(r1lab.pipeline, "collect_cold_start", keeps_nothing)
    _finished(tmp_path, ["r1_zero"])
    with pytest.raises(PipelineError, match="no cold-start sample was kept"):
        run_pipeline(tmp_path, until="cold_start_data", log=lambda line: None)
    assert not (tmp_path / "cold_start_data").exists()


def test_a_data_step_killed_before_its_manifest_is_redone(tmp_path):
    data_step = dict(zip(STEP_NAMES, STEPS))["cold_start_data"]
    folder = tmp_path / "cold_start_data"
    folder.mkdir()
    (folder / DATA).write_text("")  # written, then killed before the manifest
    assert not data_step.done(folder)
    (folder / MANIFEST).write_text("{}")
    assert data_step.done(folder)


@pytest.mark.parametrize("kwargs, message", [
    ({"until": "distill"}, "until must be one of r1_zero, cold_start_data"),
    ({"budget": "huge"}, "budget must be one of quick, full"),
    ({"overrides": {"sft": ["trainer.max_steps=1"]}}, "overrides name no step: sft"),
])
def test_bad_pipeline_requests_name_the_fix(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_pipeline(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


def test_pipeline_command_refuses_an_unknown_step(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["pipeline", "tiny", "--until", "distill"])
    assert exit_.value.code == 2
    assert "invalid choice: 'distill'" in capsys.readouterr().err


def _finished(out: Path, steps) -> None:
    """Steps that look done (skipped, never loaded)."""
    for step in steps:
        (out / step / "final").mkdir(parents=True)
        (out / step / "final" / "tokenizer_config.json").write_text("{}")
        (out / step / MANIFEST).write_text("{}")


def test_a_folder_of_another_seed_or_budget_is_refused_before_anything_runs(tmp_path):
    _finished(tmp_path, ["r1_zero"])
    (tmp_path / RECORD).write_text(json.dumps({"seed": 0, "budget": "quick", "steps": {}}))
    for kwargs in ({"seed": 1}, {"budget": "full"}):
        with pytest.raises(PipelineError, match="holds a pipeline of seed 0 and budget 'quick'"):
            run_pipeline(tmp_path, until="r1_zero", log=lambda line: None, **kwargs)
    lines = []
    run_pipeline(tmp_path, until="r1_zero", log=lines.append)  # the same settings continue
    assert lines == [f"[1/14] r1_zero: R1-Zero: GRPO from the base, rule rewards (tiny/r1_zero): "
                     f"done, skipped ({tmp_path / 'r1_zero'})"]


def test_the_students_rl_without_distillations_minutes_says_what_to_do(tmp_path):
    _finished(tmp_path, STEP_NAMES[:11])  # done by hand: no minutes recorded
    with pytest.raises(PipelineError, match="given the minutes distillation took.*delete those "
                                            "two step folders"):
        run_pipeline(tmp_path, until="student_rl", log=lambda line: None)
    assert not (tmp_path / "student_rl").exists()


def test_the_quick_budget_shortens_steps_the_recipes_know():
    quick = BUDGETS["quick"]
    assert set(quick.train) <= set(STEP_NAMES)
    for step, overrides in quick.train.items():
        recipe = {"reward_model_helpful": "tiny/reward_model_helpful",
                  "reward_model_harmless": "tiny/reward_model_harmless"}.get(step, f"tiny/{step}")
        load_recipe(recipe, [f"model={BASE}", *overrides])  # every override is a field
    assert BUDGETS["full"].train == {}  # full: the recipes as they are


@pytest.mark.slow
def test_the_second_half_runs_in_order_writes_the_table_and_a_rerun_skips_everything(tmp_path):
    import time

    out = tmp_path / "pipe"
    for step, model in SHIPPED.items():  # the first half, done: the shipped models
        (out / step).mkdir(parents=True)
        (out / step / "final").symlink_to(BASE.parent / model, target_is_directory=True)
    for step in ("cold_start_data", "rejection_sampling"):
        (out / step).mkdir()
        (out / step / MANIFEST).write_text("{}")
    lines = []
    folders = run_pipeline(out, seed=2, overrides=SHORT, progress=False, log=lines.append,
                           budget=TINY)
    ran = [line.split(":")[0].split("] ")[1] for line in lines
           if line.startswith("[") and "skipped" not in line]
    assert ran == list(STEP_NAMES[6:])
    recipe = {step: yaml.safe_load((folders[step] / "recipe.yaml").read_text())
              for step in STEP_NAMES[6:13] if step != "distill_data"}
    stage_3 = str(out / "rejection_sft" / "final")
    assert recipe["reward_model_helpful"]["model"] == recipe["reward_model_harmless"][
        "model"] == recipe["all_scenario_rl"]["model"] == stage_3
    assert {name: rm["model"] for name, rm in recipe["all_scenario_rl"]["reward_models"].items()
            } == {"helpful_rm": str(out / "reward_model_helpful" / "final"),
                  "harmless_rm": str(out / "reward_model_harmless" / "final")}
    manifest = json.loads((folders["distill_data"] / MANIFEST).read_text())
    assert manifest["model"] == str(out / "all_scenario_rl" / "final")  # the teacher
    assert manifest["prompts"] == 12 and manifest["samples"] == 24
    assert recipe["distill_sft"]["task"]["source"] == str(folders["distill_data"] / DATA)
    assert recipe["distill_sft"]["model"].endswith("data/models/tiny-student")
    assert recipe["student_rl"]["model"].endswith("data/models/tiny-student")
    assert recipe["distill_rl"]["model"] == str(out / "distill_sft" / "final")
    record = json.loads((out / RECORD).read_text())
    assert record["seed"] == 2 and record["budget"] == "test"
    assert set(record["steps"]) == set(STEP_NAMES[6:])
    budget = recipe["student_rl"]["time_budget_minutes"]  # (a) gets (b)'s minutes
    assert budget == round(record["steps"]["distill_data"] + record["steps"]["distill_sft"], 2)
    results = json.loads((folders["results"] / RESULTS_JSON).read_text())
    assert [row["label"] for row in results["rows"]][-3:] == [
        "(a) student + R1-Zero RL", "(b) distilled student", "(c) distilled student + RL"]
    assert len(results["rows"]) == 10 and results["student_rl_budget_minutes"] == budget
    for row in results["rows"]:
        assert 0 <= row["pass_at_1_ci"][0] <= row["pass_at_1"] <= row["pass_at_1_ci"][1] <= 1
        assert row["helpful"] is not None and row["harmless"] is not None
    assert results["rows"][0]["minutes"] is None  # the shipped base cost nothing here
    assert results["rows"][8]["minutes"] == budget
    table = (folders["results"] / RESULTS_MD).read_text()
    assert table.count("\n| ") == 11 and "| (b) distilled student | " in table
    assert (folders["results"] / RESULTS_PNG).stat().st_size > 10_000
    started, again = time.perf_counter(), []
    run_pipeline(out, seed=2, overrides=SHORT, progress=False, log=again.append, budget=TINY)
    assert len(again) == 14 and all("done, skipped" in line for line in again)
    assert time.perf_counter() - started < 5
    # Killed while training (c): its final/ and the table missing; the same call resumes (c)
    # from its newest checkpoint and writes the table again.
    shutil.rmtree(folders["distill_rl"] / "final")
    shutil.rmtree(folders["results"])
    resumed = []
    run_pipeline(out, seed=2, overrides=SHORT, progress=False, log=resumed.append, budget=TINY)
    ran = [line.split(":")[0].split("] ")[1] for line in resumed
           if line.startswith("[") and "skipped" not in line]
    assert ran == ["distill_rl", "results"]
    steps = [json.loads(line)["step"] for line in
             (folders["distill_rl"] / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]  # resumed at checkpoint-2, nothing trained twice
    assert (folders["results"] / RESULTS_JSON).exists()


def test_the_pipeline_only_orchestrates_what_the_modules_compute():
    """DESIGN: what a step computes lives in the module that teaches it."""
    import r1lab.pipeline

    homes = {"collect_cold_start": "r1lab.cold_start", "ColdStartData": "r1lab.cold_start",
             "sample_stage_2": "r1lab.sampling", "RejectionData": "r1lab.sampling",
             "evaluate_model": "r1lab.eval", "Evaluation": "r1lab.eval"}
    assert {name: getattr(r1lab.pipeline, name).__module__ for name in homes} == homes
    source = Path(r1lab.pipeline.__file__).read_text()
    assert not [name for name in homes if f"def {name}(" in source or f"class {name}" in source]


def test_every_training_step_gets_its_folders_intact_even_with_a_yaml_comment_in_out(tmp_path):
    """The steps hand folders on as typed values: as ``output_dir=…/runs #x/…`` YAML would
    cut the path at ``#`` and the run would land in another folder."""
    out = tmp_path / "runs #x" / "pipe: a"
    folders = {step.name: out / step.name for step in STEPS}
    training = [step for step in STEPS if isinstance(step.run, Training)]
    assert len(training) == 10
    for step in training:  # every model a step starts from: the base, as if trained (a
        folders[step.name].mkdir(parents=True)  # reward model step: a shipped reward model)
        model = BASE.parent / "tiny-rm-helpful" if step.name.startswith("reward_model") else BASE
        (folders[step.name] / "final").symlink_to(model, target_is_directory=True)
    for step in ("cold_start_data", "rejection_sampling", "distill_data"):
        _cold_start_data_by_hand(folders[step])
    minutes = {"distill_data": 1.25, "distill_sft": 2.5}
    recipes = {}
    for step in training:
        ctx = Context(step.name, folders[step.name], folders, 4, BUDGETS["quick"],
                      ("trainer.logging_steps=3",), minutes=minutes)
        recipes[step.name] = load_recipe(step.run.recipe, step.run.overrides(ctx))
    for name, recipe in recipes.items():
        assert recipe.output_dir == str(folders[name])
        assert recipe.trainer["seed"] == 4 and recipe.trainer["logging_steps"] == 3
    budget_steps = dict(o.split("=") for o in BUDGETS["quick"].train["r1_zero"])
    recipe_steps = load_recipe("tiny/r1_zero").trainer["max_steps"]
    # the budget's string overrides reach the recipe
    assert recipes["r1_zero"].trainer["max_steps"] == int(budget_steps["trainer.max_steps"])
    assert int(budget_steps["trainer.max_steps"]) != recipe_steps
    for name, rows in {"cold_start_sft": "cold_start_data", "rejection_sft": "rejection_sampling",
                       "distill_sft": "distill_data"}.items():
        assert recipes[name].task.source == str(folders[rows] / DATA)
    for name, model in {"reasoning_rl": "cold_start_sft", "reward_model_helpful": "rejection_sft",
                        "all_scenario_rl": "rejection_sft", "distill_rl": "distill_sft"}.items():
        assert recipes[name].model == str(folders[model] / "final")
    assert {name: rm["model"] for name, rm in recipes["all_scenario_rl"].reward_models.items()
            } == {"helpful_rm": str(folders["reward_model_helpful"] / "final"),
                  "harmless_rm": str(folders["reward_model_harmless"] / "final")}
    assert recipes["student_rl"].time_budget_minutes == 3.75


def test_a_typed_override_is_set_as_it_is_and_a_string_is_still_read_as_yaml():
    recipe = load_recipe("tiny/r1_zero", ["output_dir=runs/a #b", {"trainer.seed": 3},
                                          "trainer.learning_rate=1e-4"])
    assert recipe.output_dir == "runs/a"  # the command line's form: YAML, a comment cut
    assert (recipe.trainer["seed"], recipe.trainer["learning_rate"]) == (3, 1e-4)
    typed = load_recipe("tiny/r1_zero", [{"output_dir": "runs/a #b", "trainer.seed": 3}])
    assert typed.output_dir == "runs/a #b" and typed.trainer["seed"] == 3
