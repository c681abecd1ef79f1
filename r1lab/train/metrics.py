"""The training log: one row per logging step in ``metrics.jsonl`` and ``metrics.csv``.

Columns (means over the step's completions unless said otherwise; TRL's key in brackets):

* ``step``: optimizer steps done; ``elapsed_s``: wall seconds since this process started
  training (restarts at 0 after a resume).
* ``reward`` [reward]: the weighted sum of the recipe's rewards.
* one column per recipe reward, e.g. ``accuracy`` [rewards/accuracy_reward/mean] and
  ``format`` [rewards/format_reward/mean], unweighted.
* ``reasoning_share`` [rewards/reasoning_share/mean]: share of completions with a non-empty
  think block; ``reflection_words`` [rewards/reflection_words/mean]: reflection words
  ("wait", "check", "重新", …) per completion; ``recheck_share``
  [rewards/recheck_share/mean]: share of completions that reason and re-check a step
  (``r1lab.train.probes``; over ``reasoning_share`` it is the re-check rate among reasoning
  completions, the aha curve); ``right_length`` / ``wrong_length``
  [rewards/right_length/mean, rewards/wrong_length/mean]: tokens per completion among those
  the accuracy rule grades right / wrong (empty when the step had none; Dr. GRPO's length bias).
* ``flat_groups`` [frac_reward_zero_std]: share of the step's groups whose samples all got
  the same reward: their advantages are 0, so they teach nothing (RL can only select among
  samples that differ).
* ``completion_length`` [completions/mean_length]: tokens per completion;
  ``truncated`` [completions/clipped_ratio]: share that hit ``max_completion_length``.
* ``kl`` [kl]: mean per-token k3 estimate of KL(policy || reference) (logged when beta > 0).
* ``clip_ratio`` [clip_ratio/region_mean]: share of tokens whose ratio was clipped;
  ``clip_low`` / ``clip_high`` [clip_ratio/low_mean, clip_ratio/high_mean]: below 1 - epsilon
  with A < 0, above 1 + epsilon_high with A > 0.
* ``entropy`` [entropy]: mean per-token entropy of the policy (nats).
* ``loss``, ``grad_norm``, ``learning_rate``, ``step_time`` [same names]: TRL's values.

The JSONL file is appended and flushed at every logging step, so a crash loses nothing that
was logged; the CSV is rewritten from it. On resume, rows after the checkpoint's step are
dropped first (they will be logged again).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from pathlib import Path

from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState

from r1lab.train.run_folder import METRICS_FILE, read_metrics

CSV_FILE = "metrics.csv"

FIXED_COLUMNS = {
    "reward": "reward",
    "reasoning_share": "rewards/reasoning_share/mean",
    "reflection_words": "rewards/reflection_words/mean",
    "recheck_share": "rewards/recheck_share/mean",
    "right_length": "rewards/right_length/mean",
    "wrong_length": "rewards/wrong_length/mean",
    "flat_groups": "frac_reward_zero_std",
    "completion_length": "completions/mean_length",
    "truncated": "completions/clipped_ratio",
    "kl": "kl",
    "clip_ratio": "clip_ratio/region_mean",
    "clip_low": "clip_ratio/low_mean",
    "clip_high": "clip_ratio/high_mean",
    "entropy": "entropy",
    "loss": "loss",
    "grad_norm": "grad_norm",
    "learning_rate": "learning_rate",
    "step_time": "step_time",
}


def curves(run_dir, fields: Sequence[str]) -> dict[str, list]:
    """One list per field, one value per row of ``metrics.jsonl``: ``None`` where a step did
    not log it (GRPO logs rewards only on the steps that sample). The benchmarks keep these in
    their results files.

    >>> import json, tempfile, pathlib
    >>> run_dir = pathlib.Path(tempfile.mkdtemp())
    >>> rows = [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25, "accuracy": 0.1}]
    >>> _ = (run_dir / METRICS_FILE).write_text("".join(json.dumps(r) + "\\n" for r in rows))
    >>> curves(run_dir, ("step", "accuracy"))
    {'step': [1, 2], 'accuracy': [None, 0.1]}
    """
    rows = read_metrics(run_dir)
    return {field: [row.get(field) for row in rows] for field in fields}


def truncate_metrics(run_dir, last_step: int) -> None:
    """Keep only rows up to ``last_step`` (called when resuming from that checkpoint)."""
    rows = [row for row in read_metrics(run_dir) if row["step"] <= last_step]
    _write_all(Path(run_dir), rows)


def _write_all(run_dir: Path, rows: list[dict]) -> None:
    with open(run_dir / METRICS_FILE, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    _write_csv(run_dir, rows)


def _write_csv(run_dir: Path, rows: list[dict]) -> None:
    header = list(dict.fromkeys(key for row in rows for key in row))
    with open(run_dir / CSV_FILE, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


class MetricsLog(TrainerCallback):
    """Writes one row per TRL training log (main process only)."""

    def __init__(self, run_dir, columns: dict[str, str]):
        self.run_dir = Path(run_dir)
        self.columns = columns
        self.start = time.perf_counter()

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        # Every training step's log, also those without the headline column: with
        # num_iterations > 1 (or steps_per_generation > 1) GRPO only samples, and so only
        # logs rewards, on some steps, while the others carry the loss, entropy and the
        # clip ratios that only then differ from 0. The end-of-training summary is not a step.
        if (not state.is_world_process_zero or not logs or "train_runtime" in logs
                or not any(key in logs for key in self.columns.values())):
            return
        row = {"step": state.global_step,
               "elapsed_s": round(time.perf_counter() - self.start, 3)}
        row.update({name: logs[key] for name, key in self.columns.items() if key in logs})
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / METRICS_FILE, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
            handle.flush()
        _write_csv(self.run_dir, read_metrics(self.run_dir))


class TimeBudget(TrainerCallback, ExportableState):
    """Stops training once ``minutes`` of training have passed (the recipe's
    ``time_budget_minutes``); the minutes used are saved in each checkpoint, so a resumed run
    counts them. transformers' Trainer has no wall-clock limit of its own."""

    def __init__(self, minutes: float, used_s: float = 0.0):
        self.minutes = minutes
        self.used_s = used_s
        self.start = None
        self.stopped_at = None
        """The step at which the budget ran out (None: it did not)."""

    def state(self) -> dict:
        return {"args": {"minutes": self.minutes}, "attributes": {"used_s": self.spent_s()}}

    def spent_s(self) -> float:
        """Training seconds used so far, earlier processes included."""
        running = time.perf_counter() - self.start if self.start is not None else 0.0
        return self.used_s + running

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if self.spent_s() >= self.minutes * 60:
            self.stopped_at = state.global_step
            control.should_training_stop = True
            control.should_save = True

    def on_train_end(self, args, state, control, **kwargs):
        self.used_s = self.spent_s()
        self.start = None


class ProgressBar(TrainerCallback):
    """One tqdm bar with the stage's headline columns (``Stage.shown``), not printed dicts."""

    def __init__(self, columns: dict[str, str], stage):
        self.columns = columns
        self.stage = stage
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            from r1lab.progress import bar

            self.bar = bar(total=state.max_steps, initial=state.global_step,
                            desc=self.stage.label, unit="step", dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is not None and logs and self.stage.step_key in logs:
            self.bar.set_postfix({name: round(logs[self.columns[name]], 3)
                                  for name in self.stage.shown if self.columns.get(name) in logs})

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
