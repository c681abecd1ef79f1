"""Nothing lost, round 3 (issue 32), reward models: a length bound by default (the model's
window) and in recipes, ``None`` for messages the judge cannot read, ``kinds`` read strictly,
and a folder that is not a one-score model refused before training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from r1lab.rewards import RewardModelReward
from r1lab.template import render
from r1lab.train import RecipeError, load_recipe

ROOT = Path(__file__).resolve().parents[1]
HELPFUL_RM = str(ROOT / "data/models/tiny-rm-helpful")
WINDOW = json.loads((ROOT / "data/models/tiny-rm-helpful/config.json").read_text())[
    "max_position_embeddings"]
LONG = "the answer is 17. " * 5600  # ~100,000 characters, ~33,600 tokens of the tiny world


class Fed:
    """Records the [batch, tokens] shape of every batch a model is given; refuses one longer
    than ``most`` tokens before the forward pass (so an unbounded judge fails in
    milliseconds, not the minutes its quadratic attention would take)."""

    def __init__(self, judge: RewardModelReward, most: int):
        self.shapes, self.last_tokens, self.most = [], [], most
        self.model, _ = judge.load()

    def __enter__(self):
        def record(module, args, kwargs):
            ids = kwargs["input_ids"]  # [B, T]
            self.shapes.append(tuple(ids.shape))
            self.last_tokens.append(ids[0, int(kwargs["attention_mask"][0].sum()) - 1].item())
            assert ids.shape[-1] <= self.most, f"fed {ids.shape[-1]} tokens"

        self.hook = self.model.register_forward_pre_hook(record, with_kwargs=True)
        return self

    def __exit__(self, *exc):
        self.hook.remove()


def _copy_rm(folder: Path, **tokenizer_config) -> str:
    shutil.copytree(HELPFUL_RM, folder)
    file = folder / "tokenizer_config.json"
    file.write_text(json.dumps({**json.loads(file.read_text()), **tokenizer_config}))
    return str(folder)


# ---------------------------------------------------------------- the length bound


def test_a_long_completion_is_cut_to_the_window_and_keeps_its_end():
    judge = RewardModelReward(HELPFUL_RM, view="whole")
    _, tokenizer = judge.load()
    with Fed(judge, WINDOW) as fed:
        first, other_start = judge([LONG + "18", "x" * 500 + LONG + "18"],
                                   prompts=[render("What comes after 17?")] * 2)
    assert fed.shapes == [(2, WINDOW)]  # the window read from config.json, not 33,600 tokens
    assert fed.last_tokens == [tokenizer.eos_token_id]  # the end (and end-of-text) is kept
    assert first == pytest.approx(other_start, abs=1e-5)  # only the beginning was dropped


def test_the_window_is_the_tokenizers_when_it_is_shorter(tmp_path):
    judge = RewardModelReward(_copy_rm(tmp_path / "rm", model_max_length=100))
    with Fed(judge, 100) as fed:
        judge([LONG], prompts=["p"])
    assert fed.shapes == [(1, 100)]


def test_a_recipe_sets_max_length_per_reward_model():
    from r1lab.train import prepare

    plan = prepare("tiny/all_scenario_rl", ["reward_models.helpful_rm.max_length=64",
                                            "task.n=8"], dry_run=True)
    judges = {f.__name__: f for f in plan.reward_funcs}
    assert (judges["helpful_rm"].max_length, judges["harmless_rm"].max_length) == (64, None)
    helpful = judges["helpful_rm"]
    with Fed(helpful, 64) as fed:
        helpful(["|special_token|" + LONG + "|special_token|" + "17 " * 200],
                prompts=[render("What comes after 16?")], kind=["request"])
    assert fed.shapes == [(1, 64)]


@pytest.mark.parametrize("value, message", [
    (WINDOW + 1, f"reads at most {WINDOW} tokens"), (0, "max_length` must be >= 1"),
    (True, "max_length` must be a whole number"), ("long", "max_length` must be a whole number")])
def test_a_recipe_refuses_a_max_length_beyond_the_window_or_not_a_count(value, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe("tiny/all_scenario_rl", [{"reward_models.helpful_rm.max_length": value}])


def test_a_direct_caller_is_held_to_the_window_too():
    with pytest.raises(ValueError, match="max_length must be an integer"):
        RewardModelReward(HELPFUL_RM, max_length=0)
    judge = RewardModelReward(HELPFUL_RM, max_length=WINDOW + 1)
    with pytest.raises(ValueError, match=f"reads at most {WINDOW} tokens"):
        judge(["18"], prompts=["p"])


# ---------------------------------------------------------------- unreadable messages


@pytest.mark.parametrize("completion", [
    None, 5, 1.5, b"18", bytearray(b"18"), [], {"content": "18"}, ["18"],
    [{"role": "assistant"}], [{"role": "assistant", "content": None}],
    [{"role": "assistant", "content": 18}],
    [{"role": "assistant", "content": [{"type": "text", "text": "18"}]}],
    "18 \ud800", [{"role": "assistant", "content": "18 \udfff"}]])
def test_an_unreadable_completion_scores_none_and_the_batch_goes_on(completion):
    judge = RewardModelReward(HELPFUL_RM, view="summary")
    prompt = render("What comes after 17?")
    out = judge([completion, "18"], prompts=[prompt, prompt])
    assert out[0] is None and isinstance(out[1], float)


@pytest.mark.parametrize("prompt", [None, 5, b"p", [], "p \ud800",
                                    [{"role": "user", "content": None}]])
def test_an_unreadable_prompt_scores_none(prompt):
    judge = RewardModelReward(HELPFUL_RM)
    assert judge(["18"], prompts=[prompt]) == [None]


@pytest.fixture
def chat_rm(tmp_path):
    """The tiny reward model with a chat template that, like many hub templates, refuses a
    system turn (``raise_exception``)."""
    folder = Path(_copy_rm(tmp_path / "chat-rm"))
    file = folder / "tokenizer_config.json"
    file.write_text(json.dumps({**json.loads(file.read_text()), "chat_template": (
        "{% for m in messages %}{% if m['role'] == 'system' %}"
        "{{ raise_exception('no system turns') }}{% endif %}"
        "{{ m['role'] }}: {{ m['content'] }}. {% endfor %}")}))
    return str(folder)


@pytest.mark.parametrize("prompt", [
    [{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}],
    [{"role": "user", "content": 5}, {"role": "user", "content": "hi"}],
    [{"content": "hi"}, {"role": "user", "content": "hi"}],
    ["hi", {"role": "user", "content": "hi"}],
])
def test_a_chat_the_template_cannot_write_scores_none(chat_rm, prompt):
    judge = RewardModelReward(chat_rm)
    user = [{"role": "user", "content": "hi"}]
    assert judge([[{"role": "assistant", "content": "18"}]] * 2, prompts=[prompt, user])[0] is None
    assert isinstance(judge(["18"], prompts=[user])[0], float)


# ---------------------------------------------------------------- kinds, read strictly


def test_a_typo_in_kinds_is_refused_naming_the_valid_kinds():
    with pytest.raises(RecipeError, match=r"reward_models.helpful_rm.kinds`: 'requets' is not a "
                       r"kind .*did you mean 'request'\? its kinds are reasoning, request, "
                       r"private$"):
        load_recipe("tiny/all_scenario_rl", ["reward_models.helpful_rm.kinds=[requets]"])


@pytest.mark.parametrize("recipe, overrides, message", [
    ("tiny/all_scenario_rl", ["reward_models.helpful_rm.kinds=[]"], "is empty"),
    ("tiny/all_scenario_rl", ["reward_models.helpful_rm.kinds=[3]"], "3 is not a kind"),
    ("tiny/rm_hacking", ["reward_models.helpful_rm.kinds=[reasoning]"],
     "its kinds are request, private"),
    ("tiny/all_scenario_rl", ["reward_models.helpful_rm.kinds=[request]",
                              "task.general_source=data/preferences/helpful.jsonl"],
     "its kinds are reasoning, general"),
])
def test_kinds_are_the_kinds_the_task_produces(recipe, overrides, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe(recipe, overrides)


def test_the_kinds_a_task_produces_are_the_kinds_its_rows_carry():
    from r1lab.train import prepare
    from r1lab.train.grpo import task_kinds

    for name in ("tiny/all_scenario_rl", "tiny/rm_hacking"):
        plan = prepare(name, ["task.n=8"], dry_run=True)
        assert set(plan.train_dataset["kind"]) == set(task_kinds(plan.recipe.task))
    load_recipe("tiny/all_scenario_rl", ["reward_models.helpful_rm.kinds=[reasoning, request]"])


def test_a_direct_caller_cannot_give_empty_kinds():
    with pytest.raises(ValueError, match="kinds must name at least one kind"):
        RewardModelReward(HELPFUL_RM, kinds=[])


# ---------------------------------------------------------------- one-score models only


def _classifier(folder: Path, num_labels: int) -> str:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(ROOT / "data/models/tiny-base",
                                                               num_labels=num_labels)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(ROOT / "data/models/tiny-base").save_pretrained(folder)
    return str(folder)


def test_a_causal_lm_named_as_a_reward_model_is_refused_before_the_run_folder(tmp_path):
    from r1lab.train import run

    out = tmp_path / "run"
    with pytest.raises(RecipeError, match=r"^recipe field `reward_models.helpful_rm`: model "
                       r"data/models/tiny-base is a LlamaForCausalLM .*not a sequence "
                       r"classifier; a reward model folder is .*tiny/reward_model_helpful$"):
        run("tiny/all_scenario_rl", [{"reward_models.helpful_rm.model": "data/models/tiny-base",
                                      "output_dir": str(out), "task.n": 8,
                                      "trainer.max_steps": 1}], progress=False)
    assert not out.exists()


def test_a_classifier_with_two_labels_is_refused_at_recipe_check(tmp_path):
    folder = _classifier(tmp_path / "two", num_labels=2)
    with pytest.raises(RecipeError, match="has 2 labels; a reward model has one"):
        load_recipe("tiny/all_scenario_rl", [{"reward_models.harmless_rm.model": folder}])
    load_recipe("tiny/all_scenario_rl", [
        {"reward_models.harmless_rm.model": _classifier(tmp_path / "one", num_labels=1)}])


def test_a_hub_reward_model_is_checked_when_the_trainer_is_built():
    """A dry run does not contact the hub, so a hub id is read at the trainer build: still
    before any step (the shipped causal LM stands in for a hub id here)."""
    from r1lab.train import prepare

    plan = prepare("tiny/all_scenario_rl", ["task.n=8"], dry_run=True)
    funcs = plan.extras["reward_funcs"]
    at = [f.__name__ for f in funcs].index("helpful_rm")
    funcs[at] = RewardModelReward(str(ROOT / "data/models/tiny-base"), name="helpful_rm")
    with pytest.raises(RecipeError, match="`reward_models.helpful_rm`: model .*tiny-base is a "
                                          "LlamaForCausalLM"):
        plan.stage.trainer(plan)
