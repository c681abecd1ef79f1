"""The tiny world's task: integer arithmetic in the spirit of "What is 2+3*4?".

Why this task: R1-Zero's accuracy reward needs problems "with deterministic results" whose
final answer a rule can check (R1 §2.2.2). Integer expressions without division have exact
answers, and their solution has a natural chain of thought, one operation per step, which
cold-start data (R1 §2.3.1) and the notebooks write out:

>>> solution_chain("7-2*3+5")
('7-2*3+5', '7-6+5', '1+5', '6')
>>> solution_chain("(2+3)*4")
('(2+3)*4', '5*4', '20')

Problems are drawn deterministically from a seed; train and test never share an expression,
whatever the seed or the number drawn, because the split is a hash of the expression. A third
split, validation, is for choosing settings: its questions come from the held-out side of the
hash too, so no training draw holds them, and never from the test sets results are reported on
(``generate``, ``reported_test_expressions``):

>>> [p.question for p in generate(2, seed=5)]
['How much is 5+(8-0-7+3)-0*2?', 'How much is 4*2-6+2+1+2+9?']
>>> p = generate(1, split="test", seed=8, config=ArithmeticConfig(zh_fraction=1.0))[0]
>>> p.question, p.lang, p.answer
('7+8*6+9-0-8-3 的值是多少？', 'zh', '53')
>>> p.chain
('7+8*6+9-0-8-3', '7+48+9-0-8-3', '55+9-0-8-3', '64-0-8-3', '64-8-3', '56-3', '53')
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
import re
from dataclasses import dataclass

from r1lab.template import render

OPERATORS = "+-*"  # no division: every answer stays an exact integer (R1 §2.2.2, rule-checkable)
SPLITS = ("train", "validation", "test")

# The test sets the lab reports on: the first QUESTIONS of each seed's test draw, at each share
# of Chinese questions. Every reported set is one of them (seed 0, at most 500 questions; the
# findings' pass@k set: seed 1, 32). The validation split never asks any of their expressions.
REPORTED_TEST_DRAWS = {"seeds": (0, 1), "zh_fractions": (0.0, 0.5), "questions": 2000}

# Every phrasing ends with a question mark, so the template's "User: {question}. Assistant:"
# always reads as a question.
PHRASINGS = {
    "en": ("What is {e}?", "How much is {e}?", "What does {e} equal?",
           "What is the value of {e}?"),
    "zh": ("{e} 等于多少？", "{e} 是多少？", "{e} 的值是多少？"),
}

# Above this many expressions the space is not enumerated to count a split exactly; the hash
# split's share is used instead (enumerating 2M expressions takes a few seconds).
ENUMERATION_LIMIT = 2_000_000


@dataclass(frozen=True)
class Problem:
    """One question with its exact answer.

    Hub problems (GSM8K, MATH) have no ``expression`` and an empty ``chain``.
    """

    question: str
    """The question as the user asks it, phrased in ``lang``: "What is 7-2*3+5?"."""
    answer: str
    """The exact final answer as a string ("6", "-3"); what the accuracy reward compares to."""
    lang: str = "en"
    """Language of the question: "en" or "zh"."""
    expression: str = ""
    """The arithmetic expression without spaces, "7-2*3+5" ("" for hub problems)."""
    chain: tuple[str, ...] = ()
    """The expression after each single operation; the last item is the answer."""


@dataclass(frozen=True)
class ArithmeticConfig:
    """What expressions the tiny world draws. Defaults are the tiny world's values."""

    operands: tuple[int, int] = (6, 7)
    """Smallest and largest number of operands in an expression (each at least 2). The tiny
    world's 6-7 are long enough that the tiny base model answers directly only about a third
    right, while writing the chain out, one operation per step, gets about three quarters
    (measured: data/models/tiny-base/README.md)."""
    digits: int = 1
    """Most digits per operand: operands are drawn uniformly from 0 .. 10**digits - 1."""
    operators: str = "+-*"
    """Operators to draw from, uniformly: a subset of "+-*" (no division, answers stay exact)."""
    parentheses: float = 0.2
    """Chance that an expression of 3+ operands gets one group of parentheses that matters."""
    zh_fraction: float = 0.0
    """Share of questions phrased in Chinese; mixed-language prompts are what make the CoT
    mix languages (R1 §2.3.2), which the language-consistency reward then corrects."""
    test_percent: int = 10
    """Percent of distinct expressions reserved for the test split, 1..99 (by hash)."""
    value_range: tuple[int, int] | None = (0, 99)
    """If set, every number in the solution chain (operands, intermediate results, answer)
    stays within [min, max]; expressions that leave it are redrawn. Small values keep each
    reasoning step an easy lookup while the whole expression stays hard to do at once."""

    def __post_init__(self):
        operands = self.operands
        if (not isinstance(operands, (tuple, list)) or len(operands) != 2
                or not all(_is_int(x) for x in operands)):
            raise ValueError(f"operands must be (min, max), two integers; got {operands!r}")
        low, high = operands
        if not 2 <= low <= high:
            raise ValueError(
                f"operands must satisfy 2 <= min <= max (an expression needs two operands); "
                f"got {tuple(operands)!r}")
        object.__setattr__(self, "operands", (low, high))
        if not _is_int(self.digits) or self.digits < 1:
            raise ValueError(f"digits must be an integer >= 1; got {self.digits!r}")
        ops = self.operators
        if (not isinstance(ops, str) or not ops or any(op not in OPERATORS for op in ops)
                or len(set(ops)) != len(ops)):
            raise ValueError(
                f"operators must be a non-empty string of distinct characters from {OPERATORS!r} "
                f"(no division: answers must stay exact integers); got {ops!r}")
        for name in ("parentheses", "zh_fraction"):
            value = getattr(self, name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or not 0 <= value <= 1:
                raise ValueError(f"{name} is a probability, 0..1; got {value!r}")
        value_range = self.value_range
        if value_range is not None:
            if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                    or not all(_is_int(x) for x in value_range)
                    or value_range[0] > value_range[1]):
                raise ValueError(f"value_range must be None or (min, max) integers with "
                                 f"min <= max; got {value_range!r}")
            object.__setattr__(self, "value_range", tuple(value_range))
        if not _is_int(self.test_percent) or not 1 <= self.test_percent <= 99:
            raise ValueError(
                f"test_percent must be an integer 1..99 (both splits non-empty); "
                f"got {self.test_percent!r}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# Solving: the chain of single operations.
# Tokens are ints (possibly negative, as intermediate results) and the strings + - * ( ).


def _tokenize(expression: str) -> list:
    tokens: list = []
    i = 0
    while i < len(expression):
        ch = expression[i]
        # A "-" opening the expression or a group is a sign: "-5+5", "(-5+5)*2".
        signed = ch == "-" and (not tokens or tokens[-1] == "(")
        if ch in "0123456789" or signed:
            j = i + 1
            while j < len(expression) and expression[j] in "0123456789":
                j += 1
            if expression[i:j] == "-":
                raise ValueError(f"a '-' sign must be followed by digits in {expression!r}")
            tokens.append(int(expression[i:j]))
            i = j
        elif ch in "+-*()":
            tokens.append(ch)
            i += 1
        else:
            raise ValueError(
                f"unexpected character {ch!r} in {expression!r}: only digits, + - * and "
                f"parentheses, no spaces")
    _check_well_formed(tokens, expression)
    return _drop_number_parentheses(tokens)


def _check_well_formed(tokens: list, expression: str) -> None:
    expect_number, depth = True, 0
    for token in tokens:
        if expect_number and token == "(":
            depth += 1
        elif expect_number and isinstance(token, int):
            expect_number = False
        elif not expect_number and token == ")" and depth > 0:
            depth -= 1
        elif not expect_number and token in OPERATORS:
            expect_number = True
        else:
            raise ValueError(f"{expression!r} is not a well-formed expression (at {token!r})")
    if expect_number or depth:
        raise ValueError(f"{expression!r} is not a well-formed expression (it ends early)")


def _drop_number_parentheses(tokens: list) -> list:
    """"(5)" -> "5": a group that is a single number needs no parentheses (see ``_render``)."""
    out: list = []
    for token in tokens:
        out.append(token)
        if token == ")" and len(out) >= 3 and out[-3] == "(" and isinstance(out[-2], int):
            out[-3:] = [out[-2]]
    return out


def _render(tokens: list) -> str:
    # A negative number after an operator is written "(-3)": "2-(-9)", never "2--9".
    return "".join(
        f"({t})" if isinstance(t, int) and t < 0 and i > 0 and tokens[i - 1] != "(" else str(t)
        for i, t in enumerate(tokens)
    )


def _apply(a: int, op: str, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def _next_operation(tokens: list) -> int:
    """Where the next operation's left operand sits: innermost parentheses first, then the
    leftmost *, then the leftmost + or -."""
    close = tokens.index(")") if ")" in tokens else len(tokens)
    start = max((i for i in range(close) if tokens[i] == "("), default=-1) + 1
    ops = tokens[start + 1 : close : 2]
    return start + 2 * (ops.index("*") if "*" in ops else 0)


def _step(tokens: list, value: int | None = None) -> list:
    """One operation, its result replaced by ``value`` when given (a slip)."""
    left = _next_operation(tokens)
    a, op, b = tokens[left : left + 3]
    result = _apply(a, op, b) if value is None else value
    return _drop_number_parentheses(tokens[:left] + [result] + tokens[left + 3 :])


@dataclass(frozen=True)
class Step:
    """One operation of a solution: ``a op b = result``, and the expression it leaves."""

    a: int
    op: str
    b: int
    result: int
    after: str
    """The expression after this operation, written as in ``solution_chain``."""

    @property
    def operation(self) -> str:
        """'7+48', '2-(-9)': the operation as written in a check."""
        return _render([self.a, self.op, self.b])


def worked_steps(expression: str, results: dict[int, int] | None = None) -> list[Step]:
    """The operations of ``expression`` in order; ``results`` {step index: value} makes step
    i write ``value`` instead of its true result, and later steps continue from it (a slip
    that is not caught).

    >>> [(s.operation, s.result, s.after) for s in worked_steps("2+3*4")]
    [('3*4', 12, '2+12'), ('2+12', 14, '14')]
    >>> [s.after for s in worked_steps("2+3*4", {0: 11})]
    ['2+11', '13']
    """
    results = results or {}
    tokens, steps = _tokenize(expression), []
    while len(tokens) > 1:
        left = _next_operation(tokens)
        a, op, b = tokens[left : left + 3]
        value = results.get(len(steps), _apply(a, op, b))
        tokens = _step(tokens, value)
        steps.append(Step(a, op, b, value, _render(tokens)))
    return steps


def solution_chain(expression: str) -> tuple[str, ...]:
    """The expression rewritten after each single binary operation, down to the answer.

    Standard precedence: parentheses first, then ``*``, then ``+`` and ``-`` left to right.
    A group reduced to one number loses its parentheses; a negative number is written plainly
    at the start of the expression or of a group, and as ``(-3)`` after an operator.
    Exact integer arithmetic; no ``eval``.

    >>> solution_chain("1-6+5")
    ('1-6+5', '-5+5', '0')
    >>> solution_chain("2-3*(1-4)")
    ('2-3*(1-4)', '2-3*(-3)', '2-(-9)', '11')
    """
    if not isinstance(expression, str):
        raise TypeError(f"solution_chain() takes the expression as a str; got {expression!r}")
    tokens = _tokenize(expression)
    chain = [_render(tokens)]
    while len(tokens) > 1:
        tokens = _step(tokens)
        chain.append(_render(tokens))
    return tuple(chain)


# ---------------------------------------------------------------------------------------------
# Drawing expressions.


@functools.lru_cache(maxsize=None)
def _meaningful_spans(ops: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Operand spans (first, last) whose parentheses change the evaluation order.

    Candidates cover 2+ operands and not the whole expression. A span is useless when the
    expression without parentheses already evaluates it as one unit: the leading operands of a
    product ("(2*3)*4", "(2*3)+4") or the leading terms of a sum ("(1+2*3)-4").
    """
    n = len(ops) + 1
    term_ends = [i for i, op in enumerate(ops) if op != "*"] + [n - 1]
    units, start = set(), 0
    for end in term_ends:
        units.update((start, last) for last in range(start + 1, end + 1))
        start = end + 1
    units.update((0, end) for end in term_ends[1:])
    return tuple(
        (first, last)
        for first in range(n)
        for last in range(first + 1, n)
        if (first, last) != (0, n - 1) and (first, last) not in units
    )


def _expression(numbers, ops, span) -> str:
    parts = [str(x) for x in numbers]
    if span is not None:
        parts[span[0]] = "(" + parts[span[0]]
        parts[span[1]] += ")"
    return parts[0] + "".join(op + part for op, part in zip(ops, parts[1:]))


def _random_expression(rng: random.Random, config: ArithmeticConfig) -> str:
    n = rng.randint(*config.operands)
    numbers = [rng.randrange(10**config.digits) for _ in range(n)]
    ops = tuple(rng.choice(config.operators) for _ in range(n - 1))
    span = None
    if n >= 3 and rng.random() < config.parentheses:
        span = rng.choice(_meaningful_spans(ops))
    return _expression(numbers, ops, span)


def split_of(expression: str, test_percent: int = 10) -> str:
    """"test" for a stable ``test_percent`` share of expressions, else "train".

    A hash of the expression text, not the seed, decides: the test split never leaks into any
    training draw. Raising ``test_percent`` only moves expressions from train to test.

    >>> split_of("2+3*4"), split_of("7-2*3+5")
    ('train', 'train')
    """
    bucket = int(hashlib.sha256(expression.encode()).hexdigest(), 16) % 100
    return "test" if bucket < test_percent else "train"


def _variants(n: int, config: ArithmeticConfig, ops: tuple[str, ...]) -> list:
    """The parenthesizations an expression with these operators can be drawn with."""
    plain = [None] if n < 3 or config.parentheses < 1 else []
    grouped = list(_meaningful_spans(ops)) if n >= 3 and config.parentheses > 0 else []
    return plain + grouped


def _all_expressions(config: ArithmeticConfig):
    low, high = config.operands
    for n in range(low, high + 1):
        for ops in itertools.product(config.operators, repeat=n - 1):
            variants = _variants(n, config, ops)
            for numbers in itertools.product(range(10**config.digits), repeat=n):
                for span in variants:
                    yield _expression(numbers, ops, span)


@functools.lru_cache(maxsize=8)
def _count_test(config: ArithmeticConfig) -> int:
    return sum(split_of(e, config.test_percent) == "test" for e in _all_expressions(config))


def count_expressions(
    config: ArithmeticConfig = ArithmeticConfig(), split: str | None = None
) -> int:
    """How many distinct expressions ``config`` can draw, in all or in one split.

    The total is a formula; a split is counted exactly by enumerating the space, so ``split``
    needs a space of at most ``ENUMERATION_LIMIT`` expressions (1,098,000 take ~3 s). The
    count ignores ``value_range``: with one set, it is an upper bound.

    >>> small = ArithmeticConfig(operands=(2, 3), operators="+")
    >>> count_expressions(small)  # 10*10 "a+b", 1000 "a+b+c", 1000 "a+(b+c)"
    2100
    >>> count_expressions(small, "train") + count_expressions(small, "test")
    2100
    """
    low, high = config.operands
    values = 10**config.digits
    total = sum(
        values**n * len(_variants(n, config, ops))
        for n in range(low, high + 1)
        for ops in itertools.product(config.operators, repeat=n - 1)
    )
    if split is None:
        return total
    _check_split(split)
    if total > ENUMERATION_LIMIT:
        raise ValueError(
            f"the space has {total} expressions, more than ENUMERATION_LIMIT "
            f"({ENUMERATION_LIMIT}) to count one split exactly; its {split} split has about "
            f"{total * _share(split, config) // 100}")
    test = _count_test(config)
    if split == "validation":
        return test - len(reported_test_expressions(config))
    return test if split == "test" else total - test


def _share(split: str, config: ArithmeticConfig) -> int:
    # Validation draws from the test side of the hash (``generate``).
    return 100 - config.test_percent if split == "train" else config.test_percent


def _check_split(split) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")


# A minus sign is a sign (not subtraction) at the start, or after an operator or "(".
_SIGNED_NUMBER = re.compile(r"(?:(?<=^)|(?<=[-+*(]))-\d+|\d+")


def chain_values(chain: tuple[str, ...]) -> list[int]:
    """Every number written in a solution chain.

    >>> chain_values(("9-(1+1-8)", "9-(2-8)", "9-(-6)", "15"))
    [9, 1, 1, 8, 9, 2, 8, 9, -6, 15]
    """
    return [int(x) for step in chain for x in _SIGNED_NUMBER.findall(step)]


def _in_range(chain: tuple[str, ...], value_range: tuple[int, int] | None) -> bool:
    if value_range is None:
        return True
    low, high = value_range
    return all(low <= v <= high for v in chain_values(chain))


def check_room(n: int, split: str, config: ArithmeticConfig) -> None:
    """Raise unless the split holds ``n`` distinct expressions (so sampling always ends)."""
    total = count_expressions(config)
    # The hash puts close to share% of a large space in the split; half of that is always there.
    if n <= total * _share(split, config) / 100 / 2:
        return
    if total > ENUMERATION_LIMIT:
        raise ValueError(
            f"asked for {n} distinct {split} problems, but this config's {split} split has only "
            f"about {total * _share(split, config) // 100}; ask for at most half of that, or "
            f"enlarge the space (more operands, digits or operators)")
    available = count_expressions(config, split)
    if n > available:
        raise ValueError(
            f"asked for {n} distinct {split} problems, but this config has only {available} "
            f"{split} expressions ({total} in all); ask for fewer, enlarge the space (more "
            f"operands, digits or operators), or move test_percent")


def generate(
    n: int, split: str = "train", seed: int = 0, config: ArithmeticConfig = ArithmeticConfig()
) -> list[Problem]:
    """``n`` distinct arithmetic problems from one split, the same list for the same arguments.

    Expressions are drawn from ``random.Random(seed)`` (operand count, operands, operators,
    maybe parentheses) and kept when they belong to ``split`` and were not drawn before, so no
    expression repeats within the list. Asking for more than the split holds raises ValueError
    (drawing nearly all of a large split is slow: each new expression gets rarer).

    ``split="validation"``, for choosing settings (learning rates, reward weights) without
    reading test: expressions of the held-out side of the hash (``split_of`` says "test"), so
    no training draw ever holds one, drawn from their own stream (``random.Random(
    "validation:<seed>")``) and never one of ``reported_test_expressions(config)``. The first
    call for a config draws those test sets (about 7 s for the tiny world's).

    >>> [p.chain for p in generate(2, seed=1, config=ArithmeticConfig(operands=(3, 3)))]
    [('9+1-4', '10-4', '6'), ('3-3+7', '0+7', '7')]
    """
    if not _is_int(n) or n < 0:
        raise ValueError(f"n must be an integer >= 0; got {n!r}")
    _check_split(split)
    if not isinstance(config, ArithmeticConfig):
        raise TypeError(f"config must be an ArithmeticConfig; got {type(config).__name__}")
    check_room(n, split, config)
    side = "test" if split == "validation" else split
    rng = random.Random(f"validation:{seed}" if split == "validation" else seed)
    # The reported test sets' expressions count as drawn already: validation never asks them.
    seen: set[str] = set(reported_test_expressions(config)) if split == "validation" else set()
    problems: list[Problem] = []
    # value_range shrinks the space by an amount only drawing reveals: bound the attempts.
    attempts_left = 1000 * n + 100_000
    while len(problems) < n:
        attempts_left -= 1
        if attempts_left < 0:
            raise ValueError(
                f"drew only {len(problems)} of {n} {split} problems within value_range "
                f"{config.value_range}: widen the range or ask for fewer")
        expression = _random_expression(rng, config)
        if expression in seen or split_of(expression, config.test_percent) != side:
            continue
        seen.add(expression)
        chain = solution_chain(expression)
        if not _in_range(chain, config.value_range):
            continue
        lang = "zh" if rng.random() < config.zh_fraction else "en"
        question = rng.choice(PHRASINGS[lang]).format(e=expression)
        problems.append(Problem(question, chain[-1], lang, expression, chain))
    return problems


def reported_test_expressions(config: ArithmeticConfig = ArithmeticConfig()) -> frozenset:
    """The expressions of the test sets results are reported on, for ``config``'s space (any
    share of Chinese questions): the first ``REPORTED_TEST_DRAWS["questions"]`` of each of its
    seeds' test draws, at each of its ``zh_fractions`` (the phrasing draw moves the stream).
    The validation split leaves them out; a space too small to hold them all draws as many as
    ``check_room`` allows. Drawn once per space: every share of Chinese questions shares it.
    """
    from dataclasses import replace

    return _reported_test_expressions(replace(config, zh_fraction=0.0))


@functools.lru_cache(maxsize=4)
def _reported_test_expressions(config: ArithmeticConfig) -> frozenset:
    from dataclasses import replace

    out: set[str] = set()
    for zh in REPORTED_TEST_DRAWS["zh_fractions"]:
        space = replace(config, zh_fraction=zh)
        n = REPORTED_TEST_DRAWS["questions"]
        try:
            check_room(n, "test", space)
        except ValueError:
            n = count_expressions(space, "test") // 2
        for seed in REPORTED_TEST_DRAWS["seeds"]:
            out.update(p.expression for p in generate(n, "test", seed, space))
    return frozenset(out)


def problem_for(expression: str, lang: str = "en") -> Problem:
    """The problem for one expression, asked in ``lang`` with its first phrasing.

    >>> problem_for("2+3*4").chain
    ('2+3*4', '2+12', '14')
    """
    if lang not in PHRASINGS:
        raise ValueError(f"lang must be one of {', '.join(PHRASINGS)}; got {lang!r}")
    chain = solution_chain(expression)
    return Problem(PHRASINGS[lang][0].format(e=expression), chain[-1], lang, expression, chain)


def to_dataset(problems: list[Problem]):
    """A ``datasets.Dataset`` in the shape TRL's GRPOTrainer takes.

    Columns: ``prompt`` (the question in the R1-Zero template), ``question``, ``answer`` (the
    reward functions receive it), ``lang`` and ``target_lang`` (the same code: the language
    the chain of thought should be in, for ``language_consistency_reward``).

    >>> ds = to_dataset(generate(2))
    >>> ds.column_names, ds[0]["answer"]
    (['prompt', 'question', 'answer', 'lang', 'target_lang'], '55')
    """
    from datasets import Dataset, Features, Value

    columns = ("prompt", "question", "answer", "lang", "target_lang")
    rows = [(render(p.question), p.question, p.answer, p.lang, p.lang) for p in problems]
    return Dataset.from_dict(
        {name: [row[i] for row in rows] for i, name in enumerate(columns)},
        features=Features({name: Value("string") for name in columns}),
    )
