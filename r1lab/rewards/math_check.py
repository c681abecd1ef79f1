"""Math answer equivalence with a hard time bound.

math-verify (the library made for this) protects itself with ``signal.alarm``, which only
fires between Python bytecodes: C-level work such as SymPy or CPython building the integer
``9**(9**(9**9))`` never yields to it and can run for hours. So the check runs in a child
process that is killed when it overruns; that is the only way to bound C-level work, and it
is why this module exists instead of a direct call to ``math_verify.verify``.

Cost model: plain numerals (the tiny world's answers) are compared in-process without
math-verify (exact rational comparison, same verdict; measured ~5 µs); anything else costs
one round trip to the worker (~1.3 ms for a fraction). A check that overruns ``timeout``
seconds kills the worker (the next check starts a new one: ~0.3 s, mostly importing SymPy)
and is reported as ``None``
("could not be scored"). So one check never takes longer than ``timeout`` plus a worker
start, whatever the input.
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
from fractions import Fraction
from pathlib import Path

DEFAULT_TIMEOUT_S = 3.0
# Inside the worker math-verify may still use its own (signal) timeouts, which end slow
# Python-level work without losing the worker; the hard kill above covers the rest.
_INNER_TIMEOUT_S = 1
# A worker starts in ~0.3 s on an idle machine (importing SymPy); allow for a very busy one.
_STARTUP_TIMEOUT_S = 60.0
_CACHE_SIZE = 1 << 16

_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_WRAPPERS = (("$$", "$$"), ("$", "$"), ("\\boxed{", "}"), ("\\(", "\\)"), ("\\[", "\\]"))


def unwrap(text: str) -> str:
    r"""Peel math delimiters around the whole text: ``$\boxed{14}$`` -> ``14``.

    >>> unwrap(r"$\boxed{14}$"), unwrap(r" \(2+3\) "), unwrap(r"\frac{28}{2}")
    ('14', '2+3', '\\frac{28}{2}')
    """
    text = text.strip()
    for _ in range(3):  # at most a few nested wrappers
        for opening, closing in _WRAPPERS:
            if text.startswith(opening) and text.endswith(closing) and len(text) > len(opening):
                text = text[len(opening) : -len(closing)].strip()
                break
        else:
            break
    return text


def plain_number(text: str) -> Fraction | None:
    r"""``14``, ``14.0``, ``$14$``, ``\boxed{14}``, ``1,000`` -> a Fraction; anything else -> None.

    >>> plain_number("$14.0$"), plain_number("2+3*4")
    (Fraction(14, 1), None)
    """
    text = unwrap(text)
    text = text.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text) else text
    return Fraction(text) if _NUMBER.fullmatch(text) else None


def _serve() -> None:
    """Worker loop (``python -m r1lab.rewards.math_check``): one JSON request per stdin line,
    ``[gold, predicted]``; one JSON reply per stdout line: true, false, or null when the gold
    answer cannot be parsed."""
    from math_verify import parse, verify

    def parse_math(text: str):
        # Answers are often bare LaTeX (MATH gold: \frac{\sqrt{2}}{2}); math-verify only
        # reads LaTeX inside delimiters, so try the text as inline math when plain parsing fails.
        return parse(text, parsing_timeout=_INNER_TIMEOUT_S) or parse(
            f"${text}$", parsing_timeout=_INNER_TIMEOUT_S
        )

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        try:
            gold, predicted = json.loads(line)
            gold_parsed = parse_math(gold)
            if not gold_parsed:
                verdict = None
            else:
                pred_parsed = parse_math(predicted)
                verdict = bool(verify(gold_parsed, pred_parsed, timeout_seconds=_INNER_TIMEOUT_S))
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

    >>> checker = MathChecker()
    >>> checker.equal("14", "\\\\boxed{14}"), checker.equal("14", "20")
    (True, False)
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT_S):
        if not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
        self.timeout = timeout
        self._process: subprocess.Popen | None = None
        self._cache: dict[tuple[str, str], bool] = {}
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
        """Stop the worker (a later check starts a new one)."""
        if self._process is not None:
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
