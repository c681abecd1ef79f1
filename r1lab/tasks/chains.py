"""The tiny world's chains of thought: the sentences its reasoning is written in.

A chain of thought rewrites the expression one operation at a time
(``solution_chain``), framed by an opening and a closing sentence, sometimes re-checking
the last step. Opening and closing may be in different languages: that is the language
mixing R1-Zero shows (R1 §2.2.4) and the language-consistency reward corrects (R1 §2.3.2).
The pretraining corpus (``r1lab.tiny.corpus``) and the cold-start data
(``r1lab.cold_start``) write their chains with ``chain_of_thought``; the cold-start
refiner translates these frames.

>>> from r1lab.tasks import solution_chain
>>> problem = Problem("What is 2+3*4?", "14", chain=solution_chain("2+3*4"))
>>> chain_text(problem)
'2+3*4 = 2+12 = 14'
>>> chain_of_thought(problem, ("en", "en"), check=False)
'let me compute step by step. 2+3*4 = 2+12 = 14. so the answer is 14.'
>>> chain_of_thought(problem, ("en", "zh"), check=True)
'let me compute step by step. 2+3*4 = 2+12 = 14 等等，我再检查一下：2+12 = 14。没错。所以答案是 14。'
"""

from __future__ import annotations

from r1lab.tasks.arithmetic import Problem

EOS = "<|endoftext|>"
"""Ends every tiny-world document: the tiny tokenizer's end-of-text and padding token."""

# Sentence frames, per language: opening + chain_text + (check) + closing.
OPENINGS = {"en": "let me compute step by step. ", "zh": "我们一步一步地计算。"}
CLOSINGS = {"en": ". so the answer is {answer}.", "zh": "。所以答案是 {answer}。"}
CHECKS = {"en": " wait, let me check: {step}. yes", "zh": " 等等，我再检查一下：{step}。没错"}


def chain_text(problem: Problem) -> str:
    """'7-2*3+5 = 7-6+5 = 1+5 = 6'"""
    return " = ".join(problem.chain)


def chain_of_thought(problem: Problem, langs: tuple[str, str], check: bool) -> str:
    """The think-block text; ``langs`` = (language of the opening, of the closing)."""
    opening, closing = langs
    text = OPENINGS[opening] + chain_text(problem)
    if check and len(problem.chain) >= 2:
        text += CHECKS[closing].format(step=f"{problem.chain[-2]} = {problem.chain[-1]}")
    return text + CLOSINGS[closing].format(answer=problem.answer)
