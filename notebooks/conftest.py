"""How nbval runs the notebooks: every notebook is `slow` (``make test-fast`` leaves it out),
and runs at the scale its first code cell requires (``r1lab.notebook``): one calling
``require_small`` only where ``R1LAB_SCALE`` is ``small`` (``make test-small``), one calling
``require_tiny`` only where it is ``tiny`` (the default, ``make test``); elsewhere its cells
are skipped, and pytest's summary says why.
"""

import json
import os
import re
from functools import cache

import pytest


@cache
def notebook_scale(path) -> str | None:
    """The scale a notebook's first code cell requires ("tiny", "small"), or None: any."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first = next(("".join(c["source"]) for c in cells if c["cell_type"] == "code"), "")
    found = re.search(r"\brequire_(tiny|small)\(", first)
    return found.group(1) if found else None


def pytest_collection_modifyitems(config, items):
    scale = os.environ.get("R1LAB_SCALE", "tiny")
    for item in items:
        if item.path.suffix != ".ipynb":
            continue
        item.add_marker(pytest.mark.slow)  # every notebook cell runs under nbval: slow tier
        wants = notebook_scale(item.path)
        if wants and wants != scale:
            how = "make test-small" if wants == "small" else "unset R1LAB_SCALE"
            item.add_marker(pytest.mark.skip(
                reason=f"{item.path.name} runs at R1LAB_SCALE={wants} ({how}); "
                       f"R1LAB_SCALE is {scale}"))
