"""Where a model, tokenizer or data file named by the user lives: a local path or a hub id.

Shared by the CLI and the recipes, so both read a name the same way:

* a name that exists on disk is a local path;
* a relative path that does not exist under the current folder is also tried under the
  repository root, so ``data/models/tiny-base`` works from ``notebooks/`` as well;
* anything else that looks like a path (``./x``, ``/x``, ``~/x``, ``a/b/c``) is a missing
  local path, an error the caller reports; a bare ``name`` or ``org/name`` is a hub id.

>>> looks_like_path("Qwen/Qwen2.5-Math-1.5B"), looks_like_path("data/models/tiny-base")
(False, True)
>>> local_path("data/models/tiny-base").name
'tiny-base'
>>> local_path("Qwen/Qwen2.5-Math-1.5B") is None
True
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def looks_like_path(name: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else is meant as a local path."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def local_path(name: str) -> Path | None:
    """The existing local file or folder ``name`` refers to, or None if there is none."""
    path = Path(name).expanduser()
    if path.exists():
        return path
    if not path.is_absolute() and (REPO_ROOT / path).exists():
        return REPO_ROOT / path
    return None
