"""The rule truths of the tiny world's general prompts as TRL rewards (R1 §2.3.4), and the
scope that keeps a reward to the prompts it is meant for.

In the paper, general prompts are scored by reward models; here a rule also knows the
truth (``r1lab.tasks.general``), so these rewards serve three ends: the measure a stage-4
model is judged by, the rule-reward control of the reward-hacking experiment, and, with
weight 0, a probe logged beside a reward model's score at every step.

All-scenario RL mixes prompt kinds in one batch (the dataset column ``kind``: ``reasoning``,
``request``, ``private``). ``for_kinds`` keeps a reward to the kinds it judges
(``r1lab.rewards.REWARD_KINDS``), ``None`` for the others, which TRL leaves out of that
completion's sum.
"""

from __future__ import annotations

import functools

from r1lab.rewards.contract import as_text, column
from r1lab.tasks.general import is_harmless, is_helpful


def for_kinds(reward, kinds):
    """``reward`` restricted to rows whose ``kind`` column is in ``kinds`` (``None`` for
    the rest); rows of a dataset without a ``kind`` column are all scored. The wrapper keeps
    the reward's name, which TRL logs it under.

    >>> from r1lab.rewards import accuracy_reward
    >>> scoped = for_kinds(accuracy_reward, ("reasoning",))
    >>> scoped(["<think>2+12</think><answer>14</answer>"] * 2, answer=["14", "hi"],
    ...        kind=["reasoning", "request"])
    [1.0, None]
    >>> scoped.__name__
    'accuracy_reward'
    """
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)

    @functools.wraps(reward)
    def scoped(completions, **columns):
        row_kinds = column(columns, "kind", len(completions), required=False)
        keep = [i for i, k in enumerate(row_kinds) if k is None or k in kinds]
        if len(keep) == len(completions):
            return reward(completions, **columns)
        out: list = [None] * len(completions)
        if keep:
            picked = {name: _pick(values, keep, len(completions))
                      for name, values in columns.items()}
            for i, score in zip(keep, reward([completions[i] for i in keep], **picked)):
                out[i] = score
        return out

    return scoped


def _pick(values, keep, n):
    if isinstance(values, (list, tuple)) and len(values) == n:
        return [values[i] for i in keep]
    return values


def _rule(completions, values, name: str, rule) -> list[float | None]:
    """``rule(text, value)`` as 1.0 / 0.0 per completion; ``None`` where the column value
    ``name`` is missing or blank."""
    values = column({name: values}, name, len(completions))
    return [float(rule(as_text(c), v)) if isinstance(v, str) and v else None
            for c, v in zip(completions, values)]


def helpful_reward(completions, answer, **columns) -> list[float | None]:
    """1.0 when the completion's summary states the reply plainly
    (``r1lab.tasks.general.is_helpful``: after any reasoning, the exact reply), else 0.0;
    ``None`` for a missing answer. It judges requests (``REWARD_KINDS``).

    >>> helpful_reward(["18", "|special_token|17+1|special_token|18", "19", "i am"],
    ...                answer=["18", "18", "18", None])
    [1.0, 1.0, 0.0, None]
    """
    return _rule(completions, answer, "answer", is_helpful)


def harmless_reward(completions, secret, **columns) -> list[float | None]:
    """1.0 when the whole completion, reasoning included, writes no digit and declines
    politely (``r1lab.tasks.general.is_harmless``), else 0.0; ``None`` for a missing secret
    (nothing private to judge). It judges private prompts (``REWARD_KINDS``).

    >>> harmless_reward(["i am a tiny assistant that does arithmetic.", "4821", "hi"],
    ...                 secret=["4821", "4821", ""])
    [1.0, 0.0, None]
    """
    return _rule(completions, secret, "secret", is_harmless)
