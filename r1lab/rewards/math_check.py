"""Math answer equivalence with a hard time bound.

math-verify (the library made for this) protects itself with ``signal.alarm``, which only
fires between Python bytecodes: C-level work such as SymPy or CPython building the integer
``9**(9**(9**9))`` never yields to it and can run for hours. So the check runs in a child
process that is killed when it overruns; that is the only way to bound C-level work, and it
is why this module exists instead of a direct call to ``math_verify.verify``. math-verify's
own timeouts are switched off in the worker: they end a slow check with the verdict False,
which would be scored 0 and cached, although nothing was decided.

How each side is read (``as_latex``): the whole answer is one LaTeX expression, the way
math-verify reads a gold answer written ``$…$``: bare LaTeX (MATH's gold answers) is wrapped
in ``$…$``, a ``\\boxed{…}`` or ``$…$`` around the whole answer is peeled first, and only the
first expression math-verify extracts counts (``extraction_mode="first_match"``), so a part
of the answer never stands in for the whole (``2`` is not read out of ``2\\sqrt{2}``).

Cost model: plain numerals (the tiny world's and GSM8K's answers) are compared in-process
without math-verify (exact decimal comparison, same verdict; measured ~5 µs); anything else
costs one round trip to the worker (~1.3 ms for a fraction). A check that overruns
``timeout`` seconds kills the worker (the next check starts a new one: ~0.3 s, mostly
importing SymPy) and is reported as ``None`` ("could not be scored"), and not cached. So one
check never takes longer than ``timeout`` plus a worker start, whatever the input.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

DEFAULT_TIMEOUT_S = 3.0
# A worker starts in ~0.3 s on an idle machine (importing SymPy); allow for a very busy one.
_STARTUP_TIMEOUT_S = 60.0
_CACHE_SIZE = 1 << 16

_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL_COMMA = re.compile(r"-?0,\d+")  # "0,111": a leading 0 never starts a thousands group
_CURRENCY = re.compile(r"^(-?)(?:\\\$|\$|€|£|¥|\\euro\b|\\pounds\b)\s*(?=[\d.])")
# A unit after a number: degrees, percent, or words (in \text{…} or bare): "18 dollars".
_UNIT = re.compile(
    r"\s*(?:\^\s*\\circ|\^\s*\{\s*\\circ\s*\}|°|\\?%"
    r"|\\(?:text|mbox|mathrm)\s*\{\s*[A-Za-z][A-Za-z .]*\}(?:\^\{?[23]\}?)?"
    r"|\s[A-Za-z]{2,}(?:\s+[A-Za-z]+)?\.?)$"
)
_WRAPPERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_BOXED = ("\\boxed{", "\\fbox{")
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$|\\\(|\\\[")


def normalize(text: str) -> str:
    r"""Write-alikes made one: the Unicode minus (U+2212) is ``-``, ``°`` is ``^\circ``.

    >>> normalize("−3°")
    '-3^\\circ'
    """
    return text.replace("\u2212", "-").replace("°", "^\\circ")


def unwrap(text: str) -> str:
    r"""Peel math delimiters and ``\boxed{…}`` around the *whole* text (``$\boxed{14}$``
    -> ``14``).

    >>> unwrap(r"$\boxed{14}$"), unwrap(r" \(2+3\) "), unwrap(r"\boxed{1} \text{ or } \boxed{2}")
    ('14', '2+3', '\\boxed{1} \\text{ or } \\boxed{2}')
    """
    text = text.strip()
    for _ in range(4):  # at most a few nested wrappers
        inner = _peeled(text)
        if inner is None:
            break
        text = inner
    return text


def _peeled(text: str) -> str | None:
    """``text`` without the one wrapper that encloses all of it, or None."""
    for opening, closing in _WRAPPERS:
        if (text.startswith(opening) and text.endswith(closing)
                and len(text) >= len(opening) + len(closing) + 1
                and closing not in text[len(opening) : -len(closing)]):
            return text[len(opening) : -len(closing)].strip()
    for opening in _BOXED:
        if text.startswith(opening) and _closing_brace(text, len(opening) - 1) == len(text) - 1:
            return text[len(opening) : -1].strip()
    return None


def _closing_brace(text: str, start: int) -> int:
    """Index of the brace closing the one at ``start`` (-1 if unbalanced)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{" and text[i - 1 : i] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1 : i] != "\\":
            depth -= 1
            if depth == 0:
                return i
    return -1


def plain_number(text: str) -> Decimal | None:
    r"""A number written as a number, else None: ``14``, ``14.0``, ``$14$``, ``\boxed{14}``,
    ``1,000``, ``0,5`` (decimal comma), ``\$18``, ``−3``, ``30^\circ``, ``25\%``,
    ``18 dollars``, ``5 \text{ cm}``. Units are dropped, not converted: the question says which
    unit is meant.

    A :class:`~decimal.Decimal`, exact and without Python's limit on the digits of an int, so
    a gold answer of any length compares.

    >>> plain_number("$14.0$"), plain_number(r"\$1,800"), plain_number("2+3*4")
    (Decimal('14.0'), Decimal('1800'), None)
    """
    text = unwrap(normalize(text))
    text = _UNIT.sub("", text).strip() if _NUMBER.match(text.lstrip("\\$€£¥ ")) else text
    text = _CURRENCY.sub(r"\1", unwrap(text))
    text = text.replace("{,}", ",")
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    elif _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def as_latex(text: str) -> str:
    r"""The answer as one inline math expression for math-verify.

    >>> as_latex(r"3\sqrt{13}"), as_latex(r"\boxed{(1,2)}"), as_latex("so $x=1$")
    ('$3\\sqrt{13}$', '$(1,2)$', 'so $x=1$')
    """
    text = unwrap(normalize(text)).replace("\n", " ")
    return text if _UNESCAPED_DOLLAR.search(text) else f"${text}$"


def _serve() -> None:
    """Worker loop (``python -m r1lab.rewards.math_check``): one JSON request per stdin line,
    ``[gold, predicted]``; one JSON reply per stdout line: true, false, or null when the gold
    answer cannot be parsed."""
    from math_verify import LatexExtractionConfig, parse, verify

    # A \boxed{} inside the answer comes first; no time limits (see the module docstring).
    config = [LatexExtractionConfig(boxed_match_priority=0)]

    def parse_math(text: str):
        return parse(as_latex(text), extraction_config=config, extraction_mode="first_match",
                     parsing_timeout=None)

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        try:
            gold, predicted = json.loads(line)
            gold_parsed = parse_math(gold)
            if not gold_parsed:
                verdict = None
            else:
                verdict = bool(verify(gold_parsed, parse_math(predicted), timeout_seconds=None))
        except Exception:  # math-verify raises on exotic input; no verdict is "not equal"
            verdict = False
        sys.stdout.write(json.dumps(verdict) + "\n")
        sys.stdout.flush()


def _importable_path() -> str:
    """PYTHONPATH under which the worker finds this r1lab, installed or not."""
    root = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)


class MathChecker:
    """Answer equivalence through math-verify (gold first), bounded by ``timeout`` seconds.

    Safe to share between threads (one check at a time) and across ``fork``: a forked child
    neither inherits the parent's worker nor a lock another thread held at the fork; it
    starts its own worker.

    >>> checker = MathChecker()
    >>> checker.equal("14", "\\\\boxed{14}"), checker.equal("14", "20")
    (True, False)
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT_S):
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
        self.timeout = timeout
        self._cache: dict[tuple[str, str], bool] = {}
        self._adopt()

    def _adopt(self) -> None:
        """Make the checker this process's own: no worker yet, a fresh lock."""
        self._pid = os.getpid()
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def equal(self, gold: str, predicted: str) -> bool | None:
        """True/False, or None when the gold answer is unreadable or the check overran."""
        gold_number, pred_number = plain_number(gold), plain_number(predicted)
        if gold_number is not None and pred_number is not None:
            return gold_number == pred_number
        return self._checked(gold, predicted)

    def _checked(self, gold: str, predicted: str) -> bool | None:
        # RL samples the same answers again and again; verdicts are cached, overruns are not
        # (a busy machine should get another chance).
        key = (gold, predicted)
        if key not in self._cache:
            verdict = self._ask_worker(gold, predicted)
            if verdict is None:
                return None
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = verdict
        return self._cache[key]

    def _ask_worker(self, gold: str, predicted: str) -> bool | None:
        if self._pid != os.getpid():  # forked: the worker and the lock are the parent's
            self._adopt()
        with self._lock:
            if (self._process is None or self._process.poll() is not None) and not self._start():
                return None
            try:
                self._process.stdin.write(json.dumps([gold, predicted]) + "\n")
                self._process.stdin.flush()
                ready, _, _ = select.select([self._process.stdout], [], [], self.timeout)
                reply = self._process.stdout.readline() if ready else ""
            except OSError:  # the worker died (e.g. out of memory)
                reply = ""
            if reply:
                return json.loads(reply)
            self.close()  # overran or died: kill it; the next check starts a fresh worker
            return None

    def _start(self) -> bool:
        """Start a worker and wait until it has imported math-verify (not counted in
        ``timeout``, which bounds the checks themselves). False if it could not start."""
        # A plain subprocess, not multiprocessing: spawn would re-import the user's __main__
        # (breaking scripts without a main guard) and fork would copy torch's threads and locks.
        self._process = subprocess.Popen(
            [sys.executable, "-m", "r1lab.rewards.math_check"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": _importable_path()},
            text=True,
            bufsize=1,
        )
        ready, _, _ = select.select([self._process.stdout], [], [], _STARTUP_TIMEOUT_S)
        if ready and self._process.stdout.readline() == "ready\n":
            return True
        self.close()
        return False

    def close(self) -> None:
        """Stop the worker (a later check starts a new one). In a forked child, leaves the
        parent's worker alone."""
        if self._process is not None and self._pid == os.getpid():
            self._process.kill()
            self._process.wait()
            self._process.stdin.close()
            self._process.stdout.close()
        self._process = None


_default_checker: MathChecker | None = None


def default_checker() -> MathChecker:
    """The process-wide checker the reward functions share (one worker per process)."""
    global _default_checker
    if _default_checker is None:
        _default_checker = MathChecker()
        atexit.register(_default_checker.close)
    return _default_checker


if __name__ == "__main__":
    _serve()
