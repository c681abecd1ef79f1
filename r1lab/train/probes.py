"""Probes: per-completion measurements logged beside the rewards, with weight 0.

TRL gathers every reward function's scores across processes and logs their mean at each
logging step (``rewards/<name>/mean``). A function given weight 0 is therefore a free,
distributed-safe way to log a statistic of the completions without touching the advantage;
r1lab passes these probes with weight 0 so the R1-Zero curves (R1 §2.2.4, Figure 3: longer
reasoning, reflection appearing) come out of the same log.

>>> reasoning_share(["<think>3*4 = 12</think> <answer>12</answer>", "<answer>12</answer>"])
[1.0, 0.0]
>>> reflection_words(["<think>2+3 = 5, wait, let me check: 2+3 = 5</think>", "等等，我再检查一下"])
[2.0, 2.0]
>>> recheck_share(["<think>3*4 = 12 (check: 3*4 = 12. yes)</think><answer>12</answer>", "check"])
[1.0, 0.0]
"""

from __future__ import annotations

from r1lab.rewards.accuracy import accuracy_reward
from r1lab.rewards.contract import as_text
from r1lab.rewards.reflection import REFLECTION_WORDS, rechecks, reflection_count
from r1lab.template import parse_completion


def reasoning_share(completions, **columns) -> list[float]:
    """1.0 if the completion has a non-empty ``<think>`` block, else 0.0 (mean = share).

    The same rule as ``r1lab.eval``'s reasoning rate.
    """
    return [float(parse_completion(as_text(c)).think is not None) for c in completions]


def reflection_words(completions, **columns) -> list[float]:
    """How many reflection words (``REFLECTION_WORDS``) the completion contains."""
    return [float(reflection_count(as_text(c))) for c in completions]


def recheck_share(completions, **columns) -> list[float]:
    """1.0 if the completion reasons and its think block re-checks a step, else 0.0.

    Its mean over the mean of ``reasoning_share`` is the re-check rate among reasoning
    completions, the rule ``r1lab.eval`` reports."""
    out = []
    for c in completions:
        think = parse_completion(as_text(c)).think
        out.append(float(think is not None and rechecks(think)))
    return out


def _lengths_when(right: bool, completions, columns) -> list[float | None]:
    """Token counts of the completions the accuracy rule grades ``right`` (others ``None``).

    TRL averages a reward function's scores ignoring ``None``, so the logged mean is the mean
    length of right (or wrong) completions at that step: the curve Dr. GRPO (arXiv
    2503.20783) uses to show GRPO's per-response normalisation letting wrong answers grow.
    Prompts without a gold answer (general prompts in a mixed task) get ``None``.
    """
    ids, answers = columns.get("completion_ids"), columns.get("answer")
    if ids is None or answers is None:
        return [None] * len(completions)
    graded = accuracy_reward(completions, answer=[a if a else "" for a in answers])
    return [None if not gold or verdict is None or (verdict == 1.0) != right else float(len(t))
            for t, gold, verdict in zip(ids, answers, graded)]


def right_length(completions, **columns) -> list[float | None]:
    """Tokens of each completion with a right answer (``None`` for the others).

    >>> right_length(["<answer>14</answer>", "<answer>20</answer>"], answer=["14", "14"],
    ...              completion_ids=[[1, 2, 3], [4, 5]])
    [3.0, None]
    """
    return _lengths_when(True, completions, columns)


def wrong_length(completions, **columns) -> list[float | None]:
    """Tokens of each completion with a wrong answer (``None`` for the others).

    >>> wrong_length(["<answer>14</answer>", "<answer>20</answer>"], answer=["14", "14"],
    ...              completion_ids=[[1, 2, 3], [4, 5]])
    [None, 2.0]
    """
    return _lengths_when(False, completions, columns)


PROBES = (reasoning_share, reflection_words, recheck_share, right_length, wrong_length)
__all__ = ["PROBES", "REFLECTION_WORDS", "reasoning_share", "recheck_share", "reflection_words",
           "right_length", "wrong_length"]
