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

``collect_cold_start`` runs the three paths on the tiny world (``ColdStartData``: how many
training questions, how many prompted) and writes the kept samples and what each path
dropped: the pipeline's ``cold_start_data`` step.

>>> from r1lab.tasks import generate
>>> problem = generate(1, split="train", seed=0)[0]
>>> sample = ideal_sample(problem, reflect=False)
>>> sample.split(SPECIAL_TOKEN)[2], readability_problem(sample, problem.lang) is None
('answer: 55', True)
>>> refine("<think>我们一步一步地计算。2+3 = 5. so the answer is 5.</think><answer>5</answer>", "en")
'|special_token|let me compute step by step. 2+3 = 5. so the answer is 5.|special_token|answer: 5'
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

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


def careful_rows(reasoning: int, non_reasoning: int, config, seed: int = 0) -> list[dict]:
    """The control set for SFT on a model's own samples (rejection sampling, distillation):
    ``reasoning`` of the generator's careful chains (``ideal_sample`` re-checking every step:
    the mode the tiny world plants and RL selects, written exactly right, with no model in the
    loop), one per training question that ``config`` draws (an ``r1lab.sampling.RejectionData``:
    its question seed and language mix), in the readable format and the question's language;
    then ``non_reasoning`` of the requests ``r1lab.sampling.write_dataset`` adds with the
    sampling ``seed`` (``sample_stage_2``'s), shuffled by it as that set is. What SFT on it
    reaches is what the planted format alone gives, without what RL taught the model that
    wrote the real set.

    >>> from r1lab.sampling import RejectionData
    >>> rows = careful_rows(3, 2, RejectionData(seed=7))
    >>> [row["kind"] for row in rows].count("reasoning"), len({row["prompt"] for row in rows})
    (3, 5)
    >>> chains = [row for row in rows if row["kind"] == "reasoning"]
    >>> all(readability_problem(row["completion"], row["lang"]) is None for row in chains)
    True
    """
    import random

    from r1lab.sampling import non_reasoning_rows
    from r1lab.tasks import ArithmeticConfig, generate

    problems = generate(reasoning, split="train", seed=config.seed,
                        config=ArithmeticConfig(zh_fraction=config.zh_fraction))
    rows = [{"prompt": render(p.question), "completion": ideal_sample(p, reflect=True),
             "kind": "reasoning", "question": p.question, "answer": p.answer, "lang": p.lang,
             "source": {"generator": "r1lab.cold_start.ideal_sample", "seed": config.seed}}
            for p in problems]
    rows += non_reasoning_rows(non_reasoning, seed)
    random.Random(seed).shuffle(rows)
    return rows


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


# ---------------------------------------------------------------- the tiny world's step


class ColdStartError(RuntimeError):
    """No cold-start sample was kept; the message says what each path dropped and what to do."""


@dataclass(frozen=True)
class ColdStartData:
    """Where the cold-start candidates come from (the pipeline's ``cold_start_data`` step)."""

    questions: int = 2000
    """Training questions whose R1-Zero outputs path 3 refines."""
    prompted: int = 300
    """Of those, how many the base is prompted with on paths 1 and 2 (each)."""
    zh_fraction: float = 0.3
    """Share of the questions asked in Chinese."""
    seed: int = 5
    """Draws the questions (the train split; R1-Zero trained on seed 1's)."""


def collect_cold_start(base_dir: Path, r1_zero_dir: Path, folder: Path, seed: int = 0,
                       config: ColdStartData = ColdStartData(), progress: bool = True) -> dict:
    """Run the three collection paths and write ``data.jsonl`` and ``manifest.json``.

    Paths 1 and 2 prompt the base (few-shot with readable long-CoT examples, in the
    question's language; a direct request for detailed, checked steps, opened with the
    format's marker); path 3 samples R1-Zero and refines its outputs (``refine``).
    Every path keeps what is correct and readable (``collect``). Returns the
    manifest; ``ColdStartError`` when no path kept anything (nothing is written).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from r1lab.eval import evaluate
    from r1lab.files import write_atomically, write_jsonl
    from r1lab.sampling import DATA, MANIFEST
    from r1lab.tasks import ArithmeticConfig, generate
    from r1lab.tiny.card import MAX_NEW_TOKENS

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    r1_zero = AutoModelForCausalLM.from_pretrained(r1_zero_dir)
    pool = generate(config.questions, split="train", seed=config.seed,
                    config=ArithmeticConfig(zh_fraction=config.zh_fraction))
    prompted = pool[:config.prompted]

    def sample(model, problems, **kwargs):
        return evaluate(model, tokenizer, problems, k=1, max_new_tokens=MAX_NEW_TOKENS,
                        seed=seed, progress=progress, **kwargs).records

    by_lang = {lang: [p for p in prompted if p.lang == lang] for lang in ("en", "zh")}
    few_shot = [r for lang, problems in by_lang.items() if problems
                for r in sample(base, problems, template=few_shot_template(lang))]
    paths = [
        collect("few-shot prompting (base)", few_shot, MAX_NEW_TOKENS),
        collect("direct prompting (base)", sample(
            base, prompted, template=DIRECT_TEMPLATE, prefill=DIRECT_PREFILL), MAX_NEW_TOKENS),
        collect("refined R1-Zero outputs", sample(r1_zero, pool), MAX_NEW_TOKENS,
                rewrite=refine),
    ]
    rows = [{**sample_row, "path": path.name} for path in paths for sample_row in path.kept]
    total = len(rows)
    manifest = {
        "config": asdict(config), "seed": seed, "samples": total,
        "paths": [{"name": p.name, "tried": p.tried, "kept": len(p.kept),
                   "share": len(p.kept) / total if total else 0.0,
                   "dropped": dict(p.dropped.most_common())} for p in paths],
        "languages": {lang: sum(r["lang"] == lang for r in rows) for lang in ("en", "zh")},
    }
    if not total:
        raise ColdStartError("no cold-start sample was kept, so there is nothing to fine-tune "
                             "on: " + "; ".join(f"{p.name}: 0 of {p.tried}, dropped "
                             + ", ".join(f"{why} {n}" for why, n in p.dropped.most_common(2))
                             for p in paths) + ". Train R1-Zero longer, or ask for more "
                             "questions (ColdStartData)")
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / DATA, rows)
    write_atomically(folder / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
    return manifest
