"""The tiny world's non-reasoning requests: simple queries answered without a chain of thought.

R1 §2.3.3 mixes ~200k non-reasoning samples (writing, factual QA, self-cognition,
translation) into the rejection-sampling SFT set, and "for simpler queries, such as 'hello',
we do not provide a CoT in response". The tiny world's stand-ins are requests whose exact
reply a rule computes, so ``r1lab.rewards.request_reward`` can grade them: a greeting, a
number written in words or in digits, the number after or before one, the larger of two.

>>> number_words(42)
'forty-two'
>>> for r in generate_requests(6, seed=0):
...     print(f"{r.kind:16} {r.question!r:36} -> {r.answer!r}")
greeting         'Hey there'                          -> 'hello! ask me an arithmetic question.'
words_to_digits  'What number is thirty-six?'         -> '36'
digits_to_words  'How do you write 21 in words?'      -> 'twenty-one'
successor        'What number comes after 52?'        -> '53'
predecessor      'What is one less than 92?'          -> '91'
larger           'Which is bigger, 78 or 88?'         -> '88'

English only: the tiny tokenizer (a BPE without byte fallback) knows no Chinese numerals and
drops every character it does not know, so a request it cannot spell would silently change.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from r1lab.tasks.arithmetic import SPLITS, split_of

# Number words stop short of "zero": the tiny tokenizer has no 'z' and drops characters it
# does not know, so "zero" would round-trip as "ero".
_ONES = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

GREETING_REPLY = "hello! ask me an arithmetic question."
"""The one reply to every greeting: it answers, and steers the user to the tiny world's task."""
# Capitalized only where the tokenizer knows the capital: it has an H but no G ("Good").
# 32 greetings in all, so the hash split leaves a few (6) in test.
HELLOS = ("hello", "hi", "hey", "Hello", "Hi", "Hey", "good morning", "good evening")

REQUEST_KINDS = ("greeting", "words_to_digits", "digits_to_words", "successor", "predecessor",
                 "larger")

# Questions end with "?" like the arithmetic phrasings, so the template's
# "User: {question}. Assistant:" reads as a question; a greeting is left bare ("User: hi.").
PHRASINGS = {
    "greeting": ("{hello}", "{hello} there", "{hello} again", "{hello}, assistant"),
    "words_to_digits": ("How do you write {words} in digits?", "What is {words} in digits?",
                        "What number is {words}?"),
    "digits_to_words": ("How do you write {n} in words?", "What is {n} in words?",
                        "How is {n} spelled out?"),
    "successor": ("What comes after {n}?", "What number comes after {n}?",
                  "What is one more than {n}?"),
    "predecessor": ("What comes before {n}?", "What number comes before {n}?",
                    "What is one less than {n}?"),
    "larger": ("Which is larger, {a} or {b}?", "Which is bigger, {a} or {b}?",
               "Which number is larger: {a} or {b}?"),
}


def number_words(n: int) -> str:
    """``n`` in English words, 1..99; tens and ones joined by a hyphen.

    >>> number_words(7), number_words(13), number_words(40), number_words(99)
    ('seven', 'thirteen', 'forty', 'ninety-nine')
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 99:
        raise ValueError(f"number_words takes an integer 1..99 (no 'zero': the tiny tokenizer "
                         f"has no 'z'); got {n!r}")
    if n < 20:
        return _ONES[n - 1]
    tens, ones = divmod(n, 10)
    return _TENS[tens - 2] + (f"-{_ONES[ones - 1]}" if ones else "")


@dataclass(frozen=True)
class Request:
    """One simple request with its exact reply, answered without a chain of thought."""

    question: str
    """The request as the user writes it: "What comes after 41?", "hello there"."""
    answer: str
    """The exact reply ("42", "forty-two"); what ``request_reward`` compares to."""
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
        elif kind == "words_to_digits":
            for n in range(1, 100):
                yield phrasing.format(words=number_words(n)), str(n)
        elif kind == "digits_to_words":
            for n in range(1, 100):
                yield phrasing.format(n=n), number_words(n)
        elif kind == "successor":  # answers 1..99
            for n in range(0, 99):
                yield phrasing.format(n=n), str(n + 1)
        elif kind == "predecessor":  # answers 0..98
            for n in range(1, 100):
                yield phrasing.format(n=n), str(n - 1)
        else:  # larger: two distinct numbers 0..99, in either order
            for a in range(100):
                for b in range(100):
                    if a != b:
                        yield phrasing.format(a=a, b=b), str(max(a, b))


@functools.lru_cache(maxsize=None)
def _requests_in(kind: str, split: str) -> tuple[tuple[str, str], ...]:
    return tuple(pair for pair in _all_requests(kind) if split_of(pair[0]) == split)


def generate_requests(n: int, split: str = "train", seed: int = 0,
                      kinds=REQUEST_KINDS) -> list[Request]:
    """``n`` requests from one split, the same list for the same arguments.

    Kinds take turns in the order given (``n = len(kinds)`` gives one of each); each request
    is drawn uniformly from its kind's questions in ``split``. The split is a hash of the
    question text (``arithmetic.split_of``, about 10% test), so train and test never share a
    question. The spaces are small (32 greetings, ~300 of most kinds), so a list may repeat a
    request; the SFT mix wants the kinds' proportions, not distinct questions.

    >>> [r.answer for r in generate_requests(4, split="test", kinds=("successor", "larger"))]
    ['49', '59', '21', '72']
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
