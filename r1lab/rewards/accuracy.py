"""Accuracy reward (R1 §2.2.2): a rule checks the final answer; no neural reward model."""

from __future__ import annotations

import re

from r1lab.rewards.contract import as_text, column
from r1lab.rewards.math_check import default_checker, plain_number, unwrap
from r1lab.template import parse_completion

# An answer longer than this is not an answer but a dump: scored 0 without being parsed,
# which also keeps a 1 MB completion from reaching the math parser.
MAX_ANSWER_CHARS = 1000

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_TEXT_WRAPPER = re.compile(r"\\(?:text|mathrm|textbf)\{([^{}]*)\}")
_WORD_SEPARATOR = re.compile(r"\s(?:or|and|\\lor|\\vee)\s")
_DIGIT = re.compile(r"\d")
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


def _parts(answer: str) -> list[str]:
    """Split an answer at top-level commas, semicolons and the words "or"/"and"."""
    text = _TEXT_WRAPPER.sub(r" \1 ", _THOUSANDS.sub("", answer.replace("$", "")))
    outer = _WORD_SEPARATOR.sub(lambda m: ";" * len(m.group()), _top_level(text))
    cuts = [i for i, ch in enumerate(outer) if ch in ",;"]
    bounds = zip([-1, *cuts], [*cuts, len(text)])
    return [text[a + 1 : b].strip() for a, b in bounds if text[a + 1 : b].strip(" ;")]


def is_hedged(answer: str, gold: str = "") -> bool:
    """True when ``answer`` offers several different values ("14 or 20", "20, 14").

    math-verify grades the *last* value it finds, so "20 or 14" would otherwise pass. A gold
    answer that is itself a list ("1, 2") turns the check off.

    >>> is_hedged("14 or 20"), is_hedged("14"), is_hedged("1,000"), is_hedged("(1, 2)")
    (True, False, False, False)
    """
    if len(_parts(gold)) > 1:
        return False
    numeric = {part for part in _parts(answer) if _DIGIT.search(part)}
    return len(numeric) > 1


def is_numeric_literal(answer: str) -> bool:
    r"""True for a number written as a number (``14``, ``-3.5``, ``\frac{28}{2}``, ``x = 14``),
    False for an expression to be evaluated (``2+3*4``, ``7*2``).

    >>> is_numeric_literal("$14$"), is_numeric_literal(r"\frac{28}{2}"), is_numeric_literal("2+3*4")
    (True, True, False)
    """
    return bool(_NUMERIC_LITERAL.fullmatch(unwrap(answer)))


def accuracy_reward(completions, answer, **columns) -> list[float | None]:
    """1.0 if the answer block is mathematically equal to the gold ``answer``, else 0.0.

    The answer is the content of the completion's single ``<answer>…</answer>`` block (the
    think block is not required: the format reward judges that). Equality is math-verify's,
    gold first, so ``14``, ``14.0``, ``$14$``, ``\\boxed{14}`` and ``\\frac{28}{2}`` all
    match a gold ``14``. A hedged answer with several values scores 0, and so does an
    unevaluated expression when the gold answer is a number (``2+3*4`` is the question, not
    its answer).

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
    """
    n = len(completions)
    golds = column({"answer": answer}, "answer", n)
    prompts = column(columns, "prompts", n, required=False)
    checker = default_checker()
    scores: list[float | None] = []
    for completion, gold, prompt in zip(completions, golds, prompts):
        predicted = parse_completion(as_text(completion), as_text(prompt) or None).answer
        gold = "" if gold is None else str(gold)
        if (
            predicted is None
            or len(predicted) > MAX_ANSWER_CHARS
            or is_hedged(predicted, gold)
            or (plain_number(gold) is not None and not is_numeric_literal(predicted))
        ):
            scores.append(0.0)
            continue
        verdict = checker.equal(gold, predicted)
        scores.append(None if verdict is None else float(verdict))
    return scores
