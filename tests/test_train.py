"""r1lab.train: recipes, their checks, the metrics log, resume, and a two-process run.

Training runs use the shipped tiny base with a few steps and short completions, so the
whole file takes well under a minute on 2 CPU cores.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import TrainerCallback

from r1lab.cli import main as cli_main
from r1lab.train import RecipeError, available_recipes, load_recipe, prepare, run
from r1lab.train.checkpoints import checkpoint_problem, latest_checkpoint
from r1lab.train.metrics import CSV_FILE, read_metrics

REPO = Path(__file__).resolve().parent.parent
TINY = "tiny/r1_zero"
# A few fast steps: 4 questions x G=8, completions of at most 64 tokens.
FAST = ["task.n=64", "trainer.max_steps=4", "trainer.save_steps=2",
        "trainer.max_completion_length=64", "trainer.per_device_train_batch_size=32",
        "trainer.num_generations=8"]


def fast(tmp_path, *extra):
    return FAST + [f"output_dir={tmp_path}", *extra]


# ---------------------------------------------------------------- recipe -> config


def test_tiny_recipe_resolves_into_trl_objects():
    plan = prepare(TINY)
    args = plan.args
    assert type(args).__name__ == "GRPOConfig"
    assert (args.num_generations, args.per_device_train_batch_size) == (8, 64)
    assert (args.learning_rate, args.beta, args.temperature, args.loss_type) == (
        1e-4, 0.0, 1.0, "dapo")
    assert args.use_cpu and not args.bf16
    # recipe rewards first, then the zero-weight probes
    assert args.reward_weights == [1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert [f.__name__ for f in plan.reward_funcs] == [
        "accuracy_reward", "format_reward", "reasoning_share", "reflection_words",
        "recheck_share", "right_length", "wrong_length"]
    assert len(plan.train_dataset) == 4000
    assert plan.train_dataset[0]["prompt"].startswith("A conversation between User")
    assert Path(plan.model, "config.json").is_file()
    assert plan.peft_config is None and plan.quantization_config is None


def test_overrides_are_parsed_as_yaml_and_typed():
    recipe = load_recipe(TINY, ["trainer.learning_rate=5e-5", "task.n=10",
                                "rewards.format=0.1", "peft.r=4", "trainer.beta=0"])
    assert recipe.trainer["learning_rate"] == 5e-5
    assert recipe.trainer["beta"] == 0.0 and isinstance(recipe.trainer["beta"], float)
    assert recipe.task.n == 10 and recipe.rewards == {"accuracy": 1.0, "format": 0.1}
    plan = prepare(recipe)
    assert plan.peft_config.r == 4 and len(plan.train_dataset) == 10


def test_shipped_recipes_are_listed():
    assert TINY in available_recipes()


BAD = [
    (["colour=red"], "`colour` is not a known field"),
    (["trainer.num_generation=8"], "did you mean `num_generations`"),
    (["task.nn=5"], "did you mean `n`"),
    (["trainer.learning_rate=fast"], "`trainer.learning_rate` must be float or int; got 'fast'"),
    (["task.n=many"], "`task.n` must be int"),
    (["trainer.bf16=yes please"], "`trainer.bf16` must be bool"),
    (["model=data/models/tiny-bsae"], "`model`: folder data/models/tiny-bsae not found"),
    (["trainer.num_generations=7"], "`trainer.num_generations` (7) must divide the generation"),
    (["trainer.num_generations=1"], "must be >= 2"),
    (["rewards.accurasy=1.0"], "`rewards.accurasy` is not a known reward; did you mean"),
    (["rewards.format=high"], "`rewards.format` must be a number"),
    (["stage=ppo"], "`stage` must be one of grpo"),
    (["task.name=gsm8k"], "`task.source` is missing"),
    (["task.arithmetic.operandz=[2, 3]"], "did you mean `operands`"),
    (["peft.rank=8"], "`peft.rank` is not a known field"),
    (["quantization.load_in_4bit=true"], "needs `peft` too"),
    (["trainer.reward_weights=[1, 2]"], "use the recipe's `rewards` field"),
    (["trainer"], "key=value"),
    (["trainer.sync_ref_model=true", "trainer.beta=0.001", "peft.r=8"],
     "`trainer.sync_ref_model` cannot be used with `peft`"),
    (["trainer.sync_ref_model=true"], "needs `trainer.beta` > 0"),
    (["trainer.use_vllm=true", "trainer.vllm_max_model_length=128",
      "trainer.max_completion_length=128"],
     "`trainer.vllm_max_model_length` (128) must exceed max_completion_length (128)"),
    (["accelerate=r1lab/recipes/accelerate/fsdp.yaml", "trainer.activation_checkpointing=true"],
     "`trainer.activation_checkpointing` must be false"),
    (["accelerate=r1lab/recipes/accelerate/nope.yaml"], "`accelerate`: file"),
]


@pytest.mark.parametrize("overrides, message", BAD, ids=[b[0][0] for b in BAD])
def test_bad_recipes_fail_with_the_field_and_the_fix(overrides, message):
    with pytest.raises(RecipeError) as error:
        load_recipe(TINY, overrides)
    assert message in str(error.value)


def test_group_size_is_checked_at_the_launch_process_count(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    small = ["trainer.per_device_train_batch_size=2", "trainer.num_generations=16"]
    with pytest.raises(RecipeError, match=r"\(2 = per_device_train_batch_size 2 x 1 processes"):
        load_recipe(TINY, small)
    # 8 processes (ddp.yaml) x 2 = 16 completions: one whole group
    load_recipe(TINY, small + ["accelerate=r1lab/recipes/accelerate/ddp.yaml"])
    monkeypatch.setenv("WORLD_SIZE", "2")  # a running job's own count wins
    with pytest.raises(RecipeError, match="x 2 processes"):
        load_recipe(TINY, small + ["accelerate=r1lab/recipes/accelerate/ddp.yaml"])


def test_missing_model_field(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("task: {n: 4}\n")
    with pytest.raises(RecipeError, match="`model` is missing"):
        load_recipe(path)


def test_unknown_recipe_name_lists_the_shipped_ones():
    with pytest.raises(RecipeError, match="tiny/r1_zero"):
        load_recipe("tiny/r1_zeroo")


def test_gpu_settings_on_cpu_fail_before_training_but_dry_run_resolves_them():
    with pytest.raises(RecipeError, match="needs a CUDA GPU"):
        prepare(TINY, ["trainer.bf16=true"])
    assert prepare(TINY, ["trainer.bf16=true"], dry_run=True).args.bf16


def test_cli_reports_a_bad_recipe_with_exit_status_2(capsys):
    assert cli_main(["train", TINY, "--set", "trainer.num_generations=7"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("r1lab train: error: recipe field `trainer.num_generations`")
    assert "Traceback" not in err


def test_cli_dry_run_and_list(capsys):
    assert cli_main(["train", "--list"]) == 0
    assert TINY in capsys.readouterr().out
    assert cli_main(["train", TINY, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "G=8 batch/device=64 lr=0.0001" in out and "dry run: recipe resolved" in out


# ---------------------------------------------------------------- a run, its log, resume


class KillAfterSave(TrainerCallback):
    """Simulates a crash right after the checkpoint at ``step`` is written."""

    def __init__(self, step):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt(f"killed after saving step {self.step}")


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    """Four steps without interruption (checkpoints at 2 and 4)."""
    out = tmp_path_factory.mktemp("straight")
    return run(TINY, fast(out), progress=False)


@pytest.mark.slow
def test_metrics_log_has_the_documented_columns(straight_run):
    rows = read_metrics(straight_run.output_dir)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    for column in ("reward", "accuracy", "format", "reasoning_share", "reflection_words",
                   "recheck_share", "flat_groups",
                   "completion_length", "clip_ratio", "entropy", "loss", "step_time"):
        assert all(column in r for r in rows), column
    assert all(0 <= r["accuracy"] <= 1 and 0 <= r["reasoning_share"] <= 1 for r in rows)
    assert all(0 <= r["flat_groups"] <= 1 for r in rows)
    # the weighted sum: accuracy x 1.0 + format x 0.5 (probes weigh 0)
    assert all(abs(r["reward"] - r["accuracy"] - 0.5 * r["format"]) < 1e-6 for r in rows)
    header = (straight_run.output_dir / CSV_FILE).read_text().splitlines()[0].split(",")
    assert header[:3] == ["step", "elapsed_s", "reward"] and "accuracy" in header
    final = straight_run.final_dir
    assert (final / "model.safetensors").is_file() and (final / "tokenizer.json").is_file()


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_metrics_and_weights(straight_run, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(TINY, fast(tmp_path), progress=False, callbacks=[KillAfterSave(2)])
    assert [r["step"] for r in read_metrics(tmp_path)] == [1, 2]
    resumed = run(TINY, fast(tmp_path), progress=False)  # the same command again
    assert resumed.resumed_from == tmp_path / "checkpoint-2"
    straight = read_metrics(straight_run.output_dir)
    again = read_metrics(tmp_path)
    assert [r["step"] for r in again] == [1, 2, 3, 4]
    for a, b in zip(straight[2:], again[2:]):  # the steps after the kill
        assert a["loss"] != 0  # real updates happened, so equality below means something
        for key in ("reward", "accuracy", "completion_length", "loss", "grad_norm"):
            assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-6), key
    mine, theirs = weights(resumed.trainer.model), weights(straight_run.trainer.model)
    for name in mine:
        torch.testing.assert_close(mine[name], theirs[name], rtol=1e-5, atol=1e-6)
    at_kill = prepare_weights(tmp_path / "checkpoint-2")
    assert any(not torch.equal(at_kill[n], mine[n]) for n in at_kill)


def prepare_weights(folder):
    from safetensors.torch import load_file

    return load_file(str(Path(folder) / "model.safetensors"))


@pytest.mark.slow
def test_broken_checkpoints_are_skipped_or_refused(straight_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(straight_run.output_dir, run_dir)
    good = run_dir / "checkpoint-4"
    assert checkpoint_problem(good) is None
    truncated = run_dir / "checkpoint-6"
    shutil.copytree(good, truncated)
    weights_file = truncated / "model.safetensors"
    weights_file.write_bytes(weights_file.read_bytes()[: weights_file.stat().st_size // 2])
    assert checkpoint_problem(truncated) == "model.safetensors is truncated"
    no_state = run_dir / "checkpoint-8"
    shutil.copytree(good, no_state)
    (no_state / "trainer_state.json").unlink()
    assert "stopped while saving" in checkpoint_problem(no_state)
    with pytest.warns(UserWarning, match="skipping .*checkpoint-8"):
        assert latest_checkpoint(run_dir) == good
    bad_optimizer = run_dir / "checkpoint-2" / "optimizer.pt"
    bad_optimizer.write_bytes(bad_optimizer.read_bytes()[:100])
    assert checkpoint_problem(run_dir / "checkpoint-2") == "optimizer.pt is truncated"
    with pytest.raises(RecipeError, match="cannot resume from .*checkpoint-6: model.safetensors"):
        run(TINY, fast(run_dir), resume=str(truncated), progress=False)
    with pytest.raises(RecipeError, match="no such folder"):
        run(TINY, fast(run_dir), resume=str(run_dir / "checkpoint-99"), progress=False)


@pytest.mark.slow
def test_resume_refuses_a_different_recipe_or_resume_never(straight_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(straight_run.output_dir, run_dir)
    with pytest.raises(RecipeError, match=r"different recipe \(changed: trainer.learning_rate\)"):
        run(TINY, fast(run_dir, "trainer.learning_rate=1e-3"), progress=False)
    with pytest.raises(RecipeError, match="already holds checkpoints"):
        run(TINY, fast(run_dir), resume="never", progress=False)


@pytest.mark.slow
def test_a_run_killed_after_its_last_checkpoint_saves_it_without_training_more(straight_run,
                                                                                tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(straight_run.output_dir, run_dir)
    shutil.rmtree(run_dir / "final")  # killed after checkpoint-4 (= max_steps), before final/
    resumed = run(TINY, fast(run_dir), progress=False)
    assert resumed.resumed_from == run_dir / "checkpoint-4"
    assert [r["step"] for r in read_metrics(run_dir)] == [1, 2, 3, 4]  # no fifth step
    assert resumed.trainer.state.global_step == 0 and resumed.train_runtime_s == 0
    saved, final = prepare_weights(run_dir / "checkpoint-4"), prepare_weights(resumed.final_dir)
    assert saved.keys() == final.keys()
    assert all(torch.equal(saved[name], final[name]) for name in saved)


def test_time_budget_stops_at_the_first_step_past_it_and_counts_earlier_minutes():
    from transformers import TrainerControl, TrainerState

    from r1lab.train.metrics import TimeBudget

    state, control = TrainerState(), TrainerControl()
    fresh = TimeBudget(minutes=10)
    fresh.on_train_begin(None, state, control)
    fresh.on_step_end(None, state, control)
    assert not control.should_training_stop and fresh.stopped_at is None
    resumed = TimeBudget(minutes=10, used_s=600.0)  # a resumed run that had spent them
    resumed.on_train_begin(None, state, control)
    state.global_step = 7
    resumed.on_step_end(None, state, control)
    assert control.should_training_stop and control.should_save and resumed.stopped_at == 7
    saved = resumed.state()  # what a checkpoint keeps
    assert saved["args"] == {"minutes": 10} and saved["attributes"]["used_s"] >= 600.0


@pytest.mark.slow
def test_a_time_budget_ends_the_run_and_its_checkpoint_keeps_the_minutes(tmp_path):
    import json

    from r1lab.train.runner import _budget_used_s

    result = run(TINY, fast(tmp_path, "time_budget_minutes=0.0001"), progress=False)
    assert result.budget_stop_step == 1  # 6 ms: spent by the first step, of max_steps 4
    assert [r["step"] for r in read_metrics(tmp_path)] == [1]
    assert (result.final_dir / "model.safetensors").is_file()
    state = json.loads((tmp_path / "checkpoint-1" / "trainer_state.json").read_text())
    used = state["stateful_callbacks"]["TimeBudget"]["attributes"]["used_s"]
    assert used >= 0.006 and _budget_used_s(tmp_path / "checkpoint-1") == used
    with pytest.raises(RecipeError, match="time_budget_minutes` must be a number of minutes > 0"):
        load_recipe(TINY, ["time_budget_minutes=0"])


def sha256_of(state_dict):
    digest = hashlib.sha256()
    for name, tensor in sorted(state_dict.items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@pytest.mark.slow
def test_two_process_run_keeps_the_ranks_in_agreement(tmp_path):
    """torchrun + gloo on CPU: DDP averages gradients, so both ranks end on equal weights."""
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    overrides = ["task.n=64", "trainer.max_steps=3", "trainer.save_steps=100",
                 "trainer.max_completion_length=32", "trainer.per_device_train_batch_size=16",
                 f"output_dir={tmp_path}"]
    done = subprocess.run([str(torchrun), "--nproc_per_node", "2",
                           str(REPO / "tests/fixtures/train_two_ranks.py"), *overrides],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = ((tmp_path / f"rank{r}.sha256").read_text() for r in (0, 1))
    assert rank0 == rank1
    from safetensors.torch import load_file

    base = load_file(str(REPO / "data/models/tiny-base/model.safetensors"))
    assert sha256_of(base) != rank0  # it trained
    rows = read_metrics(tmp_path)
    assert [r["step"] for r in rows] == [1, 2, 3]  # one log, written by rank 0 only


@pytest.mark.slow
def test_the_command_runs_under_accelerate_launch(tmp_path):
    """`accelerate launch -m r1lab train …` (one CPU process: accelerate's multi-CPU mode needs
    MPI, so the two-process test above uses torchrun)."""
    accelerate = Path(sys.executable).with_name("accelerate")
    done = subprocess.run(
        [str(accelerate), "launch", "--cpu", "--num_processes", "1", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "r1lab", "train", TINY,
         "--no-progress", "--set", "task.n=16", "--set", "trainer.max_steps=2",
         "--set", "trainer.max_completion_length=16", "--set", f"output_dir={tmp_path}"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "trained" in done.stdout and (tmp_path / "final" / "model.safetensors").is_file()
    assert [r["step"] for r in read_metrics(tmp_path)] == [1, 2]


@pytest.mark.slow
def test_triton_loss_impl_gives_the_same_training_step(tmp_path, monkeypatch):
    """One GRPO step through TRL's fused head and through r1lab's kernel from the hidden
    states (interpreter): same loss, gradient norm, entropy, KL."""
    import r1lab.kernels.fused_linear as fused_linear
    import r1lab.kernels.fused_loss as fused_loss
    import r1lab.train.trainer as trainer_module

    backends = []

    def spy(hidden, *args, **kwargs):
        backends.append((fused_loss._backend(hidden, kwargs.get("interpret")),
                         torch.is_grad_enabled()))
        return fused_linear.fused_linear_log_probs(hidden, *args, **kwargs)

    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setattr(trainer_module, "fused_linear_log_probs", spy)
    step = ["task.n=16", "trainer.max_steps=1", "trainer.save_steps=100",
            "trainer.max_completion_length=16", "trainer.per_device_train_batch_size=8",
            "trainer.num_generations=4", "trainer.beta=0.04"]
    logged = {}
    for impl in ("torch", "triton"):
        result = run(TINY, step + [f"loss_impl={impl}", f"output_dir={tmp_path / impl}"],
                     progress=False)
        logged[impl] = result.metrics[-1]
    # the kernel ran, in the interpreter, for the reference log-probs and the policy's
    assert ("interpreter", True) in backends and ("interpreter", False) in backends
    assert logged["torch"]["grad_norm"] > 0
    for key in ("loss", "grad_norm", "entropy", "kl", "reward"):
        assert logged["triton"][key] == pytest.approx(logged["torch"][key], rel=1e-5, abs=1e-7)


def test_activation_checkpointing_trades_time_for_memory_and_changes_no_number(tmp_path):
    """``SAME_NUMBERS``' promise: four GRPO steps with TRL's default (every forward recomputed
    in the backward) and with the shipped tiny recipes' setting (off) log the same numbers, so
    a benchmark stamped before the tiny recipes turned it off still stands, and a run may
    resume with it changed."""
    from r1lab.train.recipe import SAME_NUMBERS, read_recipe, recipe_sha256

    logged = {}
    for flag in ("true", "false"):
        result = run(TINY, fast(tmp_path / flag, f"trainer.activation_checkpointing={flag}"),
                     progress=False)
        logged[flag] = [{key: row[key] for key in ("reward", "loss", "grad_norm",
                                                   "completion_length")}
                        for row in result.metrics]
    assert logged["true"][-1]["grad_norm"] > 0 and len(logged["true"]) == 4
    assert logged["true"] == logged["false"]  # bit for bit, not approximately
    # the stamp reads the recipe without it; every shipped tiny recipe turns it off
    original = (REPO / "r1lab/recipes/tiny/r1_zero.yaml").read_text()
    flipped = tmp_path / "flipped.yaml"
    flipped.write_text(original.replace("activation_checkpointing: false",
                                        "activation_checkpointing: true"))
    assert flipped.read_text() != original
    assert recipe_sha256(flipped) == recipe_sha256(TINY)
    assert "trainer.activation_checkpointing" in SAME_NUMBERS
    tiny = [name for name in available_recipes() if name.startswith("tiny/")]
    assert len(tiny) >= 13
    for name in tiny:
        assert read_recipe(name)[1]["trainer"].get("activation_checkpointing") is False, name


def test_triton_loss_impl_refuses_what_it_does_not_cover():
    with pytest.raises(RecipeError, match="`trainer.loss_type` 'cispo' is not covered"):
        load_recipe(TINY, ["loss_impl=triton", "trainer.loss_type=cispo"])
    with pytest.raises(RecipeError, match="`loss_impl` must be one of torch, triton"):
        load_recipe(TINY, ["loss_impl=cuda"])


def test_probe_counts_are_what_the_curves_show():
    from r1lab.train.probes import reasoning_share, recheck_share, reflection_words

    texts = ["<think>2+3 = 5. Wait, let me verify: 2+3 = 5</think> <answer>5</answer>",
             "<think>我们重新检查一下</think><answer>5</answer>", "<answer>5</answer>",
             "<think></think><answer>5</answer>", "a waiter checks"]
    assert reasoning_share(texts) == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert reflection_words(texts) == [2.0, 2.0, 0.0, 0.0, 0.0]
    assert recheck_share(texts) == [1.0, 1.0, 0.0, 0.0, 0.0]  # "checks" outside a think block


def test_curves_are_one_list_per_field_with_none_where_a_step_did_not_log_it(tmp_path):
    from r1lab.train.metrics import METRICS_FILE, curves

    assert curves(tmp_path, ("step", "loss")) == {"step": [], "loss": []}  # no log yet
    rows = ['{"step": 1, "loss": 0.5}', '{"step": 2, "accuracy": 0.25, "loss": 0.4}',
            '{"step": 3, "acc']  # the last line of a run killed mid-write
    (tmp_path / METRICS_FILE).write_text("\n".join(rows), encoding="utf-8")
    assert curves(tmp_path, ("step", "accuracy", "loss", "kl")) == {
        "step": [1, 2], "accuracy": [None, 0.25], "loss": [0.5, 0.4], "kl": [None, None]}


@pytest.mark.slow
def test_training_curves_draw_every_panel(straight_run):
    import matplotlib

    matplotlib.use("Agg")
    from r1lab.plots import training_curves

    fig = training_curves(read_metrics(straight_run.output_dir))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Reward and accuracy", "Completion length (R1 Figure 3, in miniature)",
                      "Reasoning and re-checking"]
    assert all(ax.lines for ax in fig.axes)
    with pytest.raises(ValueError, match="no metrics rows"):
        training_curves([])
