"""Reflection: words with which a chain of thought re-examines itself.

R1 §2.2.4 reports R1-Zero's "aha moment" ("Wait, wait. Wait. That's an aha moment I can flag
here.") and reflection growing over RL. This module is the one rule the lab counts it with,
in the tiny world's two languages: eval's re-check rate and the training probes both use it.
It is a measurement, not a reward (no recipe names it).

>>> reflection_count("2+3 = 5, wait, let me check: 2+3 = 5"), reflection_count("等等，我再检查一下")
(2, 2)
>>> rechecks("7+48 = 55 (check: 7+48 = 55. yes)"), rechecks("7+48 = 55"), rechecks("checkers")
(True, False, False)
"""

from __future__ import annotations

import re

# "重新" (again / re-) is the word the paper's Chinese outputs use; "检查" (check) and
# "等等" (wait) are the tiny world's.
REFLECTION_WORDS = ("wait", "verify", "check", "recheck", "重新", "检查", "等等", "验证")
_REFLECTION = re.compile(
    "|".join(rf"\b{w}\b" if w.isascii() else re.escape(w) for w in REFLECTION_WORDS),
    re.IGNORECASE,
)


def reflection_count(text: str) -> int:
    """How many reflection words (``REFLECTION_WORDS``) ``text`` contains."""
    return len(_REFLECTION.findall(text or ""))


def rechecks(text: str) -> bool:
    """True if ``text`` holds at least one reflection word: it re-checks something."""
    return bool(_REFLECTION.search(text or ""))
