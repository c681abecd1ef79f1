"""r1lab.cold_start (the three collection paths, the refiner, the filter) and the SFT stage."""

import json

import pytest

from r1lab import cold_start as cs
from r1lab.tasks import ArithmeticConfig, generate, solution_chain
from r1lab.template import EXAMPLES_HEADER, SPECIAL_TOKEN, parse_completion, render
from r1lab.train import RecipeError, load_recipe, prepare, run

EN = generate(1, split="train", seed=0)[0]
ZH = generate(1, split="train", seed=0, config=ArithmeticConfig(zh_fraction=1.0))[0]


@pytest.mark.parametrize("problem", [EN, ZH], ids=["en", "zh"])
@pytest.mark.parametrize("reflect", [False, True])
def test_ideal_samples_are_readable_correct_and_in_one_language(problem, reflect):
    sample = cs.ideal_sample(problem, reflect)
    parsed = parse_completion(sample)
    assert parsed.well_formed and parsed.answer == problem.answer
    assert cs.readability_problem(sample, problem.lang) is None
    assert (("(check: " in sample) or ("（检查：" in sample)) is reflect


# A mixed R1-Zero output whose check caught a slip: Chinese opening, English checks and
# closing, and one check in Chinese.
MIXED = ("<think>我们一步一步地计算。2+3*4 = 2+12 (check: 3*4 = 12. yes) = 13（检查：2+12 = 14，"
         "不是 13。所以 14 才对）. so the answer is 14.</think><answer>14</answer>")


@pytest.mark.parametrize("lang, reasoning", [
    ("en", "let me compute step by step. 2+3*4 = 2+12 (check: 3*4 = 12. yes) = 13 (check: "
           "2+12 = 14, not 13. so 14 is right). so the answer is 14."),
    ("zh", "我们一步一步地计算。2+3*4 = 2+12（检查：3*4 = 12。没错） = 13（检查：2+12 = 14，不是 13。"
           "所以 14 才对）。所以答案是 14。"),
])
def test_refine_rewrites_a_mixed_r1_zero_output_into_one_language(lang, reasoning):
    assert cs.readability_problem(MIXED.replace("<think>", SPECIAL_TOKEN), lang) is not None
    refined = cs.refine(MIXED, lang)
    assert refined == f"{SPECIAL_TOKEN}{reasoning}{SPECIAL_TOKEN}answer: 14"
    assert cs.readability_problem(refined, lang) is None


def test_refine_drops_what_is_not_well_formed():
    assert cs.refine("<answer>14</answer>", "en") is None
    assert cs.refine("<think>2+3 = 5</think> 5", "en") is None


@pytest.mark.parametrize("text, truncated, problem", [
    ("|special_token|let me compute. 2+3 = 5。所以答案是 5。|special_token|summary: 5", False,
     "mixes languages"),
    ("|special_token|let me compute. 2+3 = 5.|special_token|summary: 5", True,
     "truncated (hit the length limit)"),
    ("|special_token|let me compute. 2+3 = 5.|special_token|so it is 5", False,
     "summary does not start with 'Summary:' (or '总结：')"),
    ("<think>let me compute. 2+3 = 5.</think><answer>5</answer>", False,
     "not in the readable format"),
    ("|special_token|2+3 = 5|special_token|summary: 5", False, "mixes languages"),  # no words
])
def test_readability_filter(text, truncated, problem):
    assert cs.readability_problem(text, "en", truncated) == problem


def test_the_few_shot_examples_are_themselves_clean_cold_start_data():
    template = cs.few_shot_template("zh")
    assert template.endswith("User: {prompt}. Assistant:") and template.count("{prompt}") == 1
    assert template.startswith(EXAMPLES_HEADER)  # as the corpus's pages of examples open
    shots = template.removeprefix(EXAMPLES_HEADER).split("<|endoftext|>")[:-1]
    assert len(shots) == 2
    for shot, expression in zip(shots, cs.EXAMPLES["zh"]):
        completion = shot.split("Assistant:", 1)[1]
        assert cs.readability_problem(completion, "zh") is None
        assert completion.count("（检查：") == len(solution_chain(expression)) - 1  # long CoT
        assert completion.endswith(f"answer: {solution_chain(expression)[-1]}")
    direct = render("What is 2+3?", cs.DIRECT_TEMPLATE)
    assert direct.endswith("User: What is 2+3?. Show every step in detail, then check your "
                           "answer. Assistant:")


def test_collect_keeps_correct_readable_samples_and_counts_the_rest():
    good = cs.ideal_sample(EN, reflect=False)
    records = [
        {"completion": good, "lang": "en", "answer": EN.answer, "question": EN.question,
         "n_tokens": 40},
        {"completion": good.replace(f"answer: {EN.answer}", "answer: 1"), "lang": "en",
         "answer": EN.answer, "question": EN.question, "n_tokens": 40},
        {"completion": good, "lang": "en", "answer": EN.answer, "question": EN.question,
         "n_tokens": 64},
        {"completion": "<answer>55</answer>", "lang": "en", "answer": "55",
         "question": EN.question, "n_tokens": 5},
    ]
    result = cs.collect("test", records, max_new_tokens=64)
    assert [s["completion"] for s in result.kept] == [good]
    assert result.kept[0]["prompt"] == render(EN.question)
    assert result.dropped == {"wrong answer": 1, "truncated (hit the length limit)": 1,
                              "not in the readable format": 1}
    assert result.rate == 0.25
    unsummarised = {**records[0], "completion": good.replace("answer:", "so")}
    assert cs.collect("test", [unsummarised], 64).dropped == {
        "summary does not start with 'Summary:' (or '总结：')": 1}  # the reason, whole
    refined = cs.collect("refine", [{**records[0], "completion": MIXED, "answer": "14"}], 64,
                         rewrite=cs.refine)
    assert len(refined.kept) == 1


# ---------------------------------------------------------------- the SFT stage


@pytest.fixture()
def sft_file(tmp_path):
    path = tmp_path / "cold_start.jsonl"
    problems = generate(16, split="train", seed=2)
    path.write_text("".join(json.dumps({"prompt": render(p.question),
                                        "completion": cs.ideal_sample(p, False)}) + "\n"
                            for p in problems))
    return path


def test_sft_recipe_resolves_into_an_sft_config(sft_file):
    plan = prepare("tiny/cold_start_sft", [f"task.source={sft_file}"])
    assert type(plan.args).__name__ == "SFTConfig"
    assert plan.args.completion_only_loss is True and plan.args.use_cpu
    assert plan.train_dataset.column_names == ["prompt", "completion"]
    assert len(plan.train_dataset) == 16 and plan.reward_funcs == []


@pytest.mark.slow
def test_sft_run_trains_on_the_completions_and_logs_loss(sft_file, tmp_path):
    result = run("tiny/cold_start_sft", [f"task.source={sft_file}", "trainer.max_steps=3",
                                         "trainer.logging_steps=1",
                                         "trainer.per_device_train_batch_size=4",
                                         f"output_dir={tmp_path / 'run'}"], progress=False)
    rows = result.metrics
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert all(r["loss"] > 0 and 0 <= r["token_accuracy"] <= 1 for r in rows)
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert (result.final_dir / "model.safetensors").is_file()


@pytest.mark.parametrize("overrides, message", [
    (["task.name=arithmetic", "task.source=null"], "does not fit stage 'sft'"),
    (["trainer.num_generations=8"], "is not a SFTConfig argument"),
    (["loss_impl=triton"], "an sft recipe uses TRL's loss"),
])
def test_bad_sft_recipes(sft_file, overrides, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe("tiny/cold_start_sft", [f"task.source={sft_file}", *overrides])


def test_sft_data_without_the_columns_is_refused(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"text": "x"}) + "\n")
    with pytest.raises(RecipeError, match="lacks the column.*completion, prompt"):
        prepare("tiny/cold_start_sft", [f"task.source={path}"])


def test_grpo_recipe_refuses_sft_data():
    with pytest.raises(RecipeError, match="does not fit stage 'grpo'"):
        load_recipe("tiny/r1_zero", ["task.name=prompt_completion", "task.source=x.jsonl"])


@pytest.mark.slow
def test_lora_sft_saves_a_merged_model_the_next_stage_can_start_from(sft_file, tmp_path):
    result = run("tiny/cold_start_sft", [f"task.source={sft_file}", "trainer.max_steps=2",
                                         "trainer.per_device_train_batch_size=4", "peft.r=4",
                                         "peft.lora_alpha=8", f"output_dir={tmp_path / 'run'}"],
                 progress=False)
    final = result.final_dir
    assert (final / "config.json").is_file() and (final / "model.safetensors").is_file()
    assert not (final / "adapter_config.json").exists()
    assert load_recipe("tiny/r1_zero", [f"model={final}"]).model == str(final)


def test_careful_rows_are_the_planted_mode_written_right_beside_the_same_requests():
    """The control set of notebooks 07 and 09: one careful chain per training question, each
    right, readable, in the question's language and re-checking every step, plus the very
    requests the real set adds with that seed."""
    from r1lab.cold_start import careful_rows, readability_problem
    from r1lab.rewards import accuracy_reward
    from r1lab.sampling import RejectionData, non_reasoning_rows

    config = RejectionData(questions=4000, seed=11)
    rows = careful_rows(300, 120, config, seed=0)  # sample_stage_2's sampling seed
    chains = [row for row in rows if row["kind"] == "reasoning"]
    requests = [row for row in rows if row["kind"] != "reasoning"]
    assert len(chains) == 300 and len({row["prompt"] for row in chains}) == 300
    assert accuracy_reward([r["completion"] for r in chains],
                           answer=[r["answer"] for r in chains]) == [1.0] * 300
    assert all(readability_problem(r["completion"], r["lang"]) is None for r in chains)
    checks = [r["completion"].count("(check: ") + r["completion"].count("（检查：") for r in chains]
    assert min(checks) >= 1  # the careful mode: every step re-checked
    assert 0.35 < sum(r["lang"] == "zh" for r in chains) / 300 < 0.65  # config's 50%
    assert sorted(map(str, requests)) == sorted(map(str, non_reasoning_rows(120, 0)))
    assert careful_rows(300, 120, config, seed=0) == rows  # the seed fixes it, order included
