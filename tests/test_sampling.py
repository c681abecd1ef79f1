"""r1lab.sampling and ``r1lab sample``: rejection sampling into an SFT set (R1 §2.3.3)."""

import json
from pathlib import Path

import pytest

from r1lab import sampling
from r1lab.cli import main
from r1lab.sampling import (DATA, FILTERS, MANIFEST, SAMPLES, SamplingConfig, SamplingError,
                            filter_samples, read_samples, rejection_sample, right_answer_rows,
                            unfiltered_rows, verdict)
from r1lab.tasks import generate
from r1lab.template import render

MODELS = Path(__file__).resolve().parents[1] / "data" / "models"
STAGE_2 = MODELS / "tiny-reasoning-rl"  # the stage-2 checkpoint rejection sampling starts from
RIGHT = "|special_token|3*4 = 12. 2+12 = 14.|special_token|answer: 14"


def record(completion=RIGHT, index=0, n_tokens=20, lang="en", sample=0):
    return {"index": index, "sample": sample, "question": "What is 2+3*4?", "answer": "14",
            "lang": lang, "completion": completion, "n_tokens": n_tokens}


@pytest.mark.parametrize("completion, lang, n_tokens, expected", [
    (RIGHT, "en", 20, "kept"),
    ("|special_token|2+3 = 5. 5*4 = 20.|special_token|answer: 20", "en", 20, "wrong answer"),
    ("<think>3*4 = 12. 2+12 = 14.</think><answer>14</answer>", "en", 20, "not readable"),
    ("|special_token|3*4 = 12. 2+12 = 14.|special_token|so 14", "en", 20, "wrong answer"),
    ("|special_token|3*4 = 12。所以 2+12 = 14.|special_token|answer: 14", "en", 20,
     "mixes languages"),
    (RIGHT, "en", 192, "overlong"),
    ("|special_token|```3*4 = 12``` 2+12 = 14.|special_token|answer: 14", "en", 20,
     "code block"),
])
def test_each_sample_gets_the_first_filter_it_fails(completion, lang, n_tokens, expected):
    assert verdict(record(completion, lang=lang, n_tokens=n_tokens)) == expected


def test_any_format_keeps_r1_zero_tags_and_max_tokens_drops_long_ones():
    tags = record("<think>3*4 = 12. 2+12 = 14.</think><answer>14</answer>")
    assert verdict(tags, SamplingConfig(readable=False)) == "kept"
    assert verdict(record(n_tokens=30), SamplingConfig(max_tokens=25)) == "overlong"
    assert verdict(record(n_tokens=25), SamplingConfig(max_tokens=25)) == "kept"


def test_duplicates_and_the_per_prompt_cap_count_within_a_prompt_only():
    other = "|special_token|3*4 = 12 (check: 3*4 = 12. yes). 2+12 = 14.|special_token|answer: 14"
    third = "|special_token|let me compute step by step. 3*4 = 12. 2+12 = 14.|special_token|answer: 14"
    records = [record(RIGHT), record(" " + RIGHT + " "), record(other), record(third),
               record(RIGHT, index=1), record("|special_token|x|special_token|answer: 3",
                                              index=1)]
    judged, table = filter_samples(records, SamplingConfig(max_per_prompt=2))
    assert [r["verdict"] for r in judged] == ["kept", "duplicate", "kept",
                                              "over the per-prompt cap", "kept", "wrong answer"]
    assert [row["filter"] for row in table] == list(FILTERS)
    assert {row["filter"]: row["removed"] for row in table if row["removed"]} == {
        "wrong answer": 1, "duplicate": 1, "over the per-prompt cap": 1}
    assert table[-1]["remaining"] == 3
    assert [row["remaining"] for row in table] == sorted(
        (row["remaining"] for row in table), reverse=True)


@pytest.mark.parametrize("field, value, message", [
    ("k", 0, "k must be an integer >= 1"),
    ("temperature", 0.0, "temperature must be > 0"),
    ("top_p", 1.5, r"top_p must be in \(0, 1\]"),
    ("max_tokens", 0, "max_tokens must be None or an integer >= 1"),
    ("non_reasoning", -1, "non_reasoning is non-reasoning rows per reasoning row"),
])
def test_bad_settings_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        SamplingConfig(**{field: value})


@pytest.fixture(scope="module")
def base():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(STAGE_2), AutoTokenizer.from_pretrained(STAGE_2)


PROBLEMS = generate(10, split="train", seed=3)
CONFIG = SamplingConfig(k=3, chunk=4, max_new_tokens=176, max_per_prompt=3)


def test_a_run_writes_rows_and_a_manifest_that_accounts_for_every_sample(base, tmp_path):
    manifest = rejection_sample(*base, PROBLEMS, tmp_path, CONFIG, model_name="tiny-reasoning-rl",
                                progress=False, log=lambda line: None)
    samples = read_samples(tmp_path, CONFIG.k)
    assert len(samples) == manifest["samples"] == 30 and manifest["prompts"] == 10
    assert sorted({(r["index"], r["sample"]) for r in samples}) == [
        (i, s) for i in range(10) for s in range(3)]
    assert sum(row["removed"] for row in manifest["filters"]) + manifest["kept"] == 30
    rows = [json.loads(line) for line in (tmp_path / DATA).read_text().splitlines()]
    assert len(rows) == manifest["kept"] == manifest["rows"]["reasoning"]
    judged, _ = filter_samples(samples, CONFIG)
    kept = {(r["index"], r["sample"]) for r in judged if r["verdict"] == "kept"}
    for row in rows:
        assert row["kind"] == "reasoning" and row["source"]["model"] == "tiny-reasoning-rl"
        assert (row["source"]["index"], row["source"]["sample"]) in kept
        assert row["prompt"] == render(PROBLEMS[row["source"]["index"]].question)
    assert json.loads((tmp_path / MANIFEST).read_text()) == manifest
    assert not list(tmp_path.glob("*.partial"))
    # complete: read back, nothing sampled again
    again = rejection_sample(*base, PROBLEMS, tmp_path, CONFIG, model_name="tiny-reasoning-rl",
                             progress=False, log=lambda line: None)
    assert again == manifest


def test_a_killed_run_resumes_and_ends_with_what_an_uninterrupted_one_samples(
        base, tmp_path, monkeypatch):
    whole = tmp_path / "whole"
    rejection_sample(*base, PROBLEMS, whole, CONFIG, progress=False, log=lambda line: None)

    import r1lab.eval

    real, calls = r1lab.eval.evaluate, []

    def killed_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    killed = tmp_path / "killed"
    monkeypatch.setattr(r1lab.eval, "evaluate", killed_on_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        rejection_sample(*base, PROBLEMS, killed, CONFIG, progress=False, log=lambda line: None)
    assert not (killed / MANIFEST).exists()
    assert len(read_samples(killed, CONFIG.k)) == 4 * CONFIG.k  # the first chunk, kept
    with (killed / SAMPLES).open("a") as file:
        file.write('{"index": 4, "sample": 0, "torn')  # a line cut by the kill
    monkeypatch.setattr(r1lab.eval, "evaluate", real)
    lines = []
    rejection_sample(*base, PROBLEMS, killed, CONFIG, progress=False, log=lines.append)
    assert "resuming, 1 of 3 chunks already sampled" in lines[0]
    assert (killed / SAMPLES).read_text() == (whole / SAMPLES).read_text()
    assert (killed / DATA).read_text() == (whole / DATA).read_text()


def test_a_folder_of_other_settings_or_other_files_is_refused(base, tmp_path):
    rejection_sample(*base, PROBLEMS[:4], tmp_path / "run", CONFIG, progress=False,
                     log=lambda line: None)
    with pytest.raises(SamplingError, match=r"other settings \(config, problems_sha256, "
                                            r"prompts differ\)"):
        rejection_sample(*base, PROBLEMS, tmp_path / "run", SamplingConfig(k=2),
                         progress=False)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine")
    with pytest.raises(SamplingError, match="is not empty and holds no rejection-sampling run"):
        rejection_sample(*base, PROBLEMS, tmp_path / "notes", CONFIG, progress=False)
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["todo.txt"]


def test_nothing_kept_writes_no_rows_and_says_which_filters_removed_what(base, tmp_path):
    wrong = [type(p)(p.question, "-999", p.lang) for p in PROBLEMS[:4]]
    with pytest.raises(SamplingError, match="no sample was kept out of 12: wrong answer 12"):
        rejection_sample(*base, wrong, tmp_path, CONFIG, progress=False, log=lambda line: None)
    assert not (tmp_path / DATA).exists() and not (tmp_path / MANIFEST).exists()


def test_non_reasoning_rows_come_about_one_per_three_and_without_a_chain_of_thought():
    from r1lab.rewards import request_reward

    records = [record(RIGHT, index=i) for i in range(9)]
    rows = sampling.non_reasoning_rows(3, seed=0)
    assert len(rows) == 3 and {row["kind"] for row in rows} == {"non-reasoning"}
    assert request_reward([row["completion"] for row in rows],
                          answer=[row["answer"] for row in rows]) == [1.0] * 3
    assert len(unfiltered_rows(records, 5, seed=1)) == 5
    with pytest.raises(ValueError, match="asked for 10 rows from 9 samples"):
        unfiltered_rows(records, 10)


def test_right_answer_rows_keep_duplicates_and_drop_only_wrong_answers():
    wrong = RIGHT.replace("answer: 14", "answer: 20")
    records = ([record(RIGHT, index=0, sample=i) for i in range(3)]  # three identical chains
               + [record(wrong, index=1, sample=i) for i in range(3)])
    rows = right_answer_rows(records, 3, seed=0)
    assert sorted(row["source"]["sample"] for row in rows) == [0, 1, 2]
    assert {row["source"]["index"] for row in rows} == {0}  # the duplicates are all there
    assert all(row["source"]["right_answers"] for row in rows)
    with pytest.raises(ValueError, match="asked for 4 rows, but only 3 of 6 samples"):
        right_answer_rows(records, 4)


def test_write_dataset_mixes_in_non_reasoning_rows(tmp_path):
    records = [record(RIGHT, index=i) for i in range(6)]
    manifest = sampling.write_dataset(tmp_path, records, SamplingConfig(non_reasoning=1 / 3))
    assert manifest["rows"] == {"reasoning": 6, "non-reasoning": 2}
    rows = [json.loads(line) for line in (tmp_path / DATA).read_text().splitlines()]
    assert sorted(row["kind"] for row in rows) == ["non-reasoning"] * 2 + ["reasoning"] * 6


def test_sample_command_writes_the_set_and_prints_the_filters(tmp_path, capsys):
    out = tmp_path / "rs"
    status = main(["sample", str(STAGE_2), "--out", str(out), "--n", "4", "--k", "2",
                   "--no-progress"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "8 samples of 4 prompts" in printed
    for name in FILTERS:
        assert name in printed
    assert (out / MANIFEST).exists() and (out / DATA).exists()


@pytest.mark.parametrize("argv, message", [
    (["--k", "0"], "--k: must be an integer >= 1"),
    (["--temperature", "0"], "--temperature: must be > 0"),
    (["--task", "poetry"], "unknown task 'poetry'"),
])
def test_sample_command_refuses_bad_requests_in_one_line(tmp_path, capsys, argv, message):
    try:
        status = main(["sample", str(STAGE_2), "--out", str(tmp_path / "rs"), *argv])
    except SystemExit as exit_:  # argparse's own refusal
        status = exit_.code
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "rs").exists()


def test_other_filters_judge_a_finished_folders_samples_again_without_sampling(
        base, tmp_path, monkeypatch):
    first = rejection_sample(*base, PROBLEMS, tmp_path, CONFIG, progress=False,
                             log=lambda line: None)
    import r1lab.eval

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled again")

    monkeypatch.setattr(r1lab.eval, "evaluate", no_sampling)
    stricter = SamplingConfig(k=3, chunk=4, max_new_tokens=176, max_per_prompt=1)
    lines = []
    again = rejection_sample(*base, PROBLEMS, tmp_path, stricter, progress=False,
                             log=lines.append)
    assert "judging its samples again" in lines[0]
    assert again["config"]["max_per_prompt"] == 1
    assert again["samples"] == first["samples"] and again["kept"] <= first["prompts"]
    assert json.loads((tmp_path / MANIFEST).read_text()) == again


def test_a_finished_folder_is_read_back_without_loading_the_model(tmp_path, monkeypatch, capsys):
    out = tmp_path / "rs"
    argv = ["sample", str(STAGE_2), "--out", str(out), "--n", "4", "--k", "2", "--no-progress"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    import r1lab.cli

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded again")

    monkeypatch.setattr(r1lab.cli, "load_model", no_loading)
    assert main(argv) == 0
    assert capsys.readouterr().out == first
