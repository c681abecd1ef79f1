"""Finding a checkpoint to resume from, and refusing damaged ones.

The Trainer writes ``checkpoint-<step>/`` folders: weights, optimizer, scheduler, RNG state
and, last, ``trainer_state.json``. A run killed while saving leaves a folder without that
file, or with a truncated weights or optimizer file; a copy cut short or a file edited by
hand leaves others (a ``trainer_state.json`` that is ``null``, an ``rng_state.pth`` that
``torch.load`` cannot open). ``checkpoint_problem`` is the one reader that says which file
is damaged and how; ``latest_checkpoint`` skips a damaged folder (saying why) and returns the
newest complete one, so the same command resumes.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from r1lab.files import DamagedFile, read_json
from r1lab.sources import torch_file_problem, weights_problem

_STEP = re.compile(r"^checkpoint-(\d+)$")
TRAINER_STATE = "trainer_state.json"


def checkpoints(run_dir) -> list[Path]:
    """``checkpoint-<step>`` folders of a run, newest first."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in run_dir.iterdir()
             if p.is_dir() and (m := _STEP.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def trainer_state(path) -> dict:
    """A checkpoint's ``trainer_state.json``: a JSON object whose ``global_step`` is a whole
    number, or ``DamagedFile`` saying what is wrong with it."""
    file = Path(path) / TRAINER_STATE
    state = read_json(file, keys=("global_step",))
    step = state["global_step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise DamagedFile(file, f"has global_step {step!r}, not a step number")
    return state


def checkpoint_step(path) -> int:
    """The global step a complete checkpoint was saved at."""
    return trainer_state(path)["global_step"]


def checkpoint_problem(path) -> str | None:
    """Why the checkpoint cannot be resumed from, or None if it is complete: a missing or
    damaged ``trainer_state.json``, missing or truncated weights, a missing or truncated
    optimizer, scheduler or RNG state (what ``Trainer`` loads when it resumes)."""
    path = Path(path)
    if not path.is_dir():
        return "no such folder"
    if not (path / TRAINER_STATE).is_file():
        return f"no {TRAINER_STATE} (the run stopped while saving)"
    try:
        trainer_state(path)
    except DamagedFile as error:
        return f"{TRAINER_STATE} {error.problem}"
    problem = weights_problem(path)
    if problem:
        return problem
    deepspeed = any(p.name.startswith("global_step") for p in path.iterdir() if p.is_dir())
    needed = () if deepspeed else ("optimizer.pt", "scheduler.pt")  # DeepSpeed: global_step*/
    for name in needed:
        if not (path / name).is_file():
            return f"no {name}"
    # rng_state.pth (rng_state_<rank>.pth under a launch) and scaler.pt are loaded when present
    for file in sorted({*path.glob("*.pt"), *path.glob("rng_state*.pth")}):
        problem = torch_file_problem(file)
        if problem:
            return f"{file.name} {problem}"
    return None


def latest_checkpoint(run_dir) -> Path | None:
    """The newest complete checkpoint of a run (None: none is), warning in one line about
    each newer damaged one it skips."""
    damaged = []
    for path in checkpoints(run_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            for skipped, why in damaged:
                warnings.warn(f"skipping the damaged checkpoint {skipped}: {why}; resuming "
                              f"from {path.name}", stacklevel=2)
            return path
        damaged.append((path, problem))
    return None
