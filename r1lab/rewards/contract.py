"""TRL's reward-function contract: ``f(completions, **columns) -> list[float | None]``.

TRL passes completions either as plain strings or, for chat datasets, as lists of messages
(``[{"role": "assistant", "content": "..."}]``); the dataset's columns arrive as keyword
arguments (``answer=[...]``), along with ``prompts``. ``None`` means "could not be scored":
TRL leaves it out of the group baseline instead of counting it as 0.
"""

from __future__ import annotations

from collections.abc import Sequence


def as_text(item) -> str:
    """The text of one completion or prompt, in either of TRL's shapes; '' if unreadable.

    >>> as_text("<answer>14</answer>"), as_text([{"role": "assistant", "content": "hi"}])
    ('<answer>14</answer>', 'hi')
    """
    if isinstance(item, str):
        return item
    if isinstance(item, Sequence) and item and isinstance(item[-1], dict):
        content = item[-1].get("content")
        return content if isinstance(content, str) else ""
    return ""


def column(columns: dict, name: str, n: int, required: bool = True) -> list:
    """The dataset column ``name`` as a list of length ``n`` (or Nones when optional and absent)."""
    values = columns.get(name)
    if values is None:
        if required:
            given = ", ".join(sorted(columns)) or "none"
            raise ValueError(
                f"this reward needs the dataset column `{name}` (one value per completion); "
                f"columns given: {given}"
            )
        return [None] * n
    if isinstance(values, str) or not isinstance(values, Sequence):
        values = [values] * n
    if len(values) != n:
        raise ValueError(f"column `{name}` has {len(values)} values for {n} completions")
    return list(values)
