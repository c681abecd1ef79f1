"""Nothing lost, round 3: the pipeline, the command line's early checks and ``make``.

Each test makes one user mistake (or one interruption) and checks what the user is left with:
the minutes of every attempt of a step counted (R1 §4.1 compares the student's RL and
distillation at equal minutes), one line naming the damage and a fix that works for the
command the user ran, and nothing loaded or trained before a mistake is found. No test trains:
the steps are replaced by fakes that advance a fake clock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
from test_pipeline import BASE, _cold_start_data_by_hand, _finished

import r1lab.pipeline as pipeline
import r1lab.train
from r1lab.cli import main
from r1lab.pipeline import MANIFEST, RECORD, STEP_NAMES, STEPS, PipelineError, run_pipeline
from r1lab.train import load_recipe

REPO = Path(__file__).resolve().parent.parent
UNWRITABLE = Path("/sys/r1lab-test")  # refused even to root: sysfs takes no new files


def one_line_error(argv: list[str], capsys) -> str:
    """Run the command in process: exit status 2 and one line on stderr, no traceback."""
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's refusals
        status = exit_.code
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    lines = err.splitlines()
    assert "Traceback" not in err and lines[-1].startswith(f"r1lab {argv[0]}: error: "), err
    return lines[-1]


def _never(*args, **kwargs):
    raise AssertionError("reached: the mistake was not found before the slow work")


class Clock:
    """A fake ``time.perf_counter`` the fake steps move forward by whole minutes."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def spend(self, minutes: float) -> None:
        self.now += 60 * minutes


def fake_steps(monkeypatch, runs) -> None:
    """``STEPS`` with the named steps' run functions replaced (the rest are never reached)."""
    monkeypatch.setattr(pipeline, "STEPS", tuple(replace(step, run=runs.get(step.name, step.run))
                                                 for step in STEPS))


# ---------------------------------------------------------------- pipeline.json read back


DAMAGED_RECORDS = {
    "cut_short": '{"seed": 0, "budget": "qu',
    "empty": "",
    "not_an_object": "[0, \"quick\"]",
    "null": "null",
    "no_budget": '{"seed": 0, "steps": {}}',
    "seed_text": '{"seed": "0", "budget": "quick", "steps": {}}',
    "steps_list": '{"seed": 0, "budget": "quick", "steps": [1.5]}',
    "minutes_text": '{"seed": 0, "budget": "quick", "steps": {"r1_zero": "3 min"}}',
    "attempts_number": '{"seed": 0, "budget": "quick", "steps": {}, "attempts": {"r1_zero": 2}}',
    "not_utf8": b"\xff\xfe\x00{",
}


@pytest.mark.parametrize("kind", DAMAGED_RECORDS)
def test_a_damaged_pipeline_json_is_one_line_naming_the_file_and_the_fix(kind, tmp_path, capsys,
                                                                         monkeypatch):
    fake_steps(monkeypatch, {step.name: _never for step in STEPS})  # refused before any step
    contents = DAMAGED_RECORDS[kind]
    path = tmp_path / RECORD
    path.write_bytes(contents if isinstance(contents, bytes) else contents.encode())
    with pytest.raises(PipelineError) as error:
        run_pipeline(tmp_path, log=lambda line: None)
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert str(path) in message and "delete it" in message and "skipped" in message
    err = one_line_error(["pipeline", "tiny", "--out", str(tmp_path)], capsys)
    assert err.startswith(f"r1lab pipeline: error: {path} ") and "delete it" in err
    assert path.read_bytes() == (contents if isinstance(contents, bytes) else contents.encode())


# ---------------------------------------------------------------- every attempt's minutes


@pytest.mark.parametrize("stop", [KeyboardInterrupt, RuntimeError])
def test_the_students_rl_gets_the_minutes_of_every_attempt_of_distillation(stop, tmp_path,
                                                                           monkeypatch):
    """distill_data killed after 3 minutes, then finished in 2; distill_sft 4: the student's
    RL is given 9 minutes, not the 6 of the last attempts (R1 §4.1: equal minutes)."""
    clock, given, attempts = Clock(), [], []
    monkeypatch.setattr(time, "perf_counter", clock)
    _finished(tmp_path, STEP_NAMES[:9])

    def distill_data(ctx):
        attempts.append(ctx.name)
        ctx.folder.mkdir(exist_ok=True)
        clock.spend(3 if len(attempts) == 1 else 2)
        if len(attempts) == 1:
            raise stop("killed while sampling")
        (ctx.folder / MANIFEST).write_text("{}")

    def distill_sft(ctx):
        clock.spend(4)
        _finished(ctx.folder.parent, [ctx.name])

    def student_rl(ctx):
        given.append(dict(pipeline._student_budget(ctx)))
        _finished(ctx.folder.parent, [ctx.name])

    fake_steps(monkeypatch, {"distill_data": distill_data, "distill_sft": distill_sft,
                             "student_rl": student_rl})
    with pytest.raises(stop):
        run_pipeline(tmp_path, until="student_rl", log=lambda line: None)
    record = json.loads((tmp_path / RECORD).read_text())
    assert record["attempts"] == {"distill_data": [3.0]}  # written as the step stopped
    assert "distill_data" not in record["steps"]  # not finished: no minutes yet
    run_pipeline(tmp_path, until="student_rl", log=lambda line: None)
    assert given == [{"time_budget_minutes": 9.0}]
    record = json.loads((tmp_path / RECORD).read_text())
    assert record["attempts"]["distill_data"] == [3.0, 2.0]
    assert record["steps"]["distill_data"] == 5.0 and record["steps"]["distill_sft"] == 4.0


def test_a_step_redone_from_an_empty_folder_forgets_the_attempts_it_no_longer_continues(
        tmp_path, monkeypatch):
    """Its folder deleted, a step starts over: only the attempts that made its output count."""
    clock = Clock()
    monkeypatch.setattr(time, "perf_counter", clock)

    def r1_zero(ctx):
        clock.spend(5)
        _finished(ctx.folder.parent, [ctx.name])

    fake_steps(monkeypatch, {"r1_zero": r1_zero})
    run_pipeline(tmp_path, until="r1_zero", log=lambda line: None)
    shutil.rmtree(tmp_path / "r1_zero")
    run_pipeline(tmp_path, until="r1_zero", log=lambda line: None)
    record = json.loads((tmp_path / RECORD).read_text())
    assert record["attempts"]["r1_zero"] == [5.0] and record["steps"]["r1_zero"] == 5.0


def test_a_step_that_fails_before_writing_anything_leaves_out_reusable(tmp_path, monkeypatch):
    def r1_zero(ctx):
        raise PipelineError("refused before anything was written")

    fake_steps(monkeypatch, {"r1_zero": r1_zero})
    with pytest.raises(PipelineError):
        run_pipeline(tmp_path / "out", seed=1, log=lambda line: None)
    assert not (tmp_path / "out").exists()  # another --seed may use it


def test_a_pipeline_json_of_round_2_still_reads(tmp_path, monkeypatch):
    """Plain minutes under "steps", no "attempts": each counts as one attempt."""
    _finished(tmp_path, STEP_NAMES[:11])
    (tmp_path / RECORD).write_text(json.dumps({"seed": 0, "budget": "quick", "steps": {
        "distill_data": 1.5, "distill_sft": 2.25}}))
    given = []

    def student_rl(ctx):
        given.append(dict(pipeline._student_budget(ctx)))
        _finished(ctx.folder.parent, [ctx.name])

    fake_steps(monkeypatch, {"student_rl": student_rl})
    run_pipeline(tmp_path, until="student_rl", log=lambda line: None)
    assert given == [{"time_budget_minutes": 3.75}]
    record = json.loads((tmp_path / RECORD).read_text())
    assert record["steps"]["distill_data"] == 1.5 and "student_rl" in record["steps"]


# ---------------------------------------------------------------- --out "runs/x #1"


def test_an_out_with_a_yaml_comment_reaches_every_recipe_through_the_command(
        tmp_path, monkeypatch, capsys):
    """`r1lab pipeline tiny --out "runs/x #1"`: each step's recipe gets its folder whole."""
    out = tmp_path / "runs" / "x #1"
    recipes = {}

    def train(recipe, overrides, progress=True):  # r1lab.train.run, without training
        recipes[recipe] = loaded = load_recipe(recipe, overrides)
        Path(loaded.output_dir).mkdir(parents=True)
        (Path(loaded.output_dir) / "final").symlink_to(BASE, target_is_directory=True)

    def collect(base, r1_zero, folder, seed, data, progress):
        assert r1_zero == out / "r1_zero" / "final"
        _cold_start_data_by_hand(folder)

    monkeypatch.setattr(r1lab.train, "run", train)
    monkeypatch.setattr(pipeline, "collect_cold_start", collect)
    assert main(["pipeline", "tiny", "--out", str(out), "--until", "reasoning_rl"]) == 0
    assert "done in " in capsys.readouterr().out
    assert {name: r.output_dir for name, r in recipes.items()} == {
        "tiny/r1_zero": str(out / "r1_zero"), "tiny/cold_start_sft": str(out / "cold_start_sft"),
        "tiny/reasoning_rl": str(out / "reasoning_rl")}
    rows = out / "cold_start_data" / "data.jsonl"
    assert recipes["tiny/cold_start_sft"].task.source == str(rows)
    assert recipes["tiny/reasoning_rl"].model == str(out / "cold_start_sft" / "final")
    assert not (tmp_path / "runs" / "x").exists()  # nothing landed where YAML would cut it


# ---------------------------------------------------------------- advice for the pipeline


def test_a_refused_step_folder_is_advised_with_the_pipelines_options(tmp_path, capsys):
    """run_folder advises `--set output_dir=…`, which `r1lab pipeline` does not take."""
    out = tmp_path / "pipe"
    (out / "r1_zero").mkdir(parents=True)
    (out / "r1_zero" / "notes.txt").write_text("mine")  # not a run folder: refused
    err = one_line_error(["pipeline", "tiny", "--out", str(out), "--until", "r1_zero"], capsys)
    assert "not empty and holds no r1lab run" in err
    assert "--set" not in err and "--out" in err and str(out / "r1_zero") in err
    assert (out / "r1_zero" / "notes.txt").read_text() == "mine"


def test_the_students_rl_without_minutes_names_a_fix_for_the_pipeline(tmp_path):
    _finished(tmp_path, STEP_NAMES[:11])  # done by hand: no minutes recorded
    with pytest.raises(PipelineError) as error:
        run_pipeline(tmp_path, until="student_rl", log=lambda line: None)
    assert "delete those two step folders" in str(error.value)
    assert "--set" not in str(error.value)


# ---------------------------------------------------------------- --out checked first


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "a_file"
    path.write_text("x")
    return path


@pytest.mark.parametrize("where", ["under_a_file", "unwritable"])
def test_pipeline_out_is_checked_before_any_step_runs(where, a_file, monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "run_pipeline", _never)
    out = a_file / "pipe" if where == "under_a_file" else UNWRITABLE / "pipe"
    err = one_line_error(["pipeline", "tiny", "--out", str(out)], capsys)
    assert f"--out {out}" in err
    assert ("is inside the file" if where == "under_a_file" else "cannot be created") in err


@pytest.mark.parametrize("where", ["under_a_file", "unwritable"])
def test_sample_out_is_checked_before_the_model_loads(where, a_file, monkeypatch, capsys):
    import r1lab.cli

    monkeypatch.setattr(r1lab.cli, "load_model", _never)
    out = a_file / "samples" if where == "under_a_file" else UNWRITABLE / "samples"
    err = one_line_error(["sample", str(BASE), "--out", str(out), "--n", "2", "--k", "2",
                          "--no-progress"], capsys)
    assert f"--out {out}" in err
    assert ("is inside the file" if where == "under_a_file" else "cannot be created") in err


@pytest.mark.parametrize("where", ["under_a_file", "unwritable"])
def test_train_output_dir_is_checked_before_training_starts(where, a_file, monkeypatch, capsys):
    monkeypatch.setattr(r1lab.train, "run", _never)
    out = a_file / "run" if where == "under_a_file" else UNWRITABLE / "run"
    err = one_line_error(["train", "tiny/r1_zero", f"--set=output_dir={out}"], capsys)
    assert f"`output_dir` {out}" in err and "--set output_dir=" in err


# ---------------------------------------------------------------- flags named as typed


@pytest.mark.parametrize("argv, message", [
    (["pipeline", "tiny", "--seed", "-1"], "argument --seed: must be an integer from 0 to"),
    (["pretrain", "base", "--max-steps", "0"], "argument --max-steps: must be an integer >= 1"),
    (["eval", "m", "--k", "two"], "argument --k: must be an integer >= 1; got two"),
    (["eval", "m", "--temperature", "warm"], "argument --temperature: must be >= 0"),
    (["eval", "m", "--top-p", "high"], "argument --top-p: must be in (0, 1]"),
    (["sample", "m", "--out", "x", "--temperature", "0"],
     "argument --temperature: must be > 0"),
    (["sample", "m", "--out", "x", "--non-reasoning", "a third"],
     "argument --non-reasoning: must be a number from 0 to 10"),
])
def test_a_bad_flag_is_named_as_typed_with_its_range(argv, message, monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "run_pipeline", _never)
    err = one_line_error(argv, capsys)
    assert message in err and "trainer." not in err and "invalid" not in err


# ---------------------------------------------------------------- make


MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _make(folder: Path, *targets: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": path} if path else None
    return subprocess.run([MAKE, "-f", str(REPO / "Makefile"), "-C", str(folder), *targets],
                          capture_output=True, text=True, env=env, timeout=60)


def _installed_venv(folder: Path, python: str | None) -> None:
    """A folder with the stamp newer than what it stamps, and ``python`` as the venv's python
    (None: deleted)."""
    for name in ("requirements-lock.txt", "pyproject.toml"):
        (folder / name).write_text("")
    (folder / ".venv" / "bin").mkdir(parents=True)
    if python is not None:
        (folder / ".venv" / "bin" / "python").write_text(f"#!/bin/sh\n{python}\n")
        (folder / ".venv" / "bin" / "python").chmod(0o755)
    stamp = folder / ".venv" / ".r1lab-installed"
    stamp.write_text("")
    os.utime(stamp, (time.time() + 60, time.time() + 60))


@needs_make
@pytest.mark.parametrize("python", [None, "exit 1"], ids=["python_deleted", "pytest_gone"])
def test_make_notices_a_broken_venv_behind_its_stamp_and_names_the_fix(python, tmp_path):
    _installed_venv(tmp_path, python)
    dry = _make(tmp_path, "-n", "install")
    assert "is broken" in dry.stdout and "rm -rf .venv && make install" in dry.stdout
    assert "pip install" in dry.stdout  # and reinstalls into it


@needs_make
def test_make_leaves_a_healthy_venv_alone(tmp_path):
    _installed_venv(tmp_path, f'exec {REPO / ".venv" / "bin" / "python"} "$@"')
    dry = _make(tmp_path, "-n", "install")
    assert dry.returncode == 0 and "pip" not in dry.stdout and "broken" not in dry.stdout


@needs_make
@pytest.mark.parametrize("uid, tools, fix", [
    (1000, ("apt-get",), "as root run apt-get update && apt-get install -y chromium "
                         "chromium-driver"),
    (0, (), "install Chromium and a chromedriver of the same version"),
], ids=["no_root_no_sudo", "no_apt_get"])
def test_make_browser_without_the_means_to_install_says_what_to_install(uid, tools, fix,
                                                                       tmp_path):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    for tool in tools:
        (bin_ / tool).write_text("#!/bin/sh\necho \"$0 ran\"\n")
    for tool in bin_.iterdir():
        tool.chmod(0o755)
    done = _make(tmp_path, "browser", path=str(bin_))
    assert done.returncode != 0 and "not found" not in done.stdout + done.stderr
    assert fix in done.stderr and "make test-browser" in done.stderr
    assert "ran" not in done.stdout  # nothing half-run
