"""Format rewards: R1-Zero's tags (R1 §2.2.2), and the readable format a cold-started model
writes (R1 §2.3.1).

Two rewards, not one that accepts either: R1-Zero is paid for the tags only, so an R1-Zero
run cannot collect its format reward by drifting into the readable format (a base that has
seen a few readable pages in its corpus does exactly that); after the cold start, RL pays
for the readable format the SFT taught and not for a slide back into tags.
"""

from __future__ import annotations

from r1lab.rewards.contract import as_text, column
from r1lab.template import SPECIAL_TOKEN, parse, parse_completion, strip_echo


def format_reward(completions, **columns) -> list[float]:
    """1.0 for a well-formed R1-Zero completion (``r1lab.template.parse``, strict), else 0.0.

    Reasoning inside ``<think>`` tags, then the answer inside ``<answer>`` tags (R1 §2.2.2).
    Tags the model merely echoed from its prompt (TRL passes it as ``prompts``) never count;
    the readable format earns nothing here (``readable_format_reward`` pays for it).

    >>> format_reward([
    ...     "<think>3*4=12, 2+12=14</think> <answer>14</answer>",
    ...     "<answer>14</answer>",
    ...     "<think>qwerty</think> <answer>7<answer>",
    ...     "|special_token|3*4=12, 2+12=14|special_token|Summary: 14",
    ... ])
    [1.0, 0.0, 0.0, 0.0]
    """
    prompts = column(columns, "prompts", len(completions), required=False)
    return [
        1.0 if parse(as_text(c), as_text(p) or None).well_formed else 0.0
        for c, p in zip(completions, prompts)
    ]


def readable_format_reward(completions, **columns) -> list[float]:
    """1.0 for a well-formed readable completion (R1 §2.3.1), else 0.0.

    ``|special_token|<reasoning>|special_token|<summary>`` with a summary that states the
    answer (``r1lab.template.parse_completion``, strict); R1-Zero tags earn nothing here.

    >>> readable_format_reward([
    ...     "|special_token|3*4=12, 2+12=14|special_token|Summary: 14",
    ...     "|special_token|3*4=12, 2+12=14|special_token|so 14",
    ...     "<think>3*4=12, 2+12=14</think> <answer>14</answer>",
    ... ])
    [1.0, 0.0, 0.0]
    """
    prompts = column(columns, "prompts", len(completions), required=False)
    texts = [strip_echo(as_text(c), as_text(p) or None) for c, p in zip(completions, prompts)]
    return [
        1.0 if SPECIAL_TOKEN in text and parse_completion(text).well_formed else 0.0
        for text in texts
    ]
