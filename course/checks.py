"""Checks for the course's exercises: ``check("02", 3, answer)`` says whether an answer is
right and, when it is not, what is wrong with it.

Every expected value is computed by r1lab itself (``r1lab.template``, ``r1lab.rewards``,
``r1lab.grpo``, ``r1lab.stats``, ``r1lab.cold_start``, ``r1lab.sampling``), read from the
committed benchmark results (``benchmarks/results/*.json``) or found by re-running the
exercise's material (``material.py``), never typed in here by hand. A check raises
``NotAnswered`` while an answer still holds its blank (``...`` or ``None``), ``WrongAnswer``
with a message naming the problem when it is wrong, and prints one line when it is right.
Each exercise also lists known wrong answers with a phrase its message must contain:
``check_course.py`` and ``tests/test_course.py`` try them, so no check can silently accept
everything.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Callable

import torch

from material import (GOLD, R1_ZERO_RECIPE, WALKTHROUGH, base_groups, chinese_samples,
                      lenient_total, r1_zero_documents, recheck_samples, rejection_gallery,
                      stage_2_samples, tiny_chains, toy_bandit, r1_zero_outputs)
from r1lab.cold_start import collect, readability_problem, refine
from r1lab.eval import Report, grade
from r1lab.grpo import group_advantages, grpo_loss
from r1lab.grpo.advantages import TRL_STD_EPS
from r1lab.rewards import REWARDS, accuracy_reward, combined_reward, format_reward
from r1lab.rewards.accuracy import is_numeric_literal, stated_number
from r1lab.rewards.language import mixes_languages, target_language_share
from r1lab.rewards.reflection import REFLECTION_WORDS
from r1lab.sampling import FILTERS, KEPT, RejectionData, SamplingConfig, filter_samples
from r1lab.sources import REPO_ROOT
from r1lab.stats import (VERDICTS, Z_95, difference_interval, gain_interval, mean_var,
                         paired_difference, pass_at_k, seed_count, seed_interval,
                         subset_difference, verdict)
from r1lab.tasks import chain_of_thought, problem_for, worked_chain
from r1lab.template import (READABLE_SUMMARY, SPECIAL_TOKEN, TAGS, parse, parse_completion,
                            parse_readable, render, render_readable, strip_echo)
from r1lab.tiny.card import MAX_NEW_TOKENS
from r1lab.train.recipe import parse_recipe


class NotAnswered(AssertionError):
    """The answer still holds its blank."""


class WrongAnswer(AssertionError):
    """The answer is not right; the message says what is wrong."""


@dataclass(frozen=True)
class Exercise:
    notebook: str
    number: int
    title: str
    judge: Callable[[object], str]
    """Raises ``WrongAnswer`` for a wrong answer; returns a remark for a right one."""
    wrong: Callable[[], list[tuple[object, str]]] = field(default=lambda: [])
    """Known wrong answers, each with a phrase its message must contain."""

    @property
    def label(self) -> str:
        return f"{self.notebook}.{self.number}"


EXERCISES: dict[tuple[str, int], Exercise] = {}


def exercise(notebook: str, number: int, title: str, wrong=lambda: []):
    """Register ``judge`` as the check of exercise ``number`` of notebook ``notebook``."""
    def register(judge):
        EXERCISES[(notebook, number)] = Exercise(notebook, number, title, judge, wrong)
        return judge
    return register


def blanks(answer, where: str = "the answer") -> list[str]:
    """Where ``answer`` still holds a blank (``...`` or ``None``), in words."""
    if answer is ... or answer is None:
        return [where]
    if isinstance(answer, dict):
        return [b for key, value in answer.items() for b in blanks(value, f"{key!r}")]
    if isinstance(answer, (list, tuple)):
        return [b for i, value in enumerate(answer) for b in blanks(value, f"item {i}")]
    return []


def check(notebook, number: int, answer) -> None:
    """Check the answer to exercise ``number`` of notebook ``notebook`` ("01", "02", ...)."""
    key = (f"{int(notebook):02d}", number)
    if key not in EXERCISES:
        known = ", ".join(f"{n}.{k}" for n, k in sorted(EXERCISES))
        raise KeyError(f"no exercise {key[0]}.{number}; the exercises are {known}")
    found = EXERCISES[key]
    missing = blanks(answer)
    if missing:
        raise NotAnswered(
            f"{found.label} not answered yet: {', '.join(missing)} still holds its blank "
            f"(... or None). Write your answer there, run that cell, then this one.")
    try:
        remark = found.judge(answer)
    except WrongAnswer as wrong:
        raise WrongAnswer(f"{found.label} not right: {wrong}") from None
    print(f"✓ {found.label} right. {remark}".rstrip())


# Helpers shared by the judges -----------------------------------------------------------

def _fail(message: str):
    raise WrongAnswer(message)


def _numbers(answer, n: int, what: str) -> list[float]:
    """``answer`` as a list of ``n`` floats, or WrongAnswer saying what shape was expected."""
    if isinstance(answer, torch.Tensor):
        answer = answer.tolist()
    if not isinstance(answer, (list, tuple)) or len(answer) != n:
        _fail(f"expected a list of {n} numbers ({what}); got {answer!r}")
    for value in answer:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(f"expected {n} numbers ({what}); {value!r} is not a number")
    return [float(value) for value in answer]


def _number(answer, what: str) -> float:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        _fail(f"expected a number ({what}); got {answer!r}")
    return float(answer)


def _close(a: float, b: float, tol: float) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=tol)


def _all_close(a, b, tol: float) -> bool:
    return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))


def _keys(answer, keys: list[str]) -> dict:
    if not isinstance(answer, dict) or set(answer) != set(keys):
        _fail(f"expected the dict the answer cell gives, with the keys {keys}; "
              f"got {answer!r}")
    return answer


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"


def _first_difference(mine: str, theirs: str) -> str:
    """Where two strings first differ, shown on both."""
    i = next((k for k, (a, b) in enumerate(zip(mine, theirs)) if a != b),
             min(len(mine), len(theirs)))
    if i == len(theirs):
        return f"yours goes on after the prompt's end: {mine[i:i + 12]!r}"
    if i == len(mine):
        return f"yours stops early; the prompt goes on with {theirs[i:i + 12]!r}"
    return (f"they differ from character {i} on: yours has {mine[i:i + 12]!r}, "
            f"the prompt has {theirs[i:i + 12]!r}")


# 01 · the R1-Zero template and strict parsing --------------------------------------------

EX_01_QUESTION = "What is 7-2*3?"
EX_01_GALLERY = [
    "<think>7-6 = 1</think>\n\n<answer>1</answer>\n",
    "<think>2*3 = 6, 7-6 = 1</think> so <answer>1</answer>",
    "<answer>1</answer><think>2*3 = 6, 7-6 = 1</think>",
    "<think>\u200b</think><answer>1</answer>",
    "<THINK>2*3 = 6, 7-6 = 1</THINK><answer>1</answer>",
    "<think>2*3 is <b>6</b>, 7-6 = 1</think><answer>1</answer>",
]
EX_01_BROKEN_SAMPLE = "Sure! |special_token|3*4 = 12, then 2+12 = 14.|special_token|"


def _prompt_tail() -> str:
    prompt = render(EX_01_QUESTION)
    return prompt[prompt.rindex("User:"):]


@exercise("01", 1, "the end of the prompt", wrong=lambda: [
    ("User: What is 7-2*3? Assistant:", "second mark"),
    ("User: What is 7-2*3?. Assistant: ", "after the prompt's end"),
    ("User: What is 7-2*3?. Assistant", "stops early"),
    (["User:"], "a string"),
])
def _ex_01_1(answer):
    if not isinstance(answer, str):
        _fail(f"the answer is a string, the prompt's last characters; got {answer!r}")
    expected = _prompt_tail()
    if answer == expected:
        return "Table 1 ends 'User: prompt. Assistant:', so the question's '?' gets a '.' too."
    if answer.replace("?.", "?") == expected.replace("?.", "?"):
        _fail("the template puts '. Assistant:' after the slot for the question (Table 1 ends "
              "'User: prompt. Assistant:'), so a question that brings its own '?' gets a "
              "second mark: render() writes '?.'; your text has no '.' after the '?'")
    if not answer.startswith("User:"):
        _fail(f"start at 'User:'; yours starts with {answer[:12]!r}")
    _fail(f"that is not how render({EX_01_QUESTION!r}) ends: "
          f"{_first_difference(answer, expected)}")


@exercise("01", 2, "predict parse's verdicts", wrong=lambda: [
    ([True] * 6, "text between </think> and <answer>"),
    ([True, False, False, False, False, False], "completion 5"),
    ([True, False], "6 booleans"),
])
def _ex_01_2(answer):
    n = len(EX_01_GALLERY)
    if (not isinstance(answer, (list, tuple)) or len(answer) != n
            or not all(isinstance(v, bool) for v in answer)):
        _fail(f"expected a list of {n} booleans, one per completion in order; got {answer!r}")
    wrong = []
    for i, (text, guess) in enumerate(zip(EX_01_GALLERY, answer)):
        parsed = parse(text)
        if guess != parsed.well_formed:
            why = (f"parse says {parsed.problem!r}" if parsed.problem
                   else "parse finds exactly one non-empty think block, then one answer "
                        "block, with only whitespace around them and no other R1 tag")
            wrong.append(f"completion {i} {text!r}: you said {guess}, parse says "
                         f"{parsed.well_formed}: {why}")
    if wrong:
        _fail(f"{len(wrong)} of {n} predictions differ from parse:\n  " + "\n  ".join(wrong))
    return "Only the tags r1lab names count, and invisible characters count as blank."


@exercise("01", 3, "refused with every tag once", wrong=lambda: [
    ("<think>a</think><answer>b</answer>", "accepts it"),
    ("<think>a</think> then <answer>b</answer>", "outside the blocks"),
    ("<answer>b</answer>", "each of the four tags exactly once"),
    ("<think></think><answer>b</answer>", "empty block"),
])
def _ex_01_3(answer):
    if not isinstance(answer, str):
        _fail(f"the answer is a completion, a string; got {answer!r}")
    text = strip_echo(answer)
    counts = {tag: text.count(tag) for tag in TAGS}
    parsed = parse(answer)
    if any(count != 1 for count in counts.values()):
        _fail(f"the exercise asks for each of the four tags exactly once; yours has "
              f"{counts} (echoes of the template's example do not count)")
    if parsed.well_formed:
        _fail("parse accepts it: each tag once, in the order <think> </think> <answer> "
              "</answer>, with non-empty blocks and nothing around them, is well formed. "
              "The refusal must come from where the tags are.")
    if parsed.problem.startswith("text "):
        _fail(f"parse refuses it for text outside the blocks ({parsed.problem!r}); the "
              "exercise asks for whitespace only outside the tags. What else can be wrong "
              "when every tag is there once?")
    if parsed.problem.startswith("empty"):
        _fail(f"parse refuses it for an empty block ({parsed.problem!r}); both blocks must "
              "hold something. What else can be wrong when every tag is there once?")
    if not parsed.problem.startswith("tags out of order"):
        _fail(f"parse refuses it, but for {parsed.problem!r}")
    return f"parse: {parsed.problem!r}."


@exercise("01", 4, "mend a cold-start sample", wrong=lambda: [
    (EX_01_BROKEN_SAMPLE, "text before the first"),
    ("|special_token|3*4 = 12, then 2+12 = 14.|special_token|", "empty summary"),
    ("|special_token|3*4 = 12.|special_token|Summary: 14.", "reasoning changed"),
    ("|special_token|3*4 = 12, then 2+12 = 14.|special_token|14", "Summary: 14."),
])
def _ex_01_4(answer):
    if not isinstance(answer, str):
        _fail(f"the answer is the mended sample, a string; got {answer!r}")
    readable = parse_readable(answer)
    broken = parse_readable(EX_01_BROKEN_SAMPLE.replace("Sure! ", "", 1)).reasoning
    if not readable.well_formed:
        _fail(f"parse_readable still refuses it: {readable.problem!r}")
    if readable.reasoning != broken:
        _fail(f"reasoning changed: keep the sample's reasoning {broken!r}; yours is "
              f"{readable.reasoning!r}")
    if readable.summary != "Summary: 14.":
        _fail(f"the summary should be 'Summary: 14.'; yours is {readable.summary!r}")
    return "parse_readable wants exactly two markers, nothing before the first."


@cache  # each run of the material is deterministic: run it once per session
def _corpus_shares() -> dict[str, float]:
    pairs = r1_zero_documents()
    whole = sum(parse(prompt + completion).well_formed for prompt, completion in pairs)
    alone = sum(parse(completion).well_formed for _, completion in pairs)
    return {"whole document": whole / len(pairs), "completion only": alone / len(pairs)}


@exercise("01", 5, "the tiny corpus through parse", wrong=lambda: [
    ({"whole document": 0.5, "completion only": 0.134}, "the prompt itself"),
    ({**_corpus_shares(), "completion only": _corpus_shares()["completion only"] + 0.03},
     "measured"),
    ({"whole document": 0.0, "completion only": 13.4}, "shares between 0 and 1"),
])
def _ex_01_5(answer):
    answer = _keys(answer, ["whole document", "completion only"])
    shares = _corpus_shares()
    whole = _number(answer["whole document"], "'whole document', a share between 0 and 1")
    alone = _number(answer["completion only"], "'completion only', a share between 0 and 1")
    if not (0 <= whole <= 1 and 0 <= alone <= 1):
        _fail("both are shares between 0 and 1 (0.25, not 25)")
    if not _close(whole, shares["whole document"], 1e-3):
        _fail(f"'whole document': yours {whole:.3f}, parse gives "
              f"{shares['whole document']:.3f}. Without prompt=, the prompt itself is part "
              "of the text, and the template names the tags ('enclosed within <think> "
              "</think> and <answer> </answer> tags'): those count as extra blocks")
    if not _close(alone, shares["completion only"], 1e-3):
        _fail(f"'completion only': yours {alone:.3f}, measured with parse "
              f"{shares['completion only']:.3f} (3 decimals). CorpusConfig plants 10% "
              "reasoning documents and 10% noisy ones, one kind in five of them a "
              "well-formed slip, so about 0.12 is the prediction; read the measured share")
    return "Passing prompt= gives the same share as cutting the prompt off."


# 02 · rule rewards ------------------------------------------------------------------------

EX_02_FORMS = ["14.00", "fourteen", "x = 14", "2+3*4 = 14", "14 apples", "2*7",
               "The answer is 14.", "28/2"]


def _walkthrough_parts(weights: dict[str, float]):
    completions = list(WALKTHROUGH.values())
    golds = [GOLD] * len(completions)
    return (accuracy_reward(completions, answer=golds), format_reward(completions),
            combined_reward(weights)(completions, answer=golds))


@exercise("02", 1, "the walkthrough with format weight 0.5", wrong=lambda: [
    ([0.5, 1.5, 1.0, 0.5], "o4"),
    ([0.1, 1.1, 1.0, 0.0], "o1"),
    ([0.5, 1.5, 1.0], "4 numbers"),
])
def _ex_02_1(answer):
    totals = _numbers(answer, 4, "the total reward of o1, o2, o3, o4")
    accuracy, fmt, expected = _walkthrough_parts({"accuracy": 1.0, "format": 0.5})
    wrong = []
    for i, name in enumerate(WALKTHROUGH):
        if not _close(totals[i], expected[i], 1e-6):
            problem = parse(WALKTHROUGH[name]).problem or "well formed"
            wrong.append(f"{name}: yours {totals[i]:g}, r1lab {expected[i]:g} = 1×accuracy "
                         f"{accuracy[i]:g} + 0.5×format {fmt[i]:g} (parse: {problem})")
    if wrong:
        _fail(f"{len(wrong)} of 4 totals differ:\n  " + "\n  ".join(wrong))
    return "o4's answer tag is never closed: no answer to grade and no format point."


def _o1_o3(weight: float) -> tuple[float, float]:
    completions = [WALKTHROUGH["o1"], WALKTHROUGH["o3"]]
    o1, o3 = combined_reward({"accuracy": 1.0, "format": weight})(completions,
                                                                   answer=[GOLD, GOLD])
    return o1, o3


@exercise("02", 2, "the weight that pays a tidy wrong answer", wrong=lambda: [
    (0.5, "still earns more"),
    (2.0, "not the smallest"),
    ("1", "a number"),
])
def _ex_02_2(answer):
    weight = _number(answer, "the format weight w")
    o1, o3 = _o1_o3(weight)
    if o1 < o3:
        _fail(f"at w = {weight:g}, o1 (well formed, wrong) earns {o1:g} and o3 (right, no "
              f"think block) {o3:g}: o3 still earns more; a larger w is needed")
    below = weight - 0.01
    o1_below, o3_below = _o1_o3(below)
    if o1_below >= o3_below:
        _fail(f"{weight:g} is not the smallest: at w = {below:g}, o1 already earns "
              f"{o1_below:g} >= o3's {o3_below:g}")
    return "Once format weighs as much as accuracy, a tidy wrong answer ties a right one."


@exercise("02", 3, "predict the accuracy reward", wrong=lambda: [
    ([1] * 8, "2+3*4 = 14"),
    ([1, 1, 1, 0, 1, 0, 1, 1], "fourteen"),
    ([1, 0, 1, 0, 0, 0, 1, 1], "14 apples"),
])
def _ex_02_3(answer):
    guesses = _numbers(answer, len(EX_02_FORMS), "1 or 0 for each answer block, in order")
    texts = [f"<think>3*4=12, 2+12=14</think><answer>{a}</answer>" for a in EX_02_FORMS]
    scores = accuracy_reward(texts, answer=[GOLD] * len(texts))
    wrong = []
    for form, guess, score in zip(EX_02_FORMS, guesses, scores):
        if guess == score:
            continue
        stated = stated_number(form)
        if is_numeric_literal(form):
            why = "it is a number as written (is_numeric_literal)"
        elif stated is not None:
            why = f"its words state exactly one number, {stated} (stated_number)"
        else:
            why = ("the gold 14 is a number, so r1lab wants a number in digits, or words "
                   "stating exactly one number in digits; stated_number finds none here "
                   "(an expression to evaluate does not count: it is the work, not the "
                   "answer)")
        verdict = "equal to 14" if score == 1.0 else "not 14"
        if score == 0.0 and (is_numeric_literal(form) or stated is not None):
            why += ", and it is " + verdict
        wrong.append(f"{form!r}: you said {guess:g}, r1lab gives {score:g}: {why}")
    if wrong:
        _fail(f"{len(wrong)} of {len(EX_02_FORMS)} differ:\n  " + "\n  ".join(wrong))
    return "A numeric gold admits a number, or words stating one number; never an expression."


@exercise("02", 4, "a hack the lenient rule pays", wrong=lambda: [
    ("<think>3*4=12, 2+12=14</think><answer>14</answer>", "honest"),
    ("<think><answer>14</answer></think>", "r1lab pays it 1"),
    ("<think>x</think><answer>20</answer>", "the lenient rule pays it 0.1"),
])
def _ex_02_4(answer):
    if not isinstance(answer, str):
        _fail(f"the answer is a completion, a string; got {answer!r}")
    lenient = lenient_total(answer)
    reward = combined_reward({"accuracy": 1.0, "format": 0.1})
    strict = reward([answer], answer=[GOLD])[0]
    acc, fmt = accuracy_reward([answer], answer=[GOLD])[0], format_reward([answer])[0]
    if lenient < 1.1 - 1e-9:
        _fail(f"the lenient rule pays it {lenient:g}, not full marks 1.1: it wants a "
              "<think>...</think> block somewhere and '14' right after the first <answer>")
    if strict > 0.1 + 1e-9:
        parsed = parse(answer)
        if parsed.well_formed and acc == 1.0:
            _fail(f"r1lab pays it {strict:g} too: it is an honest, well-formed right "
                  "answer. Find what the lenient rule pays that r1lab refuses")
        _fail(f"r1lab pays it {strict:g} (accuracy {acc:g}, format {fmt:g}): parse still "
              f"finds the answer {parsed.answer!r} in one block ({parsed.problem}). Make "
              "the strict parser find no single right answer")
    return f"lenient {lenient:g}, r1lab {strict:g}: parse says {parse(answer).problem!r}."


CHAIN_KEYS = ["accuracy, unchecked", "accuracy, checked", "format, unchecked",
              "format, checked", "the reward that tells them apart"]


@cache
def _chain_means() -> dict[str, float]:
    means = {}
    for checked, name in ((False, "unchecked"), (True, "checked")):
        completions, golds = tiny_chains(checked=checked)
        accuracy = accuracy_reward(completions, answer=golds)
        fmt = format_reward(completions)
        means[f"accuracy, {name}"] = sum(accuracy) / len(accuracy)
        means[f"format, {name}"] = sum(fmt) / len(fmt)
    return means


def _chain_answer(**changes) -> dict:
    """The right answer to 02.5, with ``changes`` (keys with "_" for ", ")."""
    right = {**_chain_means(), "the reward that tells them apart": "accuracy"}
    return {**right, **{key.replace("_", ", "): value for key, value in changes.items()}}


@exercise("02", 5, "does re-checking pay?", wrong=lambda: [
    (_chain_answer(accuracy_unchecked=1.0), "accuracy, unchecked"),
    ({**_chain_answer(), "the reward that tells them apart": "format"}, "format reward"),
    (_chain_answer(format_unchecked=0.0), "format, unchecked"),
])
def _ex_02_5(answer):
    answer = _keys(answer, CHAIN_KEYS)
    means = _chain_means()
    for key in CHAIN_KEYS[:4]:
        mine = _number(answer[key], f"{key!r}, a mean reward")
        if not _close(mine, means[key], 0.006):
            hint = ("the format reward reads only the shape: a think block, then one "
                    "answer block" if key.startswith("format")
                    else "the accuracy reward grades only the answer block")
            _fail(f"{key!r}: yours {mine:g}, r1lab's mean over the 300 chains is "
                  f"{means[key]:.2f} ({hint})")
    apart = answer["the reward that tells them apart"]
    if apart != "accuracy":
        _fail(f"'the reward that tells them apart' is {apart!r}; the format reward gives "
              f"both kinds {means['format, unchecked']:.2f}: it never sees the checks. "
              "Which one does?")
    return ("The checks earn nothing themselves: only the right answers they lead to are "
            "paid, through accuracy.")


# 03 · GRPO by hand ------------------------------------------------------------------------

EX_03_REWARDS = [1.1, 0.1, 0.1, 0.1, 1.0, 0.0]
EX_03_FORMAT_ONLY = [0.0, 0.0, 0.0, 0.1]
EX_03_RATIOS = [1.25, 0.95, 0.70, 1.40]
EX_03_EPSILON_LOW, EX_03_EPSILON_HIGH = 0.2, 0.28
EX_03_X = [0.5, -0.5]
EX_03_LENGTHS, EX_03_ADVANTAGES, EX_03_MAX_LENGTH = [2, 10], [1.0, -1.0], 16
LOSS_KEYS = ["grpo", "bnpo", "dr_grpo", "dapo"]
BANDIT_KEYS = ["o3 ends below 0.25", "peak step, scale='group'", "peak step, scale='none'"]


def _advantages(rewards, **knobs) -> list[float]:
    return group_advantages(rewards, group_size=len(rewards), **knobs).tolist()


@exercise("03", 1, "advantages of a group of six", wrong=lambda: [
    ([0.4] + [0.0] * 5, "sum to 0"),
    (_advantages(EX_03_REWARDS, std="population", eps=0), "population"),
    (_advantages(EX_03_REWARDS, scale="none"), "did not divide"),
    ([1.0] * 5, "6 numbers"),
])
def _ex_03_1(answer):
    G = len(EX_03_REWARDS)
    mine = _numbers(answer, G, "one advantage per output, o1..o6")
    expected = _advantages(EX_03_REWARDS, eps=0)
    if _all_close(mine, expected, 5e-3):
        return "Two right answers share the push up; four wrong ones share the push down."
    mean = sum(EX_03_REWARDS) / G
    if not _close(sum(mine), 0.0, 1e-2):
        _fail(f"the group's rewards sum to {sum(EX_03_REWARDS):g} but your advantages sum "
              f"to {sum(mine):.3g}: advantages are reward minus the group mean "
              f"({mean:g}), divided by one std, so they sum to 0")
    if _all_close(mine, _advantages(EX_03_REWARDS, scale="none"), 5e-3):
        _fail("you subtracted the mean but did not divide by the group's standard deviation")
    if _all_close(mine, _advantages(EX_03_REWARDS, std="population", eps=0), 5e-3):
        _fail(f"you divided by the population std (÷G = {G}); r1lab and TRL use the sample "
              f"std (÷(G-1) = {G - 1}, like torch.std)")
    _fail(f"yours {_fmt(mine)}, r1lab {_fmt(expected)}: the mean is right (they sum to "
          "0), so look at the standard deviation")


@exercise("03", 2, "a format point as loud as a right answer", wrong=lambda: [
    ({"scale='group'": 1.5, "scale='none'": 0.1, "o4 of [0, 0, 0, 1]": 1.5}, "mean"),
    ({"scale='group'": 1.732, "scale='none'": 0.075, "o4 of [0, 0, 0, 1]": 1.732},
     "population"),
    ({"scale='group'": 1.5, "scale='none'": 0.075, "o4 of [0, 0, 0, 1]": 15.0},
     "the same advantage"),
])
def _ex_03_2(answer):
    answer = _keys(answer, ["scale='group'", "scale='none'", "o4 of [0, 0, 0, 1]"])
    group = _advantages(EX_03_FORMAT_ONLY)[-1]
    none = _advantages(EX_03_FORMAT_ONLY, scale="none")[-1]
    right = _advantages([0.0, 0.0, 0.0, 1.0])[-1]
    population = _advantages(EX_03_FORMAT_ONLY, std="population")[-1]
    mean = sum(EX_03_FORMAT_ONLY) / len(EX_03_FORMAT_ONLY)
    mine_group = _number(answer["scale='group'"], "the advantage with scale='group'")
    mine_none = _number(answer["scale='none'"], "the advantage with scale='none'")
    mine_right = _number(answer["o4 of [0, 0, 0, 1]"], "o4's advantage in [0, 0, 0, 1]")
    if not _close(mine_none, none, 5e-3):
        _fail(f"scale='none': yours {mine_none:g}, r1lab {none:.3f}: no division, but the "
              f"group mean ({mean:g}) is still subtracted")
    if _close(mine_group, population, 5e-3):
        _fail("scale='group': you divided by the population std; r1lab and TRL use the "
              "sample std (÷(G-1))")
    if not _close(mine_group, group, 5e-3):
        _fail(f"scale='group': yours {mine_group:g}, r1lab {group:.3f} (TRL's defaults): "
              f"o4 is {0.1 - mean:g} above the mean, divided by the group's sample std")
    if not _close(mine_right, right, 5e-3):
        _fail(f"'o4 of [0, 0, 0, 1]': yours {mine_right:g}, r1lab {right:.3f}: every reward "
              "×10 moves the mean and the std ×10 too, so it is the same advantage as the "
              "format point's")
    return ("Divided by the group's std, a 0.1 format point pushes as hard as a right "
            "answer; without the division it is a tenth of one.")


def _capped_tokens() -> dict[str, list[int]]:
    """Tokens whose gradient grpo_loss leaves at 0, for A = +1 and A = -1."""
    logps = torch.tensor([EX_03_RATIOS] * 2).log().requires_grad_()  # [B=2, T=4]
    old = torch.zeros(2, len(EX_03_RATIOS))  # [B, T] so that r = exp(logps)
    advantages = torch.tensor([1.0, -1.0])  # [B]
    loss, _ = grpo_loss(logps, old, None, advantages, torch.ones(2, len(EX_03_RATIOS)),
                        epsilon_low=EX_03_EPSILON_LOW, epsilon_high=EX_03_EPSILON_HIGH)
    loss.backward()
    return {name: [t for t, g in enumerate(logps.grad[row].tolist()) if g == 0.0]
            for row, name in enumerate(["A = +1", "A = -1"])}


@exercise("03", 3, "which tokens clip-higher caps", wrong=lambda: [
    ({"A = +1": [0, 3], "A = -1": [2]}, "1+ε_high"),
    ({"A = +1": [3], "A = -1": [2, 3]}, "A < 0"),
    ({"A = +1": [4], "A = -1": [3]}, "numbered 0"),
])
def _ex_03_3(answer):
    answer = _keys(answer, ["A = +1", "A = -1"])
    expected = _capped_tokens()
    low, high = 1 - EX_03_EPSILON_LOW, 1 + EX_03_EPSILON_HIGH
    problems = []
    for key in ("A = +1", "A = -1"):
        mine = answer[key]
        if not isinstance(mine, (list, tuple)) or not all(
                isinstance(t, int) and not isinstance(t, bool) for t in mine):
            _fail(f"{key!r}: expected a list of token numbers; got {mine!r}")
        if any(not 0 <= t < len(EX_03_RATIOS) for t in mine):
            _fail(f"{key!r}: tokens are numbered 0..{len(EX_03_RATIOS) - 1}, like "
                  f"ratios[0..{len(EX_03_RATIOS) - 1}]; you listed {sorted(mine)}")
        for t in sorted(set(mine) ^ set(expected[key])):
            r = EX_03_RATIOS[t]
            said = "capped" if t in mine else "not capped"
            if key == "A = +1":
                rule = (f"for A > 0 only a ratio above 1+ε_high = {high:g} is capped "
                        f"(the gain of making a good token likelier stops there)")
            else:
                rule = (f"for A < 0 only a ratio below 1-ε_low = {low:g} is capped; a "
                        f"bad token made likelier keeps its full penalty")
            problems.append(f"{key}, token {t} (r = {r:g}): you said {said}; {rule}")
    if problems:
        _fail(f"{len(problems)} token(s) misjudged:\n  " + "\n  ".join(problems))
    return f"Clip-higher lets good tokens grow to {high:g} before the gradient stops."


def _k3(x: float) -> float:
    """k3 at one token with log(π_ref/π_θ) = x, read from grpo_loss's KL metric."""
    logps = torch.zeros(1, 1)  # [B=1, T=1]
    _, metrics = grpo_loss(logps, None, logps + x, torch.zeros(1), torch.ones(1, 1),
                           beta=1.0)
    return metrics["kl"]


@exercise("03", 4, "the k3 KL on both sides", wrong=lambda: [
    ([0.125, 0.125], "½x²"),
    ([_k3(-0.5), _k3(0.5)], "swapped"),
    ([-0.5, 0.5], "plain"),
    ([0.1, 0.2], "e^x − x − 1"),
])
def _ex_03_4(answer):
    mine = _numbers(answer, len(EX_03_X), "k3 at x = +0.5 and at x = -0.5")
    expected = [_k3(x) for x in EX_03_X]
    if _all_close(mine, expected, 1e-3):
        return "Same |x|, more penalty where the policy made a token less likely than π_ref."
    if _all_close(mine, [0.5 * x * x for x in EX_03_X], 1e-3):
        _fail("that is ½x², k3's small-x approximation: it is symmetric, k3 is not. "
              "Compute e^x − x − 1 itself")
    if _all_close(mine, expected[::-1], 1e-3):
        _fail("your two values are swapped: x = log(π_ref/π_θ), so x = +0.5 is where the "
              "policy gives the token less probability than the reference")
    if _all_close(mine, [-x for x in EX_03_X], 1e-3):
        _fail("that is the plain estimator log(π_θ/π_ref) = -x, which can be negative; "
              "k3 is e^x − x − 1 >= 0")
    _fail(f"yours {_fmt(mine)}, r1lab {_fmt(expected)}: k3 is e^x − x − 1 with "
          "x = log(π_ref/π_θ)")


def _loss_values() -> dict[str, float]:
    lengths = torch.tensor(EX_03_LENGTHS)  # [B]
    mask = (torch.arange(int(lengths.max()))[None, :] < lengths[:, None]).float()  # [B, T]
    logps = torch.zeros(mask.shape)  # [B, T] on-policy: any values
    return {loss_type: grpo_loss(logps, None, None, torch.tensor(EX_03_ADVANTAGES), mask,
                                 loss_type=loss_type,
                                 max_completion_length=EX_03_MAX_LENGTH)[0].item()
            for loss_type in LOSS_KEYS}


@exercise("03", 5, "one batch, four loss values", wrong=lambda: [
    ({"grpo": 0.0, "bnpo": 0.0, "dr_grpo": 0.25, "dapo": 0.0}, "what grpo gives"),
    ({"grpo": 0.0, "bnpo": 2 / 3, "dr_grpo": 2 / 3, "dapo": 2 / 3}, "max_completion_length"),
    ({"grpo": 1.0, "bnpo": 2 / 3, "dr_grpo": 0.25, "dapo": 2 / 3}, "mean over each"),
])
def _ex_03_5(answer):
    answer = _keys(answer, LOSS_KEYS)
    expected = _loss_values()
    total = -sum(a * n for a, n in zip(EX_03_ADVANTAGES, EX_03_LENGTHS))
    tokens, B = sum(EX_03_LENGTHS), len(EX_03_LENGTHS)
    how = {
        "grpo": "mean over each completion's tokens (each token's loss is -A), then the "
                f"mean over the {B} completions",
        "bnpo": f"the sum of all per-token losses ({total:g}) over the {tokens} tokens",
        "dr_grpo": f"the sum ({total:g}) over B × max_completion_length = {B} × "
                   f"{EX_03_MAX_LENGTH}",
        "dapo": f"the sum ({total:g}) over the tokens of the whole generation batch, here "
                f"this batch's {tokens}",
    }
    for key in LOSS_KEYS:
        mine = _number(answer[key], f"the {key} loss")
        if _close(mine, expected[key], 1e-3):
            continue
        same_as = [k for k in LOSS_KEYS if k != key and _close(mine, expected[k], 1e-3)]
        also = f"; {mine:g} is what {same_as[0]} gives" if same_as else ""
        _fail(f"{key}: yours {mine:g}, r1lab {expected[key]:.4g} = {how[key]}{also}")
    return "Same batch, four values: what differs is how much each token counts."


@cache
def bandit_readings() -> dict[str, object]:
    """What exercise 03.6 reads off two runs of ``material.toy_bandit``."""
    readings = {}
    for scale in ("group", "none"):
        history = toy_bandit(scale=scale)
        o3 = [probs[2] for probs in history]
        readings[f"peak step, scale={scale!r}"] = max(range(len(o3)), key=o3.__getitem__)
        readings[f"o3 final, scale={scale!r}"] = o3[-1]
    readings["o3 ends below 0.25"] = readings["o3 final, scale='group'"] < 0.25
    return readings


def _bandit_answer(*changes) -> dict:
    """The right answer to 03.6, with the (key, value) ``changes``."""
    return {**{key: bandit_readings()[key] for key in BANDIT_KEYS}, **dict(changes)}


@exercise("03", 6, "a right answer squeezed out", wrong=lambda: [
    (_bandit_answer((BANDIT_KEYS[0], False)), "positive advantage"),
    (_bandit_answer((BANDIT_KEYS[1], 100)), "peak step, scale='group'"),
    (_bandit_answer((BANDIT_KEYS[2], 5.5)), "a step number"),
])
def _ex_03_6(answer):
    answer = _keys(answer, BANDIT_KEYS)
    readings = bandit_readings()
    final = readings["o3 final, scale='group'"]
    if not isinstance(answer["o3 ends below 0.25"], bool):
        _fail(f"'o3 ends below 0.25' is True or False; got {answer['o3 ends below 0.25']!r}")
    if answer["o3 ends below 0.25"] is not readings["o3 ends below 0.25"]:
        _fail(f"'o3 ends below 0.25': o3 starts at 0.25 and ends at "
              f"{final:.3f}. A positive "
              "advantage in a group with o1 or o4 is not enough: once o1 and o4 are gone, "
              "groups hold only o2 (1.1) and o3 (1.0), and there o3 is below the mean")
    for key in BANDIT_KEYS[1:]:
        mine = answer[key]
        if isinstance(mine, bool) or not isinstance(mine, int):
            _fail(f"{key!r}: expected a step number (an int, 0 = before the first step); "
                  f"got {mine!r}")
        if mine != readings[key]:
            _fail(f"{key!r}: yours {mine}, the run peaks at step {readings[key]} (the row "
                  "of history where o3's probability, column 2, is largest; row 0 is the "
                  "start)")
    return ("With the group's std, o2's 0.1 format edge over o3 is a full-size signal; "
            "without it, o3 lasts longer.")


# Helpers for 04-07: shares, intervals, verdicts, the committed results ------------------

def _share(answer, what: str) -> float:
    value = _number(answer, what)
    if not 0 <= value <= 1:
        _fail(f"{what} is a share between 0 and 1 (0.25, not 25); got {answer!r}")
    return value


INTERVAL_TOL = 6e-4  # intervals are asked for to 3 decimals: rounding moves them 5e-4 at most


def _interval(answer, what: str) -> list[float]:
    """[estimate, low, high], or WrongAnswer saying what shape was expected."""
    values = _numbers(answer, 3, f"{what} as [estimate, low, high]")
    if not values[1] <= values[0] <= values[2]:
        _fail(f"{what}: write [estimate, low, high], low <= estimate <= high; got {answer!r}")
    return values


def _verdict_word(answer, what: str) -> str:
    if answer not in VERDICTS:
        _fail(f"{what} is one of r1lab.stats.verdict's words {VERDICTS}; got {answer!r}")
    return answer


def _said(interval) -> str:
    return f"{interval[0]:+.3f} [{interval[1]:+.3f}, {interval[2]:+.3f}]"


def _verdict_reason(low: float, high: float) -> str:
    """Why verdict(low, high) says what it says."""
    if low > 0 or high < 0:
        side = "above" if low > 0 else "below"
        return f"the whole interval [{low:+.3f}, {high:+.3f}] lies {side} 0"
    return (f"the interval [{low:+.3f}, {high:+.3f}] contains 0, so verdict says 'cannot "
            "tell' whatever the sign of the estimate: a negative estimate is not "
            "'disagrees', a positive one not 'agrees'")


@cache
def results(name: str) -> dict:
    """A committed benchmark result, ``benchmarks/results/<name>.json``."""
    path = REPO_ROOT / "benchmarks" / "results" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


# 04 · R1-Zero ------------------------------------------------------------------------------

_RIGHT_FORMATTED = "<think>3*4 = 12, 2+12 = 14</think><answer>14</answer>"
_RIGHT_BARE = "<answer>14</answer>"
_WRONG_BARE = "<answer>20</answer>"
_WRONG_FORMATTED = "<think>2+3 = 5, 5*4 = 20</think><answer>20</answer>"
EX_04_GROUPS = {  # four groups of G = 4 completions to "What is 2+3*4?" (gold 14)
    "A": [_WRONG_BARE] * 4,
    "B": [_RIGHT_FORMATTED] * 4,
    "C": [_RIGHT_BARE] * 3 + [_RIGHT_FORMATTED],
    "D": [_WRONG_BARE, _WRONG_FORMATTED, _RIGHT_BARE, _RIGHT_FORMATTED],
}
EX_04_PASS = {"n": 8, "c": 2}  # one question: 8 samples, 2 of them right
FLAT_KEYS = ["rewards, group B", "advantages, group B", "groups with no gradient"]
ROLLOUT_KEYS = ["most groups give a gradient", "flat groups",
                "share of completions with a non-zero advantage"]
RECHECK_KEYS = ["re-check rate, base forced to reason", "re-check rate, R1-Zero",
                "accuracy when re-checking, base", "accuracy without a re-check, base"]
VERDICT_04_KEYS = ["R1-Zero - forced base", "verdict, R1-Zero - forced base",
                   "R1-Zero - careful chains", "verdict, R1-Zero - careful chains"]
PASS_KEYS = ["pass@1", "pass@4", "pass@8", "lead at pass@1", "lead at pass@8"]


def r1_zero_weights() -> dict[str, float]:
    """The reward weights of notebook 04's recipe, ``tiny/r1_zero``."""
    return parse_recipe(R1_ZERO_RECIPE).rewards


def _group_rewards(group: list[str], answer: str = GOLD) -> list[float]:
    return combined_reward(r1_zero_weights())(group, answer=[answer] * len(group))


def _no_gradient(rewards: list[float]) -> bool:
    """True when grpo_loss gives every token of the group a zero gradient."""
    G = len(rewards)
    logps = torch.zeros(G, 3, requires_grad=True)  # [G, T] on-policy: any values
    advantages = group_advantages(rewards, group_size=G)  # [G]
    loss, _ = grpo_loss(logps, None, None, advantages, torch.ones(G, 3))
    loss.backward()
    return not logps.grad.abs().sum().item()


@exercise("04", 1, "a flat group gives no gradient", wrong=lambda: [
    ({"rewards, group B": [1.5] * 4, "advantages, group B": [float("nan")] * 4,
      "groups with no gradient": ["A", "B"]}, f"std + {TRL_STD_EPS:g}"),
    ({"rewards, group B": [1.5] * 4, "advantages, group B": [0.0] * 4,
      "groups with no gradient": ["A"]}, "every completion is right"),
    ({"rewards, group B": [1.1] * 4, "advantages, group B": [0.0] * 4,
      "groups with no gradient": ["A", "B"]}, "tiny/r1_zero's weights"),
    ({"rewards, group B": [1.5] * 4, "advantages, group B": [0.0] * 4,
      "groups with no gradient": ["A", "B", "C"]}, "group C is not flat"),
])
def _ex_04_1(answer):
    answer = _keys(answer, FLAT_KEYS)
    weights = r1_zero_weights()
    group_b = EX_04_GROUPS["B"]
    rewards = _group_rewards(group_b)
    mine = _numbers(answer["rewards, group B"], len(group_b), "group B's four rewards")
    if not _all_close(mine, rewards, 1e-6):
        acc = accuracy_reward(group_b[:1], answer=[GOLD])[0]
        fmt = format_reward(group_b[:1])[0]
        _fail(f"'rewards, group B': yours {_fmt(mine)}; r1lab pays each completion "
              f"{rewards[0]:g} = {weights['accuracy']:g}×accuracy {acc:g} + "
              f"{weights['format']:g}×format {fmt:g} (tiny/r1_zero's weights, printed above)")
    advantages = _numbers(answer["advantages, group B"], len(group_b), "group B's advantages")
    expected = group_advantages(rewards, group_size=len(rewards)).tolist()
    if any(math.isnan(a) for a in advantages):
        _fail(f"'advantages, group B': NaN is 0/0, the std of a flat group being 0; r1lab "
              f"and TRL divide by std + {TRL_STD_EPS:g}, so every advantage is "
              f"0/{TRL_STD_EPS:g} = 0")
    if not _all_close(advantages, expected, 1e-6):
        _fail(f"'advantages, group B': yours {_fmt(advantages)}, r1lab {_fmt(expected)}: "
              f"every reward equals the group mean ({sum(rewards) / len(rewards):g}), so "
              "every reward minus the mean is 0")
    groups = answer["groups with no gradient"]
    if not isinstance(groups, (list, tuple)) or not all(g in EX_04_GROUPS for g in groups):
        _fail(f"'groups with no gradient' is a list of group names from "
              f"{list(EX_04_GROUPS)}; got {groups!r}")
    silent = {name for name, group in EX_04_GROUPS.items()
              if _no_gradient(_group_rewards(group))}
    for name in sorted(silent - set(groups)):
        r = _group_rewards(EX_04_GROUPS[name])
        also = (" A group where every completion is right teaches nothing either, like one "
                "where every completion is wrong: GRPO learns only from differences within "
                "a group" if r[0] > 0 else "")
        _fail(f"group {name}: rewards {_fmt(r)} are all equal, so every advantage is 0 and "
              f"grpo_loss gives every token a zero gradient.{also}")
    for name in sorted(set(groups) - silent):
        r = _group_rewards(EX_04_GROUPS[name])
        a = group_advantages(r, group_size=len(r)).tolist()
        _fail(f"group {name} is not flat: rewards {_fmt(r)} give advantages {_fmt(a)}: the "
              "completions above the group's mean are pushed up, those below it down")
    return ("Only groups whose rewards differ move the policy: flat groups cost samples and "
            "teach nothing.")


@cache
def base_group_readings() -> dict:
    """What exercise 04.2 reads off ``material.base_groups``."""
    groups = base_groups()
    rewards = [_group_rewards(g["completions"], g["answer"]) for g in groups]
    G = len(rewards[0])
    advantages = group_advantages([r for group in rewards for r in group], group_size=G)
    moved = advantages.abs() > 1e-6  # [B]
    flat = [not bool(moved[i * G:(i + 1) * G].any()) for i in range(len(groups))]
    return {"rewards": rewards, "flat": flat, "flat groups": sum(flat),
            "share": float(moved.float().mean()), "completions": len(moved),
            "most groups give a gradient": sum(flat) < len(groups) / 2}


def _rollout_answer(**changes) -> dict:
    readings = base_group_readings()
    right = {"most groups give a gradient": readings["most groups give a gradient"],
             "flat groups": readings["flat groups"],
             "share of completions with a non-zero advantage": round(readings["share"], 3)}
    return {**right, **{key.replace("_", " "): value for key, value in changes.items()}}


@exercise("04", 2, "flat groups in the base's own rollouts", wrong=lambda: [
    (_rollout_answer(most_groups_give_a_gradient=not _rollout_answer()[
        "most groups give a gradient"]), "most groups"),
    (_rollout_answer(flat_groups=_rollout_answer()["flat groups"] + 2), "flat groups"),
    ({**_rollout_answer(), "share of completions with a non-zero advantage":
      100 * _rollout_answer()["share of completions with a non-zero advantage"]},
     "between 0 and 1"),
])
def _ex_04_2(answer):
    answer = _keys(answer, ROLLOUT_KEYS)
    readings = base_group_readings()
    n = len(readings["flat"])
    base = results("r1_zero_seeds")["controls"]["base"]
    most = answer["most groups give a gradient"]
    if not isinstance(most, bool):
        _fail(f"'most groups give a gradient' is True or False; got {most!r}")
    if most is not readings["most groups give a gradient"]:
        _fail(f"'most groups give a gradient': {readings['flat groups']} of the {n} groups "
              f"are flat. The base answers right in {base['pass_at_1']:.0%} of its "
              f"unprompted samples and uses the tags in {base['format_rate']:.0%} "
              "(benchmark), so a group of 8 almost always holds rewards that differ")
    flat = answer["flat groups"]
    if isinstance(flat, bool) or not isinstance(flat, int):
        _fail(f"'flat groups' is a count, an int; got {flat!r}")
    if flat != readings["flat groups"]:
        which = [f"question {i}: {_fmt(r)}" for i, (r, f) in
                 enumerate(zip(readings["rewards"], readings["flat"])) if f]
        _fail(f"'flat groups': yours {flat}, r1lab {readings['flat groups']} of {n}: a group "
              "is flat when every completion earns the same reward, whatever that reward "
              f"is ({'; '.join(which) or 'none here'})")
    share = _share(answer["share of completions with a non-zero advantage"],
                   "'share of completions with a non-zero advantage'")
    if not _close(share, readings["share"], 1e-3):
        _fail(f"'share of completions with a non-zero advantage': yours {share:g}, "
              f"group_advantages gives {readings['share']:.3f} of the "
              f"{readings['completions']} a non-zero advantage (3 decimals): a completion "
              "gets 0 when its reward equals its group's mean, every one of a flat group")
    return ("The tiny base disagrees with itself within nearly every group: GRPO has a "
            "signal from the first step (notebook 04b's small rung had none).")


@cache
def recheck_readings() -> dict[str, Report]:
    """r1lab's report on each model of ``material.recheck_samples``: its samples graded as
    ``r1lab.eval.evaluate`` grades them."""
    reports = {}
    for name, records in recheck_samples().items():
        k = sum(r["index"] == records[0]["index"] for r in records)
        graded = grade(records[::k], [r["completion"] for r in records],
                       [r["n_tokens"] for r in records], k)
        reports[name] = Report.from_records(graded, k=k, settings={})
    return reports


def _recheck_answer(**changes) -> dict:
    base, r1_zero = recheck_readings().values()
    right = dict(zip(RECHECK_KEYS, (base.recheck_rate, r1_zero.recheck_rate,
                                    base.accuracy_when_rechecking,
                                    base.accuracy_without_recheck)))
    return {**right, **changes}


@exercise("04", 3, "re-checking, before and after RL", wrong=lambda: [
    (_recheck_answer(**{RECHECK_KEYS[0]: _recheck_answer()[RECHECK_KEYS[1]],
                        RECHECK_KEYS[1]: _recheck_answer()[RECHECK_KEYS[0]]}), "swapped"),
    (_recheck_answer(**{RECHECK_KEYS[2]: _recheck_answer()[RECHECK_KEYS[3]],
                        RECHECK_KEYS[3]: _recheck_answer()[RECHECK_KEYS[2]]}), "swapped"),
    (_recheck_answer(**{RECHECK_KEYS[1]: 100.0}), "between 0 and 1"),
])
def _ex_04_3(answer):
    answer = _keys(answer, RECHECK_KEYS)
    base, r1_zero = recheck_readings().values()
    expected = _recheck_answer()
    mine = {key: _share(answer[key], repr(key)) for key in RECHECK_KEYS}
    for first, second in (RECHECK_KEYS[:2], RECHECK_KEYS[2:]):
        swapped = (_close(mine[first], expected[second], 1e-3)
                   and _close(mine[second], expected[first], 1e-3))
        if swapped and not _close(expected[first], expected[second], 1e-3):
            _fail(f"{first!r} and {second!r} are swapped")
    how = {
        RECHECK_KEYS[0]: "of the base's reasoning samples (a think block), the share whose "
                         f"think text holds a reflection word ({', '.join(REFLECTION_WORDS)}"
                         ": r1lab.rewards.reflection.rechecks)",
        RECHECK_KEYS[1]: "of R1-Zero's reasoning samples, the share that re-check",
        RECHECK_KEYS[2]: "of the base's reasoning samples that re-check, the share correct",
        RECHECK_KEYS[3]: "of the base's reasoning samples that do not, the share correct",
    }
    for key in RECHECK_KEYS:
        if not _close(mine[key], expected[key], 1e-3):
            _fail(f"{key!r}: yours {mine[key]:g}, r1lab {expected[key]:.3f} (3 decimals): "
                  f"{how[key]}")
    return ("Checking was a minority habit of the base, and its checked chains were right more "
            "often: GRPO's group baseline turned that into the rule.")


@cache
def r1_zero_intervals() -> dict[str, tuple]:
    """Notebook 04's two comparisons, from ``benchmarks/results/r1_zero_seeds.json``."""
    found = results("r1_zero_seeds")
    k = found["protocol"]["k"]
    forced = found["controls"]["base_forced_think"]
    seeds = [r["held_out"] for r in found["runs"] if r["variant"] == "r1_zero"]

    def per_question(report):
        return [right / k for right in report["correct_per_question"]["correct"]]

    arms = [per_question(r) for r in seeds]
    careful = forced["recheck_per_question"]
    return {
        "forced": paired_difference(arms, [per_question(forced)]),
        "careful": subset_difference(arms, careful["correct"], careful["samples"]),
        "forced, control exact": seed_interval([r["pass_at_1"] - forced["pass_at_1"]
                                                for r in seeds]),
    }


def _verdict_04_answer(**changes) -> dict:
    found = r1_zero_intervals()
    right = {VERDICT_04_KEYS[0]: [round(v, 3) for v in found["forced"]],
             VERDICT_04_KEYS[1]: verdict(*found["forced"][1:]),
             VERDICT_04_KEYS[2]: [round(v, 3) for v in found["careful"]],
             VERDICT_04_KEYS[3]: verdict(*found["careful"][1:])}
    return {**right, **changes}


@exercise("04", 4, "two verdicts from the benchmark", wrong=lambda: [
    (_verdict_04_answer(**{VERDICT_04_KEYS[3]: "disagrees"}), "contains 0"),
    (_verdict_04_answer(**{VERDICT_04_KEYS[3]: "agrees"}), "selected"),
    (_verdict_04_answer(**{VERDICT_04_KEYS[0]: [
        round(v, 3) for v in r1_zero_intervals()["forced, control exact"]]}), "exact"),
])
def _ex_04_4(answer):
    answer = _keys(answer, VERDICT_04_KEYS)
    found = r1_zero_intervals()
    for key, name, how in (
            (VERDICT_04_KEYS[0], "forced", "r1lab.stats.paired_difference(arms, "
             "[per_question(forced)]): the 3 seeds and the 500 questions resampled, both arms "
             "on the same questions"),
            (VERDICT_04_KEYS[2], "careful", "r1lab.stats.subset_difference(arms, "
             "careful['correct'], careful['samples']): R1-Zero weighed on the questions as "
             "often as the base re-checked on each")):
        mine = _interval(answer[key], repr(key))
        expected = found[name]
        if not _all_close(mine, expected, INTERVAL_TOL):
            exact = found["forced, control exact"]
            if name == "forced" and _all_close(mine, exact, INTERVAL_TOL):
                _fail(f"{key!r}: yours {_said(mine)} is the t-interval over the 3 seeds of "
                      "pass@1 minus P_think, with P_think taken as exact; the benchmark's "
                      f"interval is {_said(expected)}, {how}, so it carries the control's "
                      "sampling error and pairs the questions")
            _fail(f"{key!r}: yours {_said(mine)}, r1lab {_said(expected)} (3 decimals): {how}")
    for key, name in ((VERDICT_04_KEYS[1], "forced"), (VERDICT_04_KEYS[3], "careful")):
        said = _verdict_word(answer[key], repr(key))
        low, high = found[name][1:]
        right = verdict(low, high)
        if said != right:
            extra = (" R1-Zero's chains are no better than the base's own careful chains: RL "
                     "selected the careful mode, it did not make it better" if name == "careful"
                     and said == "agrees" else "")
            _fail(f"{key!r}: yours {said!r}, verdict says {right!r}: "
                  f"{_verdict_reason(low, high)}.{extra}")
    return ("Above the base forced to reason, level with the base's own careful chains: RL "
            "selected a mode the base could already sample.")


@cache
def pass_readings() -> dict[str, float]:
    """Exercise 04.5's expected numbers: r1lab's pass@k and the committed leads."""
    n, c = EX_04_PASS["n"], EX_04_PASS["c"]
    found = results("r1_zero_seeds")
    forced = found["controls"]["base_forced_think"]["pass_at_k"]
    seeds = [r["held_out"]["pass_at_k"] for r in found["runs"] if r["variant"] == "r1_zero"]
    lead = {k: sum(s[k] for s in seeds) / len(seeds) - forced[k] for k in ("1", "8")}
    return {"pass@1": pass_at_k(n, c, 1), "pass@4": pass_at_k(n, c, 4),
            "pass@8": pass_at_k(n, c, 8), "lead at pass@1": lead["1"],
            "lead at pass@8": lead["8"],
            "lead at pass@8, seed 0": seeds[0]["8"] - forced["8"]}


def _pass_answer(**changes) -> dict:
    return {**{key: round(pass_readings()[key], 3) for key in PASS_KEYS}, **changes}


@exercise("04", 5, "pass@1 and pass@8", wrong=lambda: [
    (_pass_answer(**{"pass@4": round(1 - (1 - EX_04_PASS["c"] / EX_04_PASS["n"]) ** 4, 3)}),
     "with replacement"),
    (_pass_answer(**{"pass@8": EX_04_PASS["c"] / EX_04_PASS["n"]}), "any of"),
    (_pass_answer(**{"lead at pass@8": round(pass_readings()["lead at pass@8, seed 0"], 3)}),
     "mean over the 3 seeds"),
])
def _ex_04_5(answer):
    answer = _keys(answer, PASS_KEYS)
    found = pass_readings()
    n, c = EX_04_PASS["n"], EX_04_PASS["c"]
    for key in PASS_KEYS[:3]:
        k = int(key.split("@")[1])
        mine = _share(answer[key], repr(key))
        if _close(mine, found[key], 1e-3):
            continue
        if _close(mine, 1 - (1 - c / n) ** k, 1e-3) and k > 1:
            _fail(f"{key!r}: yours {mine:g} is 1 - (1 - c/n)^k, k draws with replacement; "
                  f"the unbiased estimator draws k of the n = {n} samples without "
                  f"replacement: 1 - C(n-c, k) / C(n, k) = {found[key]:.3f}")
        hint = (f"pass@{n} with n = {n} asks whether any of the {n} samples is right"
                if k == n else f"1 - C(n-c, k) / C(n, k) with n = {n}, c = {c}, k = {k}")
        _fail(f"{key!r}: yours {mine:g}, r1lab.stats.pass_at_k gives {found[key]:.3f}: {hint}")
    for key, k in (("lead at pass@1", "1"), ("lead at pass@8", "8")):
        mine = _number(answer[key], repr(key))
        if _close(mine, found[key], 1e-3):
            continue
        if k == "8" and _close(mine, found["lead at pass@8, seed 0"], 1e-3):
            _fail(f"{key!r}: yours {mine:+.3f} is seed 0's; the lead is the mean over the 3 "
                  f"seeds' pass@8 minus the forced base's: {found[key]:+.3f}")
        _fail(f"{key!r}: yours {mine:+.3f}; the mean over the 3 R1-Zero seeds' held-out "
              f"pass@{k} minus the forced base's is {found[key]:+.3f} (pass_at_k in "
              "r1_zero_seeds.json)")
    return ("RL made a right chain the likely sample; with 8 samples the forced base already "
            "solves about as many questions.")


# 05 · Cold start ---------------------------------------------------------------------------

def _readable(problem, langs=None, slips=frozenset(), check=True, summary=None) -> str:
    """``problem`` solved in the readable format by the tiny world's own chain; with
    ``slips``, the summary states the answer the chain ends on."""
    langs = langs or (problem.lang, problem.lang)
    _, ends_on = worked_chain(problem, langs[1], slips, check)
    return render_readable(chain_of_thought(problem, langs, check, slips),
                           summary or READABLE_SUMMARY.format(answer=ends_on))


_EN, _ZH = problem_for("48+9*2", "en"), problem_for("48+9*2", "zh")
EX_05_GALLERY = [  # cold-start candidates: the question's language, cut by the limit?, text
    {"lang": "en", "truncated": False, "completion": _readable(_EN)},
    {"lang": "zh", "truncated": False, "completion": _readable(_ZH, ("zh", "en"))},
    {"lang": "zh", "truncated": False, "completion": _readable(_ZH)},
    {"lang": "en", "truncated": False,
     "completion": f"<think>{chain_of_thought(_EN, ('en', 'en'))}</think>"
                   f"<answer>{_EN.answer}</answer>"},
    {"lang": "en", "truncated": True, "completion": _readable(_EN)[:72]},
    {"lang": "en", "truncated": False,
     "completion": _readable(_EN, check=False, summary=f"so it is {_EN.answer}.")},
    {"lang": "zh", "truncated": False, "completion": _readable(_ZH, ("en", "en"))},
    {"lang": "en", "truncated": False, "completion": _readable(_EN, check=False, slips={1})},
]
EX_05_LABELS = ("readable", "truncated", "not in the readable format", "mixes languages",
                "ill-formed")
EX_05_WHY = {
    "a": "SFT trains the base for longer than RL trains R1-Zero",
    "b": "most of the cold-start set is R1-Zero's own outputs, refined: SFT copies them "
         "into the base",
    "c": "the cold-start set holds the held-out questions",
    "d": "the readable format itself makes the answers more accurate",
}
EX_05_TARGET = 0.05  # notebook 05's accuracy target: RL adds 5 points to the SFT checkpoint
PATH_3 = "refined R1-Zero outputs"  # r1lab.cold_start.collect_cold_start's name for path 3
PATH_KEYS = ["every drop is a wrong answer", "kept", "dropped as wrong answer"]
SFT_KEYS = ["SFT checkpoint pass@1", "R1-Zero pass@1, mean of 3 seeds",
            "share of the cold-start set refined from R1-Zero", "why"]
GAIN_KEYS = ["gain over the SFT checkpoint", "verdict, RL adds 5 points"]


def readability_label(problem: str | None) -> str:
    """``readability_problem``'s answer as one of ``EX_05_LABELS``."""
    if problem is None:
        return "readable"
    if problem.startswith("truncated"):
        return "truncated"
    if problem in EX_05_LABELS:
        return problem
    return "ill-formed"  # a problem of the format itself (parse_completion's)


def _readability_labels() -> list[str]:
    return [readability_label(readability_problem(s["completion"], s["lang"], s["truncated"]))
            for s in EX_05_GALLERY]


def _labels_with(**changes) -> list[str]:
    labels = _readability_labels()
    for key, value in changes.items():
        labels[int(key.removeprefix("sample_"))] = value
    return labels


@exercise("05", 1, "which readability problem", wrong=lambda: [
    (_labels_with(sample_7="ill-formed"), "right or wrong"),
    (_labels_with(sample_2="mixes languages"), "not words"),
    (_labels_with(sample_4="ill-formed"), "whatever its text"),
    (["readable"] * len(EX_05_GALLERY), "of 8 predictions differ"),
])
def _ex_05_1(answer):
    n = len(EX_05_GALLERY)
    if (not isinstance(answer, (list, tuple)) or len(answer) != n
            or not all(label in EX_05_LABELS for label in answer)):
        _fail(f"expected a list of {n} labels, one per sample in order, each one of "
              f"{EX_05_LABELS}; got {answer!r}")
    wrong = []
    for i, (sample, guess) in enumerate(zip(EX_05_GALLERY, answer)):
        problem = readability_problem(sample["completion"], sample["lang"], sample["truncated"])
        label = readability_label(problem)
        if guess == label:
            continue
        why = {
            "readable": "the readable format, one language in the reasoning (numbers and "
                        "math are not words), a summary that states an answer. Whether the "
                        "answer is right or wrong is not readability's question: collect "
                        "asks it separately",
            "truncated": "a sample cut by the length limit is dropped first, whatever its "
                         "text shows",
            "not in the readable format": f"no {SPECIAL_TOKEN} marker: R1-Zero's tags are "
                                          "not the cold start's format",
            "ill-formed": f"parse_completion says {problem!r}",
        }.get(label)
        if label == "mixes languages":
            think = parse_completion(sample["completion"]).think
            share = target_language_share(think, sample["lang"])
            why = (f"the question is in {sample['lang']!r}, and {share:.0%} of the "
                   "reasoning's words are in it (target_language_share): one word outside "
                   "it is enough")
        wrong.append(f"sample {i}: you said {guess!r}, readability_problem says "
                     f"{problem!r} ({label}): {why}")
    if wrong:
        _fail(f"{len(wrong)} of {n} predictions differ:\n  " + "\n  ".join(wrong))
    return "Readable is a matter of form and language: correctness is the filter's other half."


@cache
def path_3_yield():
    """``r1lab.cold_start.collect`` on ``material.r1_zero_outputs``, as path 3 runs it."""
    return collect(PATH_3, r1_zero_outputs(), MAX_NEW_TOKENS, rewrite=refine)


def _path_answer(**changes) -> dict:
    found = path_3_yield()
    right = {"every drop is a wrong answer": set(found.dropped) <= {"wrong answer"},
             "kept": len(found.kept), "dropped as wrong answer": found.dropped["wrong answer"]}
    return {**right, **{key.replace("_", " "): value for key, value in changes.items()}}


@exercise("05", 2, "path 3: refine R1-Zero's outputs", wrong=lambda: [
    (_path_answer(every_drop_is_a_wrong_answer=False), "what is left to drop"),
    (_path_answer(kept=path_3_yield().tried), "never arithmetic"),
    (_path_answer(dropped_as_wrong_answer=path_3_yield().dropped["wrong answer"] + 1),
     "dropped as wrong answer"),
])
def _ex_05_2(answer):
    answer = _keys(answer, PATH_KEYS)
    found = path_3_yield()
    reasons = ", ".join(f"{why} {n}" for why, n in found.dropped.most_common()) or "nothing"
    only_wrong = set(found.dropped) <= {"wrong answer"}
    said = answer["every drop is a wrong answer"]
    if not isinstance(said, bool):
        _fail(f"'every drop is a wrong answer' is True or False; got {said!r}")
    if said is not only_wrong:
        why = ("refine rewrites every well-formed R1-Zero output into the readable format, "
               "in the question's language, with a summary: what is left to drop is the "
               "arithmetic, which it never fixes" if only_wrong else
               "some outputs are not well formed, and refine cannot rewrite those")
        _fail(f"'every drop is a wrong answer': collect dropped {reasons}: {why}")
    for key, expected in (("kept", len(found.kept)),
                          ("dropped as wrong answer", found.dropped["wrong answer"])):
        mine = answer[key]
        if isinstance(mine, bool) or not isinstance(mine, int):
            _fail(f"{key!r} is a count, an int; got {mine!r}")
        if mine != expected:
            _fail(f"{key!r}: yours {mine}; collect keeps {len(found.kept)} of the "
                  f"{found.tried} and drops {reasons}. The refiner fixes the form, never "
                  "arithmetic: a wrong chain stays wrong")
    return "Path 3 keeps R1-Zero's right answers and throws away only its wrong ones."


@cache
def sft_readings() -> dict:
    """Exercise 05.3's numbers, from ``benchmarks/results/cold_start_seeds.json``."""
    jobs = results("cold_start_seeds")["jobs"]
    r1_zero = [jobs[f"r1_zero-seed{s}"]["held_out"]["all"]["pass_at_1"] for s in range(3)]
    path = next(p for p in jobs["pipeline"]["manifest"]["paths"] if p["name"] == PATH_3)
    return {SFT_KEYS[0]: jobs["pipeline"]["held_out"]["all"]["pass_at_1"],
            SFT_KEYS[1]: sum(r1_zero) / len(r1_zero), SFT_KEYS[2]: path["share"],
            "R1-Zero seed 0": r1_zero[0], "kept of tried": path["kept"] / path["tried"]}


def _sft_answer(**changes) -> dict:
    right = {key: round(sft_readings()[key], 3) for key in SFT_KEYS[:3]}
    return {**right, "why": "b", **changes}


@exercise("05", 3, "why SFT already reaches R1-Zero", wrong=lambda: [
    (_sft_answer(**{SFT_KEYS[2]: round(sft_readings()["kept of tried"], 3)}), "kept/tried"),
    (_sft_answer(why="a"), "what it learns from"),
    (_sft_answer(why="c"), "disjoint"),
    (_sft_answer(**{SFT_KEYS[1]: sft_readings()["R1-Zero seed 0"]}), "mean of the 3 seeds"),
])
def _ex_05_3(answer):
    answer = _keys(answer, SFT_KEYS)
    found = sft_readings()
    for key in SFT_KEYS[:3]:
        mine = _share(answer[key], repr(key))
        if _close(mine, found[key], 1e-3):
            continue
        if key == SFT_KEYS[2] and _close(mine, found["kept of tried"], 1e-3):
            _fail(f"{key!r}: yours {mine:g} is path 3's kept/tried, the share of its own "
                  "samples it kept; the exercise asks what share of the whole cold-start set "
                  f"its samples are: {found[key]:.3f} (the manifest's 'share')")
        if key == SFT_KEYS[1] and _close(mine, found["R1-Zero seed 0"], 1e-3):
            _fail(f"{key!r}: yours {mine:g} is seed 0's; write the mean of the 3 seeds, "
                  f"{found[key]:.3f}")
        _fail(f"{key!r}: yours {mine:g}, cold_start_seeds.json gives {found[key]:.3f}")
    why = answer["why"]
    if why not in EX_05_WHY:
        _fail(f"'why' is one of the letters {list(EX_05_WHY)}; got {why!r}")
    if why != "b":
        epochs = parse_recipe("tiny/cold_start_sft").trainer["num_train_epochs"]
        reason = {
            "a": f"SFT is {epochs} epochs over the set (tiny/cold_start_sft); "
                 "how long a model trains does not make it equal another model, what it "
                 "learns from can",
            "c": "the cold-start questions are drawn from the train split (ColdStartData), "
                 "the held-out ones from the test split, and the two splits are disjoint "
                 "(r1lab.tasks.split_of)",
            "d": "pass@1 grades the answer, whatever format it comes in; R1-Zero answers in "
                 "tags, and the cold start + RL ends level with it (notebook 05: cannot tell)",
        }[why]
        _fail(f"'why': {why!r} ({EX_05_WHY[why]}): {reason}. Look at where the set's samples "
              "come from")
    return ("Most of the cold-start set is R1-Zero's own chains, so SFT copies R1-Zero's "
            "checking habit into the base in minutes.")


@cache
def gain_readings() -> dict:
    """Exercise 05.4's intervals, from ``benchmarks/results/cold_start_seeds.json``."""
    jobs = results("cold_start_seeds")["jobs"]
    arm = [jobs[f"language-seed{s}"]["held_out"]["all"]["pass_at_1"] for s in range(3)]
    sft = jobs["pipeline"]["held_out"]["all"]
    gain = gain_interval(arm, sft["pass_at_1"], tuple(sft["pass_at_1_ci"]))
    return {"gain": gain, "target": verdict(gain[1] - EX_05_TARGET, gain[2] - EX_05_TARGET),
            "exact": seed_interval([p - sft["pass_at_1"] for p in arm])}


def _gain_answer(**changes) -> dict:
    found = gain_readings()
    right = {GAIN_KEYS[0]: [round(v, 3) for v in found["gain"]], GAIN_KEYS[1]: found["target"]}
    return {**right, **changes}


@exercise("05", 4, "what RL adds after the cold start", wrong=lambda: [
    (_gain_answer(**{GAIN_KEYS[0]: [round(v, 3) for v in gain_readings()["exact"]]}), "exact"),
    (_gain_answer(**{GAIN_KEYS[1]: "disagrees"}), "contains 0"),
    (_gain_answer(**{GAIN_KEYS[0]: [0.011, 0.077, -0.056]}), "low <= estimate <= high"),
])
def _ex_05_4(answer):
    answer = _keys(answer, GAIN_KEYS)
    found = gain_readings()
    mine = _interval(answer[GAIN_KEYS[0]], repr(GAIN_KEYS[0]))
    if not _all_close(mine, found["gain"], INTERVAL_TOL):
        if _all_close(mine, found["exact"], INTERVAL_TOL):
            _fail(f"{GAIN_KEYS[0]!r}: yours {_said(mine)} takes the SFT checkpoint's pass@1 "
                  "as exact (a t-interval over the 3 seeds alone); it is one model measured "
                  "on a sample of questions, and gain_interval adds its sampling error: "
                  f"{_said(found['gain'])}")
        _fail(f"{GAIN_KEYS[0]!r}: yours {_said(mine)}, r1lab.stats.gain_interval gives "
              f"{_said(found['gain'])} (the 3 RL seeds against the SFT checkpoint and its "
              "interval)")
    said = _verdict_word(answer[GAIN_KEYS[1]], repr(GAIN_KEYS[1]))
    low, high = (v - EX_05_TARGET for v in found["gain"][1:])
    if said != found["target"]:
        _fail(f"{GAIN_KEYS[1]!r}: yours {said!r}, verdict says {found['target']!r} for the "
              f"gain minus {EX_05_TARGET:g}: {_verdict_reason(low, high)}")
    return ("A control measured once is an estimate too: its sampling error alone makes "
            "5 points untellable here.")


# 06 · Language consistency -----------------------------------------------------------------

REASONING_RL_RECIPE = "tiny/reasoning_rl"  # notebooks 05-06's RL after the cold start
EX_06_PROBLEM = problem_for("2+3*4", "zh")
EX_06_CHAINS = {  # two answers to the Chinese question, in the readable format
    "A": _readable(EX_06_PROBLEM, ("zh", "en"), check=False),  # closes in English
    "B": _readable(EX_06_PROBLEM, ("en", "zh")),  # opens in English, checks in Chinese
}
EX_06_DRIFT = 0.5  # a seed "mixes" when over half its reasoning samples on Chinese questions do
EX_06_MIXING_TARGET = 0.10  # notebook 06's control target: at least 10% mixing without it
HAND_KEYS = ["chain A", "chain B", "total reward of chain A"]
LIVE_06_KEYS = ["mixes more", "mean reward, R1-Zero", "mixing share, R1-Zero",
                "mean reward, stage 2", "mixing share, stage 2"]
SEEDS_06_KEYS = ["without the reward, as a count", "mean mixing without the reward",
                 "verdict, mixing >= 10% without the reward",
                 "verdict, the reward costs accuracy"]
_LATIN_RUN = re.compile(r"[A-Za-z]{3,}")


def reasoning_rl_weights() -> dict[str, float]:
    """The reward weights of ``tiny/reasoning_rl``."""
    return parse_recipe(REASONING_RL_RECIPE).rewards


def _language_score(completion: str, lang: str) -> float | None:
    return REWARDS["language"]([completion], target_lang=[lang])[0]


def _word_counts(text: str, lang: str) -> tuple[int, int]:
    """(Han characters, all words) r1lab counts in ``text``, for a Chinese target."""
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    share = target_language_share(text, lang)
    return han, (round(han / share) if share else 0)


def _hand_answer(**changes) -> dict:
    right = {f"chain {name}": round(_language_score(text, "zh"), 4)
             for name, text in EX_06_CHAINS.items()}
    total = combined_reward(reasoning_rl_weights())(
        [EX_06_CHAINS["A"]], answer=[EX_06_PROBLEM.answer], target_lang=["zh"])[0]
    return {**right, "total reward of chain A": round(total, 4), **changes}


@exercise("06", 1, "the consistency reward by hand", wrong=lambda: [
    (_hand_answer(**{"chain A": round(_language_score(EX_06_CHAINS["A"], "en"), 4)}),
     "English share"),
    (_hand_answer(**{"chain B": round(target_language_share(
        EX_06_CHAINS["B"].replace(SPECIAL_TOKEN, " "), "zh"), 4)}), "summary"),
    (_hand_answer(**{"total reward of chain A": round(
        1 + 0.2 * _language_score(EX_06_CHAINS["A"], "zh"), 4)}), "tiny/reasoning_rl pays"),
])
def _ex_06_1(answer):
    answer = _keys(answer, HAND_KEYS)
    for name, text in EX_06_CHAINS.items():
        key = f"chain {name}"
        mine = _share(answer[key], repr(key))
        expected = _language_score(text, "zh")
        if _close(mine, expected, 1e-3):
            continue
        if _close(mine, _language_score(text, "en"), 1e-3):
            _fail(f"{key!r}: yours {mine:g} is the English share; the question is Chinese, "
                  f"so the target is 'zh': {expected:.4f}")
        reasoning = parse_completion(text).think
        if _close(mine, target_language_share(text.replace(SPECIAL_TOKEN, " "), "zh"), 1e-3):
            _fail(f"{key!r}: yours {mine:g} counts the summary's words too; the reward reads "
                  f"only the chain of thought, the reasoning between the {SPECIAL_TOKEN} "
                  f"markers: {expected:.4f}")
        han, total = _word_counts(reasoning, "zh")
        _fail(f"{key!r}: yours {mine:g}, r1lab {expected:.4f}: it counts {total} words in "
              f"the reasoning, {han} Han characters (one word each) and {total - han} Latin "
              f"words; numbers and math are not words, so the share is {han}/{total}")
    weights = reasoning_rl_weights()
    mine = _number(answer["total reward of chain A"], "'total reward of chain A'")
    text = EX_06_CHAINS["A"]
    columns = {"answer": [EX_06_PROBLEM.answer], "target_lang": ["zh"]}
    parts = {name: REWARDS[name]([text], **columns)[0] for name in weights}
    total = sum(weights[name] * parts[name] for name in weights)
    if not _close(mine, total, 1e-3):
        terms = " + ".join(f"{w:g}×{name} {parts[name]:.4g}" for name, w in weights.items())
        _fail(f"'total reward of chain A': yours {mine:g}; tiny/reasoning_rl pays "
              f"{total:.4f} = {terms} (its weights, printed above)")
    return "Math is not a word; every Han character is: the share is a count of words."


@exercise("06", 2, "English the reward does not see", wrong=lambda: [
    ("<think>我们一步一步地计算。2+3*4 = 14。</think><answer>14</answer>",
     "no English"),
    ("<think>我们 compute 一步一步地计算。</think><answer>14</answer>",
     "count against"),
    ("<think>2+3*4 = 14, 14 = 14</think><answer>14</answer>", "None"),
    ("<answer>14</answer>", "None"),
])
def _ex_06_2(answer):
    if not isinstance(answer, str):
        _fail(f"the answer is a completion, a string; got {answer!r}")
    think = parse_completion(answer).think
    score = _language_score(answer, "zh")
    if score is None:
        _fail("the reward is None (not scored): r1lab finds no chain of thought, or no "
              "word in it to count. Write a think block (or readable reasoning) with Chinese "
              "words in it")
    if not _LATIN_RUN.search(think):
        _fail("no English in the chain of thought: write at least three Latin letters in a "
              "row there, e.g. an English word")
    if score < 1:
        han, total = _word_counts(think, "zh")
        _fail(f"the reward is {score:.4f}, not 1.0: r1lab counts {total} words in your chain, "
              f"{han} Han characters and {total - han} other words, which count against "
              "Chinese. Which text does r1lab not count as words? (r1lab.rewards.language's "
              "docstring says)")
    return ("1.0 for a chain with English in it: what the reward does not count as words, "
            "it cannot penalise.")


@cache
def chinese_readings() -> dict[str, dict]:
    """Exercise 06.3's numbers: r1lab's reward and mixing on ``material.chinese_samples``."""
    readings = {}
    for name, records in chinese_samples().items():
        scores = [_language_score(r["completion"], r["lang"]) for r in records]
        scored = [s for s in scores if s is not None]
        thinks = [(parse_completion(r["completion"]).think, r["lang"]) for r in records]
        mixed = [mixes_languages(t, lang) for t, lang in thinks if t is not None]
        readings[name] = {"mean": sum(scored) / len(scored), "mixing": sum(mixed) / len(mixed),
                          "scored": len(scored), "samples": len(records)}
    return readings


def _live_06_answer(**changes) -> dict:
    found = chinese_readings()
    right = {"mixes more": max(found, key=lambda name: found[name]["mixing"])}
    for name in found:
        right[f"mean reward, {name}"] = round(found[name]["mean"], 3)
        right[f"mixing share, {name}"] = round(found[name]["mixing"], 3)
    return {**right, **changes}


@exercise("06", 3, "R1-Zero and stage 2 on Chinese questions", wrong=lambda: [
    (_live_06_answer(**{"mixes more": "stage 2"}), "mixes more"),
    (_live_06_answer(**{"mixing share, R1-Zero": _live_06_answer()["mean reward, R1-Zero"]}),
     "below 1"),
    (_live_06_answer(**{"mixing share, R1-Zero": 100 * _live_06_answer()[
        "mixing share, R1-Zero"]}), "between 0 and 1"),
])
def _ex_06_3(answer):
    answer = _keys(answer, LIVE_06_KEYS)
    found = chinese_readings()
    more = answer["mixes more"]
    if more not in found:
        _fail(f"'mixes more' is one of {list(found)}; got {more!r}")
    expected = max(found, key=lambda name: found[name]["mixing"])
    if more != expected:
        _fail(f"'mixes more': {expected} mixes in {found[expected]['mixing']:.0%} of its "
              f"reasoning samples, {more} in {found[more]['mixing']:.0%}. R1-Zero had no cold "
              "start and no language reward: it keeps the base's habit of switching languages")
    for name, readings in found.items():
        mean = _share(answer[f"mean reward, {name}"], repr(f"mean reward, {name}"))
        mixing = _share(answer[f"mixing share, {name}"], repr(f"mixing share, {name}"))
        if not _close(mean, readings["mean"], 1e-3):
            _fail(f"'mean reward, {name}': yours {mean:g}, r1lab {readings['mean']:.3f}: the "
                  f"mean of language_consistency_reward over the {readings['scored']} samples "
                  f"it scores (target 'zh'; a sample without a chain of thought is None, left "
                  "out)")
        if not _close(mixing, readings["mixing"], 1e-3):
            _fail(f"'mixing share, {name}': yours {mixing:g}, r1lab {readings['mixing']:.3f}: "
                  "the share of reasoning samples that mix, i.e. whose reward is below 1 "
                  "(r1lab.rewards.language.mixes_languages): one English word is enough")
    return ("R1-Zero's Chinese chains drift into English; after the cold start and the "
            "language reward, none do.")


@cache
def seeds_06_readings() -> dict:
    """Exercise 06.4's answers, from ``benchmarks/results/cold_start_seeds.json``."""
    jobs = results("cold_start_seeds")["jobs"]
    arms = {arm: [jobs[f"{arm}-seed{s}"]["held_out"] for s in range(3)]
            for arm in ("language", "no_language")}
    without = arms["no_language"]
    mixing = [r["all"]["mixing_rate"] for r in without]
    over = seed_interval([m - EX_06_MIXING_TARGET for m in mixing])
    cost = difference_interval([r["all"]["pass_at_1"] for r in without],
                               [r["all"]["pass_at_1"] for r in arms["language"]])
    return {
        SEEDS_06_KEYS[0]: seed_count([r["zh"]["mixing_rate"] > EX_06_DRIFT for r in without],
                                     "mixes"),
        SEEDS_06_KEYS[1]: seed_interval(mixing)[0], SEEDS_06_KEYS[2]: verdict(*over[1:]),
        SEEDS_06_KEYS[3]: verdict(*cost[1:]), "over": over, "cost": cost,
        "Chinese only": seed_interval([r["zh"]["mixing_rate"] for r in without])[0],
    }


def _seeds_06_answer(**changes) -> dict:
    found = seeds_06_readings()
    right = {key: found[key] for key in SEEDS_06_KEYS}
    right[SEEDS_06_KEYS[1]] = round(right[SEEDS_06_KEYS[1]], 3)
    return {**right, **changes}


@exercise("06", 4, "mixing in 1 of 3 seeds", wrong=lambda: [
    (_seeds_06_answer(**{SEEDS_06_KEYS[0]: "1 of 3"}), "seed_count"),
    (_seeds_06_answer(**{SEEDS_06_KEYS[1]: round(seeds_06_readings()["Chinese only"], 3)}),
     "Chinese questions only"),
    (_seeds_06_answer(**{SEEDS_06_KEYS[2]: "agrees"}), "One seed drifted"),
    (_seeds_06_answer(**{SEEDS_06_KEYS[3]: "disagrees"}), "contains 0"),
])
def _ex_06_4(answer):
    answer = _keys(answer, SEEDS_06_KEYS)
    found = seeds_06_readings()
    count = answer[SEEDS_06_KEYS[0]]
    if count != found[SEEDS_06_KEYS[0]]:
        _fail(f"{SEEDS_06_KEYS[0]!r}: yours {count!r}; write it as r1lab.stats.seed_count "
              f"says it, seed_count(outcomes, 'mixes') with one outcome per seed (mixing on "
              f"Chinese questions above {EX_06_DRIFT:g}): {found[SEEDS_06_KEYS[0]]!r}")
    mean = _share(answer[SEEDS_06_KEYS[1]], repr(SEEDS_06_KEYS[1]))
    if not _close(mean, found[SEEDS_06_KEYS[1]], 1e-3):
        if _close(mean, found["Chinese only"], 1e-3):
            _fail(f"{SEEDS_06_KEYS[1]!r}: yours {mean:g} is the mean over Chinese questions "
                  f"only; the exercise asks for all questions: {found[SEEDS_06_KEYS[1]]:.3f}")
        _fail(f"{SEEDS_06_KEYS[1]!r}: yours {mean:g}; the mean over the 3 seeds without the "
              f"reward of held_out['all']['mixing_rate'] is {found[SEEDS_06_KEYS[1]]:.3f}")
    for key, interval, what in ((SEEDS_06_KEYS[2], found["over"],
                                 f"the seeds' mixing minus {EX_06_MIXING_TARGET:g}"),
                                (SEEDS_06_KEYS[3], found["cost"],
                                 "pass@1 without the reward minus with it (Welch, "
                                 "difference_interval)")):
        said = _verdict_word(answer[key], repr(key))
        if said != found[key]:
            extra = (" One seed drifted and two did not: the mean is above 10%, but the "
                     "interval over seeds says nothing firmer than the count"
                     if key == SEEDS_06_KEYS[2] else "")
            _fail(f"{key!r}: yours {said!r}, verdict says {found[key]!r} for {what}: "
                  f"{_verdict_reason(*interval[1:])}.{extra}")
    return ("A yes/no outcome per seed is a count: 'in 1 of 3 seeds' says what a mean and "
            "its interval blur.")


# 07 · Rejection sampling -------------------------------------------------------------------

EX_07_CONFIG = SamplingConfig(max_new_tokens=MAX_NEW_TOKENS)  # notebook 07's filters
VERDICT_WORDS = (KEPT, *FILTERS)
LIVE_07_KEYS = ["the filter that removes the most", "kept", "removed as duplicates",
                "removed as wrong answers"]
INTERVAL_07_KEYS = ["rejection - unfiltered", "verdict, rejection - unfiltered",
                    "3:1 - 1:1", "verdict, 3:1 - 1:1"]
RATIO_KEYS = ["token share of replies at 3:1", "token share of replies at 1:1",
              "requests right at 3:1", "requests right at 1:1"]


def _gallery_verdicts() -> list[str]:
    judged, _ = filter_samples(rejection_gallery(), EX_07_CONFIG)
    return [record["verdict"] for record in judged]


def _verdicts_with(**changes) -> list[str]:
    found = _gallery_verdicts()
    for key, value in changes.items():
        found[int(key.removeprefix("sample_"))] = value
    return found


def _why_verdict(record: dict, said: str, kept_before: int) -> str:
    """Why ``filter_samples`` gave ``record`` its verdict."""
    parsed = parse_completion(record["completion"])
    return {
        KEPT: f"correct, readable, one language, no code fence, not the same text as a sample "
              f"kept before it, and {kept_before} kept before it (the cap is "
              f"{EX_07_CONFIG.max_per_prompt})",
        FILTERS[0]: f"its summary states {parsed.answer!r}, the gold answer is "
                    f"{record['answer']!r}; 'wrong answer' is the first filter, so a wrong "
                    "sample is counted there whatever else is wrong with it",
        FILTERS[1]: f"no {SPECIAL_TOKEN} marker: R1-Zero's tags, not the readable format "
                    "(SamplingConfig.readable)",
        FILTERS[2]: (f"the question is in {record['lang']!r} and "
                     f"{target_language_share(parsed.think or '', record['lang']) or 0:.0%} "
                     "of the reasoning's words are in it (mixes_languages)"),
        FILTERS[3]: f"{record['n_tokens']} tokens reach the length limit",
        FILTERS[4]: "a ``` fence: a code block",
        FILTERS[5]: "the same text as a sample kept before it, once runs of whitespace are "
                    "made one space (filter_samples compares ' '.join(text.split()))",
        FILTERS[6]: f"{EX_07_CONFIG.max_per_prompt} distinct samples are already kept for this "
                    "question (SamplingConfig.max_per_prompt); duplicates and dropped samples "
                    "do not count toward the cap",
    }[said]


@exercise("07", 1, "the filters by hand", wrong=lambda: [
    (_verdicts_with(sample_2=KEPT, sample_5=FILTERS[6]), "whitespace"),
    (_verdicts_with(sample_6=FILTERS[2]), "first filter"),
    (_verdicts_with(sample_8=KEPT), "max_per_prompt"),
    ([KEPT] * len(rejection_gallery()), "of 9 verdicts differ"),
])
def _ex_07_1(answer):
    samples = rejection_gallery()
    n = len(samples)
    if (not isinstance(answer, (list, tuple)) or len(answer) != n
            or not all(v in VERDICT_WORDS for v in answer)):
        _fail(f"expected a list of {n} verdicts, one per sample in order, each one of "
              f"{VERDICT_WORDS}; got {answer!r}")
    judged, _ = filter_samples(samples, EX_07_CONFIG)
    wrong, kept = [], 0
    for i, (record, guess) in enumerate(zip(judged, answer)):
        if guess != record["verdict"]:
            why = _why_verdict(record, record["verdict"], kept)
            wrong.append(f"sample {i}: you said {guess!r}, filter_samples says "
                         f"{record['verdict']!r}: {why}")
        kept += record["verdict"] == KEPT
    if wrong:
        _fail(f"{len(wrong)} of {n} verdicts differ:\n  " + "\n  ".join(wrong))
    return ("A kept sample is right, readable, in one language, new, and within the cap; "
            "each dropped one is counted by the first filter it fails.")


@cache
def stage_2_table() -> dict:
    """``filter_samples`` on ``material.stage_2_samples``, as ``sample_stage_2`` filters."""
    data = RejectionData()
    config = SamplingConfig(k=data.k, max_new_tokens=MAX_NEW_TOKENS,
                            max_per_prompt=data.max_per_prompt)
    judged, table = filter_samples(stage_2_samples(), config)
    removed = {row["filter"]: row["removed"] for row in table}
    return {"removed": removed, "kept": sum(r["verdict"] == KEPT for r in judged),
            "samples": len(judged), "most": max(removed, key=removed.get)}


def _live_07_answer(**changes) -> dict:
    found = stage_2_table()
    right = dict(zip(LIVE_07_KEYS, (found["most"], found["kept"],
                                    found["removed"][FILTERS[5]], found["removed"][FILTERS[0]])))
    return {**right, **changes}


@exercise("07", 2, "rejection sampling the stage-2 model", wrong=lambda: [
    (_live_07_answer(**{LIVE_07_KEYS[0]: FILTERS[0]}), "the same chain"),
    (_live_07_answer(kept=stage_2_table()["samples"] - stage_2_table()["removed"][FILTERS[0]]),
     "duplicates"),
    (_live_07_answer(**{LIVE_07_KEYS[2]: _live_07_answer()[LIVE_07_KEYS[3]],
                        LIVE_07_KEYS[3]: _live_07_answer()[LIVE_07_KEYS[2]]}), "removed as"),
])
def _ex_07_2(answer):
    answer = _keys(answer, LIVE_07_KEYS)
    found = stage_2_table()
    table = ", ".join(f"{name} {n}" for name, n in found["removed"].items())
    most = answer[LIVE_07_KEYS[0]]
    if most not in FILTERS:
        _fail(f"{LIVE_07_KEYS[0]!r} is one of {FILTERS}; got {most!r}")
    if most != found["most"]:
        _fail(f"{LIVE_07_KEYS[0]!r}: yours {most!r}; the filters removed {table}. At T = 0.6 "
              "the stage-2 model writes the same chain for a question again and again: RL "
              "made one chain very likely")
    for key, expected, what in ((LIVE_07_KEYS[1], found["kept"], "samples kept"),
                                (LIVE_07_KEYS[2], found["removed"][FILTERS[5]],
                                 "samples removed as duplicates"),
                                (LIVE_07_KEYS[3], found["removed"][FILTERS[0]],
                                 "samples removed as wrong answers")):
        mine = answer[key]
        if isinstance(mine, bool) or not isinstance(mine, int):
            _fail(f"{key!r} is a count, an int; got {mine!r}")
        if mine != expected:
            _fail(f"{key!r}: yours {mine}, filter_samples {expected} {what} of "
                  f"{found['samples']} (it removed {table}; kept is what is left after "
                  "every filter, duplicates and the cap included)")
    return ("Most samples are dropped not for being wrong but for being the same text again: "
            "RL made one chain per question very likely.")


@cache
def interval_07_readings() -> dict:
    """Exercise 07.3's intervals, from ``benchmarks/results/rejection_sampling_seeds.json``."""
    jobs = results("rejection_sampling_seeds")["jobs"]
    arms = {arm: [jobs[f"{arm}-seed{s}"]["held_out"]["reasoning"]["all"]["pass_at_1"]
                  for s in range(3)] for arm in ("rejection", "unfiltered", "paper_ratio")}
    pairs = {"rejection - unfiltered": ("rejection", "unfiltered"),
             "3:1 - 1:1": ("paper_ratio", "rejection")}
    found = {"arms": arms}
    for key, (a, b) in pairs.items():
        found[key] = difference_interval(arms[a], arms[b])
        diff = sum(arms[a]) / 3 - sum(arms[b]) / 3
        half = Z_95 * math.sqrt(mean_var(arms[a])[1] / 3 + mean_var(arms[b])[1] / 3)
        found[f"{key}, z"] = (diff, diff - half, diff + half)
        found[f"{key}, paired"] = seed_interval([x - y for x, y in zip(arms[a], arms[b])])
    return found


def _interval_07_answer(**changes) -> dict:
    found = interval_07_readings()
    right = {}
    for key in ("rejection - unfiltered", "3:1 - 1:1"):
        right[key] = [round(v, 3) for v in found[key]]
        right[f"verdict, {key}"] = verdict(*found[key][1:])
    return {**right, **changes}


@exercise("07", 3, "two difference intervals", wrong=lambda: [
    (_interval_07_answer(**{"rejection - unfiltered": [
        round(v, 3) for v in interval_07_readings()["rejection - unfiltered, z"]]}), "1.96"),
    (_interval_07_answer(**{"rejection - unfiltered": [
        round(v, 3) for v in interval_07_readings()["rejection - unfiltered, paired"]]}),
     "independent"),
    (_interval_07_answer(**{"3:1 - 1:1": [
        round(v, 3) for v in interval_07_readings()["3:1 - 1:1, paired"]]}), "independent"),
    (_interval_07_answer(**{"verdict, 3:1 - 1:1": "disagrees"}), "contains 0"),
])
def _ex_07_3(answer):
    answer = _keys(answer, INTERVAL_07_KEYS)
    found = interval_07_readings()
    for key in ("rejection - unfiltered", "3:1 - 1:1"):
        mine = _interval(answer[key], repr(key))
        expected = found[key]
        if not _all_close(mine, expected, INTERVAL_TOL):
            if _all_close(mine, found[f"{key}, z"], INTERVAL_TOL):
                _fail(f"{key!r}: yours {_said(mine)} uses the normal quantile {Z_95:g}; with "
                      "3 seeds a side Welch's interval uses Student's t with 2 degrees of "
                      f"freedom, 4.303 (r1lab.stats.t_95): {_said(expected)}")
            if _all_close(mine, found[f"{key}, paired"], INTERVAL_TOL):
                _fail(f"{key!r}: yours {_said(mine)} pairs seed i of one arm with seed i of "
                      "the other; the arms' runs are independent, not pairs: Welch's interval "
                      f"of the two sets, difference_interval: {_said(expected)}")
            _fail(f"{key!r}: yours {_said(mine)}, r1lab.stats.difference_interval gives "
                  f"{_said(expected)} (the first arm's 3 seeds, then the second's)")
        said = _verdict_word(answer[f"verdict, {key}"], repr(f"verdict, {key}"))
        right = verdict(*expected[1:])
        if said != right:
            _fail(f"'verdict, {key}': yours {said!r}, verdict says {right!r}: "
                  f"{_verdict_reason(*expected[1:])}")
    return ("Rejection beats as many unfiltered samples beyond the seeds' spread; the paper's "
            "3:1 ratio changes nothing measurable in reasoning accuracy.")


@cache
def ratio_readings() -> dict:
    """Exercise 07.4's numbers, from ``benchmarks/results/rejection_sampling_seeds.json``."""
    jobs = results("rejection_sampling_seeds")["jobs"]
    sampling = jobs["sampling"]
    chain = jobs["stage2"]["held_out"]["reasoning"]["all"]["mean_reasoning_tokens"]
    reply = jobs["rejection-seed0"]["held_out"]["requests"]["mean_tokens"]
    rows = {"3:1": (sampling["paper_ratio"]["reasoning_rows"],
                    sampling["paper_ratio"]["non_reasoning_rows"]),
            "1:1": (sampling["manifest"]["rows"]["reasoning"],
                    sampling["manifest"]["rows"]["non-reasoning"])}
    found = {"chain": chain, "reply": reply, "rows": rows}
    for ratio, (reasoning, replies) in rows.items():
        found[f"token share of replies at {ratio}"] = (
            replies * reply / (reasoning * chain + replies * reply))
        found[f"row share at {ratio}"] = replies / (reasoning + replies)
    for ratio, arm in (("3:1", "paper_ratio"), ("1:1", "rejection")):
        right = [jobs[f"{arm}-seed{s}"]["held_out"]["requests"]["correct"] for s in range(3)]
        found[f"requests right at {ratio}"] = sum(right) / 3
        found[f"requests right at {ratio}, seed 0"] = right[0]
    return found


def _ratio_answer(**changes) -> dict:
    right = {key: round(ratio_readings()[key], 3) for key in RATIO_KEYS}
    return {**right, **changes}


@exercise("07", 4, "3:1 by rows, by tokens", wrong=lambda: [
    (_ratio_answer(**{RATIO_KEYS[0]: round(ratio_readings()["row share at 3:1"], 3)}),
     "tokens, not rows"),
    (_ratio_answer(**{RATIO_KEYS[2]: round(ratio_readings()["requests right at 3:1, seed 0"],
                                           3)}), "mean of the 3 seeds"),
    (_ratio_answer(**{RATIO_KEYS[0]: _ratio_answer()[RATIO_KEYS[1]],
                      RATIO_KEYS[1]: _ratio_answer()[RATIO_KEYS[0]]}), "token share"),
])
def _ex_07_4(answer):
    answer = _keys(answer, RATIO_KEYS)
    found = ratio_readings()
    for key in RATIO_KEYS[:2]:
        ratio = key.split()[-1]
        mine = _share(answer[key], repr(key))
        if _close(mine, found[key], 1e-3):
            continue
        reasoning, replies = found["rows"][ratio]
        if _close(mine, found[f"row share at {ratio}"], 1e-3):
            _fail(f"{key!r}: yours {mine:g} is the replies' share of the rows; SFT learns from "
                  f"tokens, not rows: {replies} replies of about {found['reply']:.1f} tokens "
                  f"against {reasoning} chains of about {found['chain']:.1f}: "
                  f"{found[key]:.3f}")
        _fail(f"{key!r}: yours {mine:g}; the token share of replies is replies × reply "
              f"tokens / (chains × chain tokens + replies × reply tokens) with {reasoning} "
              f"chains and {replies} replies at {ratio}: {found[key]:.3f}")
    for key in RATIO_KEYS[2:]:
        ratio = key.split()[-1]
        mine = _share(answer[key], repr(key))
        if _close(mine, found[key], 1e-3):
            continue
        if _close(mine, found[f"{key}, seed 0"], 1e-3):
            _fail(f"{key!r}: yours {mine:g} is seed 0's; write the mean of the 3 seeds: "
                  f"{found[key]:.3f}")
        _fail(f"{key!r}: yours {mine:g}; the mean of the 3 seeds' share of requests "
              f"answered right without a chain of thought is {found[key]:.3f}")
    return ("At 3:1 by rows the short replies are a sliver of the tokens SFT learns from, "
            "and the tiny model does not learn them.")
