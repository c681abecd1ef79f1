"""The ``r1lab`` command: one subcommand per pipeline stage.

Each subcommand is an entry in ``COMMANDS``: a function that adds its arguments to an
argparse parser and a function that runs it and returns the exit status. Mistakes the user
can fix (a missing model folder, an unknown task) raise ``UsageError``: one line on stderr
naming the problem and the fix, exit status 2, no traceback.

Heavy imports (torch, transformers, datasets) happen inside the handlers, so
``r1lab --help`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from r1lab.sources import load_model_and_tokenizer, model_location
from r1lab.tasks import TASK_NAMES, TaskError, check_task, load_problems
from r1lab.train.stage import STAGES

USAGE_ERROR = 2
EXAMPLE_HUB_ID = "Qwen/Qwen2.5-Math-1.5B"


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit status 2."""


def _checked(convert: Callable[[str], object], ok: Callable, rule: str) -> Callable:
    """An argparse type: ``convert`` the text, then require ``ok``; a refusal says ``rule`` and
    what was typed, and argparse puts the flag as typed in front ("argument --k: must be …")."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {rule}; got {text}") from None
        if not ok(value):  # NaN fails every comparison, so it is refused too
            raise argparse.ArgumentTypeError(f"must be {rule}; got {text}")
        return value

    return parse


_positive_int = _checked(int, lambda value: value >= 1, "an integer >= 1")
_temperature = _checked(float, lambda value: value >= 0, ">= 0 (0 = greedy)")
# numpy's and Python's generators both take this range
_seed = _checked(int, lambda value: 0 <= value < 2**32, "an integer from 0 to 2**32 - 1")
_top_p = _checked(float, lambda value: 0 < value <= 1, "in (0, 1]")


# ---------------------------------------------------------------- r1lab eval


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="a local model folder (written by save_pretrained) or a hub id "
                             f"such as {EXAMPLE_HUB_ID}")
    parser.add_argument("--task", default="arithmetic",
                        help="arithmetic (the tiny world's test split), arithmetic-zh (test "
                             "problems asked in Chinese), arithmetic-mix (half in Chinese), "
                             "gsm8k:SOURCE or math:SOURCE (SOURCE = a local .jsonl file or a "
                             "hub dataset id; test split). Default: %(default)s")
    parser.add_argument("--split", choices=["test", "validation"], default="test",
                        help="test: the split results are reported on; validation: questions "
                             "for choosing settings (learning rates, weights), never in a "
                             "training draw nor in a reported test set (arithmetic tasks; for "
                             "a hub id, its own split; a local file is read as given). "
                             "Default: %(default)s")
    parser.add_argument("--n", type=_positive_int, default=500,
                        help="number of problems (at most, for gsm8k/math). Default: %(default)s")
    parser.add_argument("--k", type=_positive_int, default=8,
                        help="samples per problem; pass@1 is their mean correctness. "
                             "Default: %(default)s")
    parser.add_argument("--seed", type=_seed, default=0,
                        help="seeds the arithmetic problems and the sampling (0 to 2**32 - 1). "
                             "Default: %(default)s")
    parser.add_argument("--temperature", type=_temperature, default=0.6,
                        help="sampling temperature; R1 uses 0.6; 0 = greedy, one sample. "
                             "Default: %(default)s")
    parser.add_argument("--top-p", type=_top_p, default=0.95,
                        help="nucleus sampling; R1 uses 0.95. Default: %(default)s")
    parser.add_argument("--max-new-tokens", type=_positive_int, default=256,
                        help="generation budget per sample. Default: %(default)s")
    parser.add_argument("--batch-size", type=_positive_int, default=64,
                        help="sequences per generate call (problems x k). Default: %(default)s")
    parser.add_argument("--prefill", default="",
                        help='text that starts every answer: "<think>" to make the model reason, '
                             '"<answer>" to make it answer directly. Default: none')
    parser.add_argument("--device", default="auto",
                        help="cpu, cuda, cuda:1, … ; auto = cuda when present. Default: auto")
    parser.add_argument("--json", type=Path, metavar="OUT.json",
                        help="also write the full report, every sample included, as JSON")
    parser.add_argument("--no-progress", action="store_true",
                        help="hide progress bars (evaluation, model and dataset loading)")


def model_source(name: str) -> str:
    """``name`` as ``from_pretrained`` takes it: a checked local folder, or a hub id.

    Checked before anything slow runs, so a mistyped folder fails at once. A relative path
    is looked for under the current folder, then under the repository root
    (``r1lab.sources.local_path``), as recipes do."""
    try:
        path = model_location(name)
    except ValueError as error:
        raise UsageError(f"model {error}: pass a folder written by save_pretrained (model "
                         f"and tokenizer), or a hub id such as {EXAMPLE_HUB_ID}") from None
    return name if path is None else str(path)


def load_model(source: str, device: str, progress: bool = True):
    """Model and tokenizer from ``model_source(...)``; ``UsageError`` if they cannot load."""
    import torch
    from transformers.utils import logging

    if not progress:
        logging.disable_progress_bar()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        model, tokenizer = load_model_and_tokenizer(source)
    except (OSError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise UsageError(f"cannot load model {source!r} ({first_line}): pass a local folder "
                         f"written by save_pretrained or a reachable hub id") from None
    try:
        model.to(device)
    except (RuntimeError, AssertionError) as error:
        raise UsageError(f"cannot use device {device!r} ({error}): try --device cpu") from None
    return model, tokenizer


def writable_file(path: Path, what: str) -> Path:
    """``path`` checked as a file r1lab may write, before any slow work (``UsageError``)."""
    path = path.expanduser()
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder: give a file name, e.g. {path / 'report.json'}")
    parent = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise UsageError(f"{what} {path}: {parent} is a file, not a folder; pick another path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=True):
            pass
    except OSError as error:
        raise UsageError(f"{what} {path} cannot be written ({error.strerror}): pick a folder "
                         "you can write to") from None
    return path


def writable_folder(path: Path, what: str, fix: str) -> Path:
    """``path`` checked as a folder r1lab may create and write into, before any model loads
    (``UsageError`` naming ``what`` and ending in ``fix``); nothing is created."""
    path = Path(path).expanduser()
    if os.path.exists(path) and not path.is_dir():
        raise UsageError(f"{what} {path} is a file, not a folder: {fix}")
    existing = next((p for p in (path, *path.parents) if os.path.exists(p)), Path("."))
    if not existing.is_dir():
        raise UsageError(f"{what} {path} is inside the file {existing}: {fix}")
    try:  # the one sure test of writing: write (a file that deletes itself)
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".r1lab-write-check-"):
            pass
    except OSError as error:
        verb = "cannot be written" if existing == path else "cannot be created"
        raise UsageError(f"{what} {path} {verb} ({error.strerror}): {fix}") from None
    return path


def run_eval(args: argparse.Namespace) -> int:
    if args.json:
        args.json = writable_file(args.json, "--json")
    source = model_source(args.model)
    try:
        problems = load_problems(args.task, args.n, args.seed, progress=not args.no_progress,
                                 split=args.split)
    except TaskError as error:
        raise UsageError(str(error)) from None
    if not problems:
        raise UsageError(f"task {args.task!r} gave no problems: check the source file")
    model, tokenizer = load_model(source, args.device, progress=not args.no_progress)
    from r1lab.eval import evaluate

    report = evaluate(model, tokenizer, problems, k=args.k, temperature=args.temperature,
                      top_p=args.top_p, max_new_tokens=args.max_new_tokens,
                      batch_size=args.batch_size, seed=args.seed, prefill=args.prefill,
                      progress=not args.no_progress)
    report.settings.update(model=args.model, task=args.task, split=args.split)
    print(f"{args.model} on {args.task}" + (f" ({args.split})" if args.split != "test" else ""))
    print(report.table())
    if args.json:
        report.to_json(args.json)  # atomically
        print(f"wrote {args.json}")
    return 0


# ---------------------------------------------------------------- r1lab sample


_share = _checked(float, lambda value: 0 <= value <= 10, "a number from 0 to 10")
_sampling_temperature = _checked(float, lambda value: value > 0,
                                 "> 0 (rejection sampling needs varied samples; R1 uses 0.6)")


class _Given(argparse.Action):
    """argparse's store (store_const with nargs=0) that also notes the option as given: a
    recipe holds these settings, and argparse alone cannot tell a default from the same value
    typed on the command line."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)
        namespace.given = [*namespace.given, option_string]


# The options a sampling recipe holds, and the recipe field to --set instead.
SAMPLE_RECIPE_FIELDS = {
    "--out": "out", "--task": "task.name", "--split": "task.split", "--n": "task.n",
    "--k": "sampling.k", "--seed": "sampling.seed", "--temperature": "sampling.temperature",
    "--top-p": "sampling.top_p", "--max-new-tokens": "sampling.max_new_tokens",
    "--max-tokens": "sampling.max_tokens", "--max-per-prompt": "sampling.max_per_prompt",
    "--any-format": "sampling.readable", "--non-reasoning": "sampling.non_reasoning",
    "--batch-size": "sampling.batch_size",
}


def _add_set_argument(parser: argparse.ArgumentParser, example: str) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help=f"override a recipe field, e.g. {example} (repeatable; VALUE is "
                             "YAML)")


def add_sample_arguments(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(given=[])
    parser.add_argument("model", metavar="MODEL", nargs="?",
                        help="the model to sample: a local folder (e.g. "
                             "data/models/tiny-reasoning-rl, the stage-2 checkpoint) or a hub id "
                             "(or give --recipe)")
    parser.add_argument("--out", type=Path, metavar="DIR", action=_Given,
                        help="output folder: samples.jsonl, data.jsonl (the SFT rows) and "
                             "manifest.json; re-running the same command resumes it")
    parser.add_argument("--recipe", metavar="RECIPE",
                        help="a sampling recipe instead of MODEL and the options below: a YAML "
                             "file with a `sampling:` block, or a shipped name such as "
                             "single_gpu/rejection_sampling_vllm (see --list); it names the "
                             "backend, transformers or vllm")
    _add_set_argument(parser, "--set sampling.k=16 --set vllm.tensor_parallel_size=2")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the resolved settings (with backend vllm, the vllm.LLM and "
                             "vllm.SamplingParams arguments) without loading the model, "
                             "importing vLLM or sampling")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="with --recipe: sample on a CPU for a smoke check (backend "
                             "transformers instead of vLLM, 2 samples of 16 tokens for 2 "
                             "prompts, into OUT-cpu-smoke; r1lab.train.cpu_smoke; --set wins)")
    parser.add_argument("--list", action="store_true", help="list the shipped sampling recipes")
    parser.add_argument("--task", default="arithmetic-mix", action=_Given,
                        help=f"{TASK_NAMES} (as for r1lab eval). Default: %(default)s")
    parser.add_argument("--split", choices=["train", "test"], default="train", action=_Given,
                        help="which split to sample prompts from. Default: %(default)s")
    parser.add_argument("--n", type=_positive_int, default=1000, action=_Given,
                        help="number of prompts. Default: %(default)s")
    parser.add_argument("--k", type=_positive_int, default=4, action=_Given,
                        help="samples per prompt. Default: %(default)s")
    parser.add_argument("--seed", type=_seed, default=0, action=_Given,
                        help="seeds the prompts and the sampling. Default: %(default)s")
    parser.add_argument("--temperature", type=_sampling_temperature, default=0.6,
                        action=_Given,
                        help="sampling temperature (> 0); R1 uses 0.6. Default: %(default)s")
    parser.add_argument("--top-p", type=_top_p, default=0.95, action=_Given,
                        help="nucleus sampling; R1 uses 0.95. Default: %(default)s")
    parser.add_argument("--max-new-tokens", type=_positive_int, default=192, action=_Given,
                        help="generation budget; a sample that reaches it is dropped as "
                             "overlong. Default: %(default)s")
    parser.add_argument("--max-tokens", type=_positive_int, action=_Given,
                        help="drop samples longer than this many tokens as overlong")
    parser.add_argument("--max-per-prompt", type=_positive_int, default=2, action=_Given,
                        help="kept samples per prompt at most. Default: %(default)s")
    parser.add_argument("--any-format", action=_Given, nargs=0, const=True, default=False,
                        help="keep any well-formed completion (R1-Zero tags too), not only the "
                             "readable format")
    parser.add_argument("--non-reasoning", type=_share, default=0.0, metavar="RATIO",
                        action=_Given,
                        help="add the tiny world's non-reasoning requests, RATIO rows per kept "
                             "reasoning row (R1: 1/3 = 0.333). Default: %(default)s")
    parser.add_argument("--batch-size", type=_positive_int, default=256, action=_Given,
                        help="sequences per generate call. Default: %(default)s")
    parser.add_argument("--device", default="auto", action=_Given,
                        help="backend transformers: cpu, cuda, cuda:1, … ; auto = cuda when "
                             "present. Default: auto")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _sample_recipe_from_options(args: argparse.Namespace):
    """The command line's MODEL and options as a sampling recipe (backend transformers)."""
    from r1lab.sampling import SamplingConfig
    from r1lab.sampling_recipe import SamplingRecipe, SamplingTask

    if args.overrides:
        raise UsageError("--set changes a recipe field: give --recipe too")
    if args.cpu_smoke:
        raise UsageError("--cpu-smoke shrinks a sampling recipe: give --recipe too (or, without "
                         "one, --n, --k and --max-new-tokens)")
    if args.model is None or args.out is None:
        raise UsageError("give MODEL and --out DIR, or a sampling recipe: --recipe NAME "
                         "(r1lab sample --list)")
    try:
        config = SamplingConfig(k=args.k, temperature=args.temperature, top_p=args.top_p,
                                max_new_tokens=args.max_new_tokens, max_tokens=args.max_tokens,
                                max_per_prompt=args.max_per_prompt,
                                readable=not args.any_format, batch_size=args.batch_size,
                                seed=args.seed, non_reasoning=args.non_reasoning)
    except ValueError as error:
        raise UsageError(str(error).replace("SamplingConfig.", "--").replace("_", "-")) from None
    return SamplingRecipe(model=args.model, task=SamplingTask(args.task, args.n, args.split),
                          sampling=config, out=str(args.out))


def _sample_recipe_from_file(args: argparse.Namespace):
    """``--recipe`` with its ``--set`` overrides; the options a recipe holds are refused."""
    from r1lab.sampling_recipe import load_sampling_recipe
    from r1lab.train import RecipeError

    if args.model is not None:
        raise UsageError(f"with --recipe the model is the recipe's: drop {args.model}, or "
                         f"use --set model={args.model}")
    for option in args.given:
        if option in SAMPLE_RECIPE_FIELDS:
            field = SAMPLE_RECIPE_FIELDS[option]
            value = "false" if option == "--any-format" else "VALUE"
            raise UsageError(f"{option} is the recipe field `{field}` with --recipe: use "
                             f"--set {field}={value}")
    try:
        overrides = args.overrides
        if args.cpu_smoke:
            from r1lab.train.cpu_smoke import cpu_smoke_sampling_overrides

            overrides = [cpu_smoke_sampling_overrides(args.recipe), *overrides]
        recipe = load_sampling_recipe(args.recipe, overrides)
    except RecipeError as error:
        raise UsageError(str(error)) from None
    if recipe.backend == "vllm" and "--device" in args.given:
        raise UsageError("--device is for backend transformers; vLLM runs on the GPUs "
                         "CUDA_VISIBLE_DEVICES shows (vllm.tensor_parallel_size of them)")
    return recipe


def run_sample(args: argparse.Namespace) -> int:
    from r1lab.sampling import SamplingError, finished, rejection_sample, vllm_engine

    if args.list:
        from r1lab.train import available_recipes

        print("\n".join(available_recipes("sample")))
        return 0
    if args.recipe:
        recipe = _sample_recipe_from_file(args)
        task_field = "recipe field `task.name`: "
        out = writable_folder(Path(recipe.out), "recipe field `out`",
                              "give a folder you can write to with --set out=DIR")
    else:
        recipe = _sample_recipe_from_options(args)
        task_field = ""
        out = writable_folder(Path(recipe.out), "--out", "give --out a folder you can write to")
    try:
        check_task(recipe.task.name)
    except TaskError as error:
        raise UsageError(f"{task_field}{error}") from None
    source = model_source(recipe.model)
    if args.dry_run:
        print(recipe.summary(source))
        print("dry run: nothing was loaded or sampled")
        return 0
    progress = not args.no_progress
    try:
        problems = load_problems(recipe.task.name, recipe.task.n, recipe.sampling.seed,
                                 progress=progress, split=recipe.task.split)
    except TaskError as error:
        raise UsageError(f"{task_field}{error}") from None
    if not problems:
        raise UsageError(f"task {recipe.task.name!r} gave no problems: check the source file")
    try:
        manifest = finished(out, problems, recipe.sampling, model_name=recipe.model,
                            backend=recipe.backend)
        if manifest is None:  # load the model (or start the vLLM engine) only to sample
            if recipe.backend == "vllm":
                model, tokenizer = vllm_engine(source, **recipe.vllm.kwargs()), None
            else:
                model, tokenizer = load_model(source, args.device, progress=progress)
            manifest = rejection_sample(model, tokenizer, problems, out, recipe.sampling,
                                        model_name=recipe.model, backend=recipe.backend,
                                        progress=progress)
    except SamplingError as error:
        raise UsageError(str(error)) from None
    print(f"{manifest['samples']} samples of {manifest['prompts']} prompts; kept "
          f"{manifest['kept']} ({manifest['acceptance']:.1%})")
    for row in manifest["filters"]:
        print(f"  {row['filter']:<26} removed {row['removed']:>6}   remaining {row['remaining']:>6}")
    rows = manifest["rows"]
    print(f"wrote {out / 'data.jsonl'}: {rows['reasoning']} reasoning + "
          f"{rows['non-reasoning']} non-reasoning rows")
    return 0


# ---------------------------------------------------------------- the command


PRESET_NAMES = ("base", "student")  # r1lab.tiny.pretrain.PRESETS, named here to keep --help light


def add_pretrain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preset", choices=PRESET_NAMES, help="which tiny model to train")
    parser.add_argument("--out", type=Path, help="output folder (default: data/models/<name> in the repository)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the model already in the output folder (the shipped "
                             "ones included); without it such a folder is refused")
    parser.add_argument("--documents", type=_positive_int, help="override the corpus size")
    parser.add_argument("--max-steps", type=_positive_int,
                        help="stop after N optimizer steps (smoke runs). Default: the "
                             "preset's epochs")
    parser.add_argument("--seed", type=int, help="override the seed (0 to 2**32 - 1)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run_pretrain(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from r1lab.tiny.pretrain import PRESETS, SHIPPED_MODELS, PretrainError, pretrain

    config = PRESETS[args.preset]
    if args.documents:
        config = replace(config, documents=args.documents)
    if args.seed is not None:
        config = replace(config, seed=args.seed)
    try:
        out = pretrain(config, args.out or SHIPPED_MODELS / config.name,
                       -1 if args.max_steps is None else args.max_steps,
                       progress=not args.no_progress, overwrite=args.overwrite)
    except PretrainError as error:
        raise UsageError(str(error)) from None
    print(f"saved {out}; measure it and write its card with: "
          f"python -m r1lab.tiny.card {out} --role {args.preset}")
    return 0


# ---------------------------------------------------------------- r1lab train


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", metavar="RECIPE",
                        help="a recipe YAML file, or a shipped recipe name such as tiny/r1_zero "
                             "(see --list); its `stage:` is one of "
                             f"{', '.join(STAGES)}", nargs="?")
    _add_set_argument(parser, "--set trainer.learning_rate=5e-5 --set output_dir=runs/lr5e-5")
    parser.add_argument("--dry-run", action="store_true",
                        help="resolve the recipe into TRL/PEFT/accelerate objects and print "
                             "them, without loading weights, fetching data or training")
    parser.add_argument("--cpu-smoke", action="store_true",
                        help="a full-scale recipe on a CPU for a smoke check: fp32, no vLLM, "
                             "no DeepSpeed/FSDP, no 4-bit, two optimizer steps of a tiny batch, "
                             "into OUTPUT_DIR-cpu-smoke (r1lab.train.cpu_smoke says each field; "
                             "--set wins over it)")
    parser.add_argument("--resume", default="auto", metavar="auto|never|CHECKPOINT",
                        help="auto: continue from the run folder's newest complete checkpoint "
                             "(default); never: refuse a folder that has checkpoints; or a "
                             "checkpoint folder")
    parser.add_argument("--list", action="store_true", help="list the shipped recipes")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run_train(args: argparse.Namespace) -> int:
    from r1lab.train import RecipeError, available_recipes, load_recipe, prepare

    if args.list:
        print("\n".join(available_recipes()))
        return 0
    if not args.recipe:
        raise UsageError("give a recipe (a YAML file or a name from r1lab train --list), "
                         "e.g. r1lab train tiny/r1_zero")
    try:
        overrides = args.overrides
        if args.cpu_smoke:
            from r1lab.train.cpu_smoke import cpu_smoke_overrides

            overrides = [cpu_smoke_overrides(args.recipe), *overrides]
        recipe = load_recipe(args.recipe, overrides)
        if args.dry_run:
            print(prepare(recipe, dry_run=True).summary())
            print("dry run: recipe resolved; nothing was loaded or trained")
            return 0
        writable_folder(Path(recipe.output_dir), "recipe field `output_dir`",
                        "pick another with --set output_dir=runs/NAME")
        from r1lab.train import run

        if args.no_progress:  # the model-loading and saving bars too, not only training's
            from transformers.utils import logging

            logging.disable_progress_bar()
        result = run(recipe, resume=args.resume, progress=not args.no_progress)
    except RecipeError as error:
        raise UsageError(str(error)) from None
    _end_distributed()
    if result.trainer.accelerator.is_main_process:
        last = result.metrics[-1] if result.metrics else {}
        shown = ", ".join(f"{k} {last[k]:.3f}" for k in (
            "reward", "accuracy", "format", "completion_length", "loss", "token_accuracy")
            if k in last)
        print(f"trained {result.train_runtime_s:.0f} s; last step: {shown}")
        print(f"model: {result.final_dir}; metrics: {result.output_dir / 'metrics.csv'}")
    return 0


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    from r1lab.pipeline import BUDGETS, DEFAULT_OUT, STEP_NAMES

    parser.add_argument("scale", choices=["tiny"],
                        help="tiny: the tiny world's recipes, on CPU (the GPU rungs' recipes "
                             "run one by one with r1lab train)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                        help=f"one folder per step under DIR (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=_seed, default=0,
                        help="seeds every step (0 to 2**32 - 1): seeds 0, 1, 2 in three --out "
                             "folders are three independent pipelines")
    parser.add_argument("--until", choices=STEP_NAMES, metavar="STEP",
                        help=f"stop after STEP ({', '.join(STEP_NAMES)})")
    parser.add_argument("--budget", choices=list(BUDGETS), default="quick",
                        help="how big each step is: "
                             + "; ".join(f"{name}: {b.what}" for name, b in BUDGETS.items())
                             + " (default quick)")


def run_pipeline_command(args: argparse.Namespace) -> int:
    import time

    from r1lab.pipeline import RESULTS_MD, STEP_NAMES, PipelineError, run_pipeline
    from r1lab.sampling import SamplingError
    from r1lab.train import RecipeError

    out = writable_folder(Path(args.out), "--out", "give --out a folder you can write to")
    started = time.perf_counter()
    try:
        folders = run_pipeline(out, seed=args.seed, until=args.until,
                               budget=args.budget)
    except (RecipeError, PipelineError, SamplingError) as error:
        raise UsageError(str(error)) from None
    minutes = (time.perf_counter() - started) / 60
    last = folders[args.until or STEP_NAMES[-1]]
    shown = last / RESULTS_MD if last.name == "results" else last
    print(f"done in {minutes:.1f} min: {shown}")
    return 0


def _end_distributed() -> None:
    """Close the process group a multi-process launch opened (a clean exit for every rank)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


@dataclass(frozen=True)
class Command:
    """A subcommand: one-line help, its arguments, and its handler (returns the exit status)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str = ""


COMMANDS: dict[str, Command] = {
    "eval": Command(
        help="sample k answers per problem and report pass@1, pass@k, format, length, mixing",
        description="Evaluate a model with the DeepSeek-R1 protocol (R1 §3): k samples per "
                    "question at temperature 0.6 and top-p 0.95; pass@1 is the mean "
                    "correctness over the k samples, averaged over questions. Prints a table "
                    "with 95% confidence intervals.",
        add_arguments=add_eval_arguments,
        run=run_eval,
    ),
    "train": Command(
        help="train a recipe (R1-Zero GRPO …) with TRL; resumes its run folder",
        description="Run a recipe: a YAML file naming its stage, the model, the data, the "
                    "rewards and the arguments of the stage's TRL config (GRPOConfig for "
                    "grpo…). The same command runs under accelerate launch. Metrics go to OUTPUT_DIR/metrics.jsonl and metrics.csv; a killed "
                    "run resumes from its newest complete checkpoint when re-run.",
        add_arguments=add_train_arguments,
        run=run_train,
    ),
    "pipeline": Command(
        help="run R1's whole pipeline in order, from R1-Zero to distillation, and write "
             "the results table",
        description="Run the DeepSeek-R1 pipeline on the tiny world, each step into its own "
                    "folder under --out: R1-Zero (tiny/r1_zero), the cold-start data's three "
                    "collection paths, cold-start SFT (tiny/cold_start_sft), then reasoning RL "
                    "with the language-consistency reward (tiny/reasoning_rl), whose final/ is "
                    "the stage-2 checkpoint, rejection sampling of that checkpoint "
                    "(r1lab.sampling) and SFT of the base on the kept samples plus "
                    "non-reasoning requests (tiny/rejection_sft), the stage-3 model; the two "
                    "reward models (tiny/reward_model_helpful, _harmless) and RL for all "
                    "scenarios (tiny/all_scenario_rl), the teacher; its filtered samples and "
                    "the small student fine-tuned on them (tiny/distill), R1-Zero-style RL on "
                    "the student given the same minutes (tiny/student_rl) and RL after "
                    "distillation (tiny/distill_rl); then every model on held-out sets, "
                    "written to OUT/results/results.md, .json and .png. A finished step is "
                    "skipped and a killed one resumes, so re-running the same command "
                    "continues where it stopped.",
        add_arguments=add_pipeline_arguments,
        run=run_pipeline_command,
    ),
    "sample": Command(
        help="rejection sampling: k samples per prompt, keep the correct and readable ones "
             "as SFT rows",
        description="Rejection sampling (R1 §2.3.3): sample k completions per prompt from a "
                    "model, keep those that are correct (the accuracy rule), readable, in one "
                    "language, not cut off, not duplicates, at most --max-per-prompt per "
                    "prompt, and write them as SFT rows (prompt, completion, kind, source) "
                    "to DIR/data.jsonl with DIR/manifest.json (what each filter removed). "
                    "Samples are saved as they come: re-running a killed command resumes it. "
                    "MODEL and the options sample with transformers; a sampling recipe "
                    "(--recipe, e.g. single_gpu/rejection_sampling_vllm) may name vLLM instead, "
                    "for GPUs.",
        add_arguments=add_sample_arguments,
        run=run_sample,
    ),
    "pretrain": Command(
        help="train one of the tiny world's models from its seed (base, student)",
        description="Build the synthetic corpus and tokenizer, pretrain a tiny Llama-architecture "
                    "model on CPU, and save it as a hub-style folder (data/models/<name>).",
        add_arguments=add_pretrain_arguments,
        run=run_pretrain,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="r1lab",
        description="r1lab: run the DeepSeek-R1 pipeline stages from the command line.",
        epilog="Example: r1lab eval path/to/model --task arithmetic --n 100 --k 8",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help,
                                    description=command.description or command.help)
        command.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return USAGE_ERROR
    try:
        return COMMANDS[args.command].run(args)
    except UsageError as error:
        print(f"r1lab {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
