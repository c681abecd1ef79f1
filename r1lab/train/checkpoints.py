"""Finding a checkpoint to resume from, and refusing broken ones.

The Trainer writes ``checkpoint-<step>/`` folders: weights, optimizer, scheduler, RNG state
and, last, ``trainer_state.json``. A run killed while saving leaves a folder without that
file, or with a truncated weights or optimizer file. ``latest_checkpoint`` skips such a
folder (saying why) and returns the newest complete one, so the same command resumes.
"""

from __future__ import annotations

import json
import re
import warnings
import zipfile
from pathlib import Path

from r1lab.sources import WEIGHT_FILES, safetensors_problem

_STEP = re.compile(r"^checkpoint-(\d+)$")


def checkpoints(run_dir) -> list[Path]:
    """``checkpoint-<step>`` folders of a run, newest first."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in run_dir.iterdir()
             if p.is_dir() and (m := _STEP.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def checkpoint_step(path) -> int:
    """The global step a complete checkpoint was saved at."""
    return json.loads((Path(path) / "trainer_state.json").read_text())["global_step"]


def checkpoint_problem(path) -> str | None:
    """Why the checkpoint cannot be resumed from, or None if it is complete."""
    path = Path(path)
    if not path.is_dir():
        return "no such folder"
    state = path / "trainer_state.json"
    if not state.is_file():
        return "no trainer_state.json (the run stopped while saving)"
    try:
        json.loads(state.read_text())["global_step"]
    except (ValueError, KeyError):
        return "trainer_state.json is truncated or unreadable"
    weights = next((path / f for f in WEIGHT_FILES if (path / f).is_file()), None)
    if weights is None:
        return f"no weights file ({' or '.join(WEIGHT_FILES)})"
    if weights.suffix == ".safetensors" and (problem := safetensors_problem(weights)):
        return f"{weights.name} {problem}"
    deepspeed = any(p.name.startswith("global_step") for p in path.iterdir() if p.is_dir())
    if not deepspeed:  # DeepSpeed keeps optimizer shards in global_step*/ instead
        for name in ("optimizer.pt", "scheduler.pt"):
            if not (path / name).is_file():
                return f"no {name}"
            if not _zip_ok(path / name):
                return f"{name} is truncated"
    return None


def _zip_ok(path: Path) -> bool:
    """torch.save writes a zip archive; a truncated one has no central directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            archive.namelist()
        return True
    except (zipfile.BadZipFile, OSError):
        return False


def latest_checkpoint(run_dir) -> Path | None:
    """The newest complete checkpoint of a run, warning about newer broken ones."""
    for path in checkpoints(run_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        warnings.warn(f"skipping {path}: {problem}; resuming from an earlier checkpoint",
                      stacklevel=2)
    return None
