"""Nothing lost, one clear line per mistake: run folders, the CLI and recipes under user error.

Each data-loss case starts from a real (tiny, few-step) run folder and checks that what it
held is still there, byte for byte, after the mistake. Each user mistake is made through the
command line (in process) and must end with exit status 2 and one line on stderr,
``r1lab <cmd>: error: …``, naming what to do; no traceback.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from r1lab.cli import main as cli_main
from r1lab.train import RecipeError, RunFolderError, load_recipe, run
from r1lab.train.run_folder import LOCK_FILE

REPO = Path(__file__).resolve().parent.parent
TINY = "tiny/r1_zero"
BASE = REPO / "data" / "models" / "tiny-base"
FAST = ["task.n=64", "trainer.max_steps=2", "trainer.max_completion_length=32",
        "trainer.per_device_train_batch_size=16", "trainer.num_generations=8",
        "trainer.logging_steps=1"]


def folder_digest(folder: Path) -> dict[str, str]:
    """Path -> SHA-256 of every file under ``folder``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(argv: list[str], capsys) -> str:
    """Run the command in process; it must fail with exit 2 and one line on stderr."""
    status = cli_main(argv)
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith(f"r1lab {argv[0]}: error: "), err
    return err


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished two-step run that saved no checkpoint (save_strategy: no)."""
    out = tmp_path_factory.mktemp("finished")
    run(TINY, FAST + ["trainer.save_strategy=no", f"output_dir={out}"], progress=False)
    return out


@pytest.fixture(scope="module")
def checkpointed_run(tmp_path_factory):
    """A two-step run with checkpoints at steps 1 and 2."""
    out = tmp_path_factory.mktemp("checkpointed")
    run(TINY, FAST + ["trainer.save_steps=1", f"output_dir={out}"], progress=False)
    return out


# ---------------------------------------------------------------- data loss


@pytest.mark.slow
def test_another_recipe_never_replaces_a_finished_run(finished_run, capsys):
    kept = folder_digest(finished_run)
    assert "metrics.jsonl" in kept and "final/model.safetensors" in kept
    err = one_line_error(["train", TINY, *[f"--set={o}" for o in FAST],
                          "--set=trainer.save_strategy=no", "--set=trainer.learning_rate=0.01",
                          f"--set=output_dir={finished_run}"], capsys)
    assert "holds a run of a different recipe (changed: trainer.learning_rate)" in err
    assert folder_digest(finished_run) == kept


@pytest.mark.slow
def test_the_same_recipe_does_not_overwrite_its_finished_run(finished_run):
    kept = folder_digest(finished_run)
    with pytest.raises(RunFolderError, match="holds a finished run of this recipe and no "
                                             "complete checkpoint"):
        run(TINY, FAST + ["trainer.save_strategy=no", f"output_dir={finished_run}"],
            progress=False)
    assert folder_digest(finished_run) == kept


@pytest.mark.slow
def test_a_second_run_in_a_busy_folder_is_refused_naming_the_holder(checkpointed_run):
    kept = folder_digest(checkpointed_run)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (checkpointed_run / LOCK_FILE).write_text(json.dumps(
            {"pid": holder.pid, "host": os.uname().nodename}))
        with pytest.raises(RunFolderError, match=rf"in use by another run \(pid {holder.pid}"):
            run(TINY, FAST + ["trainer.save_steps=1", "trainer.max_steps=3",
                              f"output_dir={checkpointed_run}"], progress=False)
    finally:
        holder.kill()
        holder.wait()
        (checkpointed_run / LOCK_FILE).unlink()
    assert folder_digest(checkpointed_run) == kept


@pytest.mark.slow
def test_a_stale_lock_of_a_killed_run_is_taken_over(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    tmp_path.joinpath(LOCK_FILE).write_text(json.dumps(
        {"pid": gone.pid, "host": os.uname().nodename}))
    with pytest.warns(UserWarning, match=f"the run that held it \\(pid {gone.pid}\\) is gone"):
        result = run(TINY, FAST + [f"output_dir={tmp_path}"], progress=False)
    assert [row["step"] for row in result.metrics] == [1, 2]
    assert not (tmp_path / LOCK_FILE).exists()  # released at the end


def test_of_two_processes_taking_one_folder_only_one_wins(tmp_path):
    """The lock file is created exclusively (O_EXCL): a second taker is refused at once, so
    two runs can never interleave one metrics.jsonl."""
    from r1lab.train.run_folder import RunLock

    with RunLock(tmp_path):
        code = ("import sys; from pathlib import Path\n"
                "from r1lab.train.run_folder import RunLock, RunFolderError\n"
                "try:\n    RunLock(Path(sys.argv[1])).__enter__()\n"
                "except RunFolderError as error:\n    print(error); sys.exit(3)")
        second = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 3, second.stdout + second.stderr
        assert f"in use by another run (pid {os.getpid()}" in second.stdout
    assert not (tmp_path / LOCK_FILE).exists()


@pytest.mark.slow
def test_a_full_disk_while_checkpointing_names_the_last_complete_one(tmp_path, monkeypatch,
                                                                     capsys):
    from transformers import Trainer

    save = Trainer._save_checkpoint

    def fill_the_disk(self, model, trial):
        if self.state.global_step < 2:
            return save(self, model, trial)
        half_written = Path(self.args.output_dir) / f"checkpoint-{self.state.global_step}"
        half_written.mkdir()
        (half_written / "model.safetensors").write_bytes(b"\0" * 16)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Trainer, "_save_checkpoint", fill_the_disk)
    err = one_line_error(["train", TINY, *[f"--set={o}" for o in FAST],
                          "--set=trainer.save_steps=1", f"--set=output_dir={tmp_path}",
                          "--no-progress"], capsys)
    assert err.endswith("disk full while saving checkpoint-2; the last complete checkpoint is "
                        "checkpoint-1; free space and re-run the same command")


@pytest.mark.slow
def test_resume_refuses_a_checkpoint_of_another_recipe(checkpointed_run, capsys):
    checkpoint = checkpointed_run / "checkpoint-1"
    err = one_line_error(["train", TINY, *[f"--set={o}" for o in FAST],
                          "--set=trainer.save_steps=1", "--set=trainer.learning_rate=0.01",
                          "--set=trainer.seed=7", f"--resume={checkpoint}",
                          "--set=output_dir=" + str(checkpointed_run.parent / "elsewhere")],
                         capsys)
    assert "was saved by a different recipe (changed: trainer.learning_rate, trainer.seed)" in err


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path, capsys):
    checkpoint = tmp_path / "checkpoint-3"
    shutil.copytree(BASE, checkpoint)
    config = json.loads((checkpoint / "config.json").read_text())
    config["hidden_size"] *= 2
    (checkpoint / "config.json").write_text(json.dumps(config))
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": 3}))
    for name in ("optimizer.pt", "scheduler.pt"):
        import torch

        torch.save({}, checkpoint / name)
    err = one_line_error(["train", TINY, f"--resume={checkpoint}",
                          f"--set=output_dir={tmp_path / 'run'}"], capsys)
    assert "is of another model than data/models/tiny-base (differs in hidden_size)" in err


def test_eval_checks_its_json_destination_before_sampling(tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    for destination, message in ((tmp_path, "is a folder"),
                                 (tmp_path / "a_file" / "out.json", "is a file, not a folder"),
                                 (Path("/proc/r1lab-test/out.json"), "cannot be written")):
        start = time.perf_counter()
        err = one_line_error(["eval", str(BASE), "--n", "500", "--k", "8",
                              "--json", str(destination)], capsys)
        assert message in err
        assert time.perf_counter() - start < 5  # refused before any sampling


def test_eval_finds_the_shipped_model_from_the_notebooks_folder(monkeypatch, capsys):
    monkeypatch.chdir(REPO / "notebooks")
    assert cli_main(["eval", "data/models/tiny-base", "--n", "2", "--k", "1",
                     "--no-progress"]) == 0
    assert "pass@1" in capsys.readouterr().out


def test_eval_writes_its_report_whole(tmp_path, capsys):
    out = tmp_path / "deep" / "report.json"
    assert cli_main(["eval", str(BASE), "--n", "2", "--k", "1", "--no-progress",
                     "--json", str(out)]) == 0
    assert json.loads(out.read_text())["n_problems"] == 2
    assert [p.name for p in out.parent.iterdir()] == ["report.json"]  # no partial file left


# ---------------------------------------------------------------- one clear line


@pytest.fixture
def broken_models(tmp_path):
    """Copies of the tiny base with truncated weights, a corrupt config or tokenizer."""
    made = {}
    for kind in ("weights", "config", "tokenizer"):
        folder = tmp_path / kind
        shutil.copytree(BASE, folder)
        if kind == "weights":
            data = (folder / "model.safetensors").read_bytes()
            (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
        else:
            (folder / f"{kind}.json").write_text("{not json")
        made[kind] = folder
    return made


@pytest.mark.parametrize("kind, message", [
    ("weights", "has weights that cannot be read: model.safetensors is truncated"),
    ("config", "has a corrupt config.json"),
    ("tokenizer", "has a corrupt tokenizer.json"),
])
def test_a_broken_model_folder_is_one_line_for_train_and_eval(broken_models, kind, message,
                                                              capsys):
    folder = str(broken_models[kind])
    assert message in one_line_error(["eval", folder, "--n", "1", "--k", "1"], capsys)
    assert message in one_line_error(["train", TINY, f"--set=model={folder}"], capsys)


TRAIN_MISTAKES = [
    (["--set=trainer.learning_rate=[1"], "the value is not valid YAML"),
    (["--set=trainer.learning_rate=-1"], "`trainer.learning_rate` must be a finite number >= 0"),
    (["--set=trainer.learning_rate=.nan"], "`trainer.learning_rate` must be a finite number"),
    (["--set=trainer.learning_rate=.inf"], "`trainer.learning_rate` must be a finite number"),
    (["--set=trainer.loss_type=ppo"], "`trainer.loss_type` must be one of grpo, dr_grpo"),
    (["--set=trainer.temperature=0"], "`trainer.temperature` must be > 0"),
    (["--set=trainer.max_completion_length=0"], "`trainer.max_completion_length` must be >= 1"),
    (["--set=trainer.per_device_train_batch_size=0"],
     "`trainer.per_device_train_batch_size` must be >= 1"),
    (["--set=peft.r=0"], "`peft.r` (the LoRA rank) must be >= 1"),
    ([f"--set=trainer.seed={2**64}"], "`trainer.seed` must be from 0 to 2**32 - 1"),
    (["--set=rewards.format=.nan"], "`rewards.format` must be a finite number"),
    (["--set=task.n=1000", "--set=task.arithmetic.operands=[2, 2]"],
     "`task.n`: asked for 1000 distinct train problems, but this config has only"),
]


@pytest.mark.parametrize("argv, message", TRAIN_MISTAKES, ids=[m[0][-1] for m in TRAIN_MISTAKES])
def test_train_mistakes_are_one_line(argv, message, capsys):
    assert message in one_line_error(["train", TINY, *argv], capsys)


def test_output_dir_that_is_a_file_or_cannot_be_written(tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    err = one_line_error(["train", TINY, f"--set=output_dir={tmp_path / 'a_file'}"], capsys)
    assert "is a file, not a folder" in err
    err = one_line_error(["train", TINY, "--set=output_dir=/proc/r1lab-test/run"], capsys)
    assert "cannot be created" in err


def test_seed_beyond_the_generators_range_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(["eval", str(BASE), "--seed", str(2**64)])
    assert exit_.value.code == 2
    assert "must be an integer from 0 to 2**32 - 1" in capsys.readouterr().err


DATA_FILES = {
    "empty": "",
    "not_json": "this is not json\n",
    "null_question": json.dumps({"question": None, "answer": "#### 3"}) + "\n",
    "list_answer": json.dumps({"question": "What is 1+2?", "answer": [3]}) + "\n",
}
DATA_MESSAGES = {"empty": "is empty", "not_json": "is not JSON Lines",
                 "null_question": "row 0: question must be non-empty text",
                 "list_answer": "row 0: answer must be non-empty text"}


@pytest.mark.parametrize("kind", DATA_FILES)
def test_bad_data_files_for_eval_and_grpo(kind, tmp_path, capsys):
    path = tmp_path / "data.jsonl"
    path.write_text(DATA_FILES[kind])
    message = DATA_MESSAGES[kind]
    assert message in one_line_error(["eval", str(BASE), "--task", f"gsm8k:{path}", "--n", "1",
                                      "--no-progress"], capsys)
    assert message in one_line_error(["train", TINY, "--set=task.name=gsm8k",
                                      f"--set=task.source={path}", "--dry-run"], capsys)


def test_a_numeric_gsm8k_answer_is_its_final_answer(tmp_path):
    from r1lab.tasks import load_gsm8k

    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps({"question": "What is 1+2?", "answer": 3}) + "\n")
    assert load_gsm8k(str(path))[0].answer == "3"


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("{oops\n", "is not JSON Lines"),
    (json.dumps({"prompt": "p", "completion": None}) + "\n", "row 0: completion must be"),
    (json.dumps({"prompt": 3, "completion": "c"}) + "\n", "row 0: prompt must be"),
])
def test_bad_sft_data_files(content, message, tmp_path, capsys):
    path = tmp_path / "sft.jsonl"
    path.write_text(content)
    err = one_line_error(["train", "tiny/cold_start_sft", f"--set=task.source={path}",
                          f"--set=output_dir={tmp_path / 'run'}"], capsys)
    assert message in err


def test_refine_names_the_languages_it_knows():
    from r1lab import cold_start

    with pytest.raises(ValueError, match="lang must be one of en, zh"):
        cold_start.refine("<think>1+1 = 2</think> <answer>2</answer>", "fr")


# ---------------------------------------------------------------- recipes are data


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return path


def test_a_key_given_twice_is_refused(tmp_path):
    path = write(tmp_path, (REPO / "r1lab/recipes/tiny/r1_zero.yaml").read_text()
                 + "trainer:\n  learning_rate: 0.5\n")
    with pytest.raises(RecipeError, match="key 'trainer' appears twice"):
        load_recipe(path)


def test_an_alias_bomb_fails_fast(tmp_path):
    lines = ["model: data/models/tiny-base", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    start = time.perf_counter()
    with pytest.raises(RecipeError, match="expands to more than 100,000 values"):
        load_recipe(write(tmp_path, "\n".join(lines) + "\n"))
    assert time.perf_counter() - start < 2


def test_save_strategy_no_is_trls_no():
    recipe = load_recipe(TINY, ["trainer.save_strategy=no"])
    assert recipe.trainer["save_strategy"] == "no"
    with pytest.raises(RecipeError, match="`trainer.bf16` must be bool"):
        load_recipe(TINY, ["trainer.bf16=maybe"])
