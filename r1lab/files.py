"""Files written so that a crash never leaves half of one: r1lab's one atomic writer.

A killed run, a full disk or two workers writing the same results file must leave either the
old file or the new one, never a torn mix: the text goes to ``NAME.partial`` beside the
destination (the same file system), then one rename replaces the destination.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "out" / "a.json"
>>> write_atomically(path, '{"done": true}').read_text()
'{"done": true}'
>>> sorted(p.name for p in path.parent.iterdir())  # no partial file left behind
['a.json']
"""

from __future__ import annotations

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
