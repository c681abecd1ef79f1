"""R1-Zero and reasoning RL: a recipe becomes a TRL ``GRPOTrainer`` run.

TRL does the training (generation, rewards, advantages, the clipped objective, KL,
distribution); r1lab adds what TRL lacks for this lab: recipes checked before anything
slow, the prompts rendered with the R1-Zero template, the metrics log and curves, a run
folder that resumes from its last complete checkpoint, and a dry run that resolves a
full-scale recipe without a GPU, weights or network.

``prepare(recipe, dry_run=True)`` builds every object a run needs except the model;
``run(recipe)`` trains and returns a ``RunResult``.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import yaml

from r1lab.sources import local_path
from r1lab.train.checkpoints import checkpoint_problem, checkpoint_step, checkpoints
from r1lab.train.checkpoints import latest_checkpoint
from r1lab.train.metrics import MetricsLog, ProgressBar, columns_for, read_metrics
from r1lab.train.metrics import truncate_metrics
from r1lab.train.probes import PROBES
from r1lab.train.recipe import Recipe, RecipeError, _tuples, load_recipe

RECIPE_COPY = "recipe.yaml"
# TRL 1.16 and the Trainer themselves call transformers 5's deprecated gradient-checkpointing
# names (at config time and at every save); nothing a user can change, so not shown.
_TRANSFORMERS_RENAMES = ".*gradient_checkpointing.* is deprecated"
FINAL_DIR = "final"
# Fields a resumed run may change: extending a finished run, or moving its folder, is normal.
RESUMABLE_CHANGES = {"output_dir", "trainer.max_steps", "trainer.num_train_epochs", "trainer.save_steps",
                     "trainer.logging_steps", "trainer.save_total_limit"}


@dataclass
class Plan:
    """Everything a run is built from, resolved from a recipe (``prepare``)."""

    recipe: Recipe
    args: Any
    """The ``trl.GRPOConfig``."""
    reward_funcs: list
    """The recipe's rewards, then the probes (``r1lab.train.probes``)."""
    reward_weights: list[float]
    """The recipe's weights, then 0.0 for each probe."""
    model: str
    """Local folder (absolute) or hub id."""
    train_dataset: Any = None
    """``datasets.Dataset`` with prompt/question/answer/lang; None in a dry run for hub data."""
    peft_config: Any = None
    quantization_config: Any = None
    accelerate_config: Any = None
    """``accelerate``'s parsed config file when the recipe names one."""
    columns: dict = field(default_factory=dict)
    """Metric column -> TRL log key."""

    def summary(self) -> str:
        """A few lines saying what would run (printed by ``r1lab train --dry-run``)."""
        a = self.args
        if self.recipe.stage == "sft":
            knobs = (f"SFT         batch/device={a.per_device_train_batch_size} "
                     f"accumulation={a.gradient_accumulation_steps} lr={a.learning_rate} epochs={a.num_train_epochs} "
                     f"completion-only loss={a.completion_only_loss} max_length={a.max_length}")
        else:
            knobs = (f"GRPO        G={a.num_generations} batch/device="
                     f"{a.per_device_train_batch_size} lr={a.learning_rate} beta={a.beta} "
                     f"epsilon={a.epsilon} loss={a.loss_type} T={a.temperature} "
                     f"max_completion={a.max_completion_length}")
        lines = [
            f"recipe      {self.recipe.name}",
            f"model       {self.model}",
            f"task        {self.recipe.task.name} (n={self.recipe.task.n}"
            + (f", source={self.recipe.task.source})" if self.recipe.task.source else ")"),
            "rewards     " + (", ".join(f"{n} x {w}" for n, w in self.recipe.rewards.items())
                                 if self.recipe.stage == "grpo" else "none (SFT)"),
            knobs,
            f"precision   {'bf16' if a.bf16 else 'fp16' if a.fp16 else 'fp32'}"
            f"{' on CPU' if a.use_cpu else ''}; vLLM: "
            + (f"{a.vllm_mode}" if getattr(a, "use_vllm", False) else "no"),
            *([f"loss        {self.recipe.loss_impl} log-probs"
               + (" (r1lab.kernels, fused)" if self.recipe.loss_impl == "triton" else " (TRL)")]
              if self.recipe.stage == "grpo" else []),
            "peft        " + (f"LoRA r={self.peft_config.r} alpha={self.peft_config.lora_alpha}"
                              if self.peft_config else "none (full fine-tuning)"),
            "quantized   " + ("4-bit (QLoRA)" if self.quantization_config and
                              self.quantization_config.load_in_4bit else
                              "8-bit" if self.quantization_config else "no"),
        ]
        if self.accelerate_config is not None:
            c = self.accelerate_config
            kind = getattr(c.distributed_type, "value", c.distributed_type)
            lines.append(f"accelerate  {self.recipe.accelerate}: {kind}, {c.num_machines} "
                         f"machine(s) x {c.num_processes // max(c.num_machines, 1)} process(es)")
        lines.append(f"output      {a.output_dir}")
        return "\n".join(lines)


@dataclass
class RunResult:
    """What ``run`` returns."""

    output_dir: Path
    final_dir: Path
    """The trained model and tokenizer (``save_pretrained`` folder; adapters for LoRA)."""
    metrics: list[dict]
    """The rows of ``metrics.jsonl`` (``r1lab.train.metrics``)."""
    train_runtime_s: float
    """Wall time of this call's training (not counting earlier runs it resumed)."""
    resumed_from: Path | None
    trainer: Any = field(repr=False, default=None)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _trainer_config(recipe: Recipe, extra: dict, dry_run: bool):
    """The stage's TRL config (``GRPOConfig`` / ``SFTConfig``) from the recipe's ``trainer``."""
    from r1lab.train.recipe import trainer_config_class

    config_class = trainer_config_class(recipe.stage)
    kwargs = dict(recipe.trainer)
    kwargs.setdefault("report_to", "none")
    kwargs.setdefault("disable_tqdm", True)  # r1lab's ProgressBar replaces the printed dicts
    gpu_precision = kwargs.get("bf16", True) or kwargs.get("fp16", False)
    if not dry_run and not _cuda():
        if gpu_precision or kwargs.get("use_vllm"):
            raise RecipeError(
                f"recipe {recipe.name or ''} needs a CUDA GPU (trainer.bf16/fp16/use_vllm) and "
                "none is present: run a tiny/ recipe, or add --set trainer.bf16=false for fp32 "
                "on CPU")
        kwargs["use_cpu"] = True
    # A dry run resolves the config the GPU machine will build; TrainingArguments would
    # otherwise refuse bf16 here only because this machine has no GPU.
    patch = (mock.patch("transformers.training_args.is_torch_bf16_gpu_available",
                        return_value=True) if dry_run else contextlib.nullcontext())
    try:
        with patch, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_TRANSFORMERS_RENAMES,
                                    category=FutureWarning)
            return config_class(output_dir=recipe.output_dir, **extra, **kwargs)
    except (ValueError, TypeError) as error:
        raise RecipeError(f"recipe field `trainer`: TRL rejected it: {error}") from None


def _dataset(recipe: Recipe, dry_run: bool):
    if recipe.stage == "sft":
        from r1lab.train.sft import sft_dataset

        return sft_dataset(recipe, dry_run)
    from r1lab.tasks import ArithmeticConfig, generate, load_gsm8k, load_math, to_dataset

    task = recipe.task
    if task.name == "arithmetic":
        config = ArithmeticConfig(**_tuples(task.arithmetic))
        return to_dataset(generate(task.n, split="train", seed=task.seed, config=config))
    source = local_path(task.source)
    if source is None and dry_run:
        return None  # a hub dataset: a dry run does not contact the hub
    loader = load_gsm8k if task.name == "gsm8k" else load_math
    return to_dataset(loader(str(source or task.source), split="train", limit=task.n))


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
    from r1lab.rewards import REWARDS

    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe, overrides)
    if recipe.stage == "grpo":
        reward_funcs = [REWARDS[name] for name in recipe.rewards] + list(PROBES)
        reward_weights = [float(w) for w in recipe.rewards.values()] + [0.0] * len(PROBES)
        args = _trainer_config(recipe, {"reward_weights": reward_weights}, dry_run)
        names = {name: REWARDS[name].__name__ for name in recipe.rewards}
        columns = columns_for(names)
    else:
        from r1lab.train.sft import SFT_COLUMNS

        reward_funcs, reward_weights, columns = [], [], SFT_COLUMNS
        # R1 §2.3.1 fine-tunes on the responses: no loss on the prompt tokens.
        extra = {} if "completion_only_loss" in recipe.trainer else {"completion_only_loss": True}
        args = _trainer_config(recipe, extra, dry_run)
    peft_config = quantization_config = None
    if recipe.peft is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(**{"task_type": "CAUSAL_LM", **recipe.peft})
    if recipe.quantization is not None:
        if not dry_run and not _cuda():
            raise RecipeError("recipe field `quantization` (QLoRA through bitsandbytes) needs a "
                              "CUDA GPU: remove it to train LoRA in full precision")
        from transformers import BitsAndBytesConfig

        quantization_config = BitsAndBytesConfig(**recipe.quantization)
        args.model_init_kwargs = {**(args.model_init_kwargs or {}),
                                  "quantization_config": quantization_config}
    model = local_path(recipe.model)
    return Plan(recipe=recipe, args=args, reward_funcs=reward_funcs,
                reward_weights=reward_weights,
                model=str(model.resolve()) if model else recipe.model,
                train_dataset=_dataset(recipe, dry_run), peft_config=peft_config,
                quantization_config=quantization_config,
                accelerate_config=_accelerate_config(recipe), columns=columns)


def build_trainer(plan: Plan, progress: bool = True):
    """The ``R1LabGRPOTrainer`` (a ``trl.GRPOTrainer``) for a plan; loads the model."""
    from transformers import PrinterCallback, ProgressCallback

    if plan.recipe.stage == "sft":
        from trl import SFTTrainer

        trainer = SFTTrainer(model=plan.model, args=plan.args, train_dataset=plan.train_dataset,
                             peft_config=plan.peft_config)
    else:
        from r1lab.train.trainer import R1LabGRPOTrainer

        trainer = R1LabGRPOTrainer(model=plan.model, reward_funcs=plan.reward_funcs,
                                   args=plan.args, train_dataset=plan.train_dataset,
                                   peft_config=plan.peft_config,
                                   loss_impl=plan.recipe.loss_impl)
    for printer in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(printer)
    key = "reward" if plan.recipe.stage == "grpo" else "loss"  # present in training logs only
    trainer.add_callback(MetricsLog(plan.args.output_dir, plan.columns, key))
    if progress:
        trainer.add_callback(ProgressBar(plan.columns, key))
    return trainer


def _resume_point(output_dir: Path, resume) -> Path | None:
    if resume in ("auto", True):
        return latest_checkpoint(output_dir)
    if resume in ("never", False, None):
        if checkpoints(output_dir):
            raise RecipeError(f"{output_dir} already holds checkpoints of a run: resume it "
                              "(the default), or pick another output_dir "
                              "(--set output_dir=runs/NAME)")
        return None
    problem = checkpoint_problem(resume)
    if problem:
        raise RecipeError(f"cannot resume from {resume}: {problem}")
    return Path(resume)


def _check_same_recipe(output_dir: Path, recipe: Recipe) -> None:
    """A resumed run must be the run that was interrupted, bar the step budget."""
    saved_path = output_dir / RECIPE_COPY
    if not saved_path.is_file():
        return
    saved = _flatten(yaml.safe_load(saved_path.read_text()))
    now = _flatten(recipe.to_dict())
    changed = sorted(k for k in set(saved) | set(now)
                     if saved.get(k) != now.get(k) and k not in RESUMABLE_CHANGES)
    if changed:
        raise RecipeError(
            f"{output_dir} holds a run of a different recipe (changed: {', '.join(changed)}); "
            "resuming would mix two runs. Pick another output_dir (--set output_dir=runs/NAME) "
            "or delete the old run")


def _flatten(data: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "rewards":
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def run(recipe: Recipe | str, overrides=(), resume="auto", progress: bool = True,
        callbacks=()) -> RunResult:
    """Train a recipe with TRL's GRPOTrainer; resume the run folder's last checkpoint.

    Args:
        recipe: a ``Recipe``, a YAML path or a shipped name such as ``"tiny/r1_zero"``.
        overrides: ``"key.sub=value"`` strings applied to a recipe loaded by name.
        resume: ``"auto"`` (newest complete checkpoint in ``output_dir``, if any),
            ``"never"`` (refuse a folder that has checkpoints) or a checkpoint folder.
        progress: show a progress bar (main process only).
        callbacks: extra ``transformers.TrainerCallback`` objects.
    """
    plan = prepare(recipe, overrides)
    output_dir = Path(plan.args.output_dir)
    resume_from = _resume_point(output_dir, resume)
    if resume_from is not None:
        _check_same_recipe(output_dir, plan.recipe)
    trainer = build_trainer(plan, progress=progress)
    for callback in callbacks:
        trainer.add_callback(callback)
    if trainer.accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        if resume_from is not None:
            truncate_metrics(output_dir, checkpoint_step(resume_from))
        elif (output_dir / "metrics.jsonl").exists():
            (output_dir / "metrics.jsonl").unlink()  # a fresh run in a folder without checkpoints
        (output_dir / RECIPE_COPY).write_text(yaml.safe_dump(plan.recipe.to_dict(),
                                                             sort_keys=False))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_TRANSFORMERS_RENAMES, category=FutureWarning)
        result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    final_dir = output_dir / FINAL_DIR
    if plan.recipe.stage == "sft" and plan.peft_config and not plan.quantization_config:
        # The next stage starts from this folder: merge the LoRA adapters into a whole model
        # (a 4-bit QLoRA base cannot be merged losslessly; its adapters are saved as they are).
        trainer.model = trainer.model.merge_and_unload()
    trainer.save_model(str(final_dir))
    if trainer.accelerator.is_main_process:
        trainer.processing_class.save_pretrained(str(final_dir))
    return RunResult(output_dir=output_dir, final_dir=final_dir,
                     metrics=read_metrics(output_dir),
                     train_runtime_s=result.metrics.get("train_runtime", float("nan")),
                     resumed_from=resume_from, trainer=trainer)

