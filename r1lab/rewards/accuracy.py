"""Accuracy reward (R1 §2.2.2): a rule checks the final answer; no neural reward model."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

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


# A number in prose (``stated_number``): the answer around it is words, units, currency, math
# delimiters, bold or a \boxed{}; these are blanked before the numbers are read.
_WRAPPER = re.compile(r"\\(?:boxed|fbox|text|textbf|textit|textnormal|textrm|mathrm|mathbf|mbox)"
                      r"\s*\{")
_BLANKS = re.compile(r"\*\*|__|\\[$%,;:! ]|\$|\\[()\[\]]|\\approx(?![A-Za-z])|≈"
                     r"|\^\s*(?:\\circ|\{\s*\\circ\s*\})")  # bold, $, spaces, ≈, degrees
_LATEX_THOUSANDS = re.compile(r"\{,\}|,\\!|(?<=\d)\\,(?=\d{3}(?!\d))")  # 1{,}000, 1\,000
# One number: a fraction, a number with thousands separators, a decimal comma after a leading 0
# (as ``plain_number`` reads them), or digits with an optional decimal part.
_PROSE_NUMBER = re.compile(
    r"\\[dtc]?frac\s*(?:\{\s*(?P<fn>\d+)\s*\}|(?P<fn1>\d))\s*(?:\{\s*(?P<fd>\d+)\s*\}|(?P<fd1>\d))"
    r"|(?P<a>\d+)\s*/\s*(?P<b>\d+)"
    r"|(?P<thousands>\d{1,3}(?:,\d{3})+(?:\.\d+)?)"
    r"|(?P<comma>0,\d+)"
    r"|(?P<plain>\d+(?:\.\d+)?|\.\d+)",
    re.ASCII,
)
# Around a number, what makes it part of an expression rather than the value stated: an
# operator, a LaTeX command (\times, \sqrt{…}), a brace of a command's argument, a variable
# glued to it (2x); words that make it a bound, a denial or an operand ("at least 9", "not
# 9", "half of 18", "a multiple of 2").
_OPERATOR_BEFORE = re.compile(
    r"(?:[-+*/×÷<>≤≥≠{]|\\[A-Za-z]+|\b(?:at least|at most|more than|less than|fewer than"
    r"|greater than|up to|not|half of|twice|double|times|plus|minus|divided by|multiplied by"
    r"|multiple of|divisible by|factor of|root of)|不是|至少|至多|最多|最少|大于|小于|超过|不到"
    r"|乘以|除以|加上|减去)\s*$", re.IGNORECASE)
_OPERATOR_AFTER = re.compile(
    r"^(?:[A-Za-z](?![A-Za-z])|\s*(?:[+*^=<>≤≥≠!}×÷]|-(?![A-Za-z])|/\s*[\d(\\]|\\[A-Za-z]+"
    r"|(?:or (?:more|less|fewer|greater|so)|times|plus|minus|divided|multiplied|squared|cubed)\b"
    r"|以上|以下|左右|多|倍|的一半))", re.IGNORECASE)
_EXPONENT_OR_NAME = re.compile(r"(?:[A-Za-z_]|[\^_]\s*\{?\s*)$")  # x2, x_1, cm^2, 2^{10}
_GLUED = re.compile(r"[0-9.]$")  # 1.2.3: not a number as written


def _unwrapped(text: str) -> str:
    r"""``text`` with ``\boxed{…}``, ``\text{…}`` and the like replaced by their content."""
    while match := _WRAPPER.search(text):
        depth, end = 1, len(text)
        for i in range(match.end(), len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                end = i
                break
        text = f"{text[:match.start()]} {text[match.end():end]} {text[end + 1:]}"
    return text


def _prose_numbers(text: str) -> list[tuple[Fraction, str] | None]:
    """Each number in ``text`` as (value, literal), or None for one inside an expression;
    numbers that are exponents, subscripts or part of a name (``x2``) are skipped."""
    text = _BLANKS.sub(" ", _LATEX_THOUSANDS.sub(",", _unwrapped(normalize(text))))
    numbers: list[tuple[Fraction, str] | None] = []
    for match in _PROSE_NUMBER.finditer(text):
        # what precedes, as far back as the longest word that matters ("greater than")
        before, after = text[max(0, match.start() - 16) : match.start()], text[match.end():]
        if _EXPONENT_OR_NAME.search(before):
            continue
        if _GLUED.search(before):
            numbers.append(None)
            continue
        sign = ""
        if before.endswith("-") and not re.search(r"[0-9A-Za-z)\]}%]\s*-$", before):
            sign, before = "-", before[:-1]  # a minus sign, not a subtraction
        if _OPERATOR_BEFORE.search(before) or _OPERATOR_AFTER.match(after):
            numbers.append(None)
            continue
        groups = match.groupdict()
        numerator = groups["fn"] or groups["fn1"] or groups["a"]
        if numerator is not None:
            denominator = int(groups["fd"] or groups["fd1"] or groups["b"])
            if denominator == 0:
                numbers.append(None)
                continue
            literal = f"{sign}{int(numerator)}/{denominator}"
            value = Fraction(int(sign + numerator), denominator)
        else:
            number = (groups["thousands"] or "").replace(",", "") or (
                groups["comma"] or "").replace(",", ".") or groups["plain"]
            literal, value = sign + number, Fraction(sign + number)
        numbers.append((value, literal))
    return numbers


def stated_number(answer: str) -> str | None:
    r"""The one number an answer written in words states, as a literal, or None.

    A real model writes its answer inside words and markup: ``Answer $ 9 $``, ``The answer is
    9.``, ``9 apples``, ``$9``, ``**9**``, ``The total is \boxed{9} pens``, ``答案是 9 个``.
    The answer states a number when it holds exactly one value (written once or repeated;
    ``9``, ``9.00`` and ``\frac{18}{2}`` are one value), and that value is not part of an
    expression: no operator or LaTeX command beside it (``2+3*4``, ``9+1``, ``\sqrt{9}``),
    no variable glued to it (``9x``), no bound, denial or operation in words beside it (``at
    least 9``, ``not 9``, ``9 or more``, ``9 以上``, ``half of 18``, ``a multiple of 2``).
    Exponents, subscripts and numbers inside names (``cm^2``, ``x_1``, ``A2``) are not values.
    ``accuracy_reward`` grades the literal as if it were the whole answer, so words never earn
    what the bare number would not.

    Several values are refused, whatever the words between them: a hedge (``9 or 10``, ``9,
    10``, ``between 9 and 10``), an intermediate result before the final one (``3 boxes, so 9
    pens``), and the working after an answer (``The answer is 9 because 4+5=9``). math-verify
    would credit these by picking one value (the one after "answer is", else the last one), so
    it also credits ``10 or 9`` and ``The answer is 9 because 4+5=10``; here the answer block
    holds the answer, and the working belongs in the think block (R1 Table 1's template).

    >>> stated_number("Answer $ 9 $"), stated_number(r"The answer is \boxed{1,233} pens.")
    ('9', '1233')
    >>> stated_number("答案是 9 个"), stated_number("**-3.50** dollars"), stated_number("9 = 9")
    ('9', '-3.50', None)
    >>> [stated_number(a) for a in ["9 or 10", "3 boxes, so 9 pens", "2+3*4", "at least 9"]]
    [None, None, None, None]
    """
    numbers = _prose_numbers(answer)
    if not numbers or None in numbers or len({value for value, _ in numbers}) != 1:
        return None
    return numbers[0][1]


def accuracy_reward(completions, answer, **columns) -> list[float | None]:
    r"""1.0 if the answer block is mathematically equal to the gold ``answer``, else 0.0.

    The answer is the content of the completion's single ``<answer>…</answer>`` block (the
    think block is not required: the format reward judges that). Equality is math-verify's,
    gold first, each side read as one whole LaTeX expression (``math_check.as_latex``), so
    ``14``, ``14.0``, ``$14$``, ``\boxed{14}`` and ``\frac{28}{2}`` all match a gold ``14``,
    and ``(1,2)`` or ``\boxed{(1, 2)}`` a gold ``(1, 2)``; a part of the gold (``2`` for
    ``2\sqrt{2}``) does not. A hedged answer with several values scores 0 (``is_hedged``).
    When the gold answer is a number, an answer in words is graded by the one number it
    states (``stated_number``: ``The answer is 9.``, ``答案是 9 个``), and an answer with
    several values or an unevaluated expression scores 0 (``2+3*4`` is the question, not its
    answer). Rules in full: README, "Rewards: guarantees".

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
    >>> accuracy_reward(["<answer>The answer is $14$ apples.</answer>",
    ...                  "<answer>3*4 = 12, so 14 apples</answer>"], answer=["14"] * 2)
    [1.0, 0.0]
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
        # One number is never a hedge ("0,5" is 0.5). A numeric gold admits only a number:
        # the answer itself, or the one number its words state ("The answer is 9.").
        if plain_number(predicted) is None:
            if plain_number(gold) is not None and not is_numeric_literal(predicted):
                predicted = stated_number(predicted)
            elif is_hedged(predicted, gold):
                predicted = None
            if predicted is None:
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
