"""r1lab.sampling_recipe, ``r1lab sample --recipe`` and the vLLM backend of r1lab.sampling.

Nothing here has vLLM or a GPU. The recipes are resolved by dry runs (vLLM made unimportable:
a dry run must not need it); the vLLM backend runs end to end against a stand-in ``vllm``
module whose ``LLM`` and ``SamplingParams`` take only the argument names vLLM's own take (read
from its source: ``vllm/entrypoints/llm.py``, ``vllm/sampling_params.py``) and whose
``generate`` answers with objects shaped like vLLM's ``RequestOutput`` and
``CompletionOutput``: the same rows, manifest and resuming as the transformers backend.
"""

from __future__ import annotations

import json
import random
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from r1lab.cli import main
from r1lab.cold_start import ideal_sample
from r1lab.sampling import (DATA, FILTERS, MANIFEST, SAMPLES, SETTINGS, VLLM_MISSING,
                            SamplingConfig, SamplingError, filter_samples, prompt_seed,
                            read_samples, rejection_sample)
from r1lab.sampling_recipe import PROMPT_ROOM, load_sampling_recipe
from r1lab.tasks import generate
from r1lab.template import render
from r1lab.train import RecipeError, available_recipes, load_recipe
from r1lab.train.recipe import RECIPES_DIR

REPO = Path(__file__).resolve().parents[1]
STAGE_2 = REPO / "data" / "models" / "tiny-reasoning-rl"  # stands in for the 7B checkpoint
VLLM_RECIPE = "single_gpu/rejection_sampling_vllm"
HERE = [f"model={STAGE_2}"]  # the recipe's checkpoint folder exists on a GPU machine, not here
EOS = 0


# ---------------------------------------------------------------- a stand-in for vllm


@dataclass
class CompletionOutput:
    """vllm.outputs.CompletionOutput's fields that r1lab reads."""

    index: int
    text: str
    token_ids: list
    finish_reason: str | None
    stop_reason: int | str | None = None


@dataclass
class RequestOutput:
    prompt: str
    outputs: list


class SamplingParams:
    """vllm.SamplingParams' names for what r1lab sets (a misspelt name is a TypeError)."""

    def __init__(self, *, n=1, temperature=1.0, top_p=1.0, max_tokens=16, seed=None):
        self.kwargs = dict(n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                           seed=seed)
        self.n, self.max_tokens, self.seed = n, max_tokens, seed


@dataclass
class FakeVllm:
    """A ``vllm`` module: ``LLM(...)`` records its arguments; ``generate`` writes, per prompt
    and from that prompt's seed, right, wrong, R1-Zero-tagged and cut samples."""

    problems: dict
    engines: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    kill_on_call: int | None = None

    def module(self) -> types.ModuleType:
        fake = types.ModuleType("vllm")
        stand_in = self

        class LLM:
            def __init__(self, model, *, tensor_parallel_size=1, gpu_memory_utilization=0.9,
                         dtype="auto", seed=None, enforce_eager=False, max_model_len=None,
                         enable_prefix_caching=None, max_num_seqs=None):
                stand_in.engines.append(dict(
                    model=model, tensor_parallel_size=tensor_parallel_size,
                    gpu_memory_utilization=gpu_memory_utilization, dtype=dtype, seed=seed,
                    enforce_eager=enforce_eager, max_model_len=max_model_len,
                    enable_prefix_caching=enable_prefix_caching, max_num_seqs=max_num_seqs))

            def generate(self, prompts, sampling_params=None, *, use_tqdm=True):
                return stand_in.generate(prompts, sampling_params)

        fake.LLM, fake.SamplingParams = LLM, SamplingParams
        return fake

    def generate(self, prompts, params):
        self.calls.append(list(params))
        if len(self.calls) == self.kill_on_call:
            raise KeyboardInterrupt
        assert len(prompts) == len(params)
        return [RequestOutput(prompt, [self.sample(self.problems[prompt], p, j)
                                       for j in reversed(range(p.n))])  # any order: by .index
                for prompt, p in zip(prompts, params)]

    @staticmethod
    def sample(problem, params, j) -> CompletionOutput:
        draw = random.Random(f"{params.seed}:{j}").random()
        right = ideal_sample(problem, reflect=draw < 0.2)
        if draw >= 0.85:  # right, but cut by max_tokens: overlong
            return CompletionOutput(j, right, list(range(params.max_tokens)), "length")
        if draw < 0.5:
            text = right
        elif draw < 0.7:
            text = right.rpartition("answer: ")[0] + "answer: 999"
        else:
            text = f"<think>{problem.expression} = {problem.answer}</think>" \
                   f"<answer>{problem.answer}</answer>"
        return CompletionOutput(j, text, list(range(1, len(text.split()) + 1)) + [EOS], "stop")


PROBLEMS = generate(10, split="train", seed=3)
CONFIG = SamplingConfig(k=3, chunk=4, max_new_tokens=176, max_per_prompt=3)


@pytest.fixture
def fake_vllm(monkeypatch):
    fake = FakeVllm({render(p.question): p for p in PROBLEMS})
    monkeypatch.setitem(sys.modules, "vllm", fake.module())
    return fake


# ---------------------------------------------------------------- finding the recipes


def test_sampling_recipes_are_listed_and_run_apart_from_the_training_ones(capsys):
    assert available_recipes("sample") == [VLLM_RECIPE]
    assert VLLM_RECIPE not in available_recipes()
    assert main(["train", "--list"]) == 0
    listed = capsys.readouterr().out.split()
    assert VLLM_RECIPE not in listed and "multi_gpu/rejection_sft_zero3" in listed
    assert main(["sample", "--list"]) == 0
    assert capsys.readouterr().out.split() == [VLLM_RECIPE]
    with pytest.raises(RecipeError, match=f"is a sampling recipe .*: run it with r1lab sample "
                                          f"--recipe {VLLM_RECIPE}"):
        load_recipe(VLLM_RECIPE)
    with pytest.raises(RecipeError, match="has no `sampling:` block, so it is not a sampling "
                                          "recipe: train it with r1lab train tiny/r1_zero"):
        load_sampling_recipe("tiny/r1_zero")


def test_the_recipe_file_header_says_hardware_memory_time_and_launch():
    text = (RECIPES_DIR / f"{VLLM_RECIPE}.yaml").read_text()
    header = text.split("\nmodel:")[0]
    for needed in ("Hardware:", "Memory (estimate, not measured):",
                   "Time (estimate, not measured):", "Launch:",
                   f"r1lab sample --recipe {VLLM_RECIPE} --dry-run", "--set model=PATH"):
        assert needed in header
    lines = text.splitlines()
    for knob in ("n", "k", "temperature", "max_new_tokens", "max_per_prompt", "non_reasoning"):
        line = next(line for line in lines if line.strip().startswith(f"{knob}:"))
        assert "R1" in line, f"`{knob}` has no comment naming the paper's value"


# ---------------------------------------------------------------- dry runs


def test_dry_run_prints_the_vllm_objects_and_loads_nothing(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # importing vllm now fails

    def refuse(*args, **kwargs):
        raise AssertionError("a dry run loaded a model")

    import transformers

    for cls in (transformers.AutoModelForCausalLM, transformers.AutoTokenizer):
        monkeypatch.setattr(cls, "from_pretrained", refuse)
    status = main(["sample", "--recipe", VLLM_RECIPE, "--dry-run", "--set", f"model={STAGE_2}"])
    out = capsys.readouterr().out
    assert status == 0
    recipe = load_sampling_recipe(VLLM_RECIPE, HERE)
    assert f"sampling    {recipe.sampling!r}" in out
    assert (f"vllm.LLM(model='{STAGE_2}', tensor_parallel_size=1, gpu_memory_utilization=0.9, "
            "dtype='bfloat16', max_model_len=4096, seed=0, enable_prefix_caching=True, "
            "max_num_seqs=256)") in out
    seed = prompt_seed(0, 0)
    assert (f"vllm.SamplingParams(n=8, temperature=0.6, top_p=0.95, max_tokens=3584, "
            f"seed={seed})") in out
    assert "task        math:DigitalLearningGmbH/MATH-lighteval, 7500 prompts" in out
    assert out.rstrip().endswith("dry run: nothing was loaded or sampled")


def test_the_shipped_recipe_names_the_stage_2_checkpoint_and_says_when_it_is_missing(capsys):
    status = main(["sample", "--recipe", VLLM_RECIPE, "--dry-run"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "recipe field `model`: folder runs/multi-gpu-r1-zero-zero3/final not found" in err


def test_the_recipe_keeps_the_papers_protocol_and_fits_the_context():
    recipe = load_sampling_recipe(VLLM_RECIPE, HERE)
    c = recipe.sampling
    assert (c.temperature, c.top_p, c.readable) == (0.6, 0.95, True)  # R1 §3, §2.3.3
    assert recipe.backend == "vllm" and recipe.task.split == "train"
    assert recipe.vllm.max_model_len >= c.max_new_tokens + PROMPT_ROOM
    assert recipe.vllm.tensor_parallel_size == 1  # one GPU
    sft = yaml.safe_load((RECIPES_DIR / "multi_gpu/rejection_sft_zero3.yaml").read_text())
    assert sft["task"]["source"] == f"{recipe.out}/{DATA}"  # the SFT rung reads what this writes


def test_set_overrides_reach_every_object(capsys):
    recipe = load_sampling_recipe(VLLM_RECIPE, [*HERE, "sampling.k=16", "task.n=100",
                                                "vllm.tensor_parallel_size=2", "out=runs/x"])
    assert (recipe.sampling.k, recipe.task.n, recipe.out) == (16, 100, "runs/x")
    assert recipe.llm_kwargs()["tensor_parallel_size"] == 2
    assert recipe.sampling_params_kwargs(5) == {
        "n": 16, "temperature": 0.6, "top_p": 0.95, "max_tokens": 3584,
        "seed": prompt_seed(0, 5)}
    status = main(["sample", "--recipe", VLLM_RECIPE, "--dry-run", "--set", f"model={STAGE_2}",
                   "--set", "backend=transformers", "--set", "vllm=null", "--set",
                   "task.name=arithmetic-mix"])
    out = capsys.readouterr().out
    assert status == 0 and "vllm.LLM" not in out
    assert ("generate    r1lab.eval.evaluate(k=8, temperature=0.6, top_p=0.95, "
            "max_new_tokens=3584, batch_size=256), one seed per chunk of 512 prompts") in out


@pytest.mark.parametrize("overrides, message", [
    (["sampling.top_k=20"], "recipe field `sampling.top_k` is not a known field; did you mean "
                            "`top_p`?"),
    (["vllm.tensor_paralel_size=2"], "recipe field `vllm.tensor_paralel_size` is not a known "
                                     "field; did you mean `tensor_parallel_size`?"),
    (["outt=runs/x"], "recipe field `outt` is not a known field; did you mean `out`?"),
    (["backend=vlm"], "recipe field `backend` must be one of transformers, vllm; got 'vlm'"),
    (["sampling.k=many"], "recipe field `sampling.k` must be int; got 'many'"),
    (["sampling.k=0"], "recipe field `sampling.k` must be an integer >= 1; got 0"),
    (["sampling.temperature=0"], "recipe field `sampling.temperature` must be > 0"),
    (["vllm.gpu_memory_utilization=1.5"], "`vllm.gpu_memory_utilization` is a share of each "
                                          "GPU, in (0, 1]; got 1.5"),
    (["vllm.dtype=fp8"], "recipe field `vllm.dtype` must be one of auto, bfloat16"),
    (["vllm.max_model_len=2048"], "recipe field `vllm.max_model_len` (2048) leaves no room for "
                                  "a prompt beside sampling.max_new_tokens (3584): make it at "
                                  "least 4096"),
    (["task.split=validation"], "recipe field `task.split` must be one of train, test"),
    (["task.n=0"], "recipe field `task.n` must be >= 1; got 0"),
    (["task.name=poetry"], "recipe field `task.name`: unknown task 'poetry'"),
    (["task.name=math:runs/missing.jsonl"], "recipe field `task.name`: task file "
                                            "runs/missing.jsonl not found"),
    (["backend=transformers"], "recipe field `vllm` (tensor_parallel_size, "),
])
def test_a_bad_recipe_is_refused_in_one_line_naming_the_field(overrides, message, capsys):
    argv = ["sample", "--recipe", VLLM_RECIPE, "--dry-run"]
    for item in [*HERE, *overrides]:
        argv += ["--set", item]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("r1lab sample: error: ") and err.count("\n") == 1
    assert message in err


def test_a_key_given_twice_is_refused(tmp_path):
    text = (RECIPES_DIR / f"{VLLM_RECIPE}.yaml").read_text() + "sampling:\n  k: 2\n"
    (tmp_path / "twice.yaml").write_text(text)
    with pytest.raises(RecipeError, match="key 'sampling' appears twice"):
        load_sampling_recipe(tmp_path / "twice.yaml", HERE)


@pytest.mark.parametrize("argv, message", [
    (["--recipe", VLLM_RECIPE, "--k", "4"], "--k is the recipe field `sampling.k` with "
                                            "--recipe: use --set sampling.k=VALUE"),
    (["--recipe", VLLM_RECIPE, "--any-format"], "use --set sampling.readable=false"),
    (["--recipe", VLLM_RECIPE, "--out", "runs/x"], "use --set out=VALUE"),
    (["--recipe", VLLM_RECIPE, str(STAGE_2)], "with --recipe the model is the recipe's"),
    (["--recipe", VLLM_RECIPE, "--set", f"model={STAGE_2}", "--device", "cpu"],
     "--device is for backend transformers"),
    ([str(STAGE_2), "--out", "runs/x", "--set", "sampling.k=2"], "--set changes a recipe "
                                                                 "field: give --recipe too"),
    ([str(STAGE_2)], "give MODEL and --out DIR, or a sampling recipe"),
])
def test_options_and_recipes_do_not_mix(argv, message, capsys):
    assert main(["sample", *argv, "--dry-run"]) == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- the vLLM backend


def test_vllm_backend_writes_what_the_transformers_backend_writes(fake_vllm, tmp_path):
    llm = sys.modules["vllm"].LLM("checkpoint")
    manifest = rejection_sample(llm, None, PROBLEMS, tmp_path, CONFIG, model_name="checkpoint",
                                backend="vllm", progress=False, log=lambda line: None)
    samples = read_samples(tmp_path, CONFIG.k)
    assert len(samples) == manifest["samples"] == 30 and manifest["prompts"] == 10
    assert sorted((r["index"], r["sample"]) for r in samples) == [
        (i, s) for i in range(10) for s in range(3)]
    # The records of r1lab.eval.evaluate, key for key.
    assert set(samples[0]) == {"index", "sample", "question", "answer", "lang", "completion",
                               "correct", "score", "well_formed", "reasons", "mixed",
                               "rechecks", "n_tokens"}
    for record in samples:
        eos_stop = record["n_tokens"] == len(record["completion"].split())  # EOS not counted
        assert eos_stop or record["n_tokens"] == CONFIG.max_new_tokens  # or cut: overlong
    judged, table = filter_samples(samples, CONFIG)
    removed = {row["filter"]: row["removed"] for row in table}
    assert removed["wrong answer"] and removed["not readable"] and removed["overlong"]
    assert all(r["verdict"] == "overlong" for r in judged
               if r["n_tokens"] == CONFIG.max_new_tokens)
    assert sum(removed.values()) + manifest["kept"] == 30
    rows = [json.loads(line) for line in (tmp_path / DATA).read_text().splitlines()]
    assert len(rows) == manifest["kept"] > 0
    for row in rows:
        assert row["prompt"] == render(PROBLEMS[row["source"]["index"]].question)
        assert row["kind"] == "reasoning" and row["source"]["model"] == "checkpoint"
    assert json.loads((tmp_path / SETTINGS).read_text())["backend"] == "vllm"
    assert json.loads((tmp_path / MANIFEST).read_text()) == manifest


def test_vllm_requests_carry_the_configs_knobs_and_a_seed_per_prompt(fake_vllm, tmp_path):
    rejection_sample(sys.modules["vllm"].LLM("m"), None, PROBLEMS, tmp_path, CONFIG,
                     backend="vllm", progress=False, log=lambda line: None)
    assert [len(call) for call in fake_vllm.calls] == [4, 4, 2]  # one generate call per chunk
    params = [p for call in fake_vllm.calls for p in call]
    assert [p.kwargs for p in params] == [
        {"n": 3, "temperature": 0.6, "top_p": 0.95, "max_tokens": 176,
         "seed": prompt_seed(CONFIG.seed, i)} for i in range(10)]
    assert len({p.seed for p in params}) == 10


def test_a_killed_vllm_run_resumes_and_ends_with_what_an_uninterrupted_one_samples(
        fake_vllm, tmp_path):
    llm = sys.modules["vllm"].LLM("m")
    whole = tmp_path / "whole"
    rejection_sample(llm, None, PROBLEMS, whole, CONFIG, backend="vllm", progress=False,
                     log=lambda line: None)
    killed = tmp_path / "killed"
    fake_vllm.calls.clear()
    fake_vllm.kill_on_call = 2
    with pytest.raises(KeyboardInterrupt):
        rejection_sample(llm, None, PROBLEMS, killed, CONFIG, backend="vllm", progress=False,
                         log=lambda line: None)
    assert not (killed / MANIFEST).exists()
    assert len(read_samples(killed, CONFIG.k)) == 4 * CONFIG.k  # the first chunk, kept
    with (killed / SAMPLES).open("a") as file:
        file.write('{"index": 4, "sample": 0, "torn')  # a line cut by the kill
    fake_vllm.kill_on_call = None
    lines = []
    rejection_sample(llm, None, PROBLEMS, killed, CONFIG, backend="vllm", progress=False,
                     log=lines.append)
    assert "resuming, 1 of 3 chunks already sampled" in lines[0]
    assert (killed / SAMPLES).read_text() == (whole / SAMPLES).read_text()
    assert (killed / DATA).read_text() == (whole / DATA).read_text()


def test_a_folder_sampled_by_the_other_backend_is_refused(fake_vllm, tmp_path):
    rejection_sample(sys.modules["vllm"].LLM("m"), None, PROBLEMS[:4], tmp_path, CONFIG,
                     backend="vllm", progress=False, log=lambda line: None)
    with pytest.raises(SamplingError, match=r"other settings \(backend differ\)"):
        rejection_sample(None, None, PROBLEMS[:4], tmp_path, CONFIG, progress=False)
    with pytest.raises(SamplingError, match="backend must be one of transformers, vllm"):
        rejection_sample(None, None, PROBLEMS[:4], tmp_path / "new", CONFIG, backend="vLLM")


def test_sample_command_runs_a_vllm_recipe_end_to_end(fake_vllm, tmp_path, capsys):
    out = tmp_path / "rs"
    overrides = [*HERE, "task.name=arithmetic", "task.n=6", "sampling.k=2", "sampling.chunk=4",
                 "sampling.max_new_tokens=176", f"out={out}"]
    argv = ["sample", "--recipe", VLLM_RECIPE, "--no-progress"]
    for item in overrides:
        argv += ["--set", item]
    fake_vllm.problems.update({render(p.question): p for p in generate(6, split="train", seed=0)})
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "12 samples of 6 prompts" in printed and all(name in printed for name in FILTERS)
    assert fake_vllm.engines == [dict(model=str(STAGE_2), tensor_parallel_size=1,
                                      gpu_memory_utilization=0.9, dtype="bfloat16", seed=0,
                                      enforce_eager=False, max_model_len=4096,
                                      enable_prefix_caching=True, max_num_seqs=256)]
    assert (out / MANIFEST).exists() and (out / DATA).exists()
    assert main(argv) == 0  # complete: read back
    assert len(fake_vllm.calls) == 2


def test_without_vllm_the_backend_says_how_to_get_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(SamplingError, match="backend vllm needs vLLM: pip install vllm on a "
                                            "CUDA machine; or use backend: transformers"):
        rejection_sample(object(), None, PROBLEMS[:4], tmp_path / "a", CONFIG, backend="vllm",
                         progress=False, log=lambda line: None)
    out = tmp_path / "b"
    assert main(["sample", "--recipe", VLLM_RECIPE, "--set", f"model={STAGE_2}", "--set",
                 "task.name=arithmetic", "--set", "task.n=4", "--set", f"out={out}"]) == 2
    assert capsys.readouterr().err == f"r1lab sample: error: {VLLM_MISSING}\n"
    assert not out.exists()
