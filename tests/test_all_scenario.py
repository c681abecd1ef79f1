"""All-scenario RL (R1 §2.3.4): the general prompts and their rule truths, preference pairs,
the reward-model reward (batching, the summary-only view, bad input), the reward_model
stage and the GRPO recipes that name reward models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from r1lab.rewards import (REWARDS, RewardModelReward, accuracy_reward, for_kinds,
                           harmless_reward, helpful_reward)
from r1lab.rewards.reward_model import view_of
from r1lab.tasks.general import (GENERAL_KINDS, POLITE_REPLIES, SELF_REPLY, generate_general,
                                 is_harmless, is_helpful, private_prompts, summary, to_dataset)
from r1lab.tasks.preferences import preference_pairs
from r1lab.template import SPECIAL_TOKEN, render

ROOT = Path(__file__).resolve().parents[1]
CHAIN = f"{SPECIAL_TOKEN}let me compute step by step. 17+1 = 18{SPECIAL_TOKEN}"


# ---------------------------------------------------------------- general prompts and truth

def test_general_prompts_mix_kinds_exactly_and_are_deterministic():
    prompts = generate_general(40, seed=3)
    assert prompts == generate_general(40, seed=3) != generate_general(40, seed=4)
    kinds = [p.kind for p in prompts]
    assert kinds.count("private") == 20 and set(kinds) == set(GENERAL_KINDS)
    for p in prompts:
        if p.kind == "private":
            assert p.secret in p.question and len(p.secret) == 4 and p.answer == SELF_REPLY
        else:
            assert p.secret == ""
    assert {p.kind for p in generate_general(10, private_share=0.0)} == {"request"}
    assert {p.kind for p in generate_general(10, private_share=1.0)} == {"private"}


def test_private_phrasings_are_split_and_every_test_prompt_uses_a_test_phrasing():
    train, test = private_prompts("train"), private_prompts("test")
    assert train and test and not set(train) & set(test)
    for p in generate_general(30, split="test", private_share=1.0, seed=1):
        assert p.question.replace(p.secret, "{s}") in test


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_general_prompts_refuse_bad_n(bad):
    with pytest.raises(ValueError, match="n must be an integer"):
        generate_general(bad)


def test_general_prompts_refuse_bad_share_and_split():
    with pytest.raises(ValueError, match="private_share"):
        generate_general(4, private_share=1.5)
    with pytest.raises(ValueError, match="split must be one of"):
        generate_general(4, split="dev")


def test_summary_is_the_text_after_the_reasoning():
    assert summary(CHAIN + "18") == "18"
    assert summary("<think>17+1</think> 18") == "18"
    assert summary("18") == "18" and summary(None) == ""


def test_helpful_reads_the_summary_only():
    assert is_helpful("18", "18") and is_helpful(CHAIN + "18.", "18")
    assert is_helpful("Hello! ask me an arithmetic question", POLITE_REPLIES[1])
    assert not is_helpful("19", "18") and not is_helpful(CHAIN + "19", "18")
    assert not is_helpful("18 18", "18") and not is_helpful("", "18")


def test_harmless_reads_the_whole_response():
    secret = "4821"
    assert all(is_harmless(reply, secret) for reply in POLITE_REPLIES)
    assert not is_harmless(f"{SPECIAL_TOKEN}the pin is {secret}{SPECIAL_TOKEN}{SELF_REPLY}",
                           secret)  # disclosed in the reasoning: harmful
    assert not is_harmless("12", secret)  # a made-up number
    assert not is_harmless("i am a tiny asistant that does arithmetic.", secret)  # not a decline
    assert is_harmless("anything", "")  # nothing private


def test_rule_rewards_score_their_own_kind_only():
    from r1lab.rewards import REWARD_KINDS

    kinds = ["request", "private", "reasoning"]
    helpful = for_kinds(REWARDS["helpful_rule"], REWARD_KINDS["helpful_rule"])
    harmless = for_kinds(REWARDS["harmless_rule"], REWARD_KINDS["harmless_rule"])
    assert helpful(["18", "18", "18"], answer=["18", "x", "18"], kind=kinds) == [1.0, None, None]
    assert harmless([SELF_REPLY] * 3, secret=["", "4821", ""], kind=kinds) == [None, 1.0, None]
    assert helpful_reward(["18"], answer=[None]) == [None]
    assert harmless_reward(["18"], secret=[""]) == [None]
    assert REWARDS["helpful_rule"] is helpful_reward
    assert REWARDS["harmless_rule"] is harmless_reward


def test_every_rule_reward_says_which_kinds_it_judges():
    from r1lab.rewards import REWARD_KINDS

    assert set(REWARD_KINDS) == set(REWARDS)
    assert all(set(kinds) <= {"reasoning", *GENERAL_KINDS} for kinds in REWARD_KINDS.values())


def test_for_kinds_keeps_columns_aligned_and_the_name():
    scoped = for_kinds(accuracy_reward, "reasoning")
    completions = ["<think>a</think><answer>5</answer>", "5",
                   "<think>b</think><answer>7</answer>"]
    out = scoped(completions, answer=["5", "5", "7"], kind=["reasoning", "request", "reasoning"])
    assert out == [1.0, None, 1.0]
    assert scoped.__name__ == "accuracy_reward"
    assert scoped(completions[:1], answer=["5"]) == [1.0]  # no kind column: all scored


def test_mixed_dataset_takes_turns_and_has_every_column():
    from r1lab.tasks import generate

    ds = to_dataset(generate(3, seed=1), generate_general(2, seed=1))
    assert ds["kind"] == ["reasoning", "private", "reasoning", "request", "reasoning"]
    assert ds[0]["prompt"] == render(ds[0]["question"])
    assert ds[1]["secret"] in ds[1]["question"]


# ---------------------------------------------------------------- preference pairs

@pytest.mark.parametrize("aspect", ["helpful", "harmless"])
def test_pairs_without_noise_prefer_what_the_rule_prefers(aspect):
    rows = preference_pairs(300, aspect, seed=2)
    prompts = {p.question: p for p in generate_general(
        300, seed=2, private_share=1.0 if aspect == "harmless" else 0.0)}
    for row in rows:
        assert not row["flipped"] and row["prompt"] == render(row["question"])
        p = prompts[row["question"]]
        if aspect == "helpful":
            assert is_helpful(row["chosen"], p.answer) and not is_helpful(row["rejected"], p.answer)
            assert SPECIAL_TOKEN not in row["chosen"] + row["rejected"]  # the summary view
        else:
            assert is_harmless(row["chosen"], p.secret)
            assert not is_harmless(row["rejected"], p.secret)
    if aspect == "harmless":  # the whole view keeps reasoning that discloses
        assert any(SPECIAL_TOKEN in row["rejected"] for row in rows)


def test_label_noise_swaps_about_that_share_and_nothing_else():
    rows = preference_pairs(2000, "helpful", seed=0, noise=0.1)
    clean = preference_pairs(2000, "helpful", seed=0)
    flipped = [r for r in rows if r["flipped"]]
    assert 0.08 < len(flipped) / len(rows) < 0.12
    for row, truth in zip(rows, clean):
        pair = (row["chosen"], row["rejected"])
        expected = (truth["rejected"], truth["chosen"]) if row["flipped"] else \
            (truth["chosen"], truth["rejected"])
        assert pair == expected and row["question"] == truth["question"]
    assert rows == preference_pairs(2000, "helpful", seed=0, noise=0.1)


@pytest.mark.parametrize("kwargs, message", [({"aspect": "kind"}, "aspect must be one of"),
                                             ({"noise": 0.5}, "noise must be a share")])
def test_pairs_refuse_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        preference_pairs(4, **{"aspect": "helpful", **kwargs})


@pytest.mark.parametrize("aspect", ["helpful", "harmless"])
def test_committed_pairs_are_what_the_generator_writes(aspect):
    committed = [json.loads(line) for line in
                 (ROOT / f"data/preferences/{aspect}.jsonl").read_text().splitlines()]
    assert committed == preference_pairs(4000, aspect, seed=0, noise=0.1)


# ---------------------------------------------------------------- the reward-model reward

@pytest.fixture(scope="module")
def tiny_rm(tmp_path_factory):
    """A reward model with the tiny base's body and a fresh score head (untrained scores)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("rm")
    model = AutoModelForSequenceClassification.from_pretrained(ROOT / "data/models/tiny-base",
                                                               num_labels=1)
    model.config.pad_token_id = 0
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(ROOT / "data/models/tiny-base").save_pretrained(folder)
    return str(folder)


def test_view_of_refuses_an_unknown_view():
    assert view_of(CHAIN + "18", "whole") == CHAIN + "18"
    with pytest.raises(ValueError, match="view must be one of"):
        view_of("18", "reasoning")


def test_batching_does_not_change_scores(tiny_rm):
    completions = ["18", "i am a tiny assistant", CHAIN + "18", "a much longer reply " * 5]
    prompts = [render("What comes after 17?")] * 4
    one = RewardModelReward(tiny_rm, batch_size=1)(completions, prompts=prompts)
    many = RewardModelReward(tiny_rm, batch_size=64)(completions, prompts=prompts)
    assert one == pytest.approx(many, abs=1e-4)
    assert len(set(round(s, 4) for s in one)) == 4  # the texts do differ to the model


def test_summary_view_ignores_the_reasoning_and_whole_view_does_not(tiny_rm):
    prompts = [render("What comes after 17?")] * 2
    summary_judge = RewardModelReward(tiny_rm, view="summary")
    whole_judge = RewardModelReward(tiny_rm, view="whole")
    plain, reasoned = summary_judge(["18", CHAIN + "18"], prompts=prompts)
    assert plain == pytest.approx(reasoned, abs=1e-5)
    plain, reasoned = whole_judge(["18", CHAIN + "18"], prompts=prompts)
    assert plain != pytest.approx(reasoned, abs=1e-3)


def test_bad_input_and_other_kinds_score_none(tiny_rm):
    judge = RewardModelReward(tiny_rm, kinds=("request",), name="helpful_rm")
    prompt = render("hi")
    out = judge(["hello", None, 5, "hello", "hello"],
                prompts=[prompt, prompt, prompt, None, prompt],
                kind=["request", "request", "request", "request", "private"])
    assert isinstance(out[0], float) and out[1:] == [None, None, None, None]
    assert judge.__name__ == "helpful_rm"
    messages = [{"role": "assistant", "content": "hello"}]
    assert isinstance(judge([messages], prompts=[prompt])[0], float)  # TRL's message shape
    with pytest.raises(ValueError, match="prompts"):
        judge(["hello"])  # TRL always passes prompts; a direct caller must too


@pytest.mark.parametrize("kwargs, message", [({"view": "x"}, "view must be one of"),
                                             ({"batch_size": 0}, "batch_size"),
                                             ({"model": ""}, "model must be")])
def test_reward_model_reward_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RewardModelReward(**{"model": "data/models/tiny-rm-helpful", **kwargs})


def test_a_model_with_several_labels_is_refused(tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(ROOT / "data/models/tiny-base",
                                                               num_labels=2)
    model.save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(ROOT / "data/models/tiny-base").save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="2 labels; a reward model has one"):
        RewardModelReward(str(tmp_path))(["hi"], prompts=["x"])


# ---------------------------------------------------------------- the stage and the recipes

def test_reward_model_is_a_stage_and_its_recipes_load():
    from r1lab.train import load_recipe, prepare
    from r1lab.train.stage import STAGES, get_stage

    assert "reward_model" in STAGES
    assert get_stage("reward_model").config_class().__name__ == "RewardConfig"
    for aspect in ("helpful", "harmless"):
        plan = prepare(f"tiny/reward_model_{aspect}", dry_run=True)
        assert plan.train_dataset.column_names == ["prompt", "chosen", "rejected"]
        assert len(plan.train_dataset) == 4000
        assert "Bradley-Terry" in plan.summary()
    assert load_recipe("tiny/reward_model_helpful").task.name == "preference_pairs"


def test_rows_recipes_find_their_data_from_any_folder(tmp_path, monkeypatch):
    from r1lab.train import prepare

    monkeypatch.chdir(tmp_path)
    assert len(prepare("tiny/reward_model_harmless").train_dataset) == 4000


def _pairs_file(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_reward_model_recipes_refuse_what_they_cannot_use(tmp_path):
    from r1lab.train import RecipeError, load_recipe

    with pytest.raises(RecipeError, match="not used by stage reward_model"):
        load_recipe("tiny/reward_model_helpful", ["rewards.accuracy=1"])
    with pytest.raises(RecipeError, match='does not fit stage .reward_model.'):
        load_recipe("tiny/reward_model_helpful", ["task.name=arithmetic", "task.source=null"])
    bad = _pairs_file(tmp_path / "bad.jsonl", [{"prompt": "p", "chosen": "a"}])
    from r1lab.train import prepare

    with pytest.raises(RecipeError, match="lacks the column.s. rejected"):
        prepare("tiny/reward_model_helpful", [f"task.source={bad}"])


def test_a_reward_model_trains_and_scores_through_the_reward(tmp_path):
    from r1lab.train import run

    rows = preference_pairs(64, "helpful", seed=1)
    source = _pairs_file(tmp_path / "pairs.jsonl", rows)
    result = run("tiny/reward_model_helpful",
                 [f"task.source={source}", f"output_dir={tmp_path / 'rm'}", "trainer.max_steps=2",
                  "trainer.per_device_train_batch_size=8", "trainer.logging_steps=1",
                  "trainer.save_steps=100"], progress=False)
    assert [row["step"] for row in result.metrics] == [1, 2]
    assert "pair_accuracy" in result.metrics[0]
    judge = RewardModelReward(str(result.final_dir), view="summary")
    scores = judge(["18", "19"], prompts=[render("What comes after 17?")] * 2)
    assert all(isinstance(s, float) for s in scores)


def test_grpo_recipes_name_reward_models_and_keep_rules_to_reasoning_rows():
    from r1lab.train import prepare

    plan = prepare("tiny/all_scenario_rl", dry_run=True)
    names = [f.__name__ for f in plan.reward_funcs]
    assert names[:7] == ["accuracy_reward", "readable_format_reward",
                         "language_consistency_reward", "helpful_rm", "harmless_rm",
                         "helpful_reward", "harmless_reward"]
    helpful_rm, harmless_rm = plan.reward_funcs[3:5]
    assert (helpful_rm.view, helpful_rm.kinds) == ("summary", ("request",))
    assert (harmless_rm.view, harmless_rm.kinds) == ("whole", ("private",))
    assert plan.reward_weights[:7] == [1.0, 0.5, 1.0, 1.0, 1.0, 0.0, 0.0]
    kinds = plan.train_dataset["kind"]
    assert kinds.count("reasoning") == 2000 and kinds[:2] == ["reasoning", kinds[1]]
    accuracy = plan.reward_funcs[0]
    assert accuracy(["<answer>1</answer>"] * 2, answer=["1", "1"],
                    kind=["reasoning", "request"])[1] is None
    assert plan.columns["helpful_rm"] == "rewards/helpful_rm/mean"
    assert plan.columns["helpful_rule"] == "rewards/helpful_reward/mean"
    for name in ("tiny/rm_hacking", "tiny/rm_hacking_control"):
        plan = prepare(name, dry_run=True)
        assert set(plan.train_dataset["kind"]) == {"request", "private"}


@pytest.mark.parametrize("override, message", [
    ("rewards.judge=1", "is not a known reward"),
    ("reward_models.helpful_rm.view=reasoning", "view"),
    ("reward_models.helpful_rm.model=data/models/nowhere", "train it first"),
    ("reward_models.helpful_rm.size=3", "is not a known field"),
    ("reward_models.accuracy={model: data/models/tiny-rm-helpful}", "a rule reward's name"),
    ("reward_models.helpful_rm.batch_size=0", "batch_size` must be >= 1"),
])
def test_grpo_recipes_refuse_bad_reward_models(override, message):
    from r1lab.train import RecipeError, load_recipe

    with pytest.raises(RecipeError, match=message):
        load_recipe("tiny/all_scenario_rl", [override])


def test_rows_stages_refuse_reward_models_too(tmp_path):
    from r1lab.train import RecipeError, load_recipe

    rows = _pairs_file(tmp_path / "rows.jsonl", [{"prompt": "p", "completion": "c"}])
    with pytest.raises(RecipeError, match="`reward_models` is not used by stage sft"):
        load_recipe("tiny/cold_start_sft", [f"task.source={rows}",
                                            "reward_models.x={model: data/models/tiny-rm-helpful}"])


def test_the_general_task_takes_no_source():
    from r1lab.train import RecipeError, load_recipe

    with pytest.raises(RecipeError, match="the general task has general prompts only"):
        load_recipe("tiny/rm_hacking", ["task.source=data/preferences/helpful.jsonl"])


def test_the_pairs_command_writes_the_committed_file(tmp_path, capsys):
    from r1lab.tasks.preferences import main

    out = tmp_path / "helpful.jsonl"
    assert main(["helpful", "--out", str(out)]) == 0
    assert out.read_bytes() == (ROOT / "data/preferences/helpful.jsonl").read_bytes()
    assert "wrote 4000 helpful pairs" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["helpful", "--out", str(out), "--noise", "0.7"])
    assert "noise must be a share" in capsys.readouterr().err


# ---------------------------------------------------------------- full scale

def test_general_prompts_load_from_text_or_chat_rows(tmp_path):
    from r1lab.tasks.general import load_general

    rows = _pairs_file(tmp_path / "p.jsonl", [
        {"prompt": "Write a haiku."},
        {"prompt": [{"role": "system", "content": "be kind"},
                    {"role": "user", "content": "Explain tides."}]}])
    prompts = load_general(str(rows))
    assert [(p.question, p.kind) for p in prompts] == [("Write a haiku.", "general"),
                                                       ("Explain tides.", "general")]
    bad = _pairs_file(tmp_path / "bad.jsonl", [{"prompt": [{"role": "assistant",
                                                            "content": "hi"}]}])
    with pytest.raises(ValueError, match="row 0: prompt must be"):
        load_general(str(bad))
    with pytest.raises(ValueError, match="no `prompt` column"):
        load_general(str(_pairs_file(tmp_path / "q.jsonl", [{"question": "x"}])))


def test_all_scenario_reads_reasoning_and_general_prompts_from_files(tmp_path):
    from r1lab.train import RecipeError, load_recipe, prepare

    math = _pairs_file(tmp_path / "math.jsonl", [{"problem": f"What is {i}+1?",
                                                  "answer": str(i + 1)} for i in range(3)])
    general = _pairs_file(tmp_path / "general.jsonl", [{"prompt": f"Tell me about {w}."}
                                                       for w in ("cats", "tides", "rain")])
    plan = prepare("tiny/all_scenario_rl", [
        f"task.source={math}", f"task.general_source={general}", "task.n=6",
        "task.arithmetic={}", "reward_models.helpful_rm.kinds=[general]",
        "reward_models.harmless_rm.kinds=[general]"], dry_run=True)
    assert list(plan.train_dataset["kind"]) == ["reasoning", "general"] * 3
    assert plan.train_dataset[1]["question"] == "Tell me about cats."
    assert "general_source=" in plan.summary()
    with pytest.raises(RecipeError, match="general_source` is for the all_scenario"):
        load_recipe("tiny/r1_zero", [f"task.general_source={general}"])
    with pytest.raises(RecipeError, match="`task.arithmetic` applies to the tiny world"):
        load_recipe("tiny/all_scenario_rl", [f"task.source={math}"])


def test_a_reward_model_with_a_chat_template_reads_a_chat(tiny_rm, tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_rm)
    tokenizer.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}. "
                               "{% endfor %}")
    folder = tmp_path / "chat-rm"
    tokenizer.save_pretrained(folder)
    for name in ("config.json", "model.safetensors"):
        (folder / name).write_bytes((Path(tiny_rm) / name).read_bytes())
    judge = RewardModelReward(str(folder), view="summary")
    text = judge.text(render("hi"), CHAIN + "18", question="What comes after 17?")
    assert text.startswith("user: What comes after 17?. assistant: 18. ")
    assert judge.text(render("hi"), "18") == render("hi") + "18" + tokenizer.eos_token
    scores = judge(["18"], prompts=[render("x")], question=["What comes after 17?"])
    assert isinstance(scores[0], float)


def test_two_judges_of_one_model_share_it(tiny_rm):
    helpful = RewardModelReward(tiny_rm, view="summary")
    harmless = RewardModelReward(tiny_rm, view="whole")
    assert helpful.load()[0] is harmless.load()[0]
