"""Nothing lost, round 3: every folder the lab reads back is checked by one reader per kind.

Checkpoints, a run's ``final/``, sampling folders and run folders, damaged as a copy cut
short, a disk that filled or an edit by hand would damage them. Each must end in one line
saying what is damaged and what to do (``r1lab <cmd>: error: …``, exit status 2), never a
traceback; a damaged checkpoint is skipped when an older whole one exists; and a run that
failed before its first step leaves a folder any recipe can use.

The run folders here are made by hand (the tiny base's weights, ``torch.save``'d optimizer,
scheduler and RNG state), so only the tests marked slow train.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest
import torch

from r1lab.cli import main as cli_main
from r1lab.sampling import (DATA, MANIFEST, SAMPLES, SETTINGS, SamplingConfig, SamplingError,
                            rejection_sample, sample_stage_2)
from r1lab.sources import load_model_and_tokenizer, model_folder_problem
from r1lab.tasks import generate
from r1lab.train import RunFolderError, load_recipe, run
from r1lab.train.checkpoints import checkpoint_problem
from r1lab.train.metrics import read_metrics
from r1lab.train.run_folder import prepare_run_folder, write_recipe_copy
from test_run_safety import one_line_error

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "data" / "models"
BASE = MODELS / "tiny-base"
STAGE_2 = MODELS / "tiny-reasoning-rl"  # answers well: sampling keeps rows
TINY = "tiny/r1_zero"
FAST = ["task.n=64", "trainer.max_steps=2", "trainer.max_completion_length=32",
        "trainer.per_device_train_batch_size=16", "trainer.num_generations=8",
        "trainer.logging_steps=1", "trainer.save_steps=1"]


def train_argv(out: Path, *extra: str) -> list[str]:
    return ["train", TINY, "--no-progress",
            *[f"--set={item}" for item in [*FAST, f"output_dir={out}", *extra]]]


# ---------------------------------------------------------------- checkpoints


def fake_checkpoint(folder: Path, step: int) -> Path:
    """A checkpoint as the Trainer lays one out: weights, optimizer, scheduler and RNG state
    (torch.save zips), training_args.bin, trainer_state.json."""
    folder.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(BASE / name, folder / name)
    for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin"):
        torch.save({"step": step, "state": torch.arange(256.0)}, folder / name)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step,
                                                           "log_history": []}))
    return folder


@pytest.fixture
def run_folder(tmp_path) -> Path:
    """A tiny/r1_zero run (FAST) killed after its second checkpoint, before final/."""
    out = tmp_path / "run"
    out.mkdir()
    write_recipe_copy(out, load_recipe(TINY, [*FAST, f"output_dir={out}"]))
    (out / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "reward": 0.5}) + "\n"
                                               for s in (1, 2)))
    for step in (1, 2):
        fake_checkpoint(out / f"checkpoint-{step}", step)
    return out


def cut(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


DAMAGES = {  # how a checkpoint gets damaged -> what checkpoint_problem must say
    "state null": (lambda c: (c / "trainer_state.json").write_text("null"),
                   "trainer_state.json is null, not a JSON object"),
    "state a list": (lambda c: (c / "trainer_state.json").write_text("[1, 2]"),
                     "trainer_state.json is a list, not a JSON object"),
    "state cut short": (lambda c: cut(c / "trainer_state.json", 10),
                        "trainer_state.json is cut short"),
    "state without its step": (lambda c: (c / "trainer_state.json").write_text("{}"),
                               "trainer_state.json lacks 'global_step'"),
    "step not a number": (lambda c: (c / "trainer_state.json").write_text(
        '{"global_step": "two"}'), "trainer_state.json has global_step 'two'"),
    "rng state cut short": (lambda c: cut(c / "rng_state.pth", 200),
                            "rng_state.pth is truncated"),
    "weights deleted": (lambda c: (c / "model.safetensors").unlink(), "no weights"),
    "optimizer cut short": (lambda c: cut(c / "optimizer.pt", 100),
                            "optimizer.pt is truncated"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_the_checkpoint_reader_says_what_is_damaged(run_folder, damage):
    make, message = DAMAGES[damage]
    checkpoint = run_folder / "checkpoint-2"
    assert checkpoint_problem(checkpoint) is None
    make(checkpoint)
    assert message in checkpoint_problem(checkpoint)


@pytest.mark.parametrize("damage", ["state null", "state cut short", "rng state cut short",
                                    "weights deleted"])
def test_a_damaged_latest_checkpoint_is_skipped_for_an_older_whole_one(run_folder, damage):
    make, message = DAMAGES[damage]
    make(run_folder / "checkpoint-2")
    recipe = load_recipe(TINY, [*FAST, f"output_dir={run_folder}"])
    with pytest.warns(UserWarning) as warned:
        start = prepare_run_folder(run_folder, recipe, "auto")
    assert start == run_folder / "checkpoint-1"
    (line,) = {str(w.message) for w in warned}
    assert "checkpoint-2" in line and message in line and "resuming from checkpoint-1" in line
    assert "\n" not in line


def test_no_whole_checkpoint_is_one_line_naming_what_to_delete(run_folder, capsys):
    (run_folder / "checkpoint-2" / "trainer_state.json").write_text("null")
    cut(run_folder / "checkpoint-1" / "rng_state.pth", 200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "resuming from" warning when nothing is resumed
        err = one_line_error(train_argv(run_folder), capsys)
    assert "has no whole checkpoint" in err and "trainer_state.json is null" in err
    assert "delete the damaged checkpoint-2, checkpoint-1" in err
    assert (run_folder / "checkpoint-2" / "trainer_state.json").read_text() == "null"


@pytest.mark.parametrize("damage", ["state null", "rng state cut short"])
def test_resuming_a_damaged_checkpoint_by_name_is_one_line(run_folder, damage, capsys):
    make, message = DAMAGES[damage]
    make(run_folder / "checkpoint-2")
    err = one_line_error([*train_argv(run_folder), "--resume",
                          str(run_folder / "checkpoint-2")], capsys)
    assert "cannot resume from" in err and message in err
    assert "drop --resume to take the newest whole one" in err


@pytest.mark.slow
def test_a_real_run_resumes_past_a_checkpoint_whose_rng_state_is_cut(tmp_path, capsys):
    """transformers' Trainer loads rng_state.pth with torch.load when it resumes: a cut one
    was a traceback after the model had loaded."""
    out = tmp_path / "run"
    run(TINY, [*FAST, f"output_dir={out}"], progress=False)
    shutil.rmtree(out / "final")
    cut(out / "checkpoint-2" / "rng_state.pth", 1000)
    with pytest.warns(UserWarning, match="damaged checkpoint .*checkpoint-2: rng_state.pth is "
                                         "truncated; resuming from checkpoint-1"):
        assert cli_main(train_argv(out, "trainer.max_steps=3")) == 0
    assert [row["step"] for row in read_metrics(out)] == [1, 2, 3]
    assert checkpoint_problem(out / "checkpoint-2") is None  # saved again, whole


# ---------------------------------------------------------------- final/ and model folders


def a_final_folder(tmp_path) -> Path:
    """A run's final/ (the tiny base's files and the run's training_args.bin)."""
    final = tmp_path / "run" / "final"
    shutil.copytree(BASE, final)
    torch.save({"learning_rate": 1e-4}, final / "training_args.bin")
    return final


def test_a_final_folder_whose_weights_were_deleted_is_refused(tmp_path, capsys):
    final = a_final_folder(tmp_path)
    assert model_folder_problem(final) is None
    (final / "model.safetensors").unlink()  # training_args.bin is left: it is not weights
    problem = model_folder_problem(final)
    assert "has no weights" in problem and "training_args.bin is the run's settings" in problem
    for argv in (["eval", str(final), "--n", "1", "--k", "1"],
                 ["sample", str(final), "--out", str(tmp_path / "rs"), "--n", "1", "--k", "1"]):
        assert "has no weights" in one_line_error(argv, capsys)
    assert "has no weights" in one_line_error(
        ["train", TINY, f"--set=model={final}", f"--set=output_dir={tmp_path / 'x'}"], capsys)
    with pytest.raises(SamplingError, match="cannot sample model folder .* has no weights"):
        sample_stage_2(final, tmp_path / "rs")  # the pipeline's sampling steps
    assert not (tmp_path / "rs").exists()


def test_torch_weights_cut_short_are_refused(tmp_path):
    final = a_final_folder(tmp_path)
    (final / "model.safetensors").unlink()
    torch.save({"w": torch.arange(4096.0)}, final / "pytorch_model.bin")
    assert model_folder_problem(final) is None
    cut(final / "pytorch_model.bin", 1000)
    assert model_folder_problem(final) == ("has weights that cannot be read: pytorch_model.bin "
                                           "is truncated")


@pytest.mark.parametrize("command", ["eval", "sample"])
def test_a_reward_model_folder_is_not_evaluated_or_sampled(command, tmp_path, capsys):
    """Loaded as a causal LM, a reward model got a fresh LM head and scored pass@1 0.000."""
    argv = [command, str(MODELS / "tiny-rm-helpful"), "--n", "1", "--k", "1",
            "--max-new-tokens", "8", "--no-progress"]
    if command == "sample":
        argv += ["--out", str(tmp_path / "rs")]
    err = one_line_error(argv, capsys)
    assert "is a reward model (LlamaForSequenceClassification), not a causal LM" in err
    assert "pass a causal LM's folder instead" in err and "data/models/tiny-r1" in err
    assert not (tmp_path / "rs").exists()


def edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps({k: v for k, v in config.items()
                                                    if v is not None}))


@pytest.mark.parametrize("changes, message", [
    ({"architectures": ["LlamaForTokenClassification"]},
     "is a token classifier (LlamaForTokenClassification), not a causal LM"),
    ({"architectures": None, "model_type": "vit"},
     "is a vit model, which has no causal-LM class in transformers"),
])
def test_a_folder_that_cannot_generate_is_refused_by_the_loader(changes, message, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(BASE, folder)
    edit_config(folder, **changes)
    with pytest.raises(ValueError, match=re.escape(message)):
        load_model_and_tokenizer(folder)


def test_a_lora_adapter_must_be_for_a_causal_lm(tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    adapter = tmp_path / "final"
    model = AutoModelForCausalLM.from_pretrained(BASE)
    get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", r=2,
                                     target_modules=["q_proj"])).save_pretrained(adapter)
    torch.save({"learning_rate": 1e-4}, adapter / "training_args.bin")
    loaded, _ = load_model_and_tokenizer(adapter)  # a LoRA run's final/ still loads
    assert type(loaded).__name__ == "LlamaForCausalLM"
    config = json.loads((adapter / "adapter_config.json").read_text())
    (adapter / "adapter_config.json").write_text(json.dumps({**config, "task_type": "SEQ_CLS"}))
    with pytest.raises(ValueError, match="is a LoRA adapter for SEQ_CLS .*not a causal LM"):
        load_model_and_tokenizer(adapter)
    (adapter / "adapter_model.safetensors").unlink()  # its training_args.bin is not weights
    assert "no adapter weights" in model_folder_problem(adapter)


# ---------------------------------------------------------------- sampling folders

PROBLEMS = generate(4, split="train", seed=3)
CONFIG = SamplingConfig(k=2, chunk=2, max_new_tokens=176)


class Sampled:
    """What ``r1lab.eval.evaluate`` returns, for canned completions: each prompt answered
    right in the readable format, so rejection sampling keeps rows without a model."""

    def __init__(self, model, tokenizer, problems, k, **knobs):
        self.records = [{"index": i, "sample": s, "question": p.question, "answer": p.answer,
                         "lang": p.lang, "n_tokens": 9 + s, "completion":
                         f"|special_token|= {p.answer}{'.' * s}|special_token|answer: {p.answer}"}
                        for i, p in enumerate(problems) for s in range(k)]


@pytest.fixture(scope="module")
def sampled(tmp_path_factory) -> Path:
    """A complete sampling folder (4 prompts x 2 samples), sampled by ``Sampled``."""
    import r1lab.eval

    out = tmp_path_factory.mktemp("sampled") / "rs"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(r1lab.eval, "evaluate", Sampled)
        rejection_sample(None, None, PROBLEMS, out, CONFIG, model_name="stage-2",
                         progress=False, log=lambda line: None)
    return out


def reopen(folder: Path) -> dict:
    """The folder read back as a re-run reads it (no model: one must not be needed)."""
    return rejection_sample(None, None, PROBLEMS, folder, CONFIG, model_name="stage-2",
                            progress=False, log=lambda line: None)


SAMPLING_DAMAGES = {  # file -> damage, what the error names, and the fix it gives
    "settings cut short": (SETTINGS, lambda p: cut(p, 40), "settings.json is cut short",
                           "to sample again"),
    "settings null": (SETTINGS, lambda p: p.write_text("null"),
                      "settings.json is null, not a JSON object", "to sample again"),
    "manifest cut short": (MANIFEST, lambda p: cut(p, 60), "manifest.json is cut short",
                           "judges the samples again"),
    "manifest without counts": (MANIFEST, lambda p: p.write_text('{"config": {}}'),
                                "manifest.json lacks 'model'", "judges the samples again"),
    "data line cut": (DATA, lambda p: cut(p, len(p.read_text().splitlines()[0]) + 30),
                      "data.jsonl line 2 is cut short", "judges the samples again"),
    "data rows lost": (DATA, lambda p: p.write_text(p.read_text().splitlines(True)[0]),
                       "data.jsonl has 1 rows where manifest.json counts", "judges the"),
}


@pytest.mark.parametrize("damage", SAMPLING_DAMAGES)
def test_a_damaged_sampling_folder_is_one_line_with_its_fix(sampled, damage, tmp_path):
    name, make, message, fix = SAMPLING_DAMAGES[damage]
    folder = tmp_path / "rs"
    shutil.copytree(sampled, folder)
    assert reopen(folder)["kept"] > 0  # read back whole
    make(folder / name)
    with pytest.raises(SamplingError) as error:
        reopen(folder)
    assert message in str(error.value) and fix in str(error.value)
    assert "\n" not in str(error.value)
    if name != SETTINGS:  # the fix it names works, without sampling again
        (folder / MANIFEST).unlink()
        assert reopen(folder) == json.loads((sampled / MANIFEST).read_text())
        assert (folder / DATA).read_text() == (sampled / DATA).read_text()


def test_r1lab_sample_resuming_a_folder_with_cut_settings_is_one_line(tmp_path, capsys):
    out = tmp_path / "rs"
    argv = ["sample", str(STAGE_2), "--out", str(out), "--n", "2", "--k", "1", "--no-progress"]
    out.mkdir()
    (out / SETTINGS).write_text('{\n "model": "data/models/tiny-reason')
    (out / SAMPLES).write_text("")
    err = one_line_error(argv, capsys)
    assert f"{out / SETTINGS} is cut short: delete {out} to sample again" in err


def test_the_pipelines_sampling_step_reads_a_damaged_folder_in_one_line(sampled, tmp_path):
    folder = tmp_path / "rs"
    shutil.copytree(sampled, folder)
    (folder / MANIFEST).unlink()  # killed before its manifest
    cut(folder / SETTINGS, 30)
    with pytest.raises(SamplingError, match="settings.json is cut short: delete .* to sample"):
        sample_stage_2(STAGE_2, folder)


def test_a_sample_record_damaged_by_hand_is_sampled_again_like_a_torn_line(sampled, tmp_path):
    folder = tmp_path / "rs"
    shutil.copytree(sampled, folder)
    (folder / MANIFEST).unlink()
    lines = (folder / SAMPLES).read_text().splitlines(True)
    (folder / SAMPLES).write_text("".join(["null\n", '{"index": 0}\n', *lines[1:]]))
    from r1lab.sampling import read_samples

    assert {r["index"] for r in read_samples(folder, CONFIG.k)} == {1, 2, 3}


# ---------------------------------------------------------------- run folders


class FailsAtTheFirstStep(Exception):
    pass


def test_a_run_that_failed_before_its_first_step_leaves_its_folder_to_any_recipe(tmp_path):
    """A reward model refused at the first step, a bad data row found by the collator: the
    fixed command (another recipe) must not be refused as "a different recipe"."""
    from transformers import TrainerCallback

    class Fail(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            raise FailsAtTheFirstStep

    out = tmp_path / "run"
    one_step = [*FAST, "task.n=8", "trainer.max_steps=1", "trainer.num_generations=4",
                "trainer.per_device_train_batch_size=8", "trainer.max_completion_length=8"]
    with pytest.raises(FailsAtTheFirstStep):
        run(TINY, [*one_step, f"output_dir={out}"], progress=False, callbacks=[Fail()])
    assert (out / "recipe.yaml").is_file() and not read_metrics(out)
    fixed = [*one_step, "trainer.learning_rate=5e-5", f"output_dir={out}"]
    result = run(TINY, fixed, progress=False)
    assert [row["step"] for row in read_metrics(out)] == [1]
    assert result.resumed_from is None
    assert "learning_rate: 5.0e-05" in (out / "recipe.yaml").read_text()


def test_a_folder_with_only_an_empty_log_is_not_a_run_without_its_recipe(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text("")
    (out / "metrics.csv").write_text("")
    recipe = load_recipe(TINY, [*FAST, f"output_dir={out}"])
    assert prepare_run_folder(out, recipe, "auto") is None
    (out / "metrics.jsonl").write_text(json.dumps({"step": 1, "reward": 0.5}) + "\n")
    with pytest.raises(RunFolderError, match="holds a run \\(logged steps\\) without its"):
        prepare_run_folder(out, recipe, "auto")


@pytest.mark.parametrize("progress", ["checkpoint", "logged step", "final"])
def test_a_folder_with_progress_still_refuses_another_recipe(run_folder, progress):
    shutil.rmtree(run_folder / "checkpoint-1")
    if progress != "checkpoint":
        shutil.rmtree(run_folder / "checkpoint-2")
    if progress != "logged step":
        (run_folder / "metrics.jsonl").unlink()
    if progress == "final":
        shutil.copytree(BASE, run_folder / "final")
    other = load_recipe(TINY, [*FAST, "trainer.learning_rate=5e-5",
                               f"output_dir={run_folder}"])
    with pytest.raises(RunFolderError, match="different recipe"):
        prepare_run_folder(run_folder, other, "auto")
