"""Cold-start data (R1 §2.3.1): readable chains of thought to fine-tune on before RL.

R1-Zero's outputs are hard to read (mixed languages, no summary). DeepSeek-R1 first fine-tunes
the base model on thousands of readable long chains of thought in the format
``|special_token|<reasoning_process>|special_token|<summary>``, collected three ways; each is
a function here:

1. **few-shot prompting** with long-CoT examples: ``few_shot_template`` puts worked examples
   in the readable format before the question, and the model continues the pattern;
2. **direct prompting** for detailed answers with reflection and verification:
   ``DIRECT_TEMPLATE`` asks for it and ``DIRECT_PREFILL`` opens the readable format;
3. **post-processing R1-Zero outputs**: ``refine`` rewrites a correct R1-Zero completion into
   the readable format, in the question's language. In the paper human annotators do this;
   here a rule-based refiner stands in for them (it knows the tiny world's phrases).

Whatever a path yields passes ``readability_problem`` (one language, a summary that states
the answer, not cut off by the length limit) and must be correct. The tiny world can also
write ideal samples directly (``ideal_sample``), a luxury real data does not have.

>>> from r1lab.tasks import generate
>>> problem = generate(1, split="train", seed=0)[0]
>>> sample = ideal_sample(problem, reflect=False)
>>> sample.split(SPECIAL_TOKEN)[2], readability_problem(sample, problem.lang) is None
('answer: 55', True)
>>> refine("<think>我们一步一步地计算。2+3 = 5. so the answer is 5.</think><answer>5</answer>", "en")
'|special_token|let me compute step by step. 2+3 = 5. so the answer is 5.|special_token|answer: 5'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from r1lab.rewards.language import target_language_share
from r1lab.tasks import EOS, PHRASES, Problem, chain_of_thought, problem_for
from r1lab.template import (DETAILED_TEMPLATE, EXAMPLES_HEADER, R1_ZERO_TEMPLATE,
                            READABLE_SUMMARY, SPECIAL_TOKEN, parse, parse_completion, render,
                            render_readable)

SUMMARY = READABLE_SUMMARY

# Path 1: worked examples in the readable format, written by the tiny world's own chains (R1
# §2.3.1 names the method, not the examples): long chains that check every step, then a
# summary. Two expressions per language; the page opens with EXAMPLES_HEADER.
EXAMPLES = {"en": ("8-3*2+4", "(5+4)*2-7"), "zh": ("8-3*2+4", "(5+4)*2-7")}

# Path 2: ask for detail and verification, and open the readable format for the model.
DIRECT_TEMPLATE = DETAILED_TEMPLATE
DIRECT_PREFILL = SPECIAL_TOKEN

# Path 3: the refiner's phrasebook, each tiny-world phrase in the other language.
_PHRASES = PHRASES
_PUNCTUATION = {"en": (("。", ". "), ("，", ", "), ("：", ": ")),
                "zh": ((". ", "。"), (", ", "，"), (": ", "："))}


def few_shot_template(lang: str = "en") -> str:
    """Path 1: the header, the readable examples (each a finished document), then the R1
    template for the question."""
    shots = "".join(render(problem.question) + ideal_sample(problem, reflect=True) + EOS
                    for problem in (problem_for(e, lang) for e in EXAMPLES[lang]))
    return EXAMPLES_HEADER + shots + R1_ZERO_TEMPLATE


def ideal_sample(problem: Problem, reflect: bool) -> str:
    """The generator's own readable sample: the exact chain in the question's language."""
    reasoning = chain_of_thought(problem, (problem.lang, problem.lang), check=reflect)
    return render_readable(reasoning, SUMMARY.format(answer=problem.answer))


def refine(completion: str, lang: str) -> str | None:
    """Path 3: an R1-Zero completion rewritten readably in ``lang``; None if not well formed.

    The refiner translates the tiny world's fixed phrases into ``lang``, normalises
    punctuation to that language's, and moves the answer into a summary. It does not fix
    the arithmetic: wrong chains stay wrong (the caller keeps correct ones only).
    ``lang`` is one of the tiny world's languages, ``en`` or ``zh`` (``ValueError`` else).
    """
    if lang not in _PUNCTUATION:
        raise ValueError(f"lang must be one of {', '.join(sorted(_PUNCTUATION))} (the tiny "
                         f"world's languages, which the refiner translates between); got "
                         f"{lang!r}")
    parsed = parse(completion)
    if not parsed.well_formed:
        return None
    text = " ".join(parsed.think.split())
    for en, zh in _PHRASES:
        text = text.replace(zh, en) if lang == "en" else text.replace(en, zh)
    for source, target in _PUNCTUATION[lang]:
        text = text.replace(source, target)
    text = " ".join(text.split()).replace(" 。", "。").replace(" ，", "，")
    if lang == "en" and not text.endswith("."):
        text += "."
    if lang == "zh" and text.endswith("."):
        text = text[:-1] + "。"
    return render_readable(text, SUMMARY.format(answer=parsed.answer))


def readability_problem(completion: str, lang: str, truncated: bool = False) -> str | None:
    """Why a sample is not readable cold-start data, or None: the filter of R1 §2.3.1."""
    if truncated:
        return "truncated (hit the length limit)"
    parsed = parse_completion(completion)
    if SPECIAL_TOKEN not in (completion or ""):
        return "not in the readable format"
    if not parsed.well_formed:
        return parsed.problem
    share = target_language_share(parsed.think, lang)
    if share is None or share < 1.0:
        return "mixes languages"
    return None


@dataclass
class Yield:
    """What one collection path produced: kept samples and why the others were dropped."""

    name: str
    tried: int
    kept: list[dict]
    """{"prompt", "completion", "question", "answer", "lang"} per kept sample."""
    dropped: Counter

    @property
    def rate(self) -> float:
        return len(self.kept) / self.tried if self.tried else 0.0


def collect(name: str, records: list[dict], max_new_tokens: int, rewrite=None) -> Yield:
    """Filter ``r1lab.eval`` records into cold-start samples (correct and readable).

    ``rewrite(completion, lang)`` is applied first when given (path 3's ``refine``).
    """
    from r1lab.rewards import accuracy_reward

    kept, dropped = [], Counter()
    for record in records:
        text = record["completion"]
        if rewrite is not None:
            text = rewrite(text, record["lang"]) or ""
        truncated = record["n_tokens"] >= max_new_tokens
        problem = readability_problem(text, record["lang"], truncated)
        if problem is None and accuracy_reward([text], answer=[record["answer"]])[0] != 1.0:
            problem = "wrong answer"
        if problem is None:
            kept.append({"prompt": render(record["question"]), "completion": text,
                         "question": record["question"], "answer": record["answer"],
                         "lang": record["lang"]})
        else:
            # the reason without its details ("tags out of order: expected …" -> "tags out of
            # order"); ": " and not ":", so that a quoted "Summary:" stays whole
            dropped[problem.split(": ")[0]] += 1
    return Yield(name, len(records), kept, dropped)


def readability(records: list[dict], max_new_tokens: int | None = None) -> dict[str, float]:
    """How readable a model's samples are (``r1lab.eval`` records): the shares of all
    samples that are in the readable format (``readable``) and that are clean readable data,
    i.e. pass ``readability_problem``: well formed, one language, a summary stating the answer,
    and, given the evaluation's ``max_new_tokens``, not truncated (``clean``). Correctness is not asked: that is pass@1's job.

    >>> readability([{"completion": "|special_token|2+3 = 5, so we get 5.|special_token|answer: 5",
    ...               "lang": "en"},
    ...              {"completion": "<think>2+3 = 5</think><answer>5</answer>", "lang": "en"}])
    {'readable': 0.5, 'clean': 0.5}
    """
    if not records:
        raise ValueError("readability needs at least one evaluation record")
    readable = [r for r in records if SPECIAL_TOKEN in (r["completion"] or "")]
    clean = [r for r in readable
             if readability_problem(r["completion"], r["lang"], max_new_tokens is not None
                                    and r["n_tokens"] >= max_new_tokens) is None]
    return {"readable": len(readable) / len(records), "clean": len(clean) / len(records)}
