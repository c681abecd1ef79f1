"""What every notebook's first cell needs: the scale it runs at, and its scratch run folders.

``R1LAB_SCALE`` (``tiny`` | ``small`` | ``single_gpu`` | ``multi_gpu``) picks the recipes a
notebook runs; unset means ``tiny``. ``small`` is the real-model rung on a CPU
(SmolLM2-135M-Instruct and GSM8K, built by ``make small``; recipes ``small/``). A notebook
that only makes sense in the tiny world (it trains the tiny models, or asserts what they
learn) calls ``require_tiny`` first, so another scale stops at once with one line saying
what to run instead at that scale; a notebook of the real-model rung calls ``require_small``
(``make test-small`` runs those under nbval; ``make test`` skips them, saying why).

>>> read_scale({})
'tiny'
>>> read_scale({"R1LAB_SCALE": "huge"})
Traceback (most recent call last):
...
ValueError: R1LAB_SCALE must be one of tiny, small, single_gpu, multi_gpu; got 'huge'
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from r1lab.sources import REPO_ROOT

SCALES = ("tiny", "small", "single_gpu", "multi_gpu")


class ScaleError(RuntimeError):
    """A notebook asked to run at a scale it does not support."""


def read_scale(environ=os.environ) -> str:
    """``R1LAB_SCALE`` from the environment; a typo fails instead of falling back to tiny."""
    scale = environ.get("R1LAB_SCALE", "tiny")
    if scale not in SCALES:
        raise ValueError(f"R1LAB_SCALE must be one of {', '.join(SCALES)}; got {scale!r}")
    return scale


ZERO3 = "accelerate launch --config_file r1lab/recipes/accelerate/zero3.yaml -m"
NO_SMALL_DATA = ("the registries hold no readable long chains of thought, and SmolLM2-135M "
                 "got no GSM8K sample right to collect its own (0 of 368 held out, 0 of 480 "
                 "in RL: benchmarks/results/small_r1_zero.json)")

# What a tiny-only notebook says at every other scale: one sentence each, its commands in
# backticks (tests/test_notebook_scales.py resolves every `r1lab train` one with --dry-run).
AT_OTHER_SCALES = {
    "03b": {
        "small": "profile the real base model with `r1lab eval data/small/smollm2-135m-instruct "
                 "--task gsm8k:data/small/gsm8k/test.jsonl --k 4` (after `make small`)",
        "default": "profile the base model with `r1lab eval Qwen/Qwen2.5-Math-1.5B "
                   "--task gsm8k:openai/gsm8k --k 4`",
    },
    "04": {
        "small": "open notebook 04b, the same stage live on SmolLM2-135M-Instruct, or run "
                 "`r1lab train small/r1_zero` (after `make small`)",
        "single_gpu": "run `r1lab train single_gpu/r1_zero_lora`",
        "multi_gpu": f"run `{ZERO3} r1lab train multi_gpu/r1_zero_zero3`",
    },
    "05": {
        "small": f"no small recipe covers the cold start yet: {NO_SMALL_DATA}; the small "
                 "rung's run is `r1lab train small/r1_zero`",
        "single_gpu": "fine-tune on DeepSeek-R1's own readable chains with `r1lab train "
                      "single_gpu/cold_start_lora --set task.source=open-r1/OpenR1-Math-220k`",
        "multi_gpu": f"fine-tune on DeepSeek-R1's own readable chains with `{ZERO3} r1lab train "
                     "multi_gpu/cold_start_zero3 --set task.source=open-r1/OpenR1-Math-220k`",
    },
    "06": {
        "small": "train on the Chinese problems with the language reward: `r1lab train "
                 "small/r1_zero --set rewards.language=1.0 --set "
                 "task.source=data/small/gsm8k/train-zh.jsonl --set "
                 "output_dir=runs/small-language` (after `make small`)",
        "single_gpu": "run `r1lab train single_gpu/r1_zero_lora --set rewards.language=1.0 "
                      "--set output_dir=runs/single-gpu-language`",
        "multi_gpu": f"run `{ZERO3} r1lab train multi_gpu/r1_zero_zero3 --set "
                     "rewards.language=1.0 --set output_dir=runs/multi-gpu-language`",
    },
    "07": {
        "small": f"no small recipe covers rejection sampling yet: {NO_SMALL_DATA}; the small "
                 "rung's run is `r1lab train small/r1_zero`",
        "single_gpu": "sample the RL checkpoint with `r1lab sample --recipe "
                      "single_gpu/rejection_sampling_vllm --set "
                      "model=runs/single-gpu-r1-zero-lora/final`, then fine-tune on what it "
                      "kept with `r1lab train single_gpu/cold_start_lora --set "
                      "task.source=runs/rejection-sampling/data.jsonl --set "
                      "output_dir=runs/single-gpu-rejection-sft`",
        "multi_gpu": "sample with `r1lab sample --recipe single_gpu/rejection_sampling_vllm`, "
                     f"then fine-tune with `{ZERO3} r1lab train multi_gpu/rejection_sft_zero3`",
    },
    "08": {
        "small": "no small recipe covers all-scenario RL yet: it needs reward models for "
                 "helpfulness and harmlessness, and none installs from the registries; the "
                 "small rung's run is `r1lab train small/r1_zero`",
        "default": "run `r1lab train single_gpu/all_scenario_rl_lora` (hub reward models)",
    },
    "09": {
        "small": "no small recipe covers distillation yet: the teacher's chains "
                 "(open-r1/OpenR1-Math-220k) come from the hub, not from a registry package; "
                 "the small rung's run is `r1lab train small/r1_zero`",
        "single_gpu": "run `r1lab train single_gpu/distill_lora`",
        "multi_gpu": f"run `{ZERO3} r1lab train multi_gpu/distill_zero3`",
    },
    "11": {
        "small": "each finding is one override of R1-Zero, e.g. Dr. GRPO's length bias: "
                 "`r1lab train small/r1_zero --set trainer.loss_type=dr_grpo --set "
                 "output_dir=runs/small-dr-grpo` (after `make small`)",
        "default": "each finding is one override of R1-Zero, e.g. Dr. GRPO's length bias: "
                   "`r1lab train single_gpu/r1_zero_lora --set trainer.loss_type=dr_grpo "
                   "--set output_dir=runs/single-gpu-dr-grpo`",
    },
}


def at_scale(notebook: str, scale: str, instead=None) -> str:
    """What a tiny-only notebook advises at ``scale`` (``instead`` as ``require_tiny`` takes it).

    >>> at_scale("04", "single_gpu")
    'run `r1lab train single_gpu/r1_zero_lora`'
    """
    if instead is None:
        if notebook not in AT_OTHER_SCALES:
            raise ValueError(f"require_tiny: notebook {notebook!r} has no entry in "
                             "AT_OTHER_SCALES; pass `instead`")
        instead = AT_OTHER_SCALES[notebook]
    if isinstance(instead, dict):
        advice = instead.get(scale, instead.get("default"))
    else:
        advice = f"run `{instead}` from a shell" if instead else None
    if not advice:
        raise ValueError(f"require_tiny: notebook {notebook} names nothing for "
                         f"R1LAB_SCALE={scale} (give {scale!r} or 'default')")
    return advice


def require_tiny(notebook: str, instead=None, environ=os.environ) -> str:
    """Stop a tiny-world-only notebook at another scale, saying in one line what to do there.

    ``instead``: one command for every other scale; a dict from scale to a sentence of advice
    (a scale it does not name gets its ``"default"``); or ``None``: the notebook's entry in
    ``AT_OTHER_SCALES``. Returns the scale ("tiny") when the notebook runs.

    >>> require_tiny("04", "r1lab train single_gpu/r1_zero_lora", {"R1LAB_SCALE": "single_gpu"})
    Traceback (most recent call last):
    ...
    r1lab.notebook.ScaleError: notebook 04 runs the tiny world only, and R1LAB_SCALE is single_gpu: at that scale, run `r1lab train single_gpu/r1_zero_lora` from a shell (or unset R1LAB_SCALE to run this notebook)
    >>> require_tiny("04", environ={"R1LAB_SCALE": "small"})
    Traceback (most recent call last):
    ...
    r1lab.notebook.ScaleError: notebook 04 runs the tiny world only, and R1LAB_SCALE is small: at that scale, open notebook 04b, the same stage live on SmolLM2-135M-Instruct, or run `r1lab train small/r1_zero` (after `make small`) (or unset R1LAB_SCALE to run this notebook)
    """
    scale = read_scale(environ)
    if scale == "tiny":
        return scale
    advice = at_scale(notebook, scale, instead)
    raise ScaleError(f"notebook {notebook} runs the tiny world only, and R1LAB_SCALE is "
                     f"{scale}: at that scale, {advice} (or unset R1LAB_SCALE to run this "
                     "notebook)")


def require_small(notebook: str, environ=os.environ) -> str:
    """Stop a notebook of the small rung unless ``R1LAB_SCALE`` is ``small`` and ``make small``
    has built ``data/small``, saying in one line what to run. Returns "small" when it runs.

    >>> require_small("04b", {})
    Traceback (most recent call last):
    ...
    r1lab.notebook.ScaleError: notebook 04b runs the small rung (SmolLM2-135M-Instruct on GSM8K), and R1LAB_SCALE is tiny: run `make small`, then `R1LAB_SCALE=small make lab` (headless: `make test-small`)
    """
    scale = read_scale(environ)
    if scale != "small":
        raise ScaleError(f"notebook {notebook} runs the small rung (SmolLM2-135M-Instruct on "
                         f"GSM8K), and R1LAB_SCALE is {scale}: run `make small`, then "
                         "`R1LAB_SCALE=small make lab` (headless: `make test-small`)")
    from r1lab.small import GSM8K_DIR, MODEL_DIR, require

    require(MODEL_DIR)  # SmallScaleMissing: "... is not built: run make small"
    require(GSM8K_DIR)
    return scale


def run_folder(name: str, fresh: bool = True) -> Path:
    """``runs/<name>`` under the repository root, emptied first when ``fresh`` (a notebook's
    scratch runs start over each time it runs top to bottom)."""
    folder = REPO_ROOT / "runs" / name
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def quiet_downloads() -> None:
    """Hide transformers' and datasets' loading bars (they make committed outputs noisy)."""
    import datasets
    from transformers.utils import logging

    logging.disable_progress_bar()
    datasets.disable_progress_bars()


STATIC_NOTE = ("Static copy: this is what the explorer shows at its starting values. Run the "
               "notebook's cells (Run > Run All Cells) to get the live controls here.")


def show_explorer(widget, static, note: str = STATIC_NOTE) -> None:
    """Display ``widget`` with a labelled static copy for views that cannot run it.

    A saved notebook opened in JupyterLab is untrusted and has no kernel, so a widget's output
    would show as one line of text (``interactive(children=(FloatSlider(...``). The output
    displayed here carries three forms of the same thing: the live widget (shown whenever the
    cell has run in this session), and, for every other view, ``note`` above ``static``: a
    matplotlib figure (drawn once, at the widget's starting values) or a text. JupyterLab picks
    the live widget for outputs it trusts and the labelled copy for the others, so a learner
    sees one of them, never both.
    """
    import base64
    import html
    import io

    from IPython.display import display

    data = widget._repr_mimebundle_()
    label = f'<p style="font-style: italic">{html.escape(note)}</p>'
    if isinstance(static, str):
        data["text/html"] = f"{label}<pre>{html.escape(static)}</pre>"
        data["text/plain"] = f"{note}\n{static}"
    else:
        buffer = io.BytesIO()
        static.savefig(buffer, format="png", bbox_inches="tight")
        png = base64.b64encode(buffer.getvalue()).decode()
        image = f'<img style="max-width: 100%" src="data:image/png;base64,{png}"/>'
        data["text/html"] = label + image
        data["text/plain"] = note
    display(data, raw=True)
