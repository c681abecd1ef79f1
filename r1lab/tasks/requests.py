"""The tiny world's non-reasoning requests: simple queries answered without a chain of thought.

R1 §2.3.3 mixes ~200k non-reasoning samples (writing, factual QA, self-cognition,
translation) into the rejection-sampling SFT set, and "for simpler queries, such as 'hello',
we do not provide a CoT in response". The tiny world's stand-ins are requests whose exact
reply a rule computes, so ``r1lab.rewards.request_reward`` can grade them: a greeting, a
question about the assistant itself (self-cognition), the number after or before one, the
larger of two.

They are simple on purpose, with numbers up to ``SMALL`` (20). Number words were tried and
left out: fine-tuned on a stage-3 set, the 0.8M-parameter tiny model did not learn to read or
spell them (about 1% right for words up to ten, 0-3% up to 99, measured on held-out requests),
and over 0..99 it got the successor, predecessor and larger kinds right only 40-65% of the
time. The held-out split holds other phrasings of the same small numbers.

>>> for r in generate_requests(5, seed=0):
...     print(f"{r.kind:12} {r.question!r:36} -> {r.answer!r}")
greeting     'good evening there'                 -> 'hello! ask me an arithmetic question.'
self         'Tell me who you are.'               -> 'i am a tiny assistant that does arithmetic.'
successor    'What number comes after 17?'        -> '18'
predecessor  'What comes before 4?'               -> '3'
larger       'Which is larger, 17 or 6?'          -> '17'

English only: the tiny tokenizer (a BPE without byte fallback) knows no Chinese numerals and
drops every character it does not know, so a request it cannot spell would silently change.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from r1lab.tasks.arithmetic import split_of

GREETING_REPLY = "hello! ask me an arithmetic question."
"""The one reply to every greeting: it answers, and steers the user to the tiny world's task."""
SELF_REPLY = "i am a tiny assistant that does arithmetic."
"""The one reply to every question about the assistant (R1's self-cognition data)."""
SMALL = 20
"""The largest number in a request (successor, predecessor, larger)."""
SPLITS = ("train", "test")
"""Requests and general prompts have no validation split yet: their kinds are small finite
sets (32 greetings), and carving one out would change draws the shipped models were trained
or tested on."""
TEST_PERCENT = 25
"""Percent of each kind's questions held out for the test split (by hash; the arithmetic
split's 10% would leave some small kinds with one test question or none)."""
# Capitalized only where the tokenizer knows the capital: it has an H but no G ("Good").
# 32 greetings in all, so the hash split leaves a few (6) in test.
HELLOS = ("hello", "hi", "hey", "Hello", "Hi", "Hey", "good morning", "good evening")

REQUEST_KINDS = ("greeting", "self", "successor", "predecessor", "larger")

# Questions end with "?" like the arithmetic phrasings, so the template's
# "User: {question}. Assistant:" reads as a question; a greeting is left bare ("User: hi.").
PHRASINGS = {
    "greeting": ("{hello}", "{hello} there", "{hello} again", "{hello}, assistant"),
    "self": ("who are you?", "What are you?", "who am i talking to?", "What can you do?",
             "what is your name?", "Tell me about yourself.", "Are you a person?",
             "What do you do?", "Who is this?", "What kind of assistant are you?",
             "Tell me who you are.", "Are you a bot?"),
    "successor": ("What comes after {n}?", "What number comes after {n}?",
                  "What is one more than {n}?"),
    "predecessor": ("What comes before {n}?", "What number comes before {n}?",
                    "What is one less than {n}?"),
    "larger": ("Which is larger, {a} or {b}?", "Which is bigger, {a} or {b}?",
               "Which number is larger: {a} or {b}?"),
}


@dataclass(frozen=True)
class Request:
    """One simple request with its exact reply, answered without a chain of thought."""

    question: str
    """The request as the user writes it: "What comes after 41?", "hello there"."""
    answer: str
    """The exact reply ("18", "hello! ask me an arithmetic question."); what ``request_reward`` compares to."""
    kind: str
    """Which of ``REQUEST_KINDS`` it is: "greeting", "successor", …"""
    lang: str = "en"
    """Language of the request; always "en" (see the module docstring)."""


def _all_requests(kind: str):
    """Every (question, answer) pair of one kind."""
    for phrasing in PHRASINGS[kind]:
        if kind == "greeting":
            for hello in HELLOS:
                yield phrasing.format(hello=hello), GREETING_REPLY
        elif kind == "self":
            yield phrasing, SELF_REPLY
        elif kind == "successor":  # answers 1..SMALL
            for n in range(0, SMALL):
                yield phrasing.format(n=n), str(n + 1)
        elif kind == "predecessor":  # answers 0..SMALL-1
            for n in range(1, SMALL + 1):
                yield phrasing.format(n=n), str(n - 1)
        else:  # larger: two distinct numbers 0..SMALL, in either order
            for a in range(SMALL + 1):
                for b in range(SMALL + 1):
                    if a != b:
                        yield phrasing.format(a=a, b=b), str(max(a, b))


@functools.lru_cache(maxsize=None)
def _requests_in(kind: str, split: str) -> tuple[tuple[str, str], ...]:
    return tuple(pair for pair in _all_requests(kind) if split_of(pair[0], TEST_PERCENT) == split)


def generate_requests(n: int, split: str = "train", seed: int = 0,
                      kinds=REQUEST_KINDS) -> list[Request]:
    """``n`` requests from one split, the same list for the same arguments.

    Kinds take turns in the order given (``n = len(kinds)`` gives one of each); each request
    is drawn uniformly from its kind's questions in ``split``. The split is a hash of the
    question text (``arithmetic.split_of``, ``TEST_PERCENT`` test), so train and test never
    share a question. The spaces are small (12 questions about the assistant, 32 greetings,
    60 of the successor and predecessor kinds), so a list repeats requests; the SFT mix
    wants the kinds' proportions, not distinct questions.

    >>> [r.answer for r in generate_requests(4, split="test", kinds=("successor", "larger"))]
    ['1', '6', '11', '8']
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an integer >= 0 (how many requests); got {n!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    if isinstance(kinds, str):
        raise ValueError(f"kinds must be a sequence of kind names, e.g. ({kinds!r},); "
                         f"got the string {kinds!r}")
    kinds = tuple(kinds)
    if not kinds:
        raise ValueError(f"kinds must name at least one kind from {REQUEST_KINDS}; got none")
    for kind in kinds:
        if kind not in REQUEST_KINDS:
            raise ValueError(f"unknown request kind {kind!r} in kinds; choose from "
                             f"{REQUEST_KINDS}")
        if not _requests_in(kind, split):
            raise ValueError(f"the {split} split holds no {kind!r} requests; leave {kind!r} "
                             f"out of kinds or draw from the other split")
    rng = random.Random(seed)
    requests = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        question, answer = rng.choice(_requests_in(kind, split))
        requests.append(Request(question, answer, kind))
    return requests
