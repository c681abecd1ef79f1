"""The stage-neutral runner: a recipe becomes a TRL trainer, a run folder and a final model.

``prepare(recipe)`` resolves a recipe into every object a run needs (the stage's TRL config,
its rows, PEFT / bitsandbytes / accelerate configs) without loading the model; with
``dry_run`` it loads no weights, fetches nothing and accepts GPU settings on a CPU machine.
``run(recipe)`` trains: it takes the run folder (``r1lab.train.run_folder``: a lock, a fresh
run, a resume, or a refusal that touches nothing), logs ``metrics.jsonl``, resumes from the
newest complete checkpoint and saves ``final/``. What differs between stages (GRPO, SFT, …)
comes from the recipe's ``Stage`` (``r1lab.train.stage``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1lab.sources import local_path, resolved_model
from r1lab.train.checkpoints import checkpoint_problem, checkpoint_step, checkpoints
from r1lab.train.checkpoints import latest_checkpoint, trainer_state
from r1lab.train.metrics import METRICS_FILE, MetricsLog, ProgressBar, TimeBudget, read_metrics
from r1lab.train.metrics import truncate_metrics
from r1lab.train.recipe import TRANSFORMERS_RENAMES, Recipe, RecipeError
from r1lab.train.recipe_checks import load_recipe, stage_of, trainer_config
from r1lab.train.run_folder import FINAL_DIR, RunFolderError, RunLock, prepare_run_folder
from r1lab.train.run_folder import write_recipe_copy
from r1lab.train.stage import Stage

# Free bytes below which a failed save is taken for a full disk (torch.save says only
# "file write failed"); smaller than any checkpoint worth saving.
DISK_NEARLY_FULL = 64 * 2**20


@dataclass
class Plan:
    """Everything a run is built from, resolved from a recipe (``prepare``)."""

    recipe: Recipe
    stage: Stage
    args: Any
    """The stage's TRL config (``trl.GRPOConfig``, ``trl.SFTConfig``…)."""
    model: str
    """Local folder (absolute) or hub id."""
    train_dataset: Any = None
    """``datasets.Dataset`` of the stage's rows; None in a dry run for hub data."""
    peft_config: Any = None
    quantization_config: Any = None
    accelerate_config: Any = None
    """``accelerate``'s parsed config file when the recipe names one."""
    columns: dict = field(default_factory=dict)
    """Metric column -> TRL log key."""
    extras: dict = field(default_factory=dict)
    """What the stage's trainer needs beyond the config (GRPO: ``reward_funcs`` and
    ``reward_weights``, the recipe's rewards then the zero-weight probes)."""

    @property
    def reward_funcs(self) -> list:
        """The functions that score completions (empty for stages that score none)."""
        return self.extras.get("reward_funcs", [])

    @property
    def reward_weights(self) -> list[float]:
        return self.extras.get("reward_weights", [])

    def summary(self) -> str:
        """A few lines saying what would run (printed by ``r1lab train --dry-run``)."""
        a, recipe = self.args, self.recipe
        task = recipe.task
        lines = [
            f"recipe      {recipe.name}",
            f"stage       {recipe.stage}",
            f"model       {self.model}",
            f"task        {task.name} (n={task.n}"
            + (f" x {task.repeat}" if task.repeat != 1 else "")
            + (f", source={task.source}" if task.source else "")
            + (f", general_source={task.general_source})" if task.general_source else ")"),
            *self.stage.describe(self),
            f"precision   {'bf16' if a.bf16 else 'fp16' if a.fp16 else 'fp32'}"
            f"{' on CPU' if a.use_cpu else ''}; vLLM: "
            + (f"{a.vllm_mode}" if getattr(a, "use_vllm", False) else "no"),
            "peft        " + (f"LoRA r={self.peft_config.r} alpha={self.peft_config.lora_alpha}"
                              if self.peft_config else "none (full fine-tuning)"),
            "quantized   " + ("4-bit (QLoRA)" if self.quantization_config and
                              self.quantization_config.load_in_4bit else
                              "8-bit" if self.quantization_config else "no"),
        ]
        if self.accelerate_config is not None:
            c = self.accelerate_config
            kind = getattr(c.distributed_type, "value", c.distributed_type)
            lines.append(f"accelerate  {recipe.accelerate}: {kind}, {c.num_machines} "
                         f"machine(s) x {c.num_processes // max(c.num_machines, 1)} process(es)")
        lines.append(f"output      {a.output_dir}")
        return "\n".join(lines)


@dataclass
class RunResult:
    """What ``run`` returns."""

    output_dir: Path
    final_dir: Path
    """The trained model and tokenizer (``save_pretrained`` folder; adapters for QLoRA)."""
    metrics: list[dict]
    """The rows of ``metrics.jsonl`` (``r1lab.train.metrics``)."""
    train_runtime_s: float
    """Wall time of this call's training (not counting earlier runs it resumed)."""
    resumed_from: Path | None
    trainer: Any = field(repr=False, default=None)
    budget_stop_step: int | None = None
    """The step at which the recipe's ``time_budget_minutes`` ran out (None: it did not)."""


def _accelerate_config(recipe: Recipe):
    if recipe.accelerate is None:
        return None
    from accelerate.commands.config.config_args import load_config_from_file

    path = local_path(recipe.accelerate)
    try:
        return load_config_from_file(str(path))
    except (TypeError, ValueError, KeyError) as error:
        raise RecipeError(f"recipe field `accelerate`: {path} is not a valid accelerate "
                          f"config: {error}") from None


def prepare(recipe: Recipe | str, overrides=(), dry_run: bool = False) -> Plan:
    """Resolve a recipe into TRL / PEFT / bitsandbytes / accelerate objects.

    With ``dry_run`` nothing is downloaded and no weights are loaded: hub models and hub
    datasets are named, not fetched, and GPU-only settings are accepted on a CPU machine.
    """
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe, overrides)
    stage = stage_of(recipe)
    args = trainer_config(recipe, for_this_machine=not dry_run)
    peft_config = quantization_config = None
    if recipe.peft is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(**{"task_type": "CAUSAL_LM", **recipe.peft})
    if recipe.quantization is not None:
        if not dry_run and args.use_cpu:
            raise RecipeError("recipe field `quantization` (QLoRA through bitsandbytes) needs a "
                              "CUDA GPU: remove it to train LoRA in full precision")
        from transformers import BitsAndBytesConfig

        quantization_config = BitsAndBytesConfig(**recipe.quantization)
        args.model_init_kwargs = {**(args.model_init_kwargs or {}),
                                  "quantization_config": quantization_config}
    return Plan(recipe=recipe, stage=stage, args=args, model=resolved_model(recipe.model),
                train_dataset=stage.dataset(recipe, dry_run), peft_config=peft_config,
                quantization_config=quantization_config,
                accelerate_config=_accelerate_config(recipe), columns=stage.columns(recipe),
                extras=stage.plan_extras(recipe))


def build_trainer(plan: Plan, progress: bool = True):
    """The stage's TRL trainer for a plan, with r1lab's metrics log; loads the model."""
    from transformers import PrinterCallback, ProgressCallback

    trainer = plan.stage.trainer(plan)
    for printer in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(printer)
    trainer.add_callback(MetricsLog(plan.args.output_dir, plan.columns))
    if progress:
        trainer.add_callback(ProgressBar(plan.columns, plan.stage))
    return trainer


def _is_main_process() -> bool:
    """Rank 0 of a launch (accelerate, torchrun, Slurm set RANK), or a single process."""
    return int(os.environ.get("RANK", "0")) == 0


def run(recipe: Recipe | str, overrides=(), resume="auto", progress: bool = True,
        callbacks=()) -> RunResult:
    """Train a recipe, any stage; resume the run folder's newest complete checkpoint.

    Args:
        recipe: a ``Recipe``, a YAML path or a shipped name such as ``"tiny/r1_zero"``.
        overrides: ``"key.sub=value"`` strings applied to a recipe loaded by name.
        resume: ``"auto"`` (newest complete checkpoint in ``output_dir``, if any),
            ``"never"`` (refuse a folder that has checkpoints) or a checkpoint folder.
        progress: show a progress bar (main process only).
        callbacks: extra ``transformers.TrainerCallback`` objects.

    A folder that holds another recipe's run, a finished run with nothing to resume, or a
    run still going is refused before anything is written (``RunFolderError``).
    """
    plan = prepare(recipe, overrides)
    output_dir = Path(plan.args.output_dir)
    # Refused before anything is created; re-read under the lock (main process), since
    # another run may have written between the two looks.
    resume_from = prepare_run_folder(output_dir, plan.recipe, resume)
    main = _is_main_process()
    with RunLock(output_dir) if main else contextlib.nullcontext():
        if main:
            resume_from = prepare_run_folder(output_dir, plan.recipe, resume)
        return _train(plan, output_dir, resume_from, progress, callbacks)


def _train(plan: Plan, output_dir: Path, resume_from: Path | None, progress: bool,
           callbacks) -> RunResult:
    trainer = build_trainer(plan, progress=progress)
    for callback in callbacks:
        trainer.add_callback(callback)
    budget = None
    if plan.recipe.time_budget_minutes is not None:
        budget = TimeBudget(plan.recipe.time_budget_minutes, _budget_used_s(resume_from))
        trainer.add_callback(budget)
    if trainer.accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        if resume_from is not None:
            truncate_metrics(output_dir, checkpoint_step(resume_from))
        elif (output_dir / METRICS_FILE).exists():
            # The same recipe, killed before its first checkpoint: its steps are redone.
            (output_dir / METRICS_FILE).unlink()
        write_recipe_copy(output_dir, plan.recipe)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=TRANSFORMERS_RENAMES, category=FutureWarning)
        try:
            if _nothing_left(plan, resume_from, budget):
                # Killed after its last checkpoint, before final/: transformers' Trainer would
                # train one step more than max_steps when resumed there (measured with 5.x),
                # so the checkpoint's weights are loaded and saved as they are.
                trainer._load_from_checkpoint(str(resume_from))
                runtime = 0.0
            else:
                runtime = trainer.train(resume_from_checkpoint=str(resume_from)
                                        if resume_from else None).metrics.get("train_runtime")
        except (OSError, RuntimeError) as error:
            if _disk_full(error, output_dir):
                raise RunFolderError(_disk_full_message(output_dir, trainer)) from error
            raise
        final_dir = output_dir / FINAL_DIR
        plan.stage.before_save(trainer, plan)
        try:
            trainer.save_model(str(final_dir))
            if trainer.accelerator.is_main_process:
                trainer.processing_class.save_pretrained(str(final_dir))
        except (OSError, RuntimeError) as error:
            if _disk_full(error, output_dir):
                raise RunFolderError(f"disk full while saving {final_dir}; training finished "
                                     "and its last checkpoint is kept: free space and re-run the "
                                     "same command") from error
            raise
    return RunResult(output_dir=output_dir, final_dir=final_dir,
                     metrics=read_metrics(output_dir),
                     train_runtime_s=float("nan") if runtime is None else runtime,
                     resumed_from=resume_from, trainer=trainer,
                     budget_stop_step=budget.stopped_at if budget else None)


def _nothing_left(plan: Plan, checkpoint: Path | None, budget: TimeBudget | None) -> bool:
    """Whether the checkpoint a run resumes from already ends it (``max_steps`` reached, or
    the time budget spent)."""
    if checkpoint is None:
        return False
    if 0 < plan.args.max_steps <= checkpoint_step(checkpoint):
        return True
    return budget is not None and budget.used_s >= budget.minutes * 60


def _budget_used_s(checkpoint: Path | None) -> float:
    """Training seconds a resumed run had used (its ``TimeBudget`` state in the checkpoint's
    ``trainer_state.json``); 0 for a fresh run."""
    if checkpoint is None:
        return 0.0
    saved = trainer_state(checkpoint).get("stateful_callbacks") or {}
    attributes = (saved.get(TimeBudget.__name__) or {}).get("attributes") or {}
    return float(attributes.get("used_s", 0.0))


def _disk_full(error: BaseException, folder: Path) -> bool:
    """Whether an exception raised while saving means "no space left on device".

    Python reports it as an OSError with errno ENOSPC (or EDQUOT, a quota); torch.save as a
    RuntimeError ("file write failed") that does not say why, so that case asks the disk.
    """
    seen = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen = seen.__cause__ or seen.__context__
    try:
        return shutil.disk_usage(folder).free < DISK_NEARLY_FULL
    except OSError:
        return False


def _disk_full_message(output_dir: Path, trainer) -> str:
    last = latest_checkpoint(output_dir)
    broken = [p for p in checkpoints(output_dir) if checkpoint_problem(p)]
    saving = broken[0].name if broken else f"checkpoint-{trainer.state.global_step}"
    kept = f"the last complete checkpoint is {last.name}" if last else "no checkpoint is complete"
    return f"disk full while saving {saving}; {kept}; free space and re-run the same command"
