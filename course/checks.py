"""Checks for the course's exercises: ``check("02", 3, answer)`` says whether an answer is
right and, when it is not, what is wrong with it.

Every expected value is computed by r1lab itself (``r1lab.template``, ``r1lab.rewards``,
``r1lab.grpo``) or by re-running the exercise's material (``material.py``), never typed in
here by hand. A check raises ``NotAnswered`` while an answer still holds its blank (``...``
or ``None``), ``WrongAnswer`` with a message naming the problem when it is wrong, and prints
one line when it is right. Each exercise also lists known wrong answers with a phrase its
message must contain: ``check_course.py`` and ``tests/test_course.py`` try them, so no check
can silently accept everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Callable

import torch

from material import (GOLD, WALKTHROUGH, lenient_total, r1_zero_documents, tiny_chains,
                      toy_bandit)
from r1lab.grpo import group_advantages, grpo_loss
from r1lab.rewards import accuracy_reward, combined_reward, format_reward
from r1lab.rewards.accuracy import is_numeric_literal, stated_number
from r1lab.template import TAGS, parse, parse_readable, render, strip_echo


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
