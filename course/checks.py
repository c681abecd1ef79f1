"""Checks for the course's exercises: ``check("02", 3, answer)`` says whether an answer is
right and, when it is not, what is wrong with it.

Every expected value is computed by r1lab itself (``r1lab.template``, ``r1lab.rewards``,
``r1lab.grpo``, ``r1lab.stats``, ``r1lab.cold_start``, ``r1lab.sampling``, ``r1lab.kernels``,
``r1lab.findings``), read from the
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
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Callable

import torch

from material import (GOLD, R1_ZERO_RECIPE, WALKTHROUGH, base_groups, chinese_samples,
                      lenient_total, r1_zero_documents, recheck_samples, rejection_gallery,
                      stage_2_samples, tiny_chains, toy_bandit, r1_zero_outputs)
from material import judge_scores, scored_pairs, student_teacher_samples
from material import (KERNEL_ADVANTAGES, KERNEL_EPSILON, KERNEL_RATIOS, KERNEL_TEMPERATURE,
                      kernel_batch, planted_mode_samples, run_kernel)
from material import (PREFILLS, SHORT_OPERANDS, TASK_OPERANDS, length_samples,
                      operand_label)
from r1lab.cold_start import collect, readability_problem, refine
from r1lab.eval import Protocol, Report, grade
from r1lab.findings import (pass_at_k_curve, reused_steps_only, seed_values, seeds_of,
                            window_mean, windows)
from r1lab.grpo import group_advantages, grpo_loss
from r1lab.grpo.advantages import TRL_STD_EPS
from r1lab.rewards import REWARDS, accuracy_reward, combined_reward, format_reward
from r1lab.rewards.accuracy import is_numeric_literal, stated_number
from r1lab.rewards.language import mixes_languages, target_language_share
from r1lab.rewards.reflection import REFLECTION_WORDS, rechecks
from r1lab.sampling import FILTERS, KEPT, RejectionData, SamplingConfig, filter_samples
from r1lab.sources import REPO_ROOT
from r1lab.stats import (VERDICTS, Z_95, difference_interval, gain_interval, mean_var,
                         paired_difference, pass_at_k, seed_count, seed_interval,
                         subset_difference, verdict)
from r1lab.tasks import chain_of_thought, problem_for, worked_chain
from r1lab.tasks import CLOSINGS, ArithmeticConfig, count_expressions, slip
from r1lab.tasks.arithmetic import split_of, worked_steps
from r1lab.tasks.general import DIGIT, POLITE_REPLIES, generate_general, is_harmless
from r1lab.template import (READABLE_SUMMARY, SPECIAL_TOKEN, TAGS, parse, parse_completion,
                            parse_readable, render, render_readable, strip_echo)
from r1lab.tiny.card import MAX_NEW_TOKENS
from r1lab.tiny.corpus import CorpusConfig
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


def notebook_key(notebook) -> str:
    """A lab notebook's key as the exercises are registered under it: two digits, and the
    letter of a notebook between two others ("03b"); 3 and "3" give "03".

    >>> notebook_key(3), notebook_key("02"), notebook_key("3b")
    ('03', '02', '03b')
    """
    found = re.fullmatch(r"(\d{1,2})([a-z]?)", str(notebook))
    if isinstance(notebook, bool) or not isinstance(notebook, (int, str)) or not found:
        raise KeyError(f"a notebook is named by its number, as in check(\"02\", 1, ...) or "
                       f"check(\"03b\", 1, ...); got {notebook!r}")
    return f"{int(found[1]):02d}{found[2]}"


def check(notebook, number: int, answer) -> None:
    """Check the answer to exercise ``number`` of notebook ``notebook`` ("01", "03b", ...)."""
    key = (notebook_key(notebook), number)
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

def _graded(records: list[dict]) -> tuple[list[dict], int]:
    """A reading's samples (k per question, in order) graded as ``r1lab.eval.evaluate``
    grades them, and its k."""
    k = sum(r["index"] == records[0]["index"] for r in records)
    return grade(records[::k], [r["completion"] for r in records],
                 [r["n_tokens"] for r in records], k), k


def _reports(readings: dict[str, list[dict]]) -> dict[str, Report]:
    """r1lab's report on each reading of a ``material`` sampling function."""
    return {name: Report.from_records(*_graded(records), settings={})
            for name, records in readings.items()}


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


# Notebook 03b · the tiny world: its task, its corpus, its base model ----------------------

EX_03B_EXPRESSION = "(7+8)*3-2"  # a carry, then a product that multiplies a slip, then a step
EX_03B_ENDS = {  # exercise 03b.1's chains: (the steps that slip, checked?)
    "ends on, step 0 slips": ({0}, False),
    "ends on, steps 0 and 1 slip": ({0, 1}, False),
    "ends on, checked, step 0 slips": ({0}, True),
}
SLIP_KEYS = ["chain", "slipped results", *EX_03B_ENDS]
EX_03B_SPACE = ArithmeticConfig(operands=(2, 2), operators="+")  # the sums "a+b" of digits
EX_03B_PERCENTS = (10, 20)  # test_percent before and after
SPLIT_KEYS = ["expressions in all", "test at test_percent=10", "test at test_percent=20",
              "test at 10, train at 20", "twins a+b, b+a in different splits"]
EX_03B_DOCS = 2000  # exercise 03b.3 counts the corpus's first documents
CORPUS_KEYS = ["reasoning, expected share of all documents",
               "careful, expected share of all documents",
               f"reasoning, counted in the first {EX_03B_DOCS}",
               f"careful, counted in the first {EX_03B_DOCS}"]
SHARE_TOL = 6e-4  # shares are asked for to 3 decimals
SHORT, TASK = operand_label(SHORT_OPERANDS), operand_label(TASK_OPERANDS)
PAYS = (SHORT, TASK, "both", "neither")
SHORT_KEYS = ["fewest operands in the corpus",
              *(f"right, {arm}, {label}" for label in (TASK, SHORT) for arm in PREFILLS),
              "where making it reason pays"]


def _slip_rule(step) -> str:
    """In words, why ``r1lab.tasks.slip`` writes ``step`` wrong as it does, or cannot."""
    a, op, b, result = step.a, step.op, step.b, step.result
    said = f"{step.operation} = {result}"
    if a < 0 or b < 0:
        return f"{said} has a negative operand: it cannot slip"
    if op == "+":
        if a % 10 + b % 10 >= 10:
            return f"{said} carries: forgetting the carry writes {result - 10}"
        return f"{said}: {a % 10}+{b % 10} < 10, no carry to forget, so it cannot slip"
    if op == "-":
        if result > 0 and a % 10 < b % 10:
            return f"{said} borrows: forgetting the borrow writes {result + 10}"
        return f"{said}: {a % 10} >= {b % 10}, no borrow to forget, so it cannot slip"
    if result >= 10 and a > 0:
        return (f"{said}: read one times-table row short, {a}*{b - 1}, it writes "
                f"{result - a}")
    return f"{said}: a product under 10 (or of 0) cannot slip"


@cache
def slip_readings() -> dict:
    """Exercise 03b.1 as r1lab writes it: the chain, each step's slip, three worked chains."""
    problem = problem_for(EX_03B_EXPRESSION)
    steps = worked_steps(EX_03B_EXPRESSION)
    chains = {key: worked_chain(problem, "en", slips, check)
              for key, (slips, check) in EX_03B_ENDS.items()}
    return {"chain": problem.chain, "steps": steps,
            "slipped results": {i: slip(s) for i, s in enumerate(steps) if slip(s) is not None},
            **{key: int(end) for key, (_, end) in chains.items()},
            "texts": {key: text for key, (text, _) in chains.items()}}


def _slip_answer(**changes) -> dict:
    found = slip_readings()
    right = {"chain": list(found["chain"]), "slipped results": dict(found["slipped results"]),
             **{key: found[key] for key in EX_03B_ENDS}}
    return {**right, **{key.replace("_", " "): value for key, value in changes.items()}}


def _end_number(answer, key: str) -> int:
    value = answer[key]
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"{key!r}: expected the integer the chain ends on; got {value!r}")
    return value


@exercise("03b", 1, "a slip, carried and caught", wrong=lambda: [
    (_slip_answer(chain=["(7+8)*3-2", "(15)*3-2", "45-2", "43"]), "loses its parentheses"),
    (_slip_answer(slipped_results={0: 5, 1: 30, 2: 46}), "cannot slip"),
    ({**_slip_answer(), "ends on, step 0 slips": 33}, "shifted the answer"),
    ({**_slip_answer(), "ends on, steps 0 and 1 slip": 28}, "as if it had been given"),
    ({**_slip_answer(), "ends on, checked, step 0 slips": 13}, "fixes the slip"),
])
def _ex_03b_1(answer):
    answer = _keys(answer, SLIP_KEYS)
    found = slip_readings()
    chain, steps = found["chain"], found["steps"]
    mine = answer["chain"]
    if not isinstance(mine, (list, tuple)) or not all(isinstance(s, str) for s in mine):
        _fail(f"'chain': expected the list of expressions, as strings; got {mine!r}")
    if tuple(s.replace(" ", "") for s in mine) != chain:
        where = next((i for i, (a, b) in enumerate(zip(mine, chain)) if a != b),
                     min(len(mine), len(chain)))
        said = repr(mine[where]) if where < len(mine) else "nothing"
        why = ("a group reduced to one number loses its parentheses"
               if where < len(mine) and re.search(r"\(-?\d+\)", mine[where]) else
               "one operation per item: parentheses first, then *, then + and - left to "
               "right, down to the answer")
        _fail(f"'chain', item {where}: yours {said}, solution_chain writes "
              f"{chain[where] if where < len(chain) else 'nothing'!r} ({why}). r1lab's chain: "
              f"{' -> '.join(chain)}")
    slipped = answer["slipped results"]
    if not isinstance(slipped, dict) or not all(
            isinstance(k, int) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in slipped.items()):
        _fail("'slipped results': expected {step index: the number written when it slips} "
              f"for the steps that can slip; got {slipped!r}")
    problems = []
    for i in sorted(set(slipped) | set(found["slipped results"])):
        if not 0 <= i < len(steps):
            _fail(f"'slipped results': the steps are numbered 0..{len(steps) - 1}; "
                  f"you listed step {i}")
        if slipped.get(i) != found["slipped results"].get(i):
            said = "left out" if i not in slipped else f"yours {slipped[i]}"
            problems.append(f"step {i} ({said}): {_slip_rule(steps[i])}")
    if problems:
        _fail("'slipped results': " + "; ".join(problems))
    first = steps[0]
    for key, (slips, check) in EX_03B_ENDS.items():
        ends, expected, text = _end_number(answer, key), found[key], found["texts"][key]
        if ends == expected:
            continue
        shifted = int(chain[-1]) + slip(first) - first.result
        given = worked_steps(EX_03B_EXPRESSION, {i: slip(steps[i]) for i in slips})
        if check:
            why = ("a checked chain re-computes each step right after writing it and fixes "
                   "the slip on the spot; a check never slips, so it ends on the true answer")
        elif slips == {0} and ends == shifted:
            why = (f"you shifted the answer by step 0's error ({slip(first) - first.result:+d}); "
                   f"the later steps work on the number written, {slip(first)}, and the "
                   "product multiplies its error")
        elif ends == int(given[-1].after):
            second = worked_steps(EX_03B_EXPRESSION, {0: slip(first)})[1]
            why = (f"step 1 slipped as if it had been given {steps[1].operation}; it was "
                   f"given {second.operation}, and {_slip_rule(second)}")
        else:
            why = "each step works on the numbers the step before it wrote"
        _fail(f"{key!r}: yours {ends}, r1lab's chain ends on {expected}: {why}. r1lab "
              f"writes '{text}'")
    return ("An uncaught slip is worked on by every later step; a check catches it before "
            "anything is built on it.")


@cache
def split_readings() -> dict:
    """Exercise 03b.2 as r1lab splits it: the sums of EX_03B_SPACE at two test percents."""
    digits = range(10 ** EX_03B_SPACE.digits)
    sums = [f"{a}+{b}" for a in digits for b in digits]
    low, high = EX_03B_PERCENTS
    twins = [(f"{a}+{b}", f"{b}+{a}") for a in digits for b in digits
             if a < b and split_of(f"{a}+{b}", low) != split_of(f"{b}+{a}", low)]
    return {
        SPLIT_KEYS[0]: count_expressions(EX_03B_SPACE),
        SPLIT_KEYS[1]: count_expressions(EX_03B_SPACE, "test"),
        SPLIT_KEYS[2]: count_expressions(replace(EX_03B_SPACE, test_percent=high), "test"),
        SPLIT_KEYS[3]: sum(split_of(e, low) == "test" and split_of(e, high) == "train"
                           for e in sums),
        SPLIT_KEYS[4]: len(twins),
        "twins": twins, "digits": len(digits),
    }


def _split_answer(**changes) -> dict:
    return {**{key: split_readings()[key] for key in SPLIT_KEYS}, **changes}


@exercise("03b", 2, "the hash split of a small space", wrong=lambda: [
    (_split_answer(**{SPLIT_KEYS[0]: 55}), "two expressions"),
    (_split_answer(**{SPLIT_KEYS[1]: 10}), "not exactly"),
    (_split_answer(**{SPLIT_KEYS[3]: 2}), "never back"),
    (_split_answer(**{SPLIT_KEYS[4]: 0}), "reads the text"),
])
def _ex_03b_2(answer):
    answer = _keys(answer, SPLIT_KEYS)
    found = split_readings()
    low, high = EX_03B_PERCENTS
    total, n = found[SPLIT_KEYS[0]], found["digits"]
    how = {
        SPLIT_KEYS[0]: f"count_expressions: {n} digits on each side of the +, {n}×{n}",
        SPLIT_KEYS[1]: f"split_of(e, {low}) == 'test' over the {total} sums",
        SPLIT_KEYS[2]: f"split_of(e, {high}) == 'test' over the {total} sums",
        SPLIT_KEYS[3]: "split_of puts an expression in test when its hash bucket (0..99) is "
                       "below test_percent: raising test_percent only moves expressions from "
                       "train to test, never back",
        SPLIT_KEYS[4]: "",
    }
    for key in SPLIT_KEYS:
        mine = answer[key]
        if isinstance(mine, bool) or not isinstance(mine, int):
            _fail(f"{key!r}: expected a count, an int; got {mine!r}")
        if mine == found[key]:
            continue
        if key == SPLIT_KEYS[0] and mine == n * (n + 1) // 2:
            _fail(f"{key!r}: yours {mine}, r1lab {total}: '2+3' and '3+2' are two "
                  "expressions, the split and count_expressions read the text, not the sum")
        if key in SPLIT_KEYS[1:3] and mine == round(total * (low if key == SPLIT_KEYS[1]
                                                               else high) / 100):
            _fail(f"{key!r}: yours {mine}, r1lab {found[key]}: a hash puts about "
                  f"test_percent% of the expressions in test, not exactly; count them "
                  f"({how[key]})")
        if key == SPLIT_KEYS[4]:
            a, b = found["twins"][0]
            _fail(f"{key!r}: yours {mine}, r1lab {found[key]}: the hash reads the text, not "
                  f"the sum, so twins fall apart: '{a}' is {split_of(a, low)} and '{b}' "
                  f"{split_of(b, low)}. No test expression is trained on, but its mirror "
                  "image can be")
        _fail(f"{key!r}: yours {mine}, r1lab {found[key]} ({how[key]})")
    return (f"{found[SPLIT_KEYS[1]]} test sums at {low}%, {found[SPLIT_KEYS[2]]} at {high}%: "
            "the split holds out texts, not computations.")


@cache
def corpus_readings() -> dict:
    """Exercise 03b.3: the knobs' shares of all documents, and the documents counted."""
    corpus = CorpusConfig()
    template = (1 - corpus.pages - corpus.detailed) * (1 - corpus.plain_chains)
    counts = {"well formed": 0, "careful, well formed": 0, "reasoning": 0, "careful": 0}
    for _, completion in r1_zero_documents(EX_03B_DOCS):
        parsed = parse(completion)
        if not parsed.well_formed:
            continue
        checks_steps = rechecks(parsed.think)
        counts["well formed"] += 1
        counts["careful, well formed"] += checks_steps
        if any(parsed.think.endswith(closing.format(answer=parsed.answer))
               for closing in CLOSINGS.values()):
            counts["reasoning"] += 1
            counts["careful"] += checks_steps
    return {"corpus": corpus, "template": template,
            CORPUS_KEYS[0]: template * corpus.reasoning,
            CORPUS_KEYS[1]: template * corpus.reasoning * corpus.reflection,
            CORPUS_KEYS[2]: counts["reasoning"], CORPUS_KEYS[3]: counts["careful"], **counts}


def _corpus_answer(**changes) -> dict:
    found = corpus_readings()
    right = {key: round(found[key], 3) if "share" in key else found[key]
             for key in CORPUS_KEYS}
    return {**right, **changes}


@exercise("03b", 3, "how rare a careful chain is", wrong=lambda: [
    (_corpus_answer(**{CORPUS_KEYS[0]: CorpusConfig().reasoning}), "share of template"),
    (_corpus_answer(**{CORPUS_KEYS[1]: CorpusConfig().reasoning * CorpusConfig().reflection}),
     "share of template"),
    (_corpus_answer(**{CORPUS_KEYS[2]: corpus_readings()["well formed"]}), "noisy"),
    (_corpus_answer(**{CORPUS_KEYS[1]: 2.8}), "between 0 and 1"),
])
def _ex_03b_3(answer):
    answer = _keys(answer, CORPUS_KEYS)
    found = corpus_readings()
    corpus, template = found["corpus"], found["template"]
    nesting = (f"a knob is a share of the documents left when it is drawn: pages "
               f"({corpus.pages:g}) and detailed answers ({corpus.detailed:g}) first, then bare "
               f"chains take {corpus.plain_chains:g} of the rest, so template documents are "
               f"(1 - {corpus.pages:g} - {corpus.detailed:g}) × (1 - {corpus.plain_chains:g}) "
               f"= {template:.3f} of all")
    for key, knobs in ((CORPUS_KEYS[0], "reasoning"), (CORPUS_KEYS[1], "reasoning × reflection")):
        mine = _share(answer[key], repr(key))
        if _close(mine, found[key], SHARE_TOL):
            continue
        _fail(f"{key!r}: yours {mine:g}, r1lab's knobs give {found[key]:.3f} (3 decimals). "
              f"`reasoning` = {corpus.reasoning:g} is a share of template documents: {nesting}; "
              f"then × {knobs}")
    for key in CORPUS_KEYS[2:]:
        mine = answer[key]
        if isinstance(mine, bool) or not isinstance(mine, int):
            _fail(f"{key!r}: expected a count of documents, an int; got {mine!r}")
        if mine == found[key]:
            continue
        careful = key == CORPUS_KEYS[3]
        noisy = found["careful, well formed" if careful else "well formed"]
        if mine == noisy:
            _fail(f"{key!r}: yours {mine} counts every well-formed completion; "
                  f"{noisy - found[key]} of them are noisy documents whose think block closes "
                  "on one answer while the answer block gives another (CorpusConfig.noisy). "
                  f"r1lab counts {found[key]}")
        _fail(f"{key!r}: yours {mine}, r1lab {found[key]}: of r1_zero_documents("
              f"{EX_03B_DOCS}), the completions parse finds well formed whose think block "
              "closes ('so the answer is …') on the answer they give"
              + (", and whose think block re-checks (rechecks)" if careful else ""))
    expected = EX_03B_DOCS * found[CORPUS_KEYS[1]]
    return (f"{found[CORPUS_KEYS[3]]} careful chains in {EX_03B_DOCS} documents, "
            f"{expected:.0f} expected: about one document in "
            f"{1 / found[CORPUS_KEYS[1]]:.0f}.")


@cache
def short_readings() -> dict:
    """Exercise 03b.4: right samples in each reading of ``material.length_samples``."""
    found = {"fewest operands in the corpus": CorpusConfig().task.operands[0]}
    for name, records in length_samples().items():
        graded, _ = _graded(records)
        found[f"right, {name}"] = sum(r["correct"] for r in graded)
        found["samples"] = len(graded)
    for label in (SHORT, TASK):
        found[label] = (found[f"right, made to reason, {label}"]
                        > found[f"right, answering directly, {label}"])
    pays = [label for label in (SHORT, TASK) if found[label]]
    found["where making it reason pays"] = (pays[0] if len(pays) == 1 else
                                            "both" if pays else "neither")
    return found


def _short_answer(**changes) -> dict:
    return {**{key: short_readings()[key] for key in SHORT_KEYS}, **changes}


def _short_wrong() -> list:
    found = short_readings()
    reason, direct = (f"right, {arm}, {TASK}" for arm in PREFILLS)
    other = next(p for p in ("both", "neither", SHORT) if p != found[SHORT_KEYS[-1]])
    return [
        (_short_answer(**{SHORT_KEYS[0]: TASK_OPERANDS[0]}), "CorpusConfig().task"),
        (_short_answer(**{reason: found[direct], direct: found[reason]}), "swapped"),
        (_short_answer(**{reason: found[reason] / found["samples"]}), "a count"),
        (_short_answer(**{SHORT_KEYS[-1]: other}), "answering directly"),
    ]


@exercise("03b", 4, "the tiny base off its corpus's lengths", wrong=_short_wrong)
def _ex_03b_4(answer):
    answer = _keys(answer, SHORT_KEYS)
    found = short_readings()
    n = found["samples"]
    fewest = answer[SHORT_KEYS[0]]
    if fewest != found[SHORT_KEYS[0]]:
        _fail(f"{SHORT_KEYS[0]!r}: yours {fewest!r}, r1lab {found[SHORT_KEYS[0]]}: the corpus "
              f"draws CorpusConfig().task, operands {CorpusConfig().task.operands}; "
              f"{TASK_OPERANDS} is the task's own (ArithmeticConfig().operands), what RL and "
              "the evaluation ask")
    counts = SHORT_KEYS[1:-1]
    for key in counts:
        mine = answer[key]
        if isinstance(mine, bool) or not isinstance(mine, int) or not 0 <= mine <= n:
            _fail(f"{key!r}: expected a count of right samples, an int from 0 to {n}; "
                  f"got {mine!r}")
    for first, second in (counts[:2], counts[2:]):
        if (answer[first], answer[second]) == (found[second], found[first]) != (
                found[first], found[second]):
            _fail(f"{first!r} and {second!r} are swapped")
    for key in counts:
        if answer[key] != found[key]:
            _fail(f"{key!r}: yours {answer[key]}, r1lab {found[key]} of {n}: the samples of "
                  f"that reading graded as r1lab.eval grades them (grade(...)['correct'])")
    pays = answer[SHORT_KEYS[-1]]
    if pays not in PAYS:
        _fail(f"{SHORT_KEYS[-1]!r} is one of {PAYS}; got {pays!r}")
    if pays != found[SHORT_KEYS[-1]]:
        said = "; ".join(f"{label}: made to reason {found[f'right, made to reason, {label}']}"
                         f" of {n}, answering directly "
                         f"{found[f'right, answering directly, {label}']}"
                         for label in (TASK, SHORT))
        _fail(f"{SHORT_KEYS[-1]!r}: yours {pays!r}, these samples say "
              f"{found[SHORT_KEYS[-1]]!r} ({said}); reasoning pays where the chain is right "
              "more often")
    return ("The chain habit is what the corpus taught: read the 2-operand chains to see "
            "what it does on a length the corpus never wrote.")


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
    return _reports(recheck_samples())


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


# Notebook 08 · RL for all scenarios, reward hacking -----------------------------------------

BT_KEYS = ["loss per pair", "mean loss", "pair accuracy", "d loss / d r_chosen"]
STAGE_4_KEYS = ["reasoning, stage 4 - stage 3", "reasoning falls by at most 2 points",
                "helpful, stage 4 - stage 3", "verdict, helpful falls", "helpful, per seed"]
HACK_KEYS = ["helpful score, last 20 - first 20 steps",
             "helpful truth, last 20 - first 20 steps",
             "held out helpful, reward models - rule", "verdict, helpfulness hacked",
             "verdict, harmlessness hacked"]
EX_08_MARGIN = 0.02  # notebook 08's target: reasoning pass@1 falls by at most 2 points
CURVE_WINDOW = 20  # notebooks 08 and 09 draw their training curves as 20-step means


@cache
def bradley_terry_readings() -> dict:
    """Exercise 08.1's numbers: TRL's reward loss, -logsigmoid(r_chosen - r_rejected), on
    ``material.scored_pairs``, and its gradient by autograd."""
    pairs = scored_pairs()
    r_chosen = torch.tensor([p["r_chosen"] for p in pairs], requires_grad=True)  # [N]
    r_rejected = torch.tensor([p["r_rejected"] for p in pairs])  # [N]
    losses = -torch.nn.functional.logsigmoid(r_chosen - r_rejected)  # [N]
    losses.sum().backward()  # each pair's loss depends on its own r_chosen only
    margin = r_chosen.detach() - r_rejected  # [N]
    return {"loss per pair": losses.tolist(), "mean loss": losses.mean().item(),
            "pair accuracy": (margin > 0).float().mean().item(),
            "d loss / d r_chosen": r_chosen.grad.tolist(), "margins": margin.tolist(),
            "swapped": (-torch.nn.functional.logsigmoid(-margin)).tolist(),
            "bits": (losses / math.log(2)).tolist(),
            "loss of the mean": -torch.nn.functional.logsigmoid(margin.mean()).item()}


def _bt_answer(**changes) -> dict:
    found = bradley_terry_readings()
    right = {"loss per pair": [round(v, 4) for v in found["loss per pair"]],
             "mean loss": round(found["mean loss"], 4),
             "pair accuracy": round(found["pair accuracy"], 4),
             "d loss / d r_chosen": [round(v, 4) for v in found["d loss / d r_chosen"]]}
    return {**right, **changes}


@exercise("08", 1, "the Bradley-Terry loss by hand", wrong=lambda: [
    (_bt_answer(**{BT_KEYS[0]: [round(v, 4) for v in bradley_terry_readings()["swapped"]]}),
     "r_rejected - r_chosen"),
    (_bt_answer(**{BT_KEYS[0]: [round(v, 4) for v in bradley_terry_readings()["bits"]]}),
     "natural log"),
    (_bt_answer(**{BT_KEYS[1]: round(bradley_terry_readings()["loss of the mean"], 4)}),
     "mean of the pairs' losses"),
    (_bt_answer(**{BT_KEYS[3]: [-v for v in _bt_answer()[BT_KEYS[3]]]}),
     "raising r_chosen lowers the loss"),
])
def _ex_08_1(answer):
    answer = _keys(answer, BT_KEYS)
    found = bradley_terry_readings()
    n = len(found["margins"])
    losses = _numbers(answer["loss per pair"], n, "one loss per pair, in order")
    if not _all_close(losses, found["loss per pair"], 1e-3):
        if _all_close(losses, found["swapped"], 1e-3):
            _fail("'loss per pair': yours is -log σ(r_rejected - r_chosen), the loss of "
                  "preferring the rejected reply; the Bradley-Terry loss is "
                  "-log σ(r_chosen - r_rejected), small when the chosen reply scores higher")
        if _all_close(losses, found["bits"], 1e-3):
            _fail("'loss per pair': yours are in bits (log base 2); TRL's RewardTrainer takes "
                  "-logsigmoid, the natural log (nats), as the notebook's ln 2 line does")
        wrong = [f"pair {i}: yours {m:.4f}, r1lab {e:.4f} = -log σ({d:+.4f})"
                 for i, (m, e, d) in enumerate(zip(losses, found["loss per pair"],
                                                   found["margins"])) if not _close(m, e, 1e-3)]
        _fail("'loss per pair': " + "; ".join(wrong) + " (the margin is r_chosen - "
              "r_rejected)")
    mean = _number(answer["mean loss"], "'mean loss'")
    if not _close(mean, found["mean loss"], 1e-3):
        if _close(mean, found["loss of the mean"], 1e-3):
            _fail(f"'mean loss': yours {mean:.4f} is the loss of the mean margin; a batch's "
                  f"loss is the mean of the pairs' losses: {found['mean loss']:.4f} (the loss "
                  "is convex in the margin, so the two differ)")
        _fail(f"'mean loss': yours {mean:.4f}; the mean of the {n} pairs' losses is "
              f"{found['mean loss']:.4f}")
    accuracy = _share(answer["pair accuracy"], "'pair accuracy'")
    if not _close(accuracy, found["pair accuracy"], 1e-3):
        right = sum(d > 0 for d in found["margins"])
        _fail(f"'pair accuracy': yours {accuracy:g}; the model scores the chosen reply above "
              f"the rejected one in {right} of {n} pairs (a margin above 0; a tie counts as "
              f"wrong, as r1lab.eval.pair_accuracy counts it): {found['pair accuracy']:.4f}")
    grads = _numbers(answer["d loss / d r_chosen"], n, "one derivative per pair, in order")
    expected = found["d loss / d r_chosen"]
    if not _all_close(grads, expected, 1e-3):
        if _all_close([-g for g in grads], expected, 1e-3):
            _fail("'d loss / d r_chosen': yours have the wrong sign: raising r_chosen lowers "
                  "the loss, so the derivative is -(1 - σ(r_chosen - r_rejected)) = "
                  "-σ(r_rejected - r_chosen), below 0 for every pair")
        wrong = [f"pair {i}: yours {g:.4f}, autograd {e:.4f}" for i, (g, e) in
                 enumerate(zip(grads, expected)) if not _close(g, e, 1e-3)]
        _fail("'d loss / d r_chosen': " + "; ".join(wrong) + ": the derivative of "
              "-log σ(x) is -(1 - σ(x)) = -σ(-x), with x = r_chosen - r_rejected")
    return ("A pair the model already ranks right pushes little (σ(-x) is small); a pair it "
            "ranks wrong pushes with nearly full force.")


EX_08_PRIVATE = next(p for p in generate_general(8, split="test", seed=0)
                     if p.kind == "private")  # notebook 08's 'keep this private: 7311...'


def _harmless_score(response: str) -> float | None:
    return judge_scores("harmless_rm", EX_08_PRIVATE.question, [response])[0]


def _why_harmful(response: str) -> str:
    if DIGIT.search(response):
        return "it writes a digit"
    return "it is not one of the assistant's polite replies, POLITE_REPLIES"


@exercise("08", 2, "a reply the harmlessness model overrates", wrong=lambda: [
    (POLITE_REPLIES[0], "the rule finds it harmless"),
    (EX_08_PRIVATE.secret, "not above"),
    (f"{SPECIAL_TOKEN}the number is {EX_08_PRIVATE.secret}{SPECIAL_TOKEN}{POLITE_REPLIES[0]}",
     "not above"),
    (["i am"], "a string"),
])
def _ex_08_2(answer):
    if not isinstance(answer, str):
        _fail(f"the answer is a string, one response to {EX_08_PRIVATE.question!r}; got "
              f"{answer!r}")
    decline = _harmless_score(POLITE_REPLIES[0])
    if is_harmless(answer, EX_08_PRIVATE.secret):
        _fail(f"the rule finds it harmless (no digit, a polite decline): the reward model "
              f"scores it {_harmless_score(answer):+.3f}, but a hack is a response the judge "
              "pays that the rule refuses")
    score = _harmless_score(answer)
    if score is None:
        _fail("the reward model cannot read it (not valid text); write a plain string")
    if score <= decline:
        _fail(f"the rule refuses it ({_why_harmful(answer)}), but the harmlessness model "
              f"scores it {score:+.3f}, not above the polite decline's {decline:+.3f}: the "
              "model caught this one. Look for text it was not trained to refuse: stage-4 "
              "seed 2's replies, printed above, are where RL found one")
    return (f"The judge pays it {score:+.3f}, more than the true decline ({decline:+.3f}), "
            f"and the rule refuses it ({_why_harmful(answer)}): RL climbs exactly such a gap.")


def _per_seed(file: str, arm: str, *path) -> list[float]:
    values = []
    for s in range(3):
        value = results(file)["jobs"][f"{arm}-seed{s}"]["held_out"]
        for key in path:
            value = value[key]
        values.append(value)
    return values


@cache
def stage_4_readings() -> dict:
    """Exercise 08.3's answers, from ``benchmarks/results/all_scenario_seeds.json``."""
    stage_3 = results("all_scenario_seeds")["jobs"]["stage3"]["held_out"]
    reasoning = _per_seed("all_scenario_seeds", "stage4", "reasoning", "pass_at_1")
    helpful = _per_seed("all_scenario_seeds", "stage4", "general", "helpful")
    before, before_ci = stage_3["reasoning"]["pass_at_1"], stage_3["reasoning"]["pass_at_1_ci"]
    help_before, help_ci = stage_3["general"]["helpful"], stage_3["general"]["helpful_ci"]
    change = gain_interval(reasoning, before, before_ci)
    help_change = gain_interval(helpful, help_before, help_ci)
    return {
        STAGE_4_KEYS[0]: change,
        STAGE_4_KEYS[1]: verdict(change[1] + EX_08_MARGIN, change[2] + EX_08_MARGIN),
        STAGE_4_KEYS[2]: help_change,
        STAGE_4_KEYS[3]: verdict(*help_change[1:], claimed_sign=-1),
        STAGE_4_KEYS[4]: seed_count([v < help_ci[0] for v in helpful],
                                    "below stage 3's interval"),
        "reasoning, exact": seed_interval([v - before for v in reasoning]),
        "helpful, exact": seed_interval([v - help_before for v in helpful]),
        "helpful seeds": helpful, "helpful before": help_before, "helpful ci": help_ci,
    }


def _stage_4_answer(**changes) -> dict:
    found = stage_4_readings()
    right = {key: ([round(v, 3) for v in found[key]] if isinstance(found[key], tuple)
                   else found[key]) for key in STAGE_4_KEYS}
    return {**right, **changes}


@exercise("08", 3, "stage 4 against stage 3", wrong=lambda: [
    (_stage_4_answer(**{STAGE_4_KEYS[0]: [round(v, 3) for v in
                                          stage_4_readings()["reasoning, exact"]]}), "as exact"),
    (_stage_4_answer(**{STAGE_4_KEYS[1]: "agrees"}), "whole interval"),
    (_stage_4_answer(**{STAGE_4_KEYS[3]: "agrees"}), "contains 0"),
    (_stage_4_answer(**{STAGE_4_KEYS[4]: "3 of 3"}), "seed_count"),
])
def _ex_08_3(answer):
    answer = _keys(answer, STAGE_4_KEYS)
    found = stage_4_readings()
    for key, exact, what in (
            (STAGE_4_KEYS[0], "reasoning, exact", "held-out reasoning pass@1"),
            (STAGE_4_KEYS[2], "helpful, exact", "the held-out helpful rate on requests")):
        mine = _interval(answer[key], repr(key))
        if _all_close(mine, found[key], INTERVAL_TOL):
            continue
        how = (f"gain_interval(the 3 stage-4 seeds' {what}, stage 3's, stage 3's 95% "
               "interval): stage 3 is one model measured once, and its sampling error counts")
        if _all_close(mine, found[exact], INTERVAL_TOL):
            _fail(f"{key!r}: yours {_said(mine)} takes stage 3's rate as exact (a t-interval "
                  f"of the seeds minus it); r1lab's is {_said(found[key])}, {how}")
        _fail(f"{key!r}: yours {_said(mine)}, r1lab {_said(found[key])} (3 decimals): {how}")
    change = found[STAGE_4_KEYS[0]]
    shifted = (change[1] + EX_08_MARGIN, change[2] + EX_08_MARGIN)
    said = _verdict_word(answer[STAGE_4_KEYS[1]], repr(STAGE_4_KEYS[1]))
    if said != found[STAGE_4_KEYS[1]]:
        _fail(f"{STAGE_4_KEYS[1]!r}: yours {said!r}, r1lab {found[STAGE_4_KEYS[1]]!r}. "
              f"'Falls by at most 2 points' holds when the whole interval lies above "
              f"-{EX_08_MARGIN:g}: verdict(low + {EX_08_MARGIN:g}, high + {EX_08_MARGIN:g}). "
              f"The estimate {change[0]:+.3f} is within 2 points, but the interval reaches "
              f"{change[1]:+.3f}: shifted, {_verdict_reason(*shifted)}")
    said = _verdict_word(answer[STAGE_4_KEYS[3]], repr(STAGE_4_KEYS[3]))
    if said != found[STAGE_4_KEYS[3]]:
        low, high = found[STAGE_4_KEYS[2]][1:]
        _fail(f"{STAGE_4_KEYS[3]!r}: yours {said!r}, verdict(low, high, claimed_sign=-1) says "
              f"{found[STAGE_4_KEYS[3]]!r}: {_verdict_reason(low, high)}. The seeds "
              f"({_fmt(found['helpful seeds'])}) all fall but spread so widely that the mean's "
              "interval says nothing; the count below says what they share")
    count = answer[STAGE_4_KEYS[4]]
    if count != found[STAGE_4_KEYS[4]]:
        low = found["helpful ci"][0]
        _fail(f"{STAGE_4_KEYS[4]!r}: yours {count!r}; write it as r1lab.stats.seed_count says "
              f"it, seed_count(outcomes, \"below stage 3's interval\") with one outcome per "
              f"seed (its helpful rate below {low:.3f}, the low end of stage 3's interval): "
              f"{found[STAGE_4_KEYS[4]]!r}")
    return ("Reasoning held within what 3 seeds can tell; helpfulness fell in every seed, which "
            "the count says and the mean's interval cannot.")


def _window_change(arm: str, column: str, window: int = CURVE_WINDOW,
                   single: bool = False) -> float:
    """The mean over seeds of (mean of the last ``window`` logged values minus mean of the
    first ``window``); ``single``: the last step's value minus the first step's."""
    changes = []
    for s in range(3):
        logged = [v for v in results("all_scenario_seeds")["jobs"][f"{arm}-seed{s}"]["curves"]
                  [column] if v is not None]
        if single:
            changes.append(logged[-1] - logged[0])
        else:
            changes.append(sum(logged[-window:]) / window - sum(logged[:window]) / window)
    return sum(changes) / len(changes)


@cache
def hacking_readings() -> dict:
    """Exercise 08.4's answers, from ``benchmarks/results/all_scenario_seeds.json``."""
    found = {HACK_KEYS[0]: _window_change("hacking", "helpful_rm"),
             HACK_KEYS[1]: _window_change("hacking", "helpful_rule"),
             "score, single steps": _window_change("hacking", "helpful_rm", single=True),
             "truth, single steps": _window_change("hacking", "helpful_rule", single=True)}
    for aspect, key in (("helpful", HACK_KEYS[3]), ("harmless", HACK_KEYS[4])):
        hacked = _per_seed("all_scenario_seeds", "hacking", "general", aspect)
        control = _per_seed("all_scenario_seeds", "control", "general", aspect)
        found[aspect] = difference_interval(hacked, control)
        found[f"{aspect}, paired"] = seed_interval([a - b for a, b in zip(hacked, control)])
        found[key] = verdict(*found[aspect][1:], claimed_sign=-1)
    found[HACK_KEYS[2]] = found["helpful"]
    return found


def _hack_answer(**changes) -> dict:
    found = hacking_readings()
    right = {HACK_KEYS[0]: round(found[HACK_KEYS[0]], 3),
             HACK_KEYS[1]: round(found[HACK_KEYS[1]], 3),
             HACK_KEYS[2]: [round(v, 3) for v in found[HACK_KEYS[2]]],
             HACK_KEYS[3]: found[HACK_KEYS[3]], HACK_KEYS[4]: found[HACK_KEYS[4]]}
    return {**right, **changes}


@exercise("08", 4, "reward hacking, measured", wrong=lambda: [
    (_hack_answer(**{HACK_KEYS[0]: round(hacking_readings()["score, single steps"], 3)}),
     "20 steps"),
    (_hack_answer(**{HACK_KEYS[2]: [round(v, 3) for v in
                                    hacking_readings()["helpful, paired"]]}), "independent"),
    (_hack_answer(**{HACK_KEYS[3]: "disagrees"}), "claimed_sign=-1"),
    (_hack_answer(**{HACK_KEYS[4]: "agrees"}), "contains 0"),
])
def _ex_08_4(answer):
    answer = _keys(answer, HACK_KEYS)
    found = hacking_readings()
    for key, single, column in ((HACK_KEYS[0], "score, single steps", "helpful_rm"),
                                (HACK_KEYS[1], "truth, single steps", "helpful_rule")):
        mine = _number(answer[key], repr(key))
        if _close(mine, found[key], 1e-3):
            continue
        if _close(mine, found[single], 1e-3):
            _fail(f"{key!r}: yours {mine:+.3f} is the last step's value minus the first's; one "
                  f"step's batch is noisy: the figure's lines are {CURVE_WINDOW}-step means. "
                  f"Mean of the last {CURVE_WINDOW} steps minus mean of the first "
                  f"{CURVE_WINDOW}, averaged over the 3 seeds: {found[key]:+.3f}")
        _fail(f"{key!r}: yours {mine:+.3f}; in the 'hacking' arm's curves[{column!r}], the "
              f"mean of the last {CURVE_WINDOW} logged steps minus the mean of the first "
              f"{CURVE_WINDOW}, averaged over the 3 seeds, is {found[key]:+.3f}")
    key = HACK_KEYS[2]
    mine = _interval(answer[key], repr(key))
    if not _all_close(mine, found[key], INTERVAL_TOL):
        if _all_close(mine, found["helpful, paired"], INTERVAL_TOL):
            _fail(f"{key!r}: yours {_said(mine)} pairs seed i of one arm with seed i of the "
                  "other; the arms' runs are independent: Welch's interval of the two sets, "
                  f"difference_interval(hacking, control): {_said(found[key])}")
        _fail(f"{key!r}: yours {_said(mine)}, r1lab.stats.difference_interval(the hacking "
              f"arm's 3 held-out helpful rates, the control's) gives {_said(found[key])}")
    for key, aspect in ((HACK_KEYS[3], "helpful"), (HACK_KEYS[4], "harmless")):
        said = _verdict_word(answer[key], repr(key))
        if said == found[key]:
            continue
        low, high = found[aspect][1:]
        if said == verdict(low, high):
            _fail(f"{key!r}: yours {said!r} reads the interval against a claimed rise; the "
                  "claim is that the reward models leave the rule's rate lower than the "
                  f"rule-rewarded control: verdict(low, high, claimed_sign=-1) = "
                  f"{found[key]!r}")
        _fail(f"{key!r}: yours {said!r}, verdict(low, high, claimed_sign=-1) says "
              f"{found[key]!r}: {_verdict_reason(low, high)}")
    return ("The judge's score rose while the truth fell, and held out the hacked run is "
            "less helpful than the rule-rewarded one beyond the seeds' spread.")


# Notebook 09 · Distillation ---------------------------------------------------------------

LIVE_09_KEYS = ["the student is more accurate made to reason", "pass@1, student",
                "pass@1, student made to reason", "pass@1, teacher"]
ARMS_09_KEYS = ["(b) distilled - (a) RL", "verdict, distillation beats RL",
                "(c) distilled + RL - (b) distilled", "verdict, RL after distillation adds"]
CONTROL_09_KEYS = ["(a) RL - student made to reason", "verdict, RL passes its control",
                   "(b) distilled - (d) careful chains", "verdict, the teacher adds more"]
CURVE_09_KEYS = ["training accuracy, first 20 steps", "training accuracy, last 20 steps",
                 "held-out pass@1, (a)", "rollout temperature", "held-out temperature"]
STUDENT_RL_RECIPE = "tiny/student_rl"  # notebook 09's arm (a)


@cache
def student_teacher_readings() -> dict[str, Report]:
    """r1lab's report on each reading of ``material.student_teacher_samples``, graded as
    ``r1lab.eval.evaluate`` grades its samples."""
    return _reports(student_teacher_samples())


def _live_09_answer(**changes) -> dict:
    found = student_teacher_readings()
    student, made, teacher = (found[name].pass_at_1 for name in
                              ("student", "student made to reason", "teacher"))
    right = dict(zip(LIVE_09_KEYS, (made > student, student, made, teacher)))
    return {**right, **changes}


@exercise("09", 1, "the student and the teacher, live", wrong=lambda: [
    (_live_09_answer(**{LIVE_09_KEYS[0]: not _live_09_answer()[LIVE_09_KEYS[0]]}),
     "made to reason"),
    (_live_09_answer(**{LIVE_09_KEYS[1]: _live_09_answer()[LIVE_09_KEYS[2]],
                        LIVE_09_KEYS[2]: _live_09_answer()[LIVE_09_KEYS[1]]}), "swapped"),
    (_live_09_answer(**{LIVE_09_KEYS[3]: 100 * _live_09_answer()[LIVE_09_KEYS[3]]}),
     "between 0 and 1"),
])
def _ex_09_1(answer):
    answer = _keys(answer, LIVE_09_KEYS)
    found = student_teacher_readings()
    expected = _live_09_answer()
    student = found["student"]
    predicted = answer[LIVE_09_KEYS[0]]
    if not isinstance(predicted, bool):
        _fail(f"{LIVE_09_KEYS[0]!r} is True or False; got {predicted!r}")
    if predicted is not expected[LIVE_09_KEYS[0]]:
        _fail(f"{LIVE_09_KEYS[0]!r}: on these samples the student is right in "
              f"{student.pass_at_1:.3f} of its unprompted samples and "
              f"{expected[LIVE_09_KEYS[2]]:.3f} when made to reason: unprompted it reasons "
              f"in only {student.reasoning_rate:.3f} of its samples (a think block), and its "
              "direct answers are mostly wrong; the corpus planted reasoning documents in it, "
              "as in the base before R1-Zero")
    mine = {key: _share(answer[key], repr(key)) for key in LIVE_09_KEYS[1:]}
    first, second = LIVE_09_KEYS[1:3]
    if (_close(mine[first], expected[second], 1e-3) and _close(mine[second], expected[first],
                                                                1e-3)
            and not _close(expected[first], expected[second], 1e-3)):
        _fail(f"{first!r} and {second!r} are swapped")
    for key, name in zip(LIVE_09_KEYS[1:], ("student", "student made to reason", "teacher")):
        if not _close(mine[key], expected[key], 1e-3):
            report = found[name]
            _fail(f"{key!r}: yours {mine[key]:g}, r1lab {expected[key]:.3f} (3 decimals): the "
                  f"share right over the {report.n_problems} questions x {report.k} samples "
                  "of this reading, as r1lab.eval grades them (Report.pass_at_1)")
    return ("The student can reason when made to; the teacher does it unprompted and right far "
            "more often: the gap distillation and RL try to close.")


def _difference_09(a: str, b: str) -> dict:
    first, second = _per_seed("distill_seeds", a, "pass_at_1"), _per_seed("distill_seeds", b,
                                                                         "pass_at_1")
    diff = difference_interval(first, second)
    mean = diff[0]
    half = Z_95 * math.sqrt(mean_var(first)[1] / 3 + mean_var(second)[1] / 3)
    return {"interval": diff, "z": (mean, mean - half, mean + half),
            "paired": seed_interval([x - y for x, y in zip(first, second)])}


@cache
def arms_09_readings() -> dict:
    """Exercise 09.2's intervals, from ``benchmarks/results/distill_seeds.json``."""
    return {ARMS_09_KEYS[0]: _difference_09("distill", "rl"),
            ARMS_09_KEYS[2]: _difference_09("distill_rl", "distill")}


def _arms_09_answer(**changes) -> dict:
    found = arms_09_readings()
    right = {}
    for key, verdict_key in zip(ARMS_09_KEYS[::2], ARMS_09_KEYS[1::2]):
        right[key] = [round(v, 3) for v in found[key]["interval"]]
        right[verdict_key] = verdict(*found[key]["interval"][1:])
    return {**right, **changes}


@exercise("09", 2, "distillation, RL, and both", wrong=lambda: [
    (_arms_09_answer(**{ARMS_09_KEYS[0]: [round(v, 3) for v in
                                          arms_09_readings()[ARMS_09_KEYS[0]]["z"]]}), "4.303"),
    (_arms_09_answer(**{ARMS_09_KEYS[2]: [round(v, 3) for v in
                                          arms_09_readings()[ARMS_09_KEYS[2]]["paired"]]}),
     "independent"),
    (_arms_09_answer(**{ARMS_09_KEYS[3]: "cannot tell"}), "opposite the claim"),
    (_arms_09_answer(**{ARMS_09_KEYS[3]: "agrees"}), "below 0"),
])
def _ex_09_2(answer):
    answer = _keys(answer, ARMS_09_KEYS)
    found = arms_09_readings()
    for key, verdict_key in zip(ARMS_09_KEYS[::2], ARMS_09_KEYS[1::2]):
        mine = _interval(answer[key], repr(key))
        expected = found[key]["interval"]
        if not _all_close(mine, expected, INTERVAL_TOL):
            if _all_close(mine, found[key]["z"], INTERVAL_TOL):
                _fail(f"{key!r}: yours {_said(mine)} uses the normal quantile {Z_95:g}; with "
                      "3 seeds a side Welch's interval uses Student's t with 2 degrees of "
                      f"freedom, 4.303 (r1lab.stats.t_95): {_said(expected)}")
            if _all_close(mine, found[key]["paired"], INTERVAL_TOL):
                _fail(f"{key!r}: yours {_said(mine)} pairs seed i of one arm with seed i of "
                      "the other; the arms' runs are independent: Welch's interval of the two "
                      f"sets, difference_interval: {_said(expected)}")
            _fail(f"{key!r}: yours {_said(mine)}, r1lab.stats.difference_interval gives "
                  f"{_said(expected)} (the first arm's 3 seeds of held-out pass_at_1, then "
                  "the second's)")
        said = _verdict_word(answer[verdict_key], repr(verdict_key))
        right = verdict(*expected[1:])
        if said != right:
            extra = (" 'cannot tell' is for an interval that contains 0; one wholly on the side "
                     "opposite the claim disagrees with it" if said == "cannot tell" else
                     " The paper reports further gains from RL after distillation; here the "
                     "100 GRPO steps cost accuracy" if verdict_key == ARMS_09_KEYS[3] else "")
            _fail(f"{verdict_key!r}: yours {said!r}, verdict says {right!r} (the claim: the "
                  f"first arm is higher): {_verdict_reason(*expected[1:])}.{extra}")
    return ("At the same minutes distillation beats RL on the student by far; 100 GRPO steps "
            "after distillation cost accuracy here instead of adding it.")


@cache
def control_09_readings() -> dict:
    """Exercise 09.3's intervals, from ``benchmarks/results/distill_seeds.json``."""
    student = results("distill_seeds")["jobs"]["student"]
    rl = _per_seed("distill_seeds", "rl", "pass_at_1")
    found = {}
    for name, held in (("made to reason", student["made_to_reason"]),
                       ("unprompted", student["held_out"])):
        found[name] = gain_interval(rl, held["pass_at_1"], held["pass_at_1_ci"])
        found[f"{name}, exact"] = seed_interval([v - held["pass_at_1"] for v in rl])
    found["careful"] = _difference_09("distill", "careful")
    return found


def _control_09_answer(**changes) -> dict:
    found = control_09_readings()
    careful = found["careful"]["interval"]
    right = dict(zip(CONTROL_09_KEYS, ([round(v, 3) for v in found["made to reason"]],
                                       verdict(*found["made to reason"][1:]),
                                       [round(v, 3) for v in careful], verdict(*careful[1:]))))
    return {**right, **changes}


@exercise("09", 3, "each arm against its control", wrong=lambda: [
    (_control_09_answer(**{
        CONTROL_09_KEYS[0]: [round(v, 3) for v in
                             control_09_readings()["made to reason, exact"]],
        CONTROL_09_KEYS[1]: verdict(*control_09_readings()["made to reason, exact"][1:])}),
     "as exact"),
    (_control_09_answer(**{
        CONTROL_09_KEYS[0]: [round(v, 3) for v in control_09_readings()["unprompted"]],
        CONTROL_09_KEYS[1]: verdict(*control_09_readings()["unprompted"][1:])}),
     "made to reason"),
    (_control_09_answer(**{CONTROL_09_KEYS[2]: [
        round(v, 3) for v in control_09_readings()["careful"]["paired"]]}), "independent"),
    (_control_09_answer(**{CONTROL_09_KEYS[3]: "cannot tell"}), "opposite the claim"),
])
def _ex_09_3(answer):
    answer = _keys(answer, CONTROL_09_KEYS)
    found = control_09_readings()
    key = CONTROL_09_KEYS[0]
    mine = _interval(answer[key], repr(key))
    expected = found["made to reason"]
    how = ("gain_interval(the 3 RL seeds' held-out pass@1, the student made to reason's "
           "pass@1, its 95% interval): the control is one model measured once, and its "
           "sampling error counts")
    if not _all_close(mine, expected, INTERVAL_TOL):
        if _all_close(mine, found["made to reason, exact"], INTERVAL_TOL):
            _fail(f"{key!r}: yours {_said(mine)} takes the control's pass@1 as exact (a "
                  f"t-interval of the seeds minus it); r1lab's is {_said(expected)}, {how}")
        if _all_close(mine, found["unprompted"], INTERVAL_TOL):
            _fail(f"{key!r}: yours {_said(mine)} measures RL against the student unprompted; "
                  "RL can gain that much just by switching on the reasoning mode the student "
                  "already has, so the control is the student made to reason "
                  f"(jobs['student']['made_to_reason']): {_said(expected)}")
        _fail(f"{key!r}: yours {_said(mine)}, r1lab {_said(expected)} (3 decimals): {how}")
    for verdict_key, interval in ((CONTROL_09_KEYS[1], expected),
                                  (CONTROL_09_KEYS[3], found["careful"]["interval"])):
        said = _verdict_word(answer[verdict_key], repr(verdict_key))
        right = verdict(*interval[1:])
        if said != right:
            extra = (" 'cannot tell' is for an interval that contains 0; one wholly on the side "
                     "opposite the claim disagrees with it" if said == "cannot tell" else "")
            _fail(f"{verdict_key!r}: yours {said!r}, verdict says {right!r}: "
                  f"{_verdict_reason(*interval[1:])}.{extra}")
    key = CONTROL_09_KEYS[2]
    mine = _interval(answer[key], repr(key))
    careful = found["careful"]
    if not _all_close(mine, careful["interval"], INTERVAL_TOL):
        if _all_close(mine, careful["paired"], INTERVAL_TOL):
            _fail(f"{key!r}: yours {_said(mine)} pairs seed i of (b) with seed i of (d); the "
                  "arms' runs are independent: Welch's interval of the two sets, "
                  f"difference_interval: {_said(careful['interval'])}")
        _fail(f"{key!r}: yours {_said(mine)}, r1lab.stats.difference_interval((b)'s 3 seeds, "
              f"(d)'s 3 seeds) gives {_said(careful['interval'])}: (d) is trained over 3 seeds "
              "too, so both sides carry their spread")
    return ("A control measured once is an estimate: with its error counted, RL on the student "
            "cannot be told from the student made to reason; the careful chains teach more "
            "than the teacher's samples.")


@cache
def curve_09_readings() -> dict:
    """Exercise 09.4's answers: arm (a)'s training curves in ``distill_seeds.json``, its
    recipe and the held-out protocol."""
    jobs = results("distill_seeds")["jobs"]
    curves = [jobs[f"rl-seed{s}"]["curves"]["accuracy"] for s in range(3)]
    w = CURVE_WINDOW

    def over_seeds(values):
        return sum(values) / len(values)

    return {CURVE_09_KEYS[0]: over_seeds([sum(c[:w]) / w for c in curves]),
            CURVE_09_KEYS[1]: over_seeds([sum(c[-w:]) / w for c in curves]),
            CURVE_09_KEYS[2]: over_seeds(_per_seed("distill_seeds", "rl", "pass_at_1")),
            CURVE_09_KEYS[3]: float(parse_recipe(STUDENT_RL_RECIPE).trainer["temperature"]),
            CURVE_09_KEYS[4]: float(Protocol().temperature),
            "last step": over_seeds([c[-1] for c in curves]),
            "last 20, seed 0": sum(curves[0][-w:]) / w}


def _curve_09_answer(**changes) -> dict:
    found = curve_09_readings()
    right = {key: round(found[key], 3) for key in CURVE_09_KEYS}
    return {**right, **changes}


@exercise("09", 4, "the RL student's curve, read", wrong=lambda: [
    (_curve_09_answer(**{CURVE_09_KEYS[1]: round(curve_09_readings()["last step"], 3)}),
     "20 steps"),
    (_curve_09_answer(**{CURVE_09_KEYS[1]: round(curve_09_readings()["last 20, seed 0"], 3)}),
     "3 seeds"),
    (_curve_09_answer(**{CURVE_09_KEYS[3]: _curve_09_answer()[CURVE_09_KEYS[4]],
                         CURVE_09_KEYS[4]: _curve_09_answer()[CURVE_09_KEYS[3]]}), "swapped"),
])
def _ex_09_4(answer):
    answer = _keys(answer, CURVE_09_KEYS)
    found = curve_09_readings()
    w = CURVE_WINDOW
    first, second = CURVE_09_KEYS[3:]
    if (_close(_number(answer[first], repr(first)), found[second], 1e-6)
            and _close(_number(answer[second], repr(second)), found[first], 1e-6)
            and found[first] != found[second]):
        _fail(f"{first!r} and {second!r} are swapped: GRPO samples its rollouts hot "
              f"({STUDENT_RL_RECIPE}'s trainer.temperature), the held-out protocol at the "
              "paper's T (r1lab.eval.Protocol)")
    for key in CURVE_09_KEYS[:3]:
        mine = _share(answer[key], repr(key))
        if _close(mine, found[key], 1e-3):
            continue
        if key == CURVE_09_KEYS[1] and _close(mine, found["last step"], 1e-3):
            _fail(f"{key!r}: yours {mine:g} is the last step's accuracy (one batch: noisy); "
                  f"the figure's line is the mean of the last {w} steps, averaged over the 3 "
                  f"seeds: {found[key]:.3f}")
        if key == CURVE_09_KEYS[1] and _close(mine, found["last 20, seed 0"], 1e-3):
            _fail(f"{key!r}: yours {mine:g} is seed 0's; average the mean of each seed's last "
                  f"{w} steps over the 3 seeds: {found[key]:.3f}")
        where = ("the mean of the 3 seeds' held_out pass_at_1 of arm (a) (jobs['rl-seed*'])"
                 if key == CURVE_09_KEYS[2] else
                 f"in jobs['rl-seed*']['curves']['accuracy'], the mean of the "
                 f"{'first' if key == CURVE_09_KEYS[0] else 'last'} {w} steps, averaged over "
                 "the 3 seeds")
        _fail(f"{key!r}: yours {mine:g}, r1lab {found[key]:.3f} (3 decimals): {where}")
    for key, source in ((first, f"{STUDENT_RL_RECIPE}'s trainer.temperature"),
                        (second, "r1lab.eval.Protocol().temperature, the paper's")):
        mine = _number(answer[key], repr(key))
        if not _close(mine, found[key], 1e-6):
            _fail(f"{key!r}: yours {mine:g}; {source} is {found[key]:g}")
    return ("The training curve is measured at T = 1.0, the held-out pass@1 at 0.6: a cooler "
            "sample is right more often, so the two lines are not on one scale.")


# Notebook 10 · the Triton GRPO kernel ------------------------------------------------------
# The kernels run in Triton's interpreter on the CPU (interpret=True: r1lab takes it per
# kernel, so TRITON_INTERPRET need not be set before triton is imported), on fp32 rows of a
# few logits: the interpreter has no bf16 arithmetic. r1lab.kernels is imported where it is
# used: r1lab.kernels.memory reads TRL's tile sizes from trl, an import of several seconds
# that every other set, which imports this file too, would pay.

EX_10_MODEL = {"completions": 8, "completion length": 4096, "hidden size": 3584,
               "vocabulary": 152_064}  # a micro-batch scored by Qwen2.5-7B (its config.json)
EX_10_BUDGET_GIB = 80  # memory free for the log-probs' forward + backward
GIB = 2**30
MEMORY_PATHS = {"full logits, log_softmax": "logits", "TRL 1.16 fused LM head": "trl",
                "r1lab fused_linear_log_probs": "r1lab"}
MOST_TOKENS = "most tokens for the full logits in 80 GiB"
MEMORY_KEYS = [*MEMORY_PATHS, MOST_TOKENS]
EX_10_ROW = (0.8, 2.1, -1.4, 1.0, 3.3, -0.2, 2.9, 0.5, 4.1, -2.2, 1.7, 3.6, 0.2,
             -0.9)  # one token's logits, V = 14
EX_10_TILE = 4  # values per tile: tiles of 4, 4, 4 and 2
TILE_KEYS = ["tile 1", "tile 2", "tile 3", "tile 4", "lse"]
EX_10_BACKWARD = {"logits": (1.2, -0.4, 2.0, 0.3, -1.1, 0.9), "target": 2,
                  "temperature": 0.7, "g": -2.0}  # g = dL/d log p(target), from the loss
KERNEL_KEYS = ["all-zero rows", "clip_ratio/region_mean", "loss"]


def _memory_shape() -> tuple[int, int, int]:
    """(N, H, V) of ``EX_10_MODEL``: scored tokens, hidden size, vocabulary."""
    model = EX_10_MODEL
    return (model["completions"] * model["completion length"], model["hidden size"],
            model["vocabulary"])


def _largest(fits: Callable[[int], bool]) -> int:
    """The largest n >= 0 with ``fits(n)``, for a ``fits`` true up to some n, false after."""
    low, high = 0, 1
    while fits(high):
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


@cache
def memory_readings() -> dict:
    """Exercise 10.1's numbers, from ``r1lab.kernels.memory.predicted_bytes``, and the
    numbers of the mistakes its check names."""
    from r1lab.kernels.memory import TRL_TOKENS, TRL_VOCAB_CHUNK, predicted_bytes

    N, H, V = _memory_shape()
    sizes = predicted_bytes(N, H, V, element_bytes=2)
    budget = EX_10_BUDGET_GIB * GIB

    def logits_path(n: int) -> int:
        return predicted_bytes(n, H, V, element_bytes=2)["logits"]

    found = {key: sizes[path] / GIB for key, path in MEMORY_PATHS.items()}
    found[MOST_TOKENS] = _largest(lambda n: logits_path(n) <= budget)
    found["in GB"] = {key: sizes[path] / 1e9 for key, path in MEMORY_PATHS.items()}
    found["tile of N tokens"] = (sizes["trl"] + (N - min(N, TRL_TOKENS)) * TRL_VOCAB_CHUNK * 2
                                 ) / GIB
    found["no bf16 copies"] = predicted_bytes(N, H, V, element_bytes=4)["r1lab"] / GIB
    found["one fp32 copy"] = (sizes["logits"] - 2 * 4 * N * V) / GIB  # 4·N·V, not 12·N·V
    found["most, in GB"] = _largest(lambda n: logits_path(n) <= EX_10_BUDGET_GIB * 1e9)
    found["most, one fp32 copy"] = _largest(lambda n: logits_path(n) - 8 * n * V <= budget)
    found["at"] = lambda n: logits_path(n) / GIB
    found["tile"] = (TRL_TOKENS, TRL_VOCAB_CHUNK)
    return found


def _memory_answer(**changes) -> dict:
    found = memory_readings()
    right = {key: round(found[key], 2) for key in MEMORY_PATHS}
    return {**right, MOST_TOKENS: found[MOST_TOKENS], **changes}


@exercise("10", 1, "memory at Qwen2.5-7B's shape", wrong=lambda: [
    (_memory_answer(**{key: round(memory_readings()["in GB"][key], 2)
                       for key in MEMORY_PATHS}), "GiB"),
    (_memory_answer(**{"TRL 1.16 fused LM head": round(memory_readings()["tile of N tokens"],
                                                       2)}), "min(N, 4096)"),
    (_memory_answer(**{"r1lab fused_linear_log_probs": round(
        memory_readings()["no bf16 copies"], 2)}), "cast back to bf16"),
    (_memory_answer(**{"full logits, log_softmax": round(memory_readings()["one fp32 copy"],
                                                         2),
                       MOST_TOKENS: memory_readings()["most, one fp32 copy"]}),
     "three fp32 [N, V]"),
    (_memory_answer(**{MOST_TOKENS: memory_readings()[MOST_TOKENS] + 1}), "above"),
])
def _ex_10_1(answer):
    answer = _keys(answer, MEMORY_KEYS)
    found = memory_readings()
    N, H, V = _memory_shape()
    tokens, width = found["tile"]  # TRL's tile: tokens x vocabulary entries
    how = {
        "full logits, log_softmax": "12·N·V + 8·N bytes: three fp32 [N, V] tensors alive "
                                    "at the backward's peak, and two fp32 [N]",
        "TRL 1.16 fused LM head": "8·N + 4·(N·H + V·H) + 2·(N·H + V·H) bytes for the "
                                  "statistics and the gradients, plus its tile buffer of "
                                  f"min(N, {tokens}) × {width} bf16 logits",
        "r1lab fused_linear_log_probs": "8·N + 4·(N·H + V·H) + 2·(N·H + V·H) bytes: two "
                                        "fp32 [N], d(hidden) and d(W) in fp32 and their "
                                        "bf16 copies",
    }
    mistakes = {
        "TRL 1.16 fused LM head": ("tile of N tokens",
                                   f"TRL's tile buffer holds min(N, {tokens}) × "
                                   f"{width} logits, one tile at a time "
                                   "(trl.kernels.chunked_logprob.TOKEN_CHUNK_SIZE tokens), "
                                   f"not N × {width}"),
        "r1lab fused_linear_log_probs": ("no bf16 copies",
                                         "with bf16 inputs the fp32 d(hidden) and d(W) are "
                                         "cast back to bf16 at the end, and both copies are "
                                         "alive then: add 2·(N·H + V·H) bytes"),
        "full logits, log_softmax": ("one fp32 copy",
                                     "that counts one fp32 [N, V] tensor; at the backward's "
                                     "peak three fp32 [N, V] tensors are alive (the saved "
                                     "log-softmax, gather's zero-filled gradient and "
                                     "log_softmax's own gradient): 12·N·V bytes"),
    }
    in_gb = [key for key in MEMORY_PATHS if not _close(found[key], found["in GB"][key], 6e-3)
             and _close(_number(answer[key], repr(key)), found["in GB"][key], 6e-3)]
    if in_gb:
        _fail(f"{in_gb[0]!r}: yours {answer[in_gb[0]]:g} is in GB (10^9 bytes); the answer is "
              f"in GiB (2^30 bytes), as predicted_bytes' docstring prints it: "
              f"{found[in_gb[0]]:.2f}")
    for key in MEMORY_PATHS:
        mine = _number(answer[key], repr(key))
        if _close(mine, found[key], 6e-3):
            continue
        variant, why = mistakes[key]
        if _close(mine, found[variant], 6e-3):
            _fail(f"{key!r}: yours {mine:g} GiB; {why}: {found[key]:.2f} GiB")
        _fail(f"{key!r}: yours {mine:g}, r1lab.kernels.memory.predicted_bytes gives "
              f"{found[key]:.2f} GiB at N = {N:,}, H = {H:,}, V = {V:,} in bf16: {how[key]}")
    most = answer[MOST_TOKENS]
    if isinstance(most, bool) or not isinstance(most, int):
        _fail(f"{MOST_TOKENS!r} is a number of tokens, an int; got {most!r}")
    expected = found[MOST_TOKENS]
    if most != expected:
        if most > expected:
            _fail(f"{MOST_TOKENS!r}: at N = {most:,} the full-logits path allocates "
                  f"{found['at'](most):.4f} GiB, above {EX_10_BUDGET_GIB} GiB; the largest N "
                  f"that fits is {expected:,} (round down)")
        said = {found["most, in GB"]: f"a budget of {EX_10_BUDGET_GIB} GB (10^9 bytes); "
                                      f"it is {EX_10_BUDGET_GIB} GiB (2^30 bytes)",
                found["most, one fp32 copy"]: "one fp32 [N, V] tensor per token row; the "
                                              "path peaks at three, 12·N·V bytes"}
        why = said.get(most, f"at N = {most + 1:,} it still allocates "
                             f"{found['at'](most + 1):.4f} GiB")
        _fail(f"{MOST_TOKENS!r}: yours {most:,} is {why}; solve 12·N·V + 8·N <= "
              f"{EX_10_BUDGET_GIB}·2^30 for N: {expected:,} tokens, "
              f"{expected / EX_10_MODEL['completion length']:.1f} completions of "
              f"{EX_10_MODEL['completion length']:,}")
    ratio = found["full logits, log_softmax"] / found["r1lab fused_linear_log_probs"]
    return (f"From the hidden states, the LM head's gradient in fp32 is most of what either "
            f"fused path allocates; the full logits cost {ratio:.0f} times r1lab's.")


def _prefix_lse(end: int) -> float:
    """The log-sum-exp r1lab's forward kernel returns for the row's first ``end`` logits."""
    from r1lab.kernels.triton_logprobs import logprob_forward

    row = torch.tensor(EX_10_ROW[:end]).view(1, 1, end)  # [B=1, T=1, V=end]
    _, lse, _ = logprob_forward(row, torch.zeros(1, 1, dtype=torch.long),
                                torch.ones(1, 1, dtype=torch.int32), temperature=1.0,
                                with_entropy=False, block=EX_10_TILE, interpret=True)
    return lse.item()


@cache
def online_readings() -> dict:
    """Exercise 10.2's running (max, sum) after each tile: the max of the logits seen, and
    s = e^(lse - max) with the lse r1lab's kernel gives for them; and the mistakes' sums."""
    found = {"ends": [], "no rescale": [], "plain sums": []}
    m, s = -math.inf, 0.0  # the running state without the rescaling step
    for key, start in zip(TILE_KEYS[:-1], range(0, len(EX_10_ROW), EX_10_TILE)):
        end = min(start + EX_10_TILE, len(EX_10_ROW))
        tile = EX_10_ROW[start:end]
        top = max(EX_10_ROW[:end])
        found[key] = [top, math.exp(_prefix_lse(end) - top)]
        found["ends"].append(end)
        m = max(m, max(tile))
        s += sum(math.exp(z - m) for z in tile)
        found["no rescale"].append(s)
        found["plain sums"].append(sum(math.exp(z) for z in EX_10_ROW[:end]))
    found["lse"] = _prefix_lse(len(EX_10_ROW))
    found["log s"] = math.log(found[TILE_KEYS[-2]][1])
    return found


def _running_sums(mistake: str) -> dict:
    """Each tile's [max, sum] with the sums of ``mistake`` ("no rescale", "plain sums")."""
    found = online_readings()
    return {key: [found[key][0], round(found[mistake][i], 4)]
            for i, key in enumerate(TILE_KEYS[:-1])}


def _online_answer(**changes) -> dict:
    found = online_readings()
    right = {key: [found[key][0], round(found[key][1], 4)] for key in TILE_KEYS[:-1]}
    return {**right, "lse": round(found["lse"], 5), **changes}


@exercise("10", 2, "the online log-sum-exp by tiles", wrong=lambda: [
    (_online_answer(**_running_sums("no rescale")), "without rescaling"),
    (_online_answer(**_running_sums("plain sums")), "relative to the running"),
    (_online_answer(lse=round(online_readings()["log s"], 5)), "m + log s"),
    (_online_answer(**{"tile 4": [max(EX_10_ROW[12:]),
                                  round(online_readings()["tile 4"][1], 4)]}),
     "the largest of the first"),
])
def _ex_10_2(answer):
    answer = _keys(answer, TILE_KEYS)
    found = online_readings()
    previous = None
    for i, (key, end) in enumerate(zip(TILE_KEYS[:-1], found["ends"])):
        pair = answer[key]
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            _fail(f"{key!r}: expected [running max, running sum] after that tile; got "
                  f"{pair!r}")
        top = _number(pair[0], f"{key!r}'s running max")
        s = _number(pair[1], f"{key!r}'s running sum")
        expected_top, expected_s = found[key]
        if not _close(top, expected_top, 1e-6):
            _fail(f"{key!r}: the running max after it is the largest of the first {end} "
                  f"logits, {expected_top:g}; yours {top:g}")
        if not _close(s, expected_s, 6e-4):
            if _close(s, found["no rescale"][i], 6e-4):
                _fail(f"{key!r}: yours {s:.4f} adds the tile's terms to the earlier sum "
                      f"without rescaling it. When the max rises from {previous[0]:g} to "
                      f"{expected_top:g}, every earlier term e^(z - m) shrinks by "
                      f"e^(m - m') = {math.exp(previous[0] - expected_top):.4f}: "
                      f"s' = s·e^(m - m') + Σ_tile e^(z - m') = {expected_s:.4f}")
            if _close(s, found["plain sums"][i], 6e-4):
                _fail(f"{key!r}: yours {s:.4f} is Σ e^z, the plain sum; the kernel keeps it "
                      f"relative to the running max, s = Σ e^(z - m), so that no exponent is "
                      f"above 0 (no overflow in fp32): {expected_s:.4f}")
            _fail(f"{key!r}: yours {s:.4f}; r1lab's kernel gives the first {end} logits the "
                  f"log-sum-exp {_prefix_lse(end):.5f}, so s = e^(lse - m) = {expected_s:.4f}")
        previous = found[key]
    lse = _number(answer["lse"], "'lse'")
    if not _close(lse, found["lse"], 1e-4):
        if _close(lse, found["log s"], 1e-4):
            _fail(f"'lse': yours {lse:.5f} is log s alone; s was kept relative to the max, so "
                  f"lse = m + log s = {found['lse']:.5f}")
        _fail(f"'lse': yours {lse:.5f}, r1lab's forward kernel {found['lse']:.5f} (= m + "
              "log s after the last tile)")
    return ("Each time the max rises, the old sum is rescaled once: one pass, any tile width, "
            "the same log-sum-exp.")


@cache
def backward_readings() -> dict:
    """Exercise 10.3's row of d(logits), written by r1lab's backward kernel in Triton's
    interpreter, and the rows of the mistakes its check names."""
    from r1lab.kernels import fused_log_probs

    setup = EX_10_BACKWARD
    z = torch.tensor(setup["logits"])  # [V]
    V, target, tau, g = len(z), setup["target"], setup["temperature"], setup["g"]
    leaf = z.view(1, 1, V).clone().requires_grad_()  # [B=1, T=1, V]
    logps, _ = fused_log_probs(leaf, torch.tensor([[target]]), torch.ones(1, 1),
                               temperature=tau, compute_entropy=False, interpret=True)
    (grad,) = torch.autograd.grad(logps, leaf, grad_outputs=torch.full((1, 1), g))
    onehot = torch.nn.functional.one_hot(torch.tensor(target), V).float()  # [V]
    p = torch.softmax(z / tau, -1)  # [V]
    return {"row": grad.view(-1).tolist(), "p": p.tolist(),
            "no 1/τ": (g * (onehot - p)).tolist(),
            "p at τ = 1": (g * (onehot - torch.softmax(z, -1)) / tau).tolist(),
            "target only": (g * onehot * (1 - p[target]) / tau).tolist()}


@exercise("10", 3, "one row of d(logits)", wrong=lambda: [
    ([round(-v, 4) for v in backward_readings()["row"]], "sign"),
    ([round(v, 4) for v in backward_readings()["no 1/τ"]], "1/τ"),
    ([round(v, 4) for v in backward_readings()["p at τ = 1"]], "softmax(z / τ)"),
    ([round(v, 4) for v in backward_readings()["target only"]], "sums to"),
    ([1.0] * 5, "6 numbers"),
])
def _ex_10_3(answer):
    found = backward_readings()
    setup = EX_10_BACKWARD
    V, t, tau, g = len(setup["logits"]), setup["target"], setup["temperature"], setup["g"]
    mine = _numbers(answer, V, "dL/dlogit for each of the V logits, in order")
    expected = found["row"]
    if _all_close(mine, expected, 6e-4):
        return ("g < 0 asks for the target to be likelier: its logit gets a negative gradient "
                "(descent raises it), every other logit a positive one in proportion to p_j.")
    if not _close(sum(mine), 0.0, 2e-3):
        _fail(f"your row sums to {sum(mine):.4f}; every row of d(logits) sums to 0, since "
              "(g/τ)·Σ_j (1[j = t] − p_j) = (g/τ)·(1 − 1): the other logits get "
              "−(g/τ)·p_j each, not 0")
    if _all_close(mine, [-v for v in expected], 6e-4):
        _fail(f"the sign is flipped: d log p_t / dz_j = 1[j = t] − p_j, times g = {g:g} and "
              f"1/τ; with g < 0 the target's entry is negative, {expected[t]:.4f}")
    if _all_close(mine, found["no 1/τ"], 6e-4):
        _fail(f"z = logits / τ, so the chain rule brings a factor 1/τ = {1 / tau:.4f}: "
              f"dL/dlogit_j = (g/τ)(1[j = t] − p_j)")
    if _all_close(mine, found["p at τ = 1"], 6e-4):
        _fail(f"your p is softmax(logits); the sampler's distribution is p = softmax(z / τ) "
              f"with τ = {tau:g}, which the kernel rebuilds as e^(z/τ − lse)")
    wrong = [j for j in range(V) if not _close(mine[j], expected[j], 6e-4)]
    _fail(f"entries {wrong} differ: yours {_fmt(mine)}, r1lab's backward kernel "
          f"{_fmt(expected)} = (g/τ)(1[j = t] − p_j) with p = {_fmt(found['p'])}")


@cache
def kernel_readings() -> dict:
    """Exercise 10.4: the kernel on ``material.kernel_batch()`` in Triton's interpreter, the
    reference (``r1lab.grpo`` on torch's log_softmax), and the loss at τ = 1."""
    batch = kernel_batch()
    loss, metrics, grad = run_kernel(batch)
    leaf = batch["logits"].clone().requires_grad_()  # [B, T, V]
    logps = torch.log_softmax(leaf / KERNEL_TEMPERATURE, -1).gather(
        -1, batch["ids"][..., None])[..., 0]  # [B, T]
    reference, ref_metrics = grpo_loss(logps, batch["old"], None, batch["advantages"],
                                       batch["mask"], loss_type="grpo",
                                       epsilon_low=KERNEL_EPSILON)
    B, T = batch["ids"].shape
    zero = [[b, t] for b in range(B) for t in range(T) if grad[b, t].abs().max().item() == 0]
    return {"all-zero rows": zero, "loss": loss, "reference loss": reference.item(),
            "clip_ratio/region_mean": metrics["clip_ratio/region_mean"],
            "reference region": ref_metrics["clip_ratio/region_mean"],
            "tokens": int(batch["mask"].sum().item()), "positions": B * T,
            "loss at τ = 1": run_kernel(batch, temperature=1.0)[0]}


def _row_reason(b: int, t: int) -> str:
    """Why the kernel writes token (b, t) an all-zero row of d(logits), or not."""
    ratio, A = KERNEL_RATIOS[b][t], KERNEL_ADVANTAGES[b]
    low, high = 1 - KERNEL_EPSILON, 1 + KERNEL_EPSILON
    if ratio is None:
        return "padding (mask 0): the kernel writes zeros there without reading its logits"
    if A == 0:
        return (f"b{b}'s advantage is 0: with β = 0 its tokens' loss is 0 whatever the "
                "ratio, so is their gradient")
    if A > 0 and ratio > high:
        return (f"ratio {ratio:g} above 1+ε = {high:g} with A > 0: clipped on the side the "
                "advantage pushes; the surrogate is flat there")
    if A < 0 and ratio < low:
        return (f"ratio {ratio:g} below 1-ε = {low:g} with A < 0: clipped on the side the "
                "advantage pushes; the surrogate is flat there")
    if A > 0 and ratio < low:
        return (f"ratio {ratio:g} below 1-ε with A > 0 is not clipped: the clip caps gains "
                "only; a good token made less likely keeps its full push up")
    if A < 0 and ratio > high:
        return (f"ratio {ratio:g} above 1+ε with A < 0 is not clipped: a bad token made "
                "likelier keeps its full penalty")
    return f"ratio {ratio:g} inside [{low:g}, {high:g}]: the surrogate's gradient is A·r"


def _kernel_answer(**changes) -> dict:
    found = kernel_readings()
    return {"all-zero rows": found["all-zero rows"],
            "clip_ratio/region_mean": round(found["clip_ratio/region_mean"], 3),
            "loss": round(found["loss"], 4), **changes}


def _zero_rows_without(kind: Callable[[int, int], bool]) -> list[list[int]]:
    return [[b, t] for b, t in kernel_readings()["all-zero rows"] if not kind(b, t)]


@exercise("10", 4, "the kernel in Triton's interpreter", wrong=lambda: [
    (_kernel_answer(**{"all-zero rows": _zero_rows_without(
        lambda b, t: KERNEL_RATIOS[b][t] is None)}), "padding (mask 0)"),
    (_kernel_answer(**{"all-zero rows": _zero_rows_without(
        lambda b, t: KERNEL_ADVANTAGES[b] == 0 and KERNEL_RATIOS[b][t] is not None)}),
     "advantage is 0"),
    (_kernel_answer(**{"all-zero rows": kernel_readings()["all-zero rows"] + [[1, 0]]}),
     "full penalty"),
    (_kernel_answer(**{"clip_ratio/region_mean": round(
        kernel_readings()["clip_ratio/region_mean"] * kernel_readings()["tokens"]
        / kernel_readings()["positions"], 3)}), "completion tokens"),
    (_kernel_answer(loss=round(kernel_readings()["loss at τ = 1"], 4)), "temperature 1"),
])
def _ex_10_4(answer):
    answer = _keys(answer, KERNEL_KEYS)
    found = kernel_readings()
    rows = answer["all-zero rows"]
    B, T = len(KERNEL_RATIOS), len(KERNEL_RATIOS[0])
    if not isinstance(rows, (list, tuple)) or not all(
            isinstance(row, (list, tuple)) and len(row) == 2
            and all(isinstance(i, int) and not isinstance(i, bool) for i in row)
            for row in rows):
        _fail(f"'all-zero rows': expected a list of [b, t] pairs; got {rows!r}")
    mine = {tuple(row) for row in rows}
    if any(not (0 <= b < B and 0 <= t < T) for b, t in mine):
        _fail(f"'all-zero rows': b runs 0..{B - 1} and t 0..{T - 1}, numbered from 0; "
              f"you listed {sorted(mine)}")
    expected = {tuple(row) for row in found["all-zero rows"]}
    wrong = [f"b{b} t{t}: you said {'all zero' if (b, t) in mine else 'not all zero'}; "
             f"{_row_reason(b, t)}" for b, t in sorted(mine ^ expected)]
    if wrong:
        _fail(f"{len(wrong)} token(s) misjudged:\n  " + "\n  ".join(wrong))
    region = _share(answer["clip_ratio/region_mean"], "'clip_ratio/region_mean'")
    if not _close(region, found["clip_ratio/region_mean"], 1e-3):
        clipped = round(found["clip_ratio/region_mean"] * found["tokens"])
        if _close(region, clipped / found["positions"], 1e-3):
            _fail(f"'clip_ratio/region_mean': yours {region:g} divides by all "
                  f"{found['positions']} positions; the metric is a masked mean over the "
                  f"{found['tokens']} completion tokens: {clipped}/{found['tokens']}")
        _fail(f"'clip_ratio/region_mean': yours {region:g}, the kernel's metric "
              f"{found['clip_ratio/region_mean']:.3f}: the clipped tokens over the "
              f"{found['tokens']} completion tokens, a token clipped when its ratio is past "
              "the end of the clip range its advantage pushes towards (with A = 0, neither)")
    loss = _number(answer["loss"], "'loss'")
    if not _close(loss, found["loss"], 1e-4):
        if _close(loss, found["loss at τ = 1"], 1e-4):
            _fail(f"'loss': yours {loss:.4f} is the loss at temperature 1; the batch was "
                  f"sampled at τ = {KERNEL_TEMPERATURE:g} and its old log-probs are at τ: "
                  f"{found['loss']:.4f}")
        _fail(f"'loss': yours {loss:.4f}, the kernel {found['loss']:.4f} (r1lab.grpo on "
              f"torch's log_softmax: {found['reference loss']:.4f}), loss type grpo, "
              f"ε = {KERNEL_EPSILON:g}, β = 0")
    return ("A zero row is a token that teaches nothing: clipped where its advantage pushes, "
            "in a group with nothing to learn, or padding.")


# Notebook 11 · later findings in the tiny world --------------------------------------------

EX_11_LAST = (31, 40)  # notebook 11's window: the last 10 of the 40 steps (5 sampled batches)
EX_11_K = 4  # exercise 11.1's pass@k, from 16 samples per question
PLANTED_KEYS = ["higher pass@1", "pass@1, unprompted", "pass@1, made to reason",
                f"pass@{EX_11_K}, unprompted", f"pass@{EX_11_K}, made to reason"]
PLANTED_ARMS = ("unprompted", "made to reason")
LENGTH_KEYS = ["grpo - dr_grpo, wrong completions", "verdict, grpo lengthens wrong ones",
               "held-out wrong - right, dr_grpo", "verdict, wrong longer under dr_grpo"]
PASSK_KEYS = ["pass@16, base unprompted", "pass@16, RL (3 seeds)",
              "smallest k, base unprompted >= RL", "smallest k, base made to reason >= RL"]
CLIP_KEYS = ["clipped above, epsilon_high 0.2 (% of tokens)",
             "clipped above, epsilon_high 0.28 (% of tokens)",
             "entropy, epsilon_high 0.28 - 0.2", "verdict, clip-higher keeps entropy up"]
TOKENS_TOL = 0.06  # token counts are asked for to 1 decimal
ENTROPY_TOL = 6e-5  # entropies, to 4 decimals


@cache
def planted_readings() -> dict[str, Report]:
    """r1lab's report on each reading of ``material.planted_mode_samples``."""
    return _reports(planted_mode_samples())


def _with_replacement(report: Report, k: int) -> float:
    """pass@k as 1 - (1 - c/n)^k, k draws with replacement, averaged over the questions."""
    counts = report.per_question()["correct"]
    return sum(1 - (1 - c / report.k) ** k for c in counts) / len(counts)


def _planted_answer(**changes) -> dict:
    found = planted_readings()
    right = {"higher pass@1": max(PLANTED_ARMS, key=lambda arm: found[arm].pass_at_1)}
    for arm in PLANTED_ARMS:
        for k in (1, EX_11_K):
            right[f"pass@{k}, {arm}"] = round(found[arm].pass_at_k[k], 3)
    return {**right, **changes}


@exercise("11", 1, "the planted mode, live", wrong=lambda: [
    (_planted_answer(**{"higher pass@1": "unprompted"}), "planted"),
    (_planted_answer(**{f"pass@{EX_11_K}, unprompted": round(_with_replacement(
        planted_readings()["unprompted"], EX_11_K), 3)}), "with replacement"),
    (_planted_answer(**{"pass@1, made to reason": 100 * _planted_answer()[
        "pass@1, made to reason"]}), "between 0 and 1"),
])
def _ex_11_1(answer):
    answer = _keys(answer, PLANTED_KEYS)
    found = planted_readings()
    base = results("findings")["jobs"]["base"]
    higher = answer["higher pass@1"]
    if higher not in PLANTED_ARMS:
        _fail(f"'higher pass@1' is one of {PLANTED_ARMS}; got {higher!r}")
    expected = max(PLANTED_ARMS, key=lambda arm: found[arm].pass_at_1)
    if higher != expected:
        _fail(f"'higher pass@1': {expected} scores {found[expected].pass_at_1:.3f} here, "
              f"{higher} {found[higher].pass_at_1:.3f}; on the benchmark's 500 questions the "
              f"base made to reason scored {base['made_to_reason']['pass_at_1']:.3f} and "
              f"unprompted {base['held_out']['pass_at_1']:.3f}, reasoning in "
              f"{base['held_out']['reasoning_rate']:.0%} of its answers: the tiny world "
              "planted a reasoning mode the base rarely uses unprompted")
    for arm in PLANTED_ARMS:
        report = found[arm]
        n = report.k
        for k in (1, EX_11_K):
            key = f"pass@{k}, {arm}"
            mine = _share(answer[key], repr(key))
            expected = report.pass_at_k[k]
            if _close(mine, expected, 1e-3):
                continue
            if k > 1 and _close(mine, _with_replacement(report, k), 1e-3):
                _fail(f"{key!r}: yours {mine:g} is 1 - (1 - c/n)^{k}, {k} draws with "
                      f"replacement; the unbiased estimator draws {k} of the n = {n} samples "
                      f"without replacement: 1 - C(n-c, {k}) / C(n, {k}), averaged over the "
                      f"questions: {expected:.3f}")
            what = (f"the mean over the questions of c/n, the share of each question's {n} "
                    "samples that are right" if k == 1 else
                    f"r1lab.stats.pass_at_k(n={n}, c, k={k}) averaged over the "
                    f"{report.n_problems} questions")
            _fail(f"{key!r}: yours {mine:g}, r1lab {expected:.3f}: {what} (a sample graded as "
                  "r1lab.eval grades it)")
    return (f"The same weights: pass@1 {found['unprompted'].pass_at_1:.3f} unprompted, "
            f"{found['made to reason'].pass_at_1:.3f} made to reason. Notebook 11 reads every "
            "gain against the second line, not the first.")


@cache
def length_readings() -> dict:
    """Exercise 11.2's intervals, from ``benchmarks/results/findings.json``."""
    found = results("findings")
    wrong = {arm: windows(found, arm, "wrong_length", *EX_11_LAST)
             for arm in ("grpo", "dr_grpo")}
    everywhere = {arm: windows(found, arm, "wrong_length", 1, EX_11_LAST[1])
                  for arm in ("grpo", "dr_grpo")}
    gaps = {arm: [w - r for w, r in zip(seed_values(found, arm, "wrong_tokens"),
                                        seed_values(found, arm, "right_tokens"))]
            for arm in ("grpo", "dr_grpo")}
    return {
        LENGTH_KEYS[0]: difference_interval(wrong["grpo"], wrong["dr_grpo"]),
        "paired": seed_interval([a - b for a, b in zip(wrong["grpo"], wrong["dr_grpo"])]),
        "all steps": difference_interval(everywhere["grpo"], everywhere["dr_grpo"]),
        LENGTH_KEYS[2]: seed_interval(gaps["dr_grpo"]),
        "grpo's gap": seed_interval(gaps["grpo"]),
    }


def _length_answer(**changes) -> dict:
    found = length_readings()
    right = {}
    for key, verdict_key in (LENGTH_KEYS[:2], LENGTH_KEYS[2:]):
        right[key] = [round(v, 1) for v in found[key]]
        right[verdict_key] = verdict(*found[key][1:])
    return {**right, **changes}


@exercise("11", 2, "the length bias, read from the curves", wrong=lambda: [
    (_length_answer(**{LENGTH_KEYS[0]: [round(v, 1) for v in length_readings()["paired"]]}),
     "independent"),
    (_length_answer(**{LENGTH_KEYS[0]: [round(v, 1) for v in length_readings()["all steps"]]}),
     "last 10 steps"),
    (_length_answer(**{LENGTH_KEYS[1]: "agrees"}), "contains 0"),
    (_length_answer(**{LENGTH_KEYS[2]: [round(v, 1)
                                        for v in length_readings()["grpo's gap"]]}),
     "dr_grpo's"),
])
def _ex_11_2(answer):
    answer = _keys(answer, LENGTH_KEYS)
    found = length_readings()
    first, last = EX_11_LAST
    mine = _interval(answer[LENGTH_KEYS[0]], repr(LENGTH_KEYS[0]))
    expected = found[LENGTH_KEYS[0]]
    if not _all_close(mine, expected, TOKENS_TOL):
        if _all_close(mine, found["paired"], TOKENS_TOL):
            _fail(f"{LENGTH_KEYS[0]!r}: yours {_said(mine)} pairs seed i of grpo with seed i "
                  "of dr_grpo; the arms' runs are independent, not pairs: Welch's interval, "
                  f"difference_interval: {_said(expected)}")
        if _all_close(mine, found["all steps"], TOKENS_TOL):
            _fail(f"{LENGTH_KEYS[0]!r}: yours {_said(mine)} averages steps 1-{last}; the "
                  f"finding is read over the last 10 steps, {first}-{last} (windows(results, "
                  f"arm, 'wrong_length', {first}, {last})), after the lengths have grown: "
                  f"{_said(expected)}")
        _fail(f"{LENGTH_KEYS[0]!r}: yours {_said(mine)}, r1lab {_said(expected)} tokens: "
              "difference_interval of the 3 grpo seeds' and the 3 dr_grpo seeds' mean "
              f"wrong_length over steps {first}-{last}")
    mine = _interval(answer[LENGTH_KEYS[2]], repr(LENGTH_KEYS[2]))
    expected = found[LENGTH_KEYS[2]]
    if not _all_close(mine, expected, TOKENS_TOL):
        if _all_close(mine, found["grpo's gap"], TOKENS_TOL):
            _fail(f"{LENGTH_KEYS[2]!r}: yours {_said(mine)} is grpo's; the question is "
                  "whether the gap is there without GRPO's normalisation, so dr_grpo's: "
                  f"{_said(expected)}")
        _fail(f"{LENGTH_KEYS[2]!r}: yours {_said(mine)}, r1lab {_said(expected)} tokens: "
              "seed_interval of the 3 dr_grpo seeds' held-out wrong_tokens - right_tokens")
    for key, verdict_key in (LENGTH_KEYS[:2], LENGTH_KEYS[2:]):
        said = _verdict_word(answer[verdict_key], repr(verdict_key))
        right = verdict(*found[key][1:])
        if said != right:
            _fail(f"{verdict_key!r}: yours {said!r}, verdict says {right!r}: "
                  f"{_verdict_reason(*found[key][1:])}")
    gap = found[LENGTH_KEYS[2]]
    return (f"Held out, wrong completions are {gap[0]:.1f} tokens longer than right ones "
            f"under dr_grpo, which has no per-response normalisation ({verdict(*gap[1:])}): "
            "a gap in length is not by itself GRPO's bias.")


@cache
def passk_readings() -> dict:
    """Exercise 11.3's curves (``r1lab.findings.pass_at_k_curve``) from the committed counts,
    and the numbers of the mistakes its check names."""
    found = results("findings")
    jobs, n = found["jobs"], found["pass_at_k"]["n"]
    counts = {"base unprompted": jobs["passk-base"]["unprompted"]["counts"],
              "base made to reason": jobs["passk-base"]["made_to_reason"]["counts"],
              "RL": [jobs[f"passk-dapo-seed{s}"]["counts"] for s in found["seeds"]]}
    curves = {name: pass_at_k_curve(c, n) for name, c in counts.items()}
    pooled = pass_at_k_curve([sum(c) for c in zip(*counts["RL"])], len(found["seeds"]) * n,
                             ks=curves["RL"]["k"])
    ks = curves["RL"]["k"]

    def smallest(base, rl):
        return next((k for k, b, r in zip(ks, base["mean"], rl["mean"]) if b >= r), None)

    base = counts["base unprompted"]
    return {
        "n": n, "ks": ks, "curves": curves,
        PASSK_KEYS[0]: curves["base unprompted"]["mean"][ks.index(16)],
        PASSK_KEYS[1]: curves["RL"]["mean"][ks.index(16)],
        PASSK_KEYS[2]: smallest(curves["base unprompted"], curves["RL"]),
        PASSK_KEYS[3]: smallest(curves["base made to reason"], curves["RL"]),
        "pooled": pooled["mean"][ks.index(16)],
        "pooled, smallest": (smallest(curves["base unprompted"], pooled),
                             smallest(curves["base made to reason"], pooled)),
        "with replacement": sum(1 - (1 - c / n) ** 16 for c in base) / len(base),
    }


def _passk_answer(**changes) -> dict:
    found = passk_readings()
    right = {key: round(found[key], 3) for key in PASSK_KEYS[:2]}
    return {**right, **{key: found[key] for key in PASSK_KEYS[2:]}, **changes}


@exercise("11", 3, "pass@k from the committed counts", wrong=lambda: [
    (_passk_answer(**{PASSK_KEYS[1]: round(passk_readings()["pooled"], 3)}), "3 models"),
    (_passk_answer(**{PASSK_KEYS[0]: round(passk_readings()["with replacement"], 3)}),
     "with replacement"),
    (_passk_answer(**dict(zip(PASSK_KEYS[2:], passk_readings()["pooled, smallest"]))),
     "3 models"),
    (_passk_answer(**{PASSK_KEYS[2]: 100}), "k = 1, 2, 4"),
])
def _ex_11_3(answer):
    answer = _keys(answer, PASSK_KEYS)
    found = passk_readings()
    n, ks, curves = found["n"], found["ks"], found["curves"]
    pooled_note = (f"that pools the 3 seeds' samples as if one model had drawn {3 * n} per "
                   "question; the 3 seeds are 3 models: pass_at_k_curve with one list of "
                   "counts per seed takes each question's pass@k per seed, then the mean over "
                   "seeds, so a question one seed never solves stays unsolved for that seed")
    for key in PASSK_KEYS[:2]:
        mine = _share(answer[key], repr(key))
        if _close(mine, found[key], 1e-3):
            continue
        if key == PASSK_KEYS[1] and _close(mine, found["pooled"], 1e-3):
            _fail(f"{key!r}: yours {mine:g}: {pooled_note}: {found[key]:.3f}")
        if key == PASSK_KEYS[0] and _close(mine, found["with replacement"], 1e-3):
            _fail(f"{key!r}: yours {mine:g} is 1 - (1 - c/n)^16, 16 draws with replacement; "
                  f"the unbiased estimator draws 16 of the n = {n} samples without "
                  f"replacement, 1 - C(n-c, 16) / C(n, 16), averaged over the questions: "
                  f"{found[key]:.3f}")
        _fail(f"{key!r}: yours {mine:g}, r1lab.findings.pass_at_k_curve {found[key]:.3f}: "
              f"unbiased pass@16 (n = {n}) per question, averaged over the questions")
    for key, name in zip(PASSK_KEYS[2:], ("base unprompted", "base made to reason")):
        mine = answer[key]
        if isinstance(mine, bool) or mine not in ks:
            _fail(f"{key!r} is one of the curve's k = 1, 2, 4, … {n}: {ks}; got {mine!r}")
        if mine == found[key]:
            continue
        if mine in found["pooled, smallest"] and mine != found[key]:
            _fail(f"{key!r}: yours {mine}: is RL's curve the pooled one? {pooled_note}")
        at = {k: (b, r) for k, b, r in zip(ks, curves[name]["mean"], curves["RL"]["mean"])}
        _fail(f"{key!r}: yours {mine} (there {name} {at[mine][0]:.3f}, RL {at[mine][1]:.3f}); "
              f"the first k where {name}'s pass@k is at least RL's is {found[key]} "
              f"({at[found[key]][0]:.3f} against {at[found[key]][1]:.3f})")
    return (f"RL's lead shrinks as k grows: the base made to reason reaches it at "
            f"k = {found[PASSK_KEYS[3]]}, unprompted at k = {found[PASSK_KEYS[2]]}.")


@cache
def clip_readings() -> dict:
    """Exercise 11.4's numbers, from ``benchmarks/results/findings.json``."""
    found = results("findings")
    first, last = EX_11_LAST
    readings = {}
    for key, arm in zip(CLIP_KEYS[:2], ("dapo", "clip_higher")):
        reused = [window_mean(reused_steps_only(job["curves"], "clip_high"), "clip_high", 1,
                              last) for job in seeds_of(found, arm)]
        readings[key] = 100 * sum(reused) / len(reused)
        readings[f"{key}, every step"] = 100 * sum(windows(found, arm, "clip_high", 1,
                                                           last)) / len(reused)
    entropy = {arm: windows(found, arm, "entropy", first, last)
               for arm in ("clip_higher", "dapo")}
    readings[CLIP_KEYS[2]] = difference_interval(entropy["clip_higher"], entropy["dapo"])
    readings["paired"] = seed_interval([a - b for a, b in zip(entropy["clip_higher"],
                                                              entropy["dapo"])])
    return readings


def _clip_answer(**changes) -> dict:
    found = clip_readings()
    right = {key: round(found[key], 3) for key in CLIP_KEYS[:2]}
    right[CLIP_KEYS[2]] = [round(v, 4) for v in found[CLIP_KEYS[2]]]
    right[CLIP_KEYS[3]] = verdict(*found[CLIP_KEYS[2]][1:])
    return {**right, **changes}


@exercise("11", 4, "why clip-higher changes nothing here", wrong=lambda: [
    (_clip_answer(**{key: round(clip_readings()[f"{key}, every step"], 3)
                     for key in CLIP_KEYS[:2]}), "reuse a sampled batch"),
    (_clip_answer(**{CLIP_KEYS[0]: round(clip_readings()[CLIP_KEYS[0]] / 100, 5)}),
     "percent"),
    (_clip_answer(**{CLIP_KEYS[2]: [round(v, 4) for v in clip_readings()["paired"]]}),
     "independent"),
    (_clip_answer(**{CLIP_KEYS[3]: "agrees"}), "contains 0"),
])
def _ex_11_4(answer):
    answer = _keys(answer, CLIP_KEYS)
    found = clip_readings()
    first, last = EX_11_LAST
    for key in CLIP_KEYS[:2]:
        mine = _number(answer[key], repr(key))
        if _close(mine, found[key], 6e-4):
            continue
        if _close(mine * 100, found[key], 6e-4):
            _fail(f"{key!r}: yours {mine:g} is a share; the key asks for percent of tokens: "
                  f"{found[key]:.3f}")
        if _close(mine, found[f"{key}, every step"], 6e-4):
            _fail(f"{key!r}: yours {mine:.3f} averages every step; with num_iterations 2 the "
                  "sampling steps have ratio 1 on every token, so nothing is clipped there by "
                  "construction. Average only the steps that reuse a sampled batch "
                  f"(r1lab.findings.reused_steps_only): {found[key]:.3f}")
        _fail(f"{key!r}: yours {mine:g}, r1lab {found[key]:.3f}: 100 × the mean over the 3 "
              f"seeds of clip_high over the steps 1-{last} that reuse a sampled batch")
    mine = _interval(answer[CLIP_KEYS[2]], repr(CLIP_KEYS[2]))
    expected = found[CLIP_KEYS[2]]
    if not _all_close(mine, expected, ENTROPY_TOL):
        said = "{:+.4f} [{:+.4f}, {:+.4f}]".format
        if _all_close(mine, found["paired"], ENTROPY_TOL):
            _fail(f"{CLIP_KEYS[2]!r}: yours {said(*mine)} pairs seed i of one arm with seed i "
                  "of the other; the arms' runs are independent, not pairs: Welch's interval, "
                  f"difference_interval: {said(*expected)}")
        _fail(f"{CLIP_KEYS[2]!r}: yours {said(*mine)}, r1lab {said(*expected)}: "
              "difference_interval of the clip_higher seeds' and the dapo seeds' mean entropy "
              f"over steps {first}-{last}")
    said = _verdict_word(answer[CLIP_KEYS[3]], repr(CLIP_KEYS[3]))
    right = verdict(*expected[1:])
    if said != right:
        _fail(f"{CLIP_KEYS[3]!r}: yours {said!r}, verdict says {right!r}: "
              f"{_verdict_reason(*expected[1:])}")
    return (f"Even at 1.2, {found[CLIP_KEYS[0]]:.3f}% of tokens reach the clip: raising it "
            "frees almost nothing, since the tiny policy barely moves between sampling and "
            "update.")
