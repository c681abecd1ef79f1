"""What every notebook's first cell needs: the scale it runs at, and its scratch run folders.

``R1LAB_SCALE`` (``tiny`` | ``small`` | ``single_gpu`` | ``multi_gpu``) picks the recipes a
notebook runs; unset means ``tiny``. ``small`` is the real-model rung on a CPU
(SmolLM2-135M-Instruct and GSM8K, built by ``make small``; recipes ``small/``). A notebook
that only makes sense in the tiny world (it trains the tiny models, or asserts what they
learn) calls ``require_tiny`` first, so another scale stops at once with one line saying
what to run instead at that scale.

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


def require_tiny(notebook: str, instead, environ=os.environ) -> str:
    """Stop a tiny-world-only notebook at another scale; ``instead`` says what to run there:
    one command for every other scale, or a dict from scale to command (a scale it does not
    name gets its ``"default"``).

    >>> require_tiny("04", "r1lab train single_gpu/r1_zero_lora", {"R1LAB_SCALE": "single_gpu"})
    Traceback (most recent call last):
    ...
    r1lab.notebook.ScaleError: notebook 04 runs the tiny world only, and R1LAB_SCALE is single_gpu: at that scale run r1lab train single_gpu/r1_zero_lora from a shell (or unset R1LAB_SCALE to run this notebook)
    >>> require_tiny("04", {"small": "r1lab train small/r1_zero", "default": "x"},
    ...              {"R1LAB_SCALE": "small"})
    Traceback (most recent call last):
    ...
    r1lab.notebook.ScaleError: notebook 04 runs the tiny world only, and R1LAB_SCALE is small: at that scale run r1lab train small/r1_zero from a shell (or unset R1LAB_SCALE to run this notebook)
    """
    scale = read_scale(environ)
    if scale != "tiny":
        command = instead.get(scale, instead.get("default")) if isinstance(instead, dict) \
            else instead
        if not command:
            raise ValueError(f"require_tiny: notebook {notebook} names no command for "
                             f"R1LAB_SCALE={scale} (give {scale!r} or 'default')")
        raise ScaleError(f"notebook {notebook} runs the tiny world only, and R1LAB_SCALE is "
                         f"{scale}: at that scale run {command} from a shell (or unset "
                         "R1LAB_SCALE to run this notebook)")
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
