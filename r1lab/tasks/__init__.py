"""Tasks: the tiny world's arithmetic problems and the sentences its chains of thought are
written in, and the GSM8K / MATH loaders, all as ``Problem``; the tiny world's simple
requests answered without a chain of thought (R1 §2.3.3), as ``Request``.

Pure Python; ``datasets`` is imported only by ``to_dataset`` and the hub loaders.
"""

from r1lab.tasks.arithmetic import (
    ArithmeticConfig,
    Problem,
    count_expressions,
    generate,
    problem_for,
    solution_chain,
    to_dataset,
)
from r1lab.tasks.chains import (CHECKS, CLOSINGS, EOS, OPENINGS, PHRASES, chain_of_thought,
                                chain_text, slip, worked_chain)
from r1lab.tasks.hub import load_gsm8k, load_math, read_rows
from r1lab.tasks.requests import REQUEST_KINDS, Request, generate_requests

__all__ = [
    "CHECKS",
    "CLOSINGS",
    "EOS",
    "OPENINGS",
    "PHRASES",
    "REQUEST_KINDS",
    "ArithmeticConfig",
    "Problem",
    "Request",
    "chain_of_thought",
    "chain_text",
    "count_expressions",
    "generate",
    "generate_requests",
    "load_gsm8k",
    "load_math",
    "problem_for",
    "read_rows",
    "slip",
    "solution_chain",
    "to_dataset",
    "worked_chain",
]
