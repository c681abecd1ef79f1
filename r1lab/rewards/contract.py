"""TRL's reward-function contract: ``f(completions, **columns) -> list[float | None]``.

TRL passes completions either as plain strings or, for chat datasets, as lists of messages
(``[{"role": "assistant", "content": "..."}]``); when a response parser splits the reasoning
off (tool use, chat templates with thinking), the message also has ``reasoning_content``
(``thinking`` for some model families). The dataset's columns arrive as keyword arguments
(``answer=[...]``), along with ``prompts``. ``None`` means "could not be scored": TRL leaves
it out of the group baseline instead of counting it as 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from r1lab.template import THINK_CLOSE, THINK_OPEN

# Where TRL's response parsers put the reasoning they split off a message.
REASONING_KEYS = ("reasoning_content", "thinking")


def as_text(item) -> str:
    """The text of one completion or prompt, in either of TRL's shapes; '' if unreadable.

    Reasoning that TRL parsed out of the message is put back in front of its content, inside
    think tags: the text the model wrote, so every reward reads it the same way.

    >>> as_text("<answer>14</answer>"), as_text([{"role": "assistant", "content": "hi"}])
    ('<answer>14</answer>', 'hi')
    >>> as_text([{"role": "assistant", "reasoning_content": "2+12=14",
    ...           "content": "<answer>14</answer>"}])
    '<think>2+12=14</think><answer>14</answer>'
    """
    if isinstance(item, str):
        return item
    if not (isinstance(item, Sequence) and item and isinstance(item[-1], Mapping)):
        return ""
    message = item[-1]
    content = message.get("content")
    text = content if isinstance(content, str) else ""
    reasoning = next((message[key] for key in REASONING_KEYS if message.get(key)), None)
    if isinstance(reasoning, str):
        text = f"{THINK_OPEN}{reasoning}{THINK_CLOSE}{text}"
    return text


def column(columns: dict, name: str, n: int, required: bool = True) -> list:
    """The dataset column ``name`` as a list of length ``n`` (or Nones when optional and absent).

    Any sized iterable but a string is a column (a list, a tuple, a numpy array, a pandas
    Series); anything else is one value for every completion.

    >>> column({"answer": "14"}, "answer", 2), column({"answer": (14, 20)}, "answer", 2)
    (['14', '14'], [14, 20])
    """
    values = columns.get(name)
    if values is None:
        if required:
            given = ", ".join(sorted(columns)) or "none"
            raise ValueError(
                f"this reward needs the dataset column `{name}` (one value per completion); "
                f"columns given: {given}"
            )
        return [None] * n
    if isinstance(values, (str, bytes, Mapping)) or not _is_sized_iterable(values):
        return [values] * n
    values = list(values)
    if len(values) != n:
        raise ValueError(f"column `{name}` has {len(values)} values for {n} completions")
    return values


def _is_sized_iterable(values) -> bool:
    """True for lists, arrays, Series; False for scalars (a 0-d numpy array raises on len)."""
    try:
        len(values)
        iter(values)
    except TypeError:
        return False
    return True
