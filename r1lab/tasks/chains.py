"""The tiny world's chains of thought: the sentences its reasoning is written in.

A chain of thought rewrites the expression one operation at a time (``worked_steps``),
framed by an opening and a closing sentence. Opening and closing may be in different
languages: that is the language mixing R1-Zero shows (R1 §2.2.4) and the
language-consistency reward corrects (R1 §2.3.2).

Two habits make reasoning something that can be done *better*, not only switched on:

* **slips**: a step can be written wrong in the tiny world's one way for that step
  (``slip``): an addition that forgets its carry, a subtraction that forgets its borrow, a
  product one table row short. A slip that is not caught makes the answer wrong;
* **checks**: a careful chain re-computes every step right after writing it, in brackets
  (``CHECK``); when the check disagrees, it says so and goes on from the corrected
  expression (``FIX``). A check itself never slips, so checking catches every slip.

The pretraining corpus (``r1lab.tiny.corpus``) decides how often each appears; the
cold-start data (``r1lab.cold_start``) writes exact chains; the cold-start refiner
translates the frames (``PHRASES``).

>>> from r1lab.tasks import solution_chain
>>> problem = Problem("What is 2+3*4?", "14", chain=solution_chain("2+3*4"), expression="2+3*4")
>>> chain_text(problem)
'2+3*4 = 2+12 = 14'
>>> chain_of_thought(problem, ("en", "en"), check=False)
'let me compute step by step. 2+3*4 = 2+12 = 14. so the answer is 14.'
>>> chain_of_thought(problem, ("en", "zh"), check=True)
'let me compute step by step. 2+3*4 = 2+12（检查：3*4 = 12。没错） = 14（检查：2+12 = 14。没错）。所以答案是 14。'
>>> worked_chain(Problem("What is 48+9*2?", "66", expression="48+9*2"), "en", slips={1})
('48+9*2 = 48+18 = 56', '56')
>>> worked_chain(Problem("What is 48+9*2?", "66", expression="48+9*2"), "en", slips={1}, check=True)[0]
'48+9*2 = 48+18 (check: 9*2 = 18. yes) = 56 (check: 48+18 = 66, not 56. so 66 is right)'
"""

from __future__ import annotations

import re

from r1lab.tasks.arithmetic import Problem, Step, worked_steps

EOS = "<|endoftext|>"
"""Ends every tiny-world document: the tiny tokenizer's end-of-text and padding token."""

# Sentence frames, per language: opening + chain + closing.
OPENINGS = {"en": "let me compute step by step. ", "zh": "我们一步一步地计算。"}
CLOSINGS = {"en": ". so the answer is {answer}.", "zh": "。所以答案是 {answer}。"}
# A check after a step that was right, and after one that slipped (then the chain goes on
# from the corrected expression, ``fixed``).
CHECK = {"en": " (check: {operation} = {result}. yes)", "zh": "（检查：{operation} = {result}。没错）"}
FIX = {"en": " (check: {operation} = {result}, not {written}. so {fixed} is right)",
       "zh": "（检查：{operation} = {result}，不是 {written}。所以 {fixed} 才对）"}
CHECKS = {"en": " (check: ", "zh": "（检查："}
"""How every check opens, per language."""
PHRASES = (
    (OPENINGS["en"], OPENINGS["zh"]),
    (CLOSINGS["en"].split("{")[0], CLOSINGS["zh"].split("{")[0]),
    (". yes)", "。没错）"), (" is right)", " 才对）"), (CHECKS["en"], CHECKS["zh"]),
    (", not ", "，不是 "), (". so ", "。所以 "),
)
"""Each fixed phrase of a chain in (English, Chinese), longest context first: the
cold-start refiner translates with it."""


def slip(step: Step) -> int | None:
    """The one wrong result this step can be written with, or None if it cannot slip.

    >>> [slip(s) for s in worked_steps("48+9")], [slip(s) for s in worked_steps("52-7")]
    ([47], [55])
    >>> [slip(s) for s in worked_steps("8*6")], [slip(s) for s in worked_steps("2+3")]
    ([40], [None])
    """
    a, op, b, result = step.a, step.op, step.b, step.result
    if a < 0 or b < 0:
        return None
    if op == "+" and a % 10 + b % 10 >= 10:
        return result - 10  # forgot the carry
    if op == "-" and result > 0 and a % 10 < b % 10:
        return result + 10  # forgot the borrow
    if op == "*" and result >= 10 and a > 0:
        return result - a  # one row short in the times table: 8*6 read as 8*5
    return None


def worked_chain(problem: Problem, lang: str = "en", slips=frozenset(), check: bool = False
                 ) -> tuple[str, str]:
    """(chain text, the answer it ends on) for ``problem``'s expression.

    ``slips`` are the indices of the steps written wrong (``slip``; a step that cannot slip
    is written right). Unchecked, a slip carries through to a wrong answer; with ``check``,
    every step is re-computed right after it is written, in ``lang``, and a slip is
    corrected on the spot.
    """
    if not check:
        steps = _slipped(problem.expression, slips)
        return " = ".join([problem.expression, *(s.after for s in steps)]), steps[-1].after
    steps = worked_steps(problem.expression)
    out = [problem.expression]
    for i, step in enumerate(steps):
        written = slip(step) if i in slips else None
        if written is None:
            out.append(step.after + CHECK[lang].format(operation=step.operation,
                                                       result=step.result))
        else:
            shown = worked_steps(problem.expression, {i: written})[i].after
            out.append(shown + FIX[lang].format(operation=step.operation, result=step.result,
                                                written=written, fixed=step.after))
    return " = ".join(out), steps[-1].after


def _slipped(expression: str, slips) -> list[Step]:
    """The steps as written when the steps in ``slips`` slip and nothing catches them: a
    later step slips (or not) on the numbers it was actually given."""
    results: dict[int, int] = {}
    for i in sorted(slips):
        steps = worked_steps(expression, results)
        if i < len(steps) and (wrong := slip(steps[i])) is not None:
            results[i] = wrong
    return worked_steps(expression, results)


def chain_text(problem: Problem) -> str:
    """'7-2*3+5 = 7-6+5 = 1+5 = 6'"""
    return " = ".join(problem.chain)


def chain_of_thought(problem: Problem, langs: tuple[str, str], check: bool = False,
                     slips=frozenset()) -> str:
    """The think-block text; ``langs`` = (language of the opening, of the closing and the
    checks). With ``slips``, the closing states the answer the chain ends on."""
    opening, closing = langs
    chain, answer = worked_chain(problem, closing, slips, check)
    return OPENINGS[opening] + chain + CLOSINGS[closing].format(answer=answer)



_LEADING_EXPRESSION = re.compile(r"^\(?-?[0-9][0-9+\-*()]*")
_PASSED = re.compile(r"\s?(?:\(check: |（检查：)[^()（）]*?(?:\. yes\)|。没错）)")
_FIXED = re.compile(r"\s?(?:\(check: |（检查：).*?(?:\. so |。所以 )(\S+)(?: is right\)| 才对）)")


def count_slips(think: str) -> tuple[int, int]:
    """(slip-prone steps written, of them written with their slip) in a chain of thought.

    Reads the chain as the tiny world writes it, expressions joined by " = " (a check's
    brackets are skipped), and compares each written step with ``slip``'s wrong result.
    A step written wrong in any other way counts as written, not as a slip.

    >>> count_slips("let me compute step by step. 48+9*2 = 48+18 = 56. so the answer is 56.")
    (2, 1)
    >>> count_slips("2+3*4 = 2+9 (check: 3*4 = 12, not 9. so 2+12 is right) = 14")
    (1, 1)
    """
    # A passed check is dropped; a fix ends the written expression and starts the fixed one.
    think = _PASSED.sub("", think)
    think = _FIXED.sub(lambda m: " = ~ = " + m.group(1), think)
    parts = think.split(" = ")
    parts[0] = parts[0].split(". ")[-1].split("。")[-1]  # after the opening sentence
    expressions = []
    for part in parts:
        match = _LEADING_EXPRESSION.match(part.strip())
        expressions.append(match.group(0).rstrip("(") if match else None)
    prone = slipped = 0
    for before, after in zip(expressions, expressions[1:]):
        if not before or not after:
            continue
        try:
            steps = worked_steps(before)
        except ValueError:
            continue
        if not steps or (wrong := slip(steps[0])) is None:
            continue
        prone += 1
        slipped += worked_steps(before, {0: wrong})[0].after == after
    return prone, slipped
