"""Full-scale tasks: GSM8K and MATH, from the hub or from local files of the same schema.

R1 reports MATH-500 among its benchmarks (R1 §3); GSM8K is the usual first RL task at
one-GPU scale. Both become the same ``Problem`` the tiny world uses, so rewards, evaluation
and training take either. ``source`` is a hub id or a path to a local .jsonl/.json/.parquet
file, read by ``read_rows``; extra keyword arguments go to ``datasets.load_dataset``
(``revision``, ``cache_dir``…).
``datasets`` is imported only when a loader runs.

The answer extraction, on its own:

>>> gsm8k_final_answer("3 boxes of 411 pens is 3*411=1,233 pens.\\n#### 1,233")
'1233'
>>> last_boxed(r"So $x=\\frac{1}{2}$, and the answer is $\\boxed{\\frac{1}{2}}$.")
'\\\\frac{1}{2}'
"""

from __future__ import annotations

import json
from pathlib import Path

from r1lab.tasks.arithmetic import Problem

_LOCAL_READERS = {".jsonl": "from_json", ".json": "from_json", ".parquet": "from_parquet"}
GSM8K_MARKER = "####"  # GSM8K solutions end "#### <final answer>"
_BOX_COMMANDS = ("\\boxed", "\\fbox")


def gsm8k_final_answer(solution: str) -> str | None:
    """The number after the last ``####`` of a GSM8K solution, thousands commas removed.

    >>> gsm8k_final_answer("Natalia sold 48/2 = 24 clips in May.\\n#### 72")
    '72'
    >>> gsm8k_final_answer("no marker") is None
    True
    """
    _, marker, tail = solution.rpartition(GSM8K_MARKER)
    answer = tail.strip().replace(",", "")
    return answer if marker and answer else None


def last_boxed(solution: str) -> str | None:
    """Content of the last ``\\boxed{…}`` (or ``\\fbox{…}``) in a MATH solution.

    Braces are matched, so ``\\boxed{\\frac{1}{2}}`` gives ``\\frac{1}{2}``; escaped braces
    (``\\{``) do not count. The original MATH code also accepts ``\\boxed 5`` (no braces),
    which a few solutions use: the box then holds the text up to the next ``$``.

    >>> last_boxed(r"\\boxed{1} then \\boxed{\\{1, 2\\}}")
    '\\\\{1, 2\\\\}'
    >>> last_boxed(r"The answer is $\\boxed 5$.")
    '5'
    >>> last_boxed("no box") is None
    True
    """
    start = max(solution.rfind(command) for command in _BOX_COMMANDS)
    if start < 0:
        return None
    command = next(c for c in _BOX_COMMANDS if solution.startswith(c, start))
    rest = solution[start + len(command) :]
    if rest.startswith(" "):
        return rest.split("$")[0].strip() or None
    if not rest.startswith("{"):
        return None
    depth, i = 0, 0
    while i < len(rest):
        ch = rest[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return rest[1:i].strip()
        i += 1
    return None


def _check_json_rows(path: Path) -> None:
    """A .json/.jsonl file must hold rows: a JSON array of objects, or one object per line.

    Checked here, line by line, so a bad line is named (``datasets`` would fail deep inside
    pyarrow and pandas, logging both tracebacks).
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise ValueError(f"file {str(path)!r} is empty: it needs one JSON object per line")
    if path.suffix == ".json":
        try:
            whole = json.loads(text)
        except ValueError:
            whole = None
        if isinstance(whole, list) and all(isinstance(row, dict) for row in whole) and whole:
            return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            raise ValueError(f"file {str(path)!r} is not JSON Lines (one JSON object per "
                             f"line): line {number}: {error}") from None
        if not isinstance(row, dict):
            raise ValueError(f"file {str(path)!r} line {number} is {type(row).__name__}, not "
                             "a JSON object of named columns")


def read_rows(source, split: str = "train", name: str | None = None, limit: int | None = None,
              **load_kwargs):
    """Rows of a local .jsonl/.json/.parquet file or a hub dataset, as a ``datasets.Dataset``.

    The one reader of row files for tasks, SFT data and evaluation. A local file is one
    split (``split``, ``name`` and ``load_kwargs`` are unused); a hub id goes to
    ``datasets.load_dataset`` with ``name``, ``split`` and ``load_kwargs`` (``revision``,
    ``cache_dir``…). ``limit``
    keeps the first rows only.
    """
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit must be None or an integer >= 0; got {limit!r}")
    if not isinstance(source, (str, Path)):
        raise TypeError(f"source must be a hub id or a file path; got {source!r}")
    path = Path(source)
    if path.suffix in _LOCAL_READERS and not path.exists():
        raise FileNotFoundError(f"no file {str(path)!r} (hub ids have no file extension)")
    import datasets

    if path.exists():
        reader = _LOCAL_READERS.get(path.suffix)
        if reader is None or not path.is_file():
            raise ValueError(
                f"local file {str(path)!r} must end in one of "
                f"{sorted(_LOCAL_READERS)}")
        if reader == "from_json":
            _check_json_rows(path)
        # Dataset.from_json/from_parquet, not load_dataset: the latter pings the hub to
        # count the "download" even for a local file, which an offline machine waits on.
        try:
            dataset = getattr(datasets.Dataset, reader)(str(path))
        except datasets.exceptions.DatasetGenerationError as error:
            cause = error.__cause__ or error.__context__ or error
            raise ValueError(f"file {str(path)!r} cannot be read as rows: {cause}") from None
    else:
        dataset = datasets.load_dataset(str(source), name, split=split, **load_kwargs)
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    return dataset


def load_gsm8k(
    source: str | Path = "openai/gsm8k",
    split: str = "test",
    config: str | None = "main",
    limit: int | None = None,
    **load_kwargs,
) -> list[Problem]:
    """GSM8K problems: ``question``, and the final answer after ``####`` in ``answer``.

    ``config`` is the hub dataset's configuration ("main" or "socratic"); ``limit`` keeps the
    first rows only. A ``lang`` column, where a row has one, is the question's language
    (``Problem.lang``, "en" or "zh"), so the language reward sees Chinese questions; rows
    without it are "en".
    """
    rows = read_rows(source, split, config, limit, **load_kwargs)
    if not {"question", "answer"} <= set(rows.column_names):
        raise ValueError(
            f"{source!s} is not in GSM8K's schema: expected columns 'question' and 'answer' "
            f"(ending '#### <number>'); found {rows.column_names}")
    problems = []
    for index, row in enumerate(rows):
        question = _text(row["question"], source, index, "question")
        answer = row["answer"]
        # A bare number is a final answer already; text must end "#### <final answer>".
        answer = (_number(answer) if _is_number(answer)
                  else gsm8k_final_answer(_text(answer, source, index, "answer")))
        if answer is None:
            raise ValueError(
                f"{source!s} row {index}: the answer has no '#### <final answer>' line: "
                f"{row['answer']!r}")
        lang = row.get("lang")
        lang = "en" if lang is None else _text(lang, source, index, "lang")
        problems.append(Problem(question=question, answer=answer, lang=lang))
    return problems


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _text(value, source, index: int, column: str) -> str:
    """A row's text field, stripped; ``ValueError`` naming the row for anything else."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{source!s} row {index}: {column} must be non-empty text; got "
                         f"{value!r}")
    return value.strip()


def load_math(
    source: str | Path = "HuggingFaceH4/MATH-500",
    split: str = "test",
    limit: int | None = None,
    **load_kwargs,
) -> list[Problem]:
    """MATH problems: ``problem``, and ``answer`` or the last ``\\boxed{…}`` in ``solution``.

    MATH-500 has an ``answer`` column; the original MATH (Hendrycks et al.) has only
    ``solution``. ``limit`` keeps the first rows only.
    """
    rows = read_rows(source, split, None, limit, **load_kwargs)
    columns = set(rows.column_names)
    if "problem" not in columns or not columns & {"answer", "solution"}:
        raise ValueError(
            f"{source!s} is not in MATH's schema: expected columns 'problem' and 'answer' or "
            f"'solution' (with a \\boxed{{…}} answer); found {rows.column_names}")
    problems = []
    for index, row in enumerate(rows):
        question = _text(row["problem"], source, index, "problem")
        answer, solution = row.get("answer"), row.get("solution")
        if _is_number(answer):
            answer = _number(answer)
        elif answer is not None and not isinstance(answer, str):
            raise ValueError(f"{source!s} row {index}: answer must be text or a number; got "
                             f"{answer!r}")
        answer = (answer or "").strip() or (last_boxed(solution) if isinstance(solution, str)
                                            else None)
        if not answer:
            raise ValueError(
                f"{source!s} row {index}: no answer, and no \\boxed{{…}} in its solution")
        problems.append(Problem(question=question, answer=answer))
    return problems
