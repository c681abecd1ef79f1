"""Problems named on a command line: ``--task arithmetic``, ``arithmetic-zh`` (asked in
Chinese), ``arithmetic-mix`` (half in Chinese), ``gsm8k:SOURCE`` or ``math:SOURCE`` (a local
.jsonl/.json/.parquet file or a hub dataset id), as ``r1lab eval`` and ``r1lab sample`` take
them.

>>> check_task("arithmetic-zh")
('arithmetic-zh', '')
>>> [p.lang for p in load_problems("arithmetic-zh", 2, seed=0)]
['zh', 'zh']
>>> check_task("chess")
Traceback (most recent call last):
...
r1lab.tasks.by_name.TaskError: unknown task 'chess': use arithmetic, arithmetic-zh, arithmetic-mix, gsm8k:SOURCE or math:SOURCE
"""

from __future__ import annotations

from r1lab.sources import data_location
from r1lab.tasks.arithmetic import ArithmeticConfig, Problem, generate
from r1lab.tasks.hub import load_gsm8k, load_math

TASK_NAMES = "arithmetic, arithmetic-zh, arithmetic-mix, gsm8k:SOURCE or math:SOURCE"
# The share of arithmetic problems asked in Chinese, per task name.
_ZH_FRACTIONS = {"arithmetic": 0.0, "arithmetic-zh": 1.0, "arithmetic-mix": 0.5}


class TaskError(ValueError):
    """A task name that names no problems, or whose problems cannot load; the message says
    what to write instead."""


def check_task(task: str) -> tuple[str, str]:
    """(kind, source) of a task name, a local source resolved to its path; nothing is loaded.
    ``TaskError`` for an unknown task, a missing source or a missing local file."""
    kind, _, source = task.partition(":")
    if kind not in (*_ZH_FRACTIONS, "gsm8k", "math") or (kind in _ZH_FRACTIONS and source):
        raise TaskError(f"unknown task {task!r}: use {TASK_NAMES}")
    if kind in ("gsm8k", "math") and not source:
        raise TaskError(f"task {task!r} needs a source: {kind}:path/to/file.jsonl "
                        f"or {kind}:HUB_DATASET_ID")
    try:
        local = data_location(source) if source else None
    except ValueError as error:
        raise TaskError(f"task {error}: give an existing .jsonl/.json/.parquet file or a hub "
                        f"dataset id ({kind}:ORG/NAME)") from None
    return kind, str(local) if local is not None else source


def load_problems(task: str, n: int, seed: int, progress: bool = True,
                  split: str = "test") -> list[Problem]:
    """The problems a task name names, from ``split`` (at most ``n``; ``seed`` draws the
    arithmetic ones); ``TaskError`` for an unknown or unreadable task. ``progress=False``
    hides the datasets library's bars."""
    kind, source = check_task(task)
    try:
        if kind in _ZH_FRACTIONS:
            return generate(n, split=split, seed=seed,
                            config=ArithmeticConfig(zh_fraction=_ZH_FRACTIONS[kind]))
        if not progress:
            import datasets

            datasets.disable_progress_bars()
        loader = load_gsm8k if kind == "gsm8k" else load_math
        return loader(source, split=split, limit=n)
    except (OSError, ValueError, TypeError) as error:
        raise TaskError(f"cannot load task {task!r}: {error}") from None
