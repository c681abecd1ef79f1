"""The synthetic pretraining corpus: the tiny world's stand-in for web-scale pretraining.

DeepSeek-V3-Base had seen the internet before R1-Zero's RL began: mostly text that states
answers, some worked solutions, some text mixing languages, plenty of mistakes. RL can only
amplify behaviours the base already has (R1 §2.2.4), so this corpus plants each of them at a
known rate:

* most documents answer directly: ``<answer>6</answer>``;
* a minority reason first, rewriting the expression one operation at a time
  (``<think>... 7-2*3+5 = 7-6+5 = 1+5 = 6 ...</think><answer>6</answer>``), in English,
  in Chinese, or mixing the two, sometimes re-checking the last step ("wait, let me check");
* some are wrong or badly formatted;
* some are bare worked chains with no template, like arithmetic on the web.

The chain style is chosen so that reasoning *pays*: every step is one operation on small
numbers, easy for a tiny model, while a direct answer needs the whole expression at once.
The chains are written in the task's sentences (``r1lab.tasks.chains``); this module
decides how often each kind of document appears.

>>> docs = documents(3, seed=0)
>>> len(docs), all(d.endswith(EOS) for d in docs)
(3, True)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from r1lab.tasks import (EOS, ArithmeticConfig, Problem, chain_of_thought, chain_text,
                         generate)
from r1lab.template import render


@dataclass(frozen=True)
class CorpusConfig:
    """Shares of each kind of document. Defaults: the shipped tiny base model's corpus."""

    reasoning: float = 0.10
    """Share of template documents that reason in <think> before answering (a rare habit:
    R1-Zero's RL should have to discover that reasoning pays)."""
    noisy: float = 0.15
    """Share of template documents that are wrong or badly formatted."""
    plain_chains: float = 0.10
    """Share of all documents that are bare worked chains, no template ("2+3*4 = 2+12 = 14")."""
    mixed_cot: float = 0.4
    """Share of reasoning documents whose chain of thought mixes English and Chinese. Sampling
    at temperature 0.6 sharpens the model toward its majority habit, so the corpus share must
    sit well above the >= 10% of mixed chains the base model should still show."""
    reflection: float = 0.15
    """Share of reasoning documents that re-check their last step ("wait, let me check")."""
    zh_questions: float = 0.2
    """Share of questions asked in Chinese."""
    task: ArithmeticConfig = ArithmeticConfig(operands=(4, 7))
    """The expressions drawn (train split only: the test split is never in the corpus). Wider
    than the tiny world's task (6-7 operands): pretraining covers more than RL will ask."""


def _cot_langs(rng: random.Random, lang: str, mixed: bool) -> tuple[str, str]:
    other = "zh" if lang == "en" else "en"
    if not mixed:
        return lang, lang
    return rng.choice([(lang, other), (other, lang)])


def _wrong(rng: random.Random, answer: str) -> str:
    return str(int(answer) + rng.choice([-10, -2, -1, 1, 2, 10]))


def _noisy_completion(rng: random.Random, problem: Problem, cot: str) -> str:
    """A wrong or badly formatted completion, of one of several kinds."""
    answer = problem.answer
    kind = rng.randrange(5)
    if kind == 0:  # confidently wrong
        return f"<answer>{_wrong(rng, answer)}</answer>"
    if kind == 1:  # reasoning that slips on the last step
        slip = cot.replace(f"= {answer}", f"= {_wrong(rng, answer)}")
        return f"<think>{slip}</think><answer>{_wrong(rng, answer)}</answer>"
    if kind == 2:  # no tags at all
        return f" the answer is {answer}."
    if kind == 3:  # unclosed answer
        return f"<answer>{answer}"
    return f"<think>{cot}</think> {answer}"  # answer outside its tags


def document(rng: random.Random, problem: Problem, config: CorpusConfig) -> str:
    """One corpus document for ``problem`` (ends with EOS)."""
    if rng.random() < config.plain_chains:
        return chain_text(problem) + EOS
    langs = _cot_langs(rng, problem.lang, rng.random() < config.mixed_cot)
    cot = chain_of_thought(problem, langs, check=rng.random() < config.reflection)
    roll = rng.random()
    if roll < config.reasoning:
        completion = f"<think>{cot}</think><answer>{problem.answer}</answer>"
    elif roll < config.reasoning + config.noisy:
        completion = _noisy_completion(rng, problem, cot)
    else:
        completion = f"<answer>{problem.answer}</answer>"
    return render(problem.question) + completion + EOS


def documents(n: int, seed: int = 0, config: CorpusConfig = CorpusConfig()) -> list[str]:
    """``n`` corpus documents drawn from the task's train split, deterministically."""
    task = ArithmeticConfig(**{**config.task.__dict__, "zh_fraction": config.zh_questions})
    problems = generate(n, split="train", seed=seed, config=task)
    rng = random.Random(seed + 1)
    return [document(rng, problem, config) for problem in problems]
