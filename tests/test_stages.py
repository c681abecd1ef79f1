"""The stage-neutral runner and the stage table (r1lab.train.runner, r1lab.train.stage), and the
package's layering: one runner for every stage, a stage is a module and a row, recipes are
checked against the TRL config they resolve to, and imports point downward.

``tests/fixtures/dry_runs.json`` holds every shipped recipe's dry-run objects as they were
before the runner was split into stages; the split must not change them. When a recipe is
changed on purpose, rewrite the file with ``.venv/bin/python tests/test_stages.py --write``.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "tests" / "fixtures" / "dry_runs.json"
TINY = "tiny/r1_zero"


def _stand_in_sft_rows(path: Path) -> Path:
    """Eight readable samples of the tiny world, the SFT recipes' data in a dry run."""
    from r1lab.cold_start import ideal_sample
    from r1lab.tasks import generate
    from r1lab.template import render

    with path.open("w") as rows:
        for problem in generate(8, split="train", seed=3):
            rows.write(json.dumps({"prompt": render(problem.question),
                                   "completion": ideal_sample(problem, reflect=True)}) + "\n")
    return path


def dry_run_objects(data: Path) -> dict:
    """Every shipped recipe's dry-run objects as plain data (paths made machine-neutral)."""
    from r1lab.train import available_recipes, prepare
    from r1lab.train.recipe import RECIPES_DIR

    def neutral(value):
        text = json.dumps(value, default=str, sort_keys=True)
        return json.loads(text.replace(str(data), "<data>").replace(str(REPO), "<repo>"))

    # Recipes that start from an earlier stage's run: the shipped base stands in for it.
    earlier_stage = {"tiny/reasoning_rl": ["model=data/models/tiny-base"],
                     "tiny/distill_rl": ["model=data/models/tiny-student"]}
    objects = {}
    for name in available_recipes():
        stage = yaml.safe_load((RECIPES_DIR / f"{name}.yaml").read_text())["stage"]
        overrides = [f"task.source={data}"] if stage == "sft" else []
        plan = prepare(name, overrides + earlier_stage.get(name, []), dry_run=True)
        objects[name] = neutral({
            "trainer_class": type(plan.args).__name__, "args": plan.args.to_dict(),
            "peft": plan.peft_config.to_dict() if plan.peft_config else None,
            "quantization": (plan.quantization_config.to_dict() if plan.quantization_config
                             else None),
            "accelerate": plan.accelerate_config.to_dict() if plan.accelerate_config else None,
            "model": plan.model, "reward_weights": plan.reward_weights,
            "reward_funcs": [f.__name__ for f in plan.reward_funcs],
            "rows": None if plan.train_dataset is None else len(plan.train_dataset)})
    return objects


def test_every_shipped_recipe_resolves_to_the_same_trl_objects_as_before(tmp_path):
    expected = json.loads(SNAPSHOT.read_text())
    for entry in expected.values():
        entry.pop("summary", None)  # the printed summary may be reworded; the objects may not
    now = dry_run_objects(_stand_in_sft_rows(tmp_path / "rows.jsonl"))
    assert sorted(now) == sorted(expected)
    for name in expected:
        for part in expected[name]:
            assert now[name][part] == expected[name][part], f"{name}: {part} changed"


def test_the_vllm_length_check_reads_trls_real_default(tmp_path):
    """No max_completion_length in the recipe: TRL's own default (512 in TRL 1.16) counts."""
    from trl import GRPOConfig

    from r1lab.train import RecipeError, load_recipe
    from r1lab.train.recipe import declared_default

    default = declared_default(GRPOConfig, "max_completion_length")
    data = yaml.safe_load((REPO / "r1lab/recipes/tiny/r1_zero.yaml").read_text())
    del data["trainer"]["max_completion_length"]
    data["trainer"].update(use_vllm=True, vllm_max_model_length=default - 10)
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(yaml.safe_dump(data))
    with pytest.raises(RecipeError, match=rf"\({default - 10}\) must exceed "
                                          rf"max_completion_length \({default}\)"):
        load_recipe(recipe_file)


def test_sft_recipes_need_no_rewards_and_grpo_recipes_need_some(tmp_path):
    from r1lab.train import RecipeError, load_recipe

    rows = _stand_in_sft_rows(tmp_path / "rows.jsonl")
    sft = load_recipe("tiny/cold_start_sft", [f"task.source={rows}"])
    assert sft.rewards == {}
    with pytest.raises(RecipeError, match="`rewards` is not used by stage sft"):
        load_recipe("tiny/cold_start_sft", [f"task.source={rows}", "rewards.accuracy=1"])
    data = yaml.safe_load((REPO / "r1lab/recipes/tiny/r1_zero.yaml").read_text())
    del data["rewards"]
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(RecipeError, match="`rewards` is empty: stage grpo needs at least one"):
        load_recipe(tmp_path / "r.yaml")


def test_a_new_stage_is_a_module_and_a_row(tmp_path, monkeypatch):
    """A stage registered in the table runs through the same loader, checks and dry run."""
    from r1lab.train import RecipeError, load_recipe, prepare
    from r1lab.train import stage as stage_table

    module = tmp_path / "echo_stage.py"
    module.write_text('''
from r1lab.train.stage import Stage
from r1lab.train.recipe import RecipeError

class EchoStage(Stage):
    name, label, tasks, shown = "echo", "Echo", ("arithmetic",), ("loss",)

    def config_class(self):
        from transformers import TrainingArguments
        return TrainingArguments

    def check_config(self, recipe, args, launch):
        if args.learning_rate > 1:
            raise RecipeError("echo: learning_rate must be <= 1")

    def dataset(self, recipe, dry_run):
        return ["row"] * recipe.task.n

    def columns(self, recipe):
        return {"loss": "loss"}

    def trainer(self, plan):
        raise AssertionError("a dry run builds no trainer")

    def describe(self, plan):
        return [f"echo        {len(plan.train_dataset)} rows"]
''')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(stage_table.STAGES, "echo", "echo_stage:EchoStage")
    recipe_file = tmp_path / "echo.yaml"
    recipe_file.write_text("stage: echo\nmodel: data/models/tiny-base\ntask: {n: 3}\n"
                           "trainer: {learning_rate: 0.5, use_cpu: true}\n")
    plan = prepare(recipe_file, dry_run=True)
    assert type(plan.args).__name__ == "TrainingArguments" and plan.args.learning_rate == 0.5
    assert "echo        3 rows" in plan.summary() and "stage       echo" in plan.summary()
    with pytest.raises(RecipeError, match="learning_rate must be <= 1"):
        load_recipe(recipe_file, ["trainer.learning_rate=2"])
    with pytest.raises(RecipeError, match="`task.name` 'gsm8k' does not fit stage 'echo'"):
        load_recipe(recipe_file, ["task.name=gsm8k", "task.source=openai/gsm8k"])


def test_every_list_of_stages_reads_the_table(monkeypatch, capsys):
    """A row added to the stage table shows wherever stages are listed."""
    import r1lab.train
    from r1lab.cli import main
    from r1lab.train import RecipeError, load_recipe
    from r1lab.train import stage as stage_table

    for name, target in stage_table.STAGES.items():  # formatted from the table at import
        assert f"``{name}`` (``{target.partition(':')[0]}``)" in r1lab.train.__doc__
    monkeypatch.setitem(stage_table.STAGES, "echo", "echo_stage:EchoStage")
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "grpo, sft, reward_model, echo" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(RecipeError, match="`stage` must be one of grpo, sft, reward_model, echo"):
        load_recipe(TINY, ["stage=ppo"])


def test_validating_a_recipe_builds_its_stage_and_trl_config_once(monkeypatch):
    from trl import GRPOConfig

    from r1lab.train import prepare
    from r1lab.train.stage import Stage

    built = {"Stage": 0, "GRPOConfig": 0}
    post_init = GRPOConfig.__post_init__

    def counted_post_init(self):
        built["GRPOConfig"] += 1
        post_init(self)

    def counted_init(self):
        built["Stage"] += 1

    monkeypatch.setattr(GRPOConfig, "__post_init__", counted_post_init)
    monkeypatch.setattr(Stage, "__init__", counted_init)
    plan = prepare(TINY, dry_run=True)  # load_recipe's checks, then the dry run
    assert built == {"Stage": 1, "GRPOConfig": 1}
    again = prepare(plan.recipe, dry_run=True)
    assert built == {"Stage": 1, "GRPOConfig": 1}
    assert again.args is not plan.args  # each plan owns its config
    assert again.args.to_dict() == plan.args.to_dict()
    plan.recipe.trainer["learning_rate"] = 0.25  # a changed recipe is another config
    assert prepare(plan.recipe, dry_run=True).args.learning_rate == 0.25
    assert built == {"Stage": 1, "GRPOConfig": 2}


def test_the_runner_does_not_branch_on_the_stage():
    tree = ast.parse((REPO / "r1lab" / "train" / "runner.py").read_text())
    names = {node.value for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not names & {"grpo", "sft"}  # no stage is named in the runner's code
    compared = [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.Compare)]
    assert not [c for c in compared if "stage" in c], compared


# ---------------------------------------------------------------- layers


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_library_module_patches_with_unittest_mock():
    patching = [str(p.relative_to(REPO)) for p in (REPO / "r1lab").rglob("*.py")
                if any(name.startswith("unittest") for name in _imports(p))]
    assert patching == []


def test_readmes_layout_names_every_part_of_the_package():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("```")[1]
    parts = sorted(p.name + ("/" if p.is_dir() else "") for p in (REPO / "r1lab").iterdir()
                   if p.name not in ("__init__.py", "__main__.py", "__pycache__"))
    assert [part for part in parts if part not in layout] == []
    train = sorted(p.name for p in (REPO / "r1lab" / "train").glob("*.py")
                   if p.name != "__init__.py")
    assert [name for name in train if name not in layout] == []
    named = set(re.findall(r"\b([a-z_]+\.py|[a-z_]+/)", layout))
    top = {"notebooks/", "r1lab/", "tests/", "benchmarks/", "data/", "recipes/", "course/"}
    missing = [n for n in named - top if n.endswith("/") and not (REPO / "r1lab" / n).is_dir()]
    assert missing == [], f"README's Layout names folders r1lab does not have: {missing}"


@pytest.mark.slow
def test_collecting_the_suite_trains_nothing(tmp_path):
    """Collection imports every module under testpaths (doctests): none may start a run."""
    before = set((REPO / "runs").iterdir()) if (REPO / "runs").is_dir() else set()
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                             "-p", "no:nbval", "-o", "addopts=--doctest-modules",
                             str(REPO / "tests"), str(REPO / "r1lab")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert not (tmp_path / "runs").exists()
    after = set((REPO / "runs").iterdir()) if (REPO / "runs").is_dir() else set()
    assert after == before


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        objects = dry_run_objects(_stand_in_sft_rows(Path(folder) / "rows.jsonl"))
    SNAPSHOT.write_text(json.dumps(objects, indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
