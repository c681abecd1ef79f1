"""The tiny world's non-reasoning requests (R1 §2.3.3) and their rule-based reward."""

import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

import r1lab.tasks.requests as requests_module
from r1lab.rewards import REWARDS, combined_reward, has_chain_of_thought, request_reward
from r1lab.tasks import REQUEST_KINDS, Request, generate_requests
from r1lab.tasks.arithmetic import split_of
from r1lab.template import render

ROOT = Path(__file__).resolve().parents[1]
GREETING_REPLY = "hello! ask me an arithmetic question."
SELF_REPLY = "i am a tiny assistant that does arithmetic."
SMALL = 20
TEST_PERCENT = 25
# How many questions each kind has in all: 8 hellos x 4 phrasings, 12 self phrasings,
# 3 phrasings x 20 numbers, 3 phrasings x 21*20 ordered pairs of distinct numbers 0..20.
KIND_SIZES = {"greeting": 32, "self": 12, "successor": 60, "predecessor": 60, "larger": 1260}


def numbers_in(question: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", question)]


def phrasing(question: str) -> str:
    """The question with its numbers and greeting word taken out: "What comes after N?"."""
    question = re.sub(r"^(hello|hi|hey|good \w+)", "G", question, flags=re.IGNORECASE)
    return re.sub(r"\d+", "N", question)


def expected_answer(request: Request) -> str:
    """The reply, recomputed from the question alone."""
    q = request.question
    if request.kind == "greeting":
        assert not numbers_in(q), q
        assert re.match(r"(hello|hi|hey|good)\b", q, re.IGNORECASE), q
        return GREETING_REPLY
    if request.kind == "self":
        assert not numbers_in(q), q
        assert re.search(r"\b(you|your|yourself|who)\b", q, re.IGNORECASE), q
        return SELF_REPLY
    numbers = numbers_in(q)
    assert all(0 <= x <= SMALL for x in numbers), q
    if request.kind == "larger":
        a, b = numbers
        assert a != b and ("larger" in q or "bigger" in q), q
        return str(max(a, b))
    [n] = numbers
    if request.kind == "successor":
        assert "after" in q or "more" in q, q
        assert n + 1 <= SMALL, q
        return str(n + 1)
    assert request.kind == "predecessor", request
    assert "before" in q or "less" in q, q
    assert n - 1 >= 0, q
    return str(n - 1)


def questions_of(kind: str, split: str) -> set[str]:
    """Every question of ``kind`` in ``split``: enough draws to see each of <= 1k questions."""
    return {r.question for r in generate_requests(20_000, split, seed=3, kinds=[kind])}


# ---------------------------------------------------------------- requests


def test_kinds_and_request_shape():
    assert REQUEST_KINDS == ("greeting", "self", "successor", "predecessor", "larger")
    assert requests_module.SELF_REPLY == SELF_REPLY
    assert requests_module.GREETING_REPLY == GREETING_REPLY
    request = generate_requests(1)[0]
    assert request.lang == "en" and request.kind in REQUEST_KINDS
    with pytest.raises(FrozenInstanceError):
        request.answer = "0"


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_answer_is_right_and_small(split):
    requests = generate_requests(3000, split=split, seed=11)
    for request in requests:
        assert request.answer == expected_answer(request), request
    for kind in REQUEST_KINDS:
        assert any(r.kind == kind for r in requests), kind
    numbers = [x for r in requests if r.kind not in ("greeting", "self")
               for x in (*numbers_in(r.question), int(r.answer))]
    assert min(numbers) == 0 and max(numbers) == SMALL


def test_each_kind_covers_its_numbers_across_the_splits():
    def union(kind):
        return questions_of(kind, "train") | questions_of(kind, "test")

    assert {numbers_in(q)[0] for q in union("successor")} == set(range(SMALL))
    assert {numbers_in(q)[0] for q in union("predecessor")} == set(range(1, SMALL + 1))
    pairs = {tuple(numbers_in(q)) for q in union("larger")}
    assert pairs == {(a, b) for a in range(SMALL + 1) for b in range(SMALL + 1) if a != b}
    assert union("self") == set(requests_module.PHRASINGS["self"])


def test_questions_read_as_questions():
    for request in generate_requests(600, seed=2):
        if request.kind == "greeting":
            assert not request.question.endswith((".", "?", "!")), request
        elif request.kind == "self":  # "Tell me about yourself." is a request, not a question
            assert request.question.endswith(("?", ".")), request
        else:
            assert request.question.endswith("?"), request


def test_deterministic_by_seed():
    assert generate_requests(50, seed=4) == generate_requests(50, seed=4)
    assert generate_requests(50, seed=4) != generate_requests(50, seed=5)
    assert generate_requests(0) == []


def test_kinds_take_turns_and_several_phrasings_appear():
    requests = generate_requests(500, seed=0)
    assert [r.kind for r in requests[:5]] == list(REQUEST_KINDS)
    for kind in REQUEST_KINDS:
        questions = [r.question for r in requests if r.kind == kind]
        assert len(questions) == 100
        assert len({phrasing(q) for q in questions}) >= 2, kind
    only = generate_requests(10, seed=0, kinds=("larger",))
    assert {r.kind for r in only} == {"larger"}


def test_train_and_test_never_share_a_question_and_hold_every_kind():
    train = generate_requests(3000, split="train", seed=1)
    test = generate_requests(3000, split="test", seed=2)
    assert not {r.question for r in train} & {r.question for r in test}
    for requests in (train, test):
        assert {r.kind for r in requests} == set(REQUEST_KINDS)


@pytest.mark.parametrize("kind", REQUEST_KINDS)
def test_about_a_quarter_of_each_kind_is_held_out(kind):
    train, test = questions_of(kind, "train"), questions_of(kind, "test")
    assert not train & test
    assert len(train) + len(test) == KIND_SIZES[kind], kind
    # The hash split at TEST_PERCENT (25), not the arithmetic split's default 10%.
    assert all(split_of(q, TEST_PERCENT) == "test" for q in test)
    assert all(split_of(q, TEST_PERCENT) == "train" for q in train)
    # 12 self questions give a noisy share (5 test); the larger kinds sit near 25%.
    low, high = (0.15, 0.45) if kind == "self" else (0.15, 0.40)
    assert low < len(test) / KIND_SIZES[kind] < high, (kind, len(test))


@pytest.mark.parametrize("n", [-1, 2.0, True, None])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        generate_requests(n)


def test_bad_split_and_kinds():
    with pytest.raises(ValueError, match="split must be one of"):
        generate_requests(3, split="validation")
    with pytest.raises(ValueError, match="unknown request kind 'poem'"):
        generate_requests(3, kinds=("greeting", "poem"))
    for removed in ("words_to_digits", "digits_to_words"):
        with pytest.raises(ValueError, match=f"unknown request kind '{removed}'"):
            generate_requests(3, kinds=(removed,))
    with pytest.raises(ValueError, match="at least one kind"):
        generate_requests(3, kinds=())
    with pytest.raises(ValueError, match=r"sequence of kind names, e.g. \('greeting',\)"):
        generate_requests(3, kinds="greeting")


def test_a_split_without_a_kind_fails_instead_of_looping(monkeypatch):
    # One greeting, "hey", which the hash puts in train: the test split has none.
    assert split_of("hey", TEST_PERCENT) == "train"
    monkeypatch.setattr(requests_module, "HELLOS", ("hey",))
    monkeypatch.setitem(requests_module.PHRASINGS, "greeting", ("{hello}",))
    requests_module._requests_in.cache_clear()
    try:
        assert generate_requests(2, kinds=("greeting",))[0].question == "hey"
        with pytest.raises(ValueError, match="test split holds no 'greeting' requests"):
            generate_requests(2, split="test", kinds=("greeting",))
    finally:
        requests_module._requests_in.cache_clear()


def test_requests_are_problems_for_evaluate():
    from r1lab.eval import _as_problem

    request = generate_requests(1, seed=3)[0]
    assert _as_problem(request, 0) == {"question": request.question,
                                       "answer": request.answer, "lang": "en"}


def test_everything_round_trips_through_the_tiny_tokenizer():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(ROOT / "data" / "models" / "tiny-base")

    def round_trips(text):
        return tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text

    texts = {GREETING_REPLY, SELF_REPLY}
    for kind in REQUEST_KINDS:
        for split in ("train", "test"):
            questions = questions_of(kind, split)
            texts.update(questions)
            texts.update(render(q) for q in questions if kind != "larger")
    texts.update(r.answer for r in generate_requests(2000, seed=7))
    # What SFT trains on: the rendered prompt followed by the reply.
    texts.update(render(r.question) + " " + r.answer for r in generate_requests(60, seed=8))
    assert [t for t in sorted(texts) if not round_trips(t)] == []


# ---------------------------------------------------------------- reward


def test_reward_right_wrong_and_chain_of_thought():
    completions = ["42", "41", "|special_token|41+1 = 42|special_token|answer: 42",
                   "<think>..</think><answer>42</answer>", "..</think>42", " 42\n", "42.."]
    assert request_reward(completions, answer=["42"] * len(completions)) == [
        1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def test_reward_ignores_case_and_one_final_period():
    assert request_reward(["Forty-Two.", "forty-two", "FORTY-TWO"],
                          answer=["forty-two", "forty-two.", "forty-two"]) == [1.0, 1.0, 1.0]
    assert request_reward(["Hello! Ask me an arithmetic question"],
                          answer=[GREETING_REPLY]) == [1.0]


def test_reward_of_every_generated_reply_is_one_and_zero_with_a_chain_of_thought():
    requests = generate_requests(300, seed=5)
    answers = [r.answer for r in requests]
    assert request_reward(answers, answer=answers) == [1.0] * len(requests)
    thought = [f"|special_token|easy|special_token|{a}" for a in answers]
    assert request_reward(thought, answer=answers) == [0.0] * len(requests)


def test_reward_missing_answer_is_none_and_unreadable_completion_is_zero():
    assert request_reward(["42", "42", "42", "42"], answer=[None, 42, "", "42"]) == [
        None, None, None, 1.0]
    assert request_reward([None, 42, ["42"]], answer=["42"] * 3) == [0.0, 0.0, 0.0]
    chat = [[{"role": "assistant", "content": "42"}],
            [{"role": "assistant", "reasoning_content": "41+1", "content": "42"}]]
    assert request_reward(chat, answer=["42", "42"]) == [1.0, 0.0]


def test_reward_follows_the_column_contract():
    assert request_reward(["42", "41"], answer="42") == [1.0, 0.0]  # one value for all
    with pytest.raises(ValueError, match="column `answer` has 3 values for 2 completions"):
        request_reward(["42", "41"], answer=["42", "41", "40"])
    assert request_reward([], answer=[]) == []


def test_reward_is_registered():
    assert REWARDS["request"] is request_reward
    reward = combined_reward({"request": 1.0})
    assert reward(["42", "<think>x</think>42"], answer=["42", "42"]) == [1.0, 0.0]


def test_has_chain_of_thought():
    assert has_chain_of_thought("|special_token|41+1 = 42|special_token|answer: 42")
    assert has_chain_of_thought("<think>41+1=42</think><answer>42</answer>")
    assert not has_chain_of_thought("42")
    assert not has_chain_of_thought("<answer>42</answer>")
    assert not has_chain_of_thought(None)
    assert not has_chain_of_thought(["<think>"])
