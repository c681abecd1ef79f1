"""Test tiers: `slow` tests train or run notebooks (``make test-fast`` leaves them out); `gpu`
tests need CUDA and are skipped where there is none (CI, laptops). A notebook runs under nbval
at the scale its first code cell requires (``r1lab.notebook``): one calling ``require_small``
only where ``R1LAB_SCALE`` is ``small`` (``make test-small``), one calling ``require_tiny`` only
where it is ``tiny`` (the default, ``make test``); elsewhere its cells are skipped, and pytest's
summary says why. (These rules live here, in the suite's one conftest: a second conftest.py in
notebooks/ would clash with this one under ``--doctest-modules``.)

``tests/fixtures`` holds scripts that tests launch as subprocesses; pytest never imports them.
"""

import json
import os
import re
from functools import cache

import pytest

collect_ignore = ["fixtures"]


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
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; none here")
    for item in gpu_items:
        item.add_marker(skip)
