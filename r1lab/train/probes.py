"""Probes: per-completion measurements logged beside the rewards, with weight 0.

TRL gathers every reward function's scores across processes and logs their mean at each
logging step (``rewards/<name>/mean``). A function given weight 0 is therefore a free,
distributed-safe way to log a statistic of the completions without touching the advantage;
r1lab passes these two with weight 0 so the R1-Zero curves (R1 §2.2.4, Figure 3: longer
reasoning, reflection appearing) come out of the same log.

>>> reasoning_share(["<think>3*4 = 12</think> <answer>12</answer>", "<answer>12</answer>"])
[1.0, 0.0]
>>> reflection_words(["<think>2+3 = 5, wait, let me check: 2+3 = 5</think>", "等等，我再检查一下"])
[2.0, 2.0]
>>> recheck_share(["<think>3*4 = 12 (check: 3*4 = 12. yes)</think><answer>12</answer>", "check"])
[1.0, 0.0]
"""

from __future__ import annotations

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


PROBES = (reasoning_share, reflection_words, recheck_share)
__all__ = ["PROBES", "REFLECTION_WORDS", "reasoning_share", "recheck_share", "reflection_words"]
