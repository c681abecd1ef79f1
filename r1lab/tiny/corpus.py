"""The synthetic pretraining corpus: the tiny world's stand-in for web-scale pretraining.

DeepSeek-V3-Base had seen the internet before R1-Zero's RL began: mostly text that states
answers, some worked solutions, some text mixing languages, plenty of mistakes. RL can only
amplify behaviours the base already has (R1 §2.2.4), so this corpus plants each of them at a
known rate:

* most documents answer directly: ``<answer>6</answer>``;
* a minority reason first, rewriting the expression one operation at a time
  (``<think>... 7-2*3+5 = 7-6+5 = 1+5 = 6 ...</think><answer>6</answer>``), in English,
  in Chinese, or mixing the two;
* their steps sometimes slip (a forgotten carry or borrow, a times-table row short), and an
  uncaught slip ends on a wrong answer;
* a few are careful: they re-check every step right after writing it and fix a slip on the
  spot (``(check: 7+48 = 55, not 54. so 55+9)``), so checking pays, but rarely;
* some are wrong or badly formatted;
* some are bare worked chains with no template, like arithmetic on the web, with the same
  slips and (more often) the same checks;
* a few are in the cold start's readable format (``|special_token|…|special_token|answer:``):
  pages of worked examples that open with ``EXAMPLES_HEADER``, and answers to the request for
  detailed, checked steps (``DETAILED_TEMPLATE``). They are the documents a base needs to
  follow the cold start's few-shot and direct prompts (R1 §2.3.1, ``r1lab.cold_start``).

The chain style is chosen so that reasoning *pays*: every step is one operation on small
numbers, easy for a tiny model, while a direct answer needs the whole expression at once.
Slips and checks are chosen so that reasoning can be done *better*: a chain that checks
its steps ends right far more often than one that does not, and RL can find that out.
The chains are written in the task's sentences (``r1lab.tasks.chains``); this module
decides how often each kind of document appears.

>>> docs = documents(3, seed=0)
>>> len(docs), all(d.endswith(EOS) for d in docs)
(3, True)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from r1lab.tasks import (CLOSINGS, EOS, OPENINGS, ArithmeticConfig, Problem, chain_of_thought,
                         generate, worked_chain)
from r1lab.template import (DETAILED_TEMPLATE, EXAMPLES_HEADER, READABLE_SUMMARY, render,
                            render_readable)


@dataclass(frozen=True)
class CorpusConfig:
    """Shares of each kind of document. Defaults: the shipped tiny base model's corpus."""

    reasoning: float = 0.10
    """Share of template documents that reason in <think> before answering (a rare habit:
    R1-Zero's RL should have to discover that reasoning pays)."""
    noisy: float = 0.10
    """Share of template documents that are wrong or badly formatted."""
    plain_chains: float = 0.15
    """Share of all documents that are bare worked chains, no template ("2+3*4 = 2+12 = 14")."""
    mixed_cot: float = 0.4
    """Share of reasoning documents whose chain of thought mixes English and Chinese. Sampling
    at temperature 0.6 sharpens the model toward its majority habit, so the corpus share must
    sit well above the >= 10% of mixed chains the base model should still show."""
    reflection: float = 0.35
    """Share of reasoning documents that are careful: they re-check every step (``CHECK``)
    and fix the slips they find (``FIX``)."""
    slip: float = 0.25
    """Chance that a step which can slip (``r1lab.tasks.chains.slip``) is written wrong, in
    every chain the corpus writes (careful ones catch it)."""
    plain_checks: float = 0.6
    """Share of bare worked chains that re-check their steps."""
    pages: float = 0.03
    """Share of documents that are pages of worked examples in the readable format:
    ``EXAMPLES_HEADER``, then ``PAGE_EXAMPLES`` questions each answered with a checked chain
    and a summary (``careful_readable``). What path 1 of the cold start needs."""
    detailed: float = 0.03
    """Share of documents that answer ``DETAILED_TEMPLATE``'s request for detailed, checked
    steps, in the readable format. What path 2 of the cold start needs."""
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


def _slips(rng: random.Random, problem: Problem, rate: float) -> set[int]:
    """Which steps of ``problem``'s chain slip (each with chance ``rate``; a step that
    cannot slip ignores it)."""
    return {i for i in range(len(problem.chain) - 1) if rng.random() < rate}


PAGE_EXAMPLES = 3
"""Questions on a page of worked examples (a few-shot prompt shows one or two fewer)."""


def careful_readable(rng: random.Random, problem: Problem, slip_rate: float) -> str:
    """A readable-format answer that checks every step, in the question's language, fixing
    the steps that slip (so it ends on the right answer)."""
    langs = (problem.lang, problem.lang)
    reasoning = chain_of_thought(problem, langs, check=True,
                                 slips=_slips(rng, problem, slip_rate))
    return render_readable(reasoning, READABLE_SUMMARY.format(answer=problem.answer))


def document(rng: random.Random, problem: Problem, config: CorpusConfig,
             neighbours: tuple[Problem, ...] = ()) -> str:
    """One corpus document for ``problem`` (ends with EOS); a page of worked examples also
    uses ``neighbours``, other questions of the corpus."""
    # Only drawn when asked for, so that a corpus without them is the same as before.
    if config.pages or config.detailed:
        roll = rng.random()
        if roll < config.pages:
            return EXAMPLES_HEADER + "".join(
                render(p.question) + careful_readable(rng, p, config.slip) + EOS
                for p in (problem, *neighbours)[:PAGE_EXAMPLES])
        if roll < config.pages + config.detailed:
            return (render(problem.question, DETAILED_TEMPLATE)
                    + careful_readable(rng, problem, config.slip) + EOS)
    if rng.random() < config.plain_chains:
        check = rng.random() < config.plain_checks
        return worked_chain(problem, problem.lang, _slips(rng, problem, config.slip), check)[0] + EOS
    langs = _cot_langs(rng, problem.lang, rng.random() < config.mixed_cot)
    check = rng.random() < config.reflection
    slips = _slips(rng, problem, config.slip)
    roll = rng.random()
    if roll < config.reasoning:
        cot, written = worked_chain(problem, langs[1], slips, check)
        cot = OPENINGS[langs[0]] + cot + CLOSINGS[langs[1]].format(answer=written)
        completion = f"<think>{cot}</think><answer>{written}</answer>"
    elif roll < config.reasoning + config.noisy:
        completion = _noisy_completion(rng, problem, chain_of_thought(problem, langs, check))
    else:
        completion = f"<answer>{problem.answer}</answer>"
    return render(problem.question) + completion + EOS


def documents(n: int, seed: int = 0, config: CorpusConfig = CorpusConfig()) -> list[str]:
    """``n`` corpus documents drawn from the task's train split, deterministically."""
    task = ArithmeticConfig(**{**config.task.__dict__, "zh_fraction": config.zh_questions})
    problems = generate(n, split="train", seed=seed, config=task)
    rng = random.Random(seed + 1)
    return [document(rng, problem, config,
                     tuple(problems[(i + k) % len(problems)] for k in range(1, PAGE_EXAMPLES)))
            for i, problem in enumerate(problems)]
