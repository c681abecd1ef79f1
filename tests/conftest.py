"""Test tiers: `slow` tests train or run notebooks (``make test-fast`` leaves them out; the
notebooks' own rules are in ``notebooks/conftest.py``); `gpu` tests need CUDA and are skipped
where there is none (CI, laptops).

``tests/fixtures`` holds scripts that tests launch as subprocesses; pytest never imports them.
"""

import pytest

collect_ignore = ["fixtures"]


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; none here")
    for item in gpu_items:
        item.add_marker(skip)
