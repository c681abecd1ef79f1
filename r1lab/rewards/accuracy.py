"""Accuracy reward (R1 §2.2.2): a rule checks the final answer; no neural reward model."""

from __future__ import annotations

import re
from decimal import Decimal

from r1lab.rewards.contract import as_text, column
from r1lab.rewards.math_check import default_checker, normalize, plain_number, unwrap
from r1lab.template import parse_completion

# An answer longer than this is not an answer but a dump: scored 0 without being parsed,
# which also keeps a 1 MB completion from reaching the math parser.
MAX_ANSWER_CHARS = 1000

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
# Words between two values make a list or a hedge: "or", "and", "maybe", in \text{} or bare;
# so do LaTeX spaces (\frac{1}{3} \quad \frac{1}{2}).
_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox)\s*\{[^{}]*[A-Za-z][^{}]*\}|\\q?quad\b")
_WORD_SEPARATOR = re.compile(r"\s(?:or|and|\\lor|\\vee)\s")
_VALUE = re.compile(r"^\s*[^\s^_]")  # a part that does not start with ^ or _ (a unit's power)
_ALPHANUMERIC = re.compile(r"[^\W_]")
# What may stand in the answer block when the gold answer is a number: a number, a fraction,
# optionally as an assignment ("x = 14"). Not an expression: in the arithmetic world the
# question *is* an expression, and math-verify would credit a copy of it ("2+3*4" == 14).
_NUMERIC_LITERAL = re.compile(
    r"(?:[A-Za-z]\s*=\s*)?-?(?:\d[\d,]*(?:\.\d*)?|\.\d+|\d+\s*/\s*\d+|\\[dt]?frac\{\d+\}\{\d+\})"
)


def _top_level(text: str) -> str:
    """``text`` with everything inside (), [], {} blanked, so separators there are ignored."""
    depth, out = 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}" and depth:
            depth -= 1
            out.append(" ")
            continue
        out.append(ch if depth == 0 else " ")
    return "".join(out)


def _values(answer: str) -> list[str]:
    """The values an answer lists: its parts between top-level commas, semicolons, words
    ("or", "and", any ``\\text{…}`` with a word) and ``\\quad``, that hold a letter or digit."""
    text = _UNESCAPED_DOLLAR.sub("", _THOUSANDS.sub("", unwrap(normalize(answer))))
    text = _TEXT.sub(lambda m: ";" * len(m.group()), text)
    outer = _WORD_SEPARATOR.sub(lambda m: ";" * len(m.group()), _top_level(text))
    cuts = [i for i, ch in enumerate(outer) if ch in ",;"]
    parts = [text[a + 1 : b].strip() for a, b in zip([-1, *cuts], [*cuts, len(text)])]
    return [part for part in parts if _ALPHANUMERIC.search(part) and _VALUE.match(part)]


def is_hedged(answer: str, gold: str = "") -> bool:
    r"""True when ``answer`` offers several different values ("14 or 20", "20, 14",
    ``\frac{1}{3} \quad \frac{1}{2}``, ``1 \text{ maybe } 2``).

    math-verify grades the *last* (or, for some LaTeX, the first) value it finds, so
    "20 or 14" would otherwise pass. A gold answer that is itself a list ("1, 2",
    ``p=1 \text{ and } p=2``) turns the check off: the listed answer is then compared as a
    set, in any order.

    >>> is_hedged("14 or 20"), is_hedged("14"), is_hedged("1,000"), is_hedged("(1, 2)")
    (True, False, False, False)
    >>> is_hedged(r"\boxed{\frac{1}{3} \quad \frac{1}{2}}"), is_hedged(r"5 \text{ cm}")
    (True, False)
    """
    if len(_values(gold)) > 1:
        return False
    return len(set(_values(answer))) > 1


def is_numeric_literal(answer: str) -> bool:
    r"""True for a number written as a number (``14``, ``-3.5``, ``\$18``, ``\frac{28}{2}``,
    ``x = 14``), False for an expression to be evaluated (``2+3*4``, ``7*2``).

    >>> is_numeric_literal("$14$"), is_numeric_literal(r"\frac{28}{2}"), is_numeric_literal("2+3*4")
    (True, True, False)
    """
    return (plain_number(answer) is not None
            or bool(_NUMERIC_LITERAL.fullmatch(unwrap(normalize(answer)))))


def accuracy_reward(completions, answer, **columns) -> list[float | None]:
    r"""1.0 if the answer block is mathematically equal to the gold ``answer``, else 0.0.

    The answer is the content of the completion's single ``<answer>…</answer>`` block (the
    think block is not required: the format reward judges that). Equality is math-verify's,
    gold first, each side read as one whole LaTeX expression (``math_check.as_latex``), so
    ``14``, ``14.0``, ``$14$``, ``\boxed{14}`` and ``\frac{28}{2}`` all match a gold ``14``,
    and ``(1,2)`` or ``\boxed{(1, 2)}`` a gold ``(1, 2)``; a part of the gold (``2`` for
    ``2\sqrt{2}``) does not. A hedged answer with several values scores 0 (``is_hedged``),
    and so does an unevaluated expression when the gold answer is a number (``2+3*4`` is the
    question, not its answer). Rules in full: README, "Rewards: guarantees".

    ``None`` (could not be scored) when the gold answer cannot be parsed or the check
    overran its hard time bound (``r1lab.rewards.math_check.DEFAULT_TIMEOUT_S`` = 3 s per
    distinct answer, enforced by killing the checking process). Never raises on any
    completion text.

    >>> accuracy_reward(
    ...     ["<think>3*4=12, 2+12=14</think><answer>14</answer>", "<answer>$14.0$</answer>",
    ...      "<think>2+3=5, 5*4=20</think><answer>20</answer>", "<answer>20 or 14</answer>",
    ...      "<answer>2+3*4</answer>"],
    ...     answer=["14"] * 5)
    [1.0, 1.0, 0.0, 0.0, 0.0]
    >>> accuracy_reward([r"<answer>\boxed{3\sqrt{13}}</answer>", "<answer>3</answer>"],
    ...                 answer=[r"3\sqrt{13}"] * 2)
    [1.0, 0.0]
    """
    n = len(completions)
    golds = column({"answer": answer}, "answer", n)
    prompts = column(columns, "prompts", n, required=False)
    checker = default_checker()
    scores: list[float | None] = []
    for completion, gold, prompt in zip(completions, golds, prompts):
        predicted = parse_completion(as_text(completion), as_text(prompt) or None).answer
        gold = gold_text(gold)
        if predicted is None or len(predicted) > MAX_ANSWER_CHARS:
            scores.append(0.0)
            continue
        # One number is never a hedge ("0,5" is 0.5); a numeric gold admits only numbers.
        if plain_number(predicted) is None and (
            is_hedged(predicted, gold)
            or (plain_number(gold) is not None and not is_numeric_literal(predicted))
        ):
            scores.append(0.0)
            continue
        verdict = checker.equal(gold, predicted)
        scores.append(None if verdict is None else float(verdict))
    return scores


def gold_text(gold) -> str:
    """A gold answer as text: '' for None; an int of any length in full (``str`` refuses ints
    beyond Python's int-string limit, 4300 digits; ``Decimal`` does not).

    >>> gold_text(14), gold_text(None), len(gold_text(10**5000))
    ('14', '', 5001)
    """
    if gold is None:
        return ""
    if isinstance(gold, int) and not isinstance(gold, bool):
        return str(Decimal(gold))
    return str(gold)
