"""Reward for the tiny world's non-reasoning requests (R1 §2.3.3, ``r1lab.tasks.requests``).

A simple query such as "hello" gets its reply without a chain of thought, so the rule pays
for the exact reply alone: a right answer after a chain of thought is over-thinking, not
what the non-reasoning SFT data teaches.
"""

from __future__ import annotations

from r1lab.rewards.contract import as_text, column
from r1lab.template import SPECIAL_TOKEN, THINK_CLOSE, THINK_OPEN, strip_blank

# "</think>" alone counts too: a prompt that opens the think block (R1's released chat
# template does) leaves only the closing tag in the completion.
COT_MARKERS = (SPECIAL_TOKEN, THINK_OPEN, THINK_CLOSE)


def has_chain_of_thought(completion) -> bool:
    """True when ``completion`` holds a chain of thought in either of the lab's formats: the
    cold start's readable ``|special_token|`` (R1 §2.3.1) or R1-Zero's think tags (§2.2.2).

    >>> has_chain_of_thought("|special_token|41+1 = 42|special_token|answer: 42")
    True
    >>> has_chain_of_thought("<think>41+1=42</think><answer>42</answer>"), has_chain_of_thought("42")
    (True, False)
    """
    return isinstance(completion, str) and any(marker in completion for marker in COT_MARKERS)


def _normal(text: str) -> str:
    text = strip_blank(text)
    return (text[:-1] if text.endswith(".") else text).casefold()


def request_reward(completions, answer, **columns) -> list[float | None]:
    """1.0 when the completion is exactly the ``answer`` and writes no chain of thought,
    else 0.0.

    The completion, blanks stripped (``r1lab.template.strip_blank``), must equal the answer,
    ignoring case and one final "." on either side. A reply with a chain of thought
    (``has_chain_of_thought``) scores 0 even when it ends in the right answer: R1 answers
    simple queries without a CoT (§2.3.3). ``None`` (could not be scored) when the answer
    for a completion is missing, blank or not a string; a completion that cannot be read
    scores 0.0.

    >>> request_reward(["42", "Forty-two.", "41", "|special_token|41+1 = 42|special_token|42",
    ...                 "<think>41+1=42</think>42"],
    ...                answer=["42", "forty-two", "42", "42", "42"])
    [1.0, 1.0, 0.0, 0.0, 0.0]
    >>> request_reward(["Hello! Ask me an arithmetic question", "42"],
    ...                answer=["hello! ask me an arithmetic question.", None])
    [1.0, None]
    """
    n = len(completions)
    golds = column({"answer": answer}, "answer", n)
    scores: list[float | None] = []
    for completion, gold in zip(completions, golds):
        if not isinstance(gold, str) or not strip_blank(gold):
            scores.append(None)
            continue
        text = as_text(completion)
        right = not has_chain_of_thought(text) and _normal(text) == _normal(gold)
        scores.append(1.0 if right else 0.0)
    return scores
