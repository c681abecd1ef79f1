"""The committed benchmark results describe the code and weights shipped today."""

import hashlib
import json
from pathlib import Path

from r1lab.tiny.card import weights_sha256
from r1lab.train.recipe import recipe_path

ROOT = Path(__file__).resolve().parents[1]
R1_ZERO_SEEDS = ROOT / "benchmarks" / "results" / "r1_zero_seeds.json"


def test_r1_zero_seeds_were_measured_on_todays_recipe_and_base():
    """Notebook 04 reads these numbers; `python benchmarks/r1_zero_seeds.py` rewrites them
    when the recipe or the base model changes."""
    results = json.loads(R1_ZERO_SEEDS.read_text())
    recipe = hashlib.sha256(recipe_path(results["recipe"]).read_bytes()).hexdigest()
    assert results["recipe_sha256"] == recipe, "tiny/r1_zero changed: re-run the benchmark"
    assert results["base_weights_sha256"] == weights_sha256(ROOT / "data/models/tiny-base")
    assert results["protocol"] == {"n": 500, "k": 8, "temperature": 0.6, "top_p": 0.95,
                                   "seed": 0, "split": "test"}
    assert set(results["controls"]) == {"base", "base_forced_think"}
    seeds = sorted(r["seed"] for r in results["runs"] if r["variant"] == "r1_zero")
    assert seeds == [0, 1, 2]
    assert any(r["variant"] == "accuracy_only" for r in results["runs"])
    for run in results["runs"]:
        assert run["recipe_sha256"] == recipe and run["steps"] > 0
        held_out = run["held_out"]
        assert 0 <= held_out["pass_at_1"] <= 1 and len(held_out["pass_at_1_ci"]) == 2
        for key in ("recheck_rate", "slip_rate", "mean_reasoning_tokens", "pass_at_k"):
            assert key in held_out, key
        assert len(run["curves"]["step"]) == run["steps"]
