import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_eval import save_tiny_model

from r1lab.cli import COMMANDS, main
from r1lab.tasks import generate

SCRIPT = Path(sys.executable).with_name("r1lab")  # installed by `pip install -e .`
FAST = ["--k", "2", "--max-new-tokens", "8", "--batch-size", "4", "--no-progress"]


def r1lab(*args, tmp_path):
    """Run the installed `r1lab` command (or `python -m r1lab` where it is not installed)."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "r1lab"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_DATASETS_CACHE": str(tmp_path / "datasets_cache")}
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_model")
    save_tiny_model(folder)
    return folder


@pytest.fixture
def gsm8k_file(tmp_path):
    path = tmp_path / "gsm8k.jsonl"
    rows = [{"question": "Tom has 40 apples and buys 2 more. How many now?",
             "answer": "40 + 2 = 42\n#### 42"},
            {"question": "What is 3 + 4?", "answer": "3 + 4 = 7\n#### 7"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_help(tmp_path):
    top = r1lab("--help", tmp_path=tmp_path)
    assert top.returncode == 0 and "eval" in top.stdout and "pass@1" in top.stdout
    sub = subprocess.run([sys.executable, "-m", "r1lab", "eval", "--help"],
                         capture_output=True, text=True)
    assert sub.returncode == 0
    for text in ("MODEL", "--task", "gsm8k:SOURCE", "--temperature", "0.6", "--prefill",
                 "--json", "95% confidence"):
        assert text in sub.stdout
    assert set(COMMANDS) >= {"eval"}


@pytest.mark.slow
def test_eval_arithmetic_writes_json(model_folder, tmp_path):
    out = tmp_path / "reports" / "tiny.json"
    run = r1lab("eval", model_folder, "--task", "arithmetic", "--n", "3", *FAST,
                "--json", out, tmp_path=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "3 problems x 2 samples (temperature 0.6, top-p 0.95" in run.stdout
    assert "\npass@1 " in run.stdout and "\npass@2 " in run.stdout and f"wrote {out}" in run.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["n_problems"] == 3 and report["k"] == 2 and len(report["records"]) == 6
    assert report["settings"]["task"] == "arithmetic"
    assert report["settings"]["model"] == str(model_folder)
    expected = [p.question for p in generate(3, split="test", seed=0)]
    assert [r["question"] for r in report["records"][::2]] == expected


def test_eval_chinese_arithmetic_and_prefill_in_process(model_folder, capsys):
    assert main(["eval", str(model_folder), "--task", "arithmetic-zh", "--n", "2", *FAST,
                 "--prefill", "<think>"]) == 0
    out = capsys.readouterr().out
    assert f"{model_folder} on arithmetic-zh" in out and "2 problems x 2 samples" in out


def test_eval_gsm8k_jsonl_greedy_in_process(model_folder, gsm8k_file, tmp_path, capsys):
    out = tmp_path / "gsm8k.json"
    assert main(["eval", str(model_folder), "--task", f"gsm8k:{gsm8k_file}", "--n", "5",
                 "--temperature", "0", *FAST, "--json", str(out)]) == 0
    assert "note: temperature=0 decodes greedily" in capsys.readouterr().out
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["k"] == 1 and [r["answer"] for r in report["records"]] == ["42", "7"]


@pytest.mark.parametrize("args, message", [
    (["eval", "{missing}"], "model folder {missing} not found"),
    (["eval", "{empty}"], "has no config.json"),
    (["eval", "{model}", "--task", "chess"], "unknown task 'chess': use arithmetic"),
    (["eval", "{model}", "--task", "arithmetic:x"], "unknown task"),
    (["eval", "{model}", "--task", "gsm8k"], "needs a source"),
    (["eval", "{model}", "--task", "math:{missing}.jsonl"], "task file"),
    (["eval", "{model}", "--task", "gsm8k:{bad_rows}"], "cannot load task"),
])
def test_errors_are_one_line_and_exit_2(args, message, model_folder, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.jsonl").write_text('{"question": "q", "answer": "no marker"}\n')
    names = {"missing": tmp_path / "no_such_model", "empty": tmp_path / "empty",
             "model": model_folder, "bad_rows": tmp_path / "bad.jsonl"}
    run = r1lab(*[a.format(**names) for a in args], "--no-progress", tmp_path=tmp_path)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("r1lab eval: error: ")
    assert message.format(**names) in lines[0]


@pytest.mark.parametrize("args, message", [
    ([], "usage: r1lab"),
    (["eval"], "the following arguments are required: MODEL"),
    (["eval", "m", "--k", "0"], "must be an integer >= 1"),
    (["eval", "m", "--top-p", "1.5"], "must be in (0, 1]"),
    (["train"], "give a recipe"),
    (["train", "tiny/nope"], "recipe 'tiny/nope' not found"),
    (["bench"], "invalid choice: 'bench'"),
])
def test_usage_mistakes_exit_2(args, message, tmp_path):
    run = r1lab(*args, tmp_path=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert message in run.stderr


@pytest.mark.slow
def test_pretrain_from_another_folder_finds_the_repository(tmp_path):
    """The default output and the student's tokenizer are the repository's data/models, from
    any folder: here that means the shipped student, which is refused without --overwrite."""
    done = subprocess.run([sys.executable, "-m", "r1lab", "pretrain", "student"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "holds the shipped tiny-student model" in done.stderr
    assert not (tmp_path / "data").exists()


def test_pretrain_student_without_its_base_is_a_clear_error(tmp_path):
    from dataclasses import replace

    from r1lab.tiny.pretrain import PRESETS, PretrainError, check_request

    orphan = replace(PRESETS["student"], tokenizer=str(tmp_path / "no-base"))
    with pytest.raises(PretrainError, match="train the base first"):
        check_request(orphan, tmp_path / "student")
