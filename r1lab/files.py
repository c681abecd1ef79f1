"""Files written so that a crash never leaves half of one (r1lab's one atomic writer), and
read back so that a damaged one is one line, not a traceback (its one JSON reader).

A killed run, a full disk or two workers writing the same results file must leave either the
old file or the new one, never a torn mix: the text goes to ``NAME.partial`` beside the
destination (the same file system), then one rename replaces the destination.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "out" / "a.json"
>>> write_atomically(path, '{"done": true}').read_text()
'{"done": true}'
>>> sorted(p.name for p in path.parent.iterdir())  # no partial file left behind
['a.json']

A file damaged all the same (a copy cut short, an edit by hand) is named by ``read_json``
with what is wrong and what to do (``DamagedFile``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_atomically(path: str | os.PathLike, text: str) -> Path:
    """``text`` (UTF-8) to ``path`` through ``path.partial`` and a rename; the parent folder
    is created. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path


def write_jsonl(path: str | os.PathLike, rows) -> Path:
    r"""``rows`` as JSON lines (UTF-8, non-ASCII kept), written atomically (``write_atomically``).

    >>> import tempfile
    >>> path = write_jsonl(Path(tempfile.mkdtemp()) / "rows.jsonl", [{"q": "多少"}, {"q": 2}])
    >>> path.read_text(encoding="utf-8")
    '{"q": "多少"}\n{"q": 2}\n'
    """
    return write_atomically(path, "".join(json.dumps(row, ensure_ascii=False) + "\n"
                                          for row in rows))


class DamagedFile(ValueError):
    """A file r1lab reads back is damaged. ``problem`` says what is wrong with it
    ("is cut short", "is null, not a JSON object", …); the message is the file, the problem
    and what to do, in one line."""

    def __init__(self, path: str | os.PathLike, problem: str, fix: str = ""):
        self.problem = problem
        super().__init__(f"{path} {problem}" + (f": {fix}" if fix else ""))


def read_json(path: str | os.PathLike, fix: str = "", keys: tuple[str, ...] = ()) -> dict:
    """The JSON object in ``path``, holding ``keys``: r1lab's one reader of the JSON files it
    wrote and reads back (checkpoint states, sampling settings and manifests).

    ``DamagedFile`` otherwise, saying what is damaged (unreadable, not UTF-8, empty, cut
    short, not JSON, not an object, a key missing) and ``fix``, what to do about it.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.json"
    >>> for text in ('{"global_step": 3, "log_hi', "null", '{"global_step": 3}'):
    ...     _ = path.write_text(text)
    ...     try:
    ...         print(read_json(path, "delete it", keys=("global_step",)))
    ...     except DamagedFile as error:
    ...         print(error.problem)
    is cut short
    is null, not a JSON object
    {'global_step': 3}
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DamagedFile(path, "is not UTF-8 text", fix) from None
    except OSError as error:
        raise DamagedFile(path, f"cannot be read ({error.strerror})", fix) from None
    if not text.strip():
        raise DamagedFile(path, "is empty", fix)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        # The file ended inside a string or before the document closed: cut short.
        cut = error.msg.startswith("Unterminated string") or error.pos >= len(text.rstrip())
        raise DamagedFile(path, "is cut short" if cut else f"is not JSON ({error.msg} at line "
                          f"{error.lineno} column {error.colno})", fix) from None
    if not isinstance(data, dict):
        kind = {type(None): "null", bool: "a boolean", list: "a list", str: "a string"}.get(
            type(data), "a number")
        raise DamagedFile(path, f"is {kind}, not a JSON object", fix)
    missing = [key for key in keys if key not in data]
    if missing:
        raise DamagedFile(path, f"lacks {', '.join(map(repr, missing))}", fix)
    return data
