"""Format reward (R1 §2.2.2): reasoning inside think tags, then the answer inside answer tags
(or, for a cold-started model, the readable format of R1 §2.3.1)."""

from __future__ import annotations

from r1lab.rewards.contract import as_text, column
from r1lab.template import parse_completion


def format_reward(completions, **columns) -> list[float]:
    """1.0 for a well-formed completion (``r1lab.template.parse_completion``, strict), else 0.0.

    Either format counts: R1-Zero tags, or the cold-start readable format with a summary
    that states the answer. Tags the model merely echoed from its prompt (TRL passes it as
    ``prompts``) never count.

    >>> format_reward([
    ...     "<think>3*4=12, 2+12=14</think> <answer>14</answer>",
    ...     "<answer>14</answer>",
    ...     "<think>qwerty</think> <answer>7<answer>",
    ...     "|special_token|3*4=12, 2+12=14|special_token|Summary: 14",
    ... ])
    [1.0, 0.0, 0.0, 1.0]
    """
    prompts = column(columns, "prompts", len(completions), required=False)
    return [
        1.0 if parse_completion(as_text(c), as_text(p) or None).well_formed else 0.0
        for c, p in zip(completions, prompts)
    ]
