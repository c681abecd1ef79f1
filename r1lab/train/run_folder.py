"""A run folder (``output_dir``): what it holds, who may write it, and what a new run may do.

A run folder holds one run of one recipe: ``recipe.yaml`` (the resolved recipe),
``metrics.jsonl`` / ``metrics.csv``, ``checkpoint-<step>/`` folders and ``final/`` (the
trained model). ``prepare_run_folder`` decides, before anything is written, what a new call
of ``r1lab.train.run`` does with it:

* a new or empty folder, or one whose run failed before it made progress (no checkpoint, no
  logged step, no ``final/``: a model that would not load, a reward model refused at the
  first step): a fresh run, of any recipe;
* the same recipe (bar the step budget and logging knobs, ``RESUMABLE_CHANGES``) with a
  complete checkpoint: resume from the newest one (``resume="auto"``), skipping newer
  damaged ones with a warning (``r1lab.train.checkpoints.checkpoint_problem`` says what is
  damaged);
* the same recipe, killed before its first checkpoint: a fresh run (what it had logged is
  redone);
* anything else is refused and nothing is touched: another recipe's run, the same recipe
  finished with no checkpoint to resume (its ``final/`` would be overwritten), checkpoints
  that are all damaged, a folder that is not a run folder, or ``resume="never"`` with
  checkpoints present.

``RunLock`` keeps two runs out of one folder: the first holds ``.lock`` (its pid and host);
a second is refused naming that pid; a lock left by a killed run is taken over.
"""

from __future__ import annotations

import json
import os
import socket
import warnings
from pathlib import Path

import yaml

from r1lab.train.checkpoints import checkpoint_problem, checkpoints, latest_checkpoint
from r1lab.train.recipe import SAME_NUMBERS, Recipe, RecipeError

RECIPE_COPY = "recipe.yaml"
METRICS_FILE = "metrics.jsonl"  # written by r1lab.train.metrics.MetricsLog
FINAL_DIR = "final"
LOCK_FILE = ".lock"
# What a run leaves before its first step; with no recipe copy, a folder of these is empty.
RUN_FILES = {LOCK_FILE, METRICS_FILE, "metrics.csv"}
# Fields a resumed run may change: extending a finished run, or moving its folder, is normal;
# so is trading memory for time (``SAME_NUMBERS``).
RESUMABLE_CHANGES = {"output_dir", "trainer.max_steps", "trainer.num_train_epochs", "trainer.save_steps",
                     "trainer.logging_steps", "trainer.save_total_limit", *SAME_NUMBERS}


class RunFolderError(RecipeError):
    """The run folder cannot take this run; the message says why and what to do."""


def prepare_run_folder(output_dir: Path, recipe: Recipe, resume) -> Path | None:
    """The checkpoint to resume from (None: a fresh run), or ``RunFolderError``.

    Reads the folder only; the caller writes once it holds the folder's ``RunLock``.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise RunFolderError(f"output_dir {output_dir} is a file, not a folder: pick another "
                             "output_dir (--set output_dir=runs/NAME)")
    if resume not in ("auto", True, "never", False, None):
        problem = checkpoint_problem(resume)
        if problem:
            raise RunFolderError(f"cannot resume from {resume}: {problem}; resume from another "
                                 "checkpoint, or drop --resume to take the newest whole one")
        _check_checkpoint_recipe(Path(resume), recipe)
        if _progress(output_dir):
            _check_same_recipe(output_dir, recipe)
        return Path(resume)
    if not output_dir.is_dir() or not any(output_dir.iterdir()):
        return None
    progress = _progress(output_dir)
    if not (output_dir / RECIPE_COPY).is_file():
        if progress:
            raise RunFolderError(f"{output_dir} holds a run ({progress}) without its "
                                 f"{RECIPE_COPY}, so it cannot be checked: pick another "
                                 "output_dir (--set output_dir=runs/NAME)")
        if set(p.name for p in output_dir.iterdir()) - RUN_FILES:
            raise RunFolderError(f"{output_dir} is not empty and holds no r1lab run: pick a new "
                                 "or empty output_dir (--set output_dir=runs/NAME)")
        return None
    if not progress:  # a run that failed before its first step: nothing of it to keep
        return None
    _check_same_recipe(output_dir, recipe)
    found = checkpoints(output_dir)
    if resume in ("never", False, None) and found:
        raise RunFolderError(f"{output_dir} already holds checkpoints of a run: resume it "
                             "(the default), or pick another output_dir "
                             "(--set output_dir=runs/NAME)")
    start = latest_checkpoint(output_dir) if resume in ("auto", True) else None
    if start is None and found:
        names = ", ".join(p.name for p in found)
        raise RunFolderError(f"{output_dir} has no whole checkpoint to resume from "
                             f"({found[0].name}: {checkpoint_problem(found[0])}): delete the "
                             f"damaged {names} to train this recipe again from step 0, or pick "
                             "another output_dir (--set output_dir=runs/NAME)")
    if start is None and (output_dir / FINAL_DIR).is_dir():
        raise RunFolderError(f"{output_dir} holds a finished run of this recipe and no complete "
                             "checkpoint to continue from; training again would overwrite its "
                             f"{FINAL_DIR}/: pick another output_dir (--set output_dir=runs/NAME) "
                             "or delete the old run")
    return start


def read_metrics(run_dir) -> list[dict]:
    """The rows of a run's ``metrics.jsonl`` (an empty list when it has none yet)."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # the last line of a run killed mid-write
            break
    return rows


def _progress(output_dir: Path) -> str | None:
    """What a run folder holds of a run's progress ("checkpoints", "logged steps", "a final
    model"), or None: a run that failed before its first step left only its recipe copy."""
    held = [what for what, there in (
        ("checkpoints", checkpoints(output_dir)),
        ("logged steps", read_metrics(output_dir)),
        (f"a {FINAL_DIR}/ model", (output_dir / FINAL_DIR).exists())) if there]
    return ", ".join(held) or None


def write_recipe_copy(output_dir: Path, recipe: Recipe) -> None:
    (output_dir / RECIPE_COPY).write_text(yaml.safe_dump(recipe.to_dict(), sort_keys=False),
                                          encoding="utf-8")


def _changed_fields(saved: dict, recipe: Recipe) -> list[str]:
    saved, now = _flatten(saved), _flatten(recipe.to_dict())
    return sorted(k for k in set(saved) | set(now)
                  if saved.get(k) != now.get(k) and k not in RESUMABLE_CHANGES)


def _saved_recipe(path: Path) -> dict | None:
    """The recipe a run folder saved (``recipe.yaml``), or None if it is unreadable."""
    try:
        saved = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return None
    return saved if isinstance(saved, dict) else None


def _check_same_recipe(output_dir: Path, recipe: Recipe) -> None:
    """A run folder takes one recipe (bar the step budget): another would mix two runs."""
    path = output_dir / RECIPE_COPY
    if not path.is_file():
        return
    saved = _saved_recipe(path)
    if saved is None:
        raise RunFolderError(f"{path} is unreadable, so the run in {output_dir} cannot be "
                             "checked: pick another output_dir (--set output_dir=runs/NAME)")
    changed = _changed_fields(saved, recipe)
    if changed:
        raise RunFolderError(
            f"{output_dir} holds a run of a different recipe (changed: {', '.join(changed)}); "
            "training here would mix two runs. Pick another output_dir (--set "
            "output_dir=runs/NAME) or delete the old run")


def _check_checkpoint_recipe(checkpoint: Path, recipe: Recipe) -> None:
    """A checkpoint given by path belongs to the run folder above it: its recipe must match."""
    saved_path = checkpoint.parent / RECIPE_COPY
    if saved_path.is_file():
        saved = _saved_recipe(saved_path)
        changed = _changed_fields(saved, recipe) if saved is not None else ["unreadable"]
        if changed:
            raise RunFolderError(
                f"checkpoint {checkpoint} was saved by a different recipe (changed: "
                f"{', '.join(changed)}); resuming would mix two runs: resume from a checkpoint "
                "of this recipe, or drop --resume")
        return
    if (checkpoint / "config.json").is_file():  # no run folder around it: compare models
        _check_checkpoint_model(checkpoint, recipe)


def _check_checkpoint_model(checkpoint: Path, recipe: Recipe) -> None:
    from r1lab.sources import local_path

    model = local_path(recipe.model)
    if model is None or not (model / "config.json").is_file():
        return
    keys = ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")
    try:
        mine = json.loads((model / "config.json").read_text())
        theirs = json.loads((checkpoint / "config.json").read_text())
    except (OSError, ValueError):
        return
    differ = [k for k in keys if mine.get(k) != theirs.get(k)]
    if differ:
        raise RunFolderError(f"checkpoint {checkpoint} is of another model than {recipe.model} "
                             f"(differs in {', '.join(differ)}): resume from a checkpoint of "
                             "this recipe's model")


def _flatten(data: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "rewards":
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


class RunLock:
    """``with RunLock(folder):`` holds the folder for this process (main process only).

    The lock is a file created exclusively, holding the owner's pid and host. A second run
    is refused with that pid; a lock whose process is gone (a killed run) is taken over.
    """

    def __init__(self, output_dir: Path):
        self.path = Path(output_dir) / LOCK_FILE
        self.held = False

    def __enter__(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RunFolderError(f"output_dir {self.path.parent} cannot be created "
                                 f"({error.strerror}): pick a folder you can write to "
                                 "(--set output_dir=runs/NAME)") from None
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(2):
            try:
                with open(self.path, "x", encoding="utf-8") as handle:
                    json.dump(me, handle)
                self.held = True
                return self
            except IsADirectoryError:
                raise RunFolderError(f"{self.path} is a folder; remove it") from None
            except PermissionError as error:
                raise RunFolderError(f"output_dir {self.path.parent} is not writable "
                                     f"({error.strerror}): pick a folder you can write to "
                                     "(--set output_dir=runs/NAME)") from None
            except FileExistsError:
                owner = self._owner()
                if owner is not None and self._alive(owner):
                    raise RunFolderError(
                        f"{self.path.parent} is in use by another run (pid {owner['pid']} on "
                        f"{owner['host']}): wait for it to end, or pick another output_dir "
                        "(--set output_dir=runs/NAME)") from None
                warnings.warn(f"taking over {self.path}: the run that held it (pid "
                              f"{owner['pid'] if owner else '?'}) is gone", stacklevel=2)
                self.path.unlink(missing_ok=True)
        raise RunFolderError(f"could not lock {self.path.parent}: another run keeps taking it")

    def __exit__(self, *exc) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def _owner(self) -> dict | None:
        try:
            owner = json.loads(self.path.read_text(encoding="utf-8"))
            return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None
        except (OSError, ValueError):
            return None

    @staticmethod
    def _alive(owner: dict) -> bool:
        if owner.get("host") != socket.gethostname():
            return True  # another machine's process: it cannot be checked from here
        if owner["pid"] == os.getpid():
            return False  # a lock this process left (a run interrupted in a notebook)
        try:
            os.kill(owner["pid"], 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
