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
"""

from __future__ import annotations

import re

from r1lab.rewards.contract import as_text
from r1lab.template import parse_completion

# Words with which a chain of thought re-examines itself (R1 §2.2.4, the "aha moment":
# "Wait, wait. Wait. That's an aha moment I can flag here."), in the tiny world's two
# languages. "重新" (again / re-) is the word the paper's Chinese outputs use.
REFLECTION_WORDS = ("wait", "verify", "check", "recheck", "重新", "检查", "等等", "验证")
_REFLECTION = re.compile(
    "|".join(rf"\b{w}\b" if w.isascii() else re.escape(w) for w in REFLECTION_WORDS),
    re.IGNORECASE,
)


def reasoning_share(completions, **columns) -> list[float]:
    """1.0 if the completion has a non-empty ``<think>`` block, else 0.0 (mean = share).

    The same rule as ``r1lab.eval``'s reasoning rate.
    """
    return [float(parse_completion(as_text(c)).think is not None) for c in completions]


def reflection_words(completions, **columns) -> list[float]:
    """How many reflection words (``REFLECTION_WORDS``) the completion contains."""
    return [float(len(_REFLECTION.findall(as_text(c)))) for c in completions]


PROBES = (reasoning_share, reflection_words)
