"""The tiny world's non-reasoning requests (R1 §2.3.3) and their rule-based reward."""

import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

import r1lab.tasks.requests as requests_module
from r1lab.rewards import REWARDS, combined_reward, has_chain_of_thought, request_reward
from r1lab.tasks import REQUEST_KINDS, Request, generate_requests, number_words
from r1lab.template import render

ROOT = Path(__file__).resolve().parents[1]
GREETING_REPLY = "hello! ask me an arithmetic question."

# An independent reading of number words: a table, not number_words' index arithmetic.
WORD_VALUES = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}


def value_of_words(words: str) -> int:
    parts = words.split("-")
    assert 1 <= len(parts) <= 2, words
    if len(parts) == 2:
        assert WORD_VALUES[parts[0]] % 10 == 0 and WORD_VALUES[parts[0]] >= 20, words
        assert 1 <= WORD_VALUES[parts[1]] <= 9, words
    return sum(WORD_VALUES[part] for part in parts)


def numbers_in(question: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", question)]


def words_in(question: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+(?:-[a-z]+)?", question)
            if all(part in WORD_VALUES for part in w.split("-"))]


def phrasing(question: str) -> str:
    """The question with its numbers and greeting word taken out: "What comes after N?"."""
    for words in words_in(question):
        question = question.replace(words, "W")
    question = re.sub(r"^(hello|hi|hey|good \w+)", "G", question, flags=re.IGNORECASE)
    return re.sub(r"\d+", "N", question)


def expected_answer(request: Request) -> str:
    """The reply, recomputed from the question alone."""
    q = request.question
    if request.kind == "greeting":
        assert not numbers_in(q) and not words_in(q), q
        assert re.match(r"(hello|hi|hey|good)\b", q, re.IGNORECASE), q
        return GREETING_REPLY
    if request.kind == "words_to_digits":
        assert not numbers_in(q), q
        [words] = words_in(q)
        return str(value_of_words(words))
    [*numbers] = numbers_in(q)
    if request.kind == "larger":
        a, b = numbers
        assert a != b and 0 <= a <= 99 and 0 <= b <= 99, q
        return str(max(a, b))
    [n] = numbers
    if request.kind == "digits_to_words":
        assert 1 <= n <= 99, q
        assert value_of_words(request.answer) == n, q
        return request.answer
    if request.kind == "successor":
        assert "after" in q or "more" in q, q
        return str(n + 1)
    assert request.kind == "predecessor", request
    assert "before" in q or "less" in q, q
    return str(n - 1)


# ---------------------------------------------------------------- number words


def test_number_words_spot_values():
    assert [number_words(n) for n in (1, 7, 13, 19, 20, 21, 40, 42, 99)] == [
        "one", "seven", "thirteen", "nineteen", "twenty", "twenty-one", "forty", "forty-two",
        "ninety-nine"]


def test_number_words_are_distinct_and_hyphenated_between_tens_and_ones():
    words = [number_words(n) for n in range(1, 100)]
    assert len(set(words)) == 99
    for n, word in zip(range(1, 100), words):
        assert ("-" in word) == (n > 20 and n % 10 != 0), word
        assert value_of_words(word) == n


@pytest.mark.parametrize("bad", [0, 100, -3, 4.0, "7", True, None])
def test_number_words_rejects_what_it_cannot_spell(bad):
    with pytest.raises(ValueError, match="integer 1..99"):
        number_words(bad)


# ---------------------------------------------------------------- requests


def test_kinds_and_request_shape():
    assert set(REQUEST_KINDS) >= {"greeting", "words_to_digits", "digits_to_words",
                                  "successor", "predecessor", "larger"}
    request = generate_requests(1)[0]
    assert request.lang == "en" and request.kind in REQUEST_KINDS
    with pytest.raises(FrozenInstanceError):
        request.answer = "0"


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_answer_is_right(split):
    requests = generate_requests(3000, split=split, seed=11)
    for request in requests:
        assert request.answer == expected_answer(request), request
    successors = [int(r.answer) for r in requests if r.kind == "successor"]
    predecessors = [int(r.answer) for r in requests if r.kind == "predecessor"]
    assert 1 <= min(successors) and max(successors) <= 99
    assert 0 <= min(predecessors) and max(predecessors) <= 98


def test_questions_read_as_questions():
    for request in generate_requests(600, seed=2):
        if request.kind == "greeting":
            assert not request.question.endswith((".", "?", "!")), request
        else:
            assert request.question.endswith("?"), request


def test_deterministic_by_seed():
    assert generate_requests(50, seed=4) == generate_requests(50, seed=4)
    assert generate_requests(50, seed=4) != generate_requests(50, seed=5)
    assert generate_requests(0) == []


def test_kinds_take_turns_and_several_phrasings_appear():
    requests = generate_requests(600, seed=0)
    assert [r.kind for r in requests[:6]] == list(REQUEST_KINDS)
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
    # About 10% of a kind's questions are test (~300 questions a kind: 5000 draws see all).
    for kind in ("words_to_digits", "digits_to_words", "successor", "predecessor"):
        train, test = ({r.question for r in generate_requests(5000, split, seed=3, kinds=[kind])}
                       for split in ("train", "test"))
        assert len(train) + len(test) == 297, kind
        assert 0.05 < len(test) / 297 < 0.15, kind


@pytest.mark.parametrize("n", [-1, 2.0, True, None])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        generate_requests(n)


def test_bad_split_and_kinds():
    with pytest.raises(ValueError, match="split must be one of"):
        generate_requests(3, split="validation")
    with pytest.raises(ValueError, match="unknown request kind 'poem'"):
        generate_requests(3, kinds=("greeting", "poem"))
    with pytest.raises(ValueError, match="at least one kind"):
        generate_requests(3, kinds=())
    with pytest.raises(ValueError, match=r"sequence of kind names, e.g. \('greeting',\)"):
        generate_requests(3, kinds="greeting")


def test_a_split_without_a_kind_fails_instead_of_looping(monkeypatch):
    # One greeting, "hello", which the hash puts in train: the test split has none.
    monkeypatch.setattr(requests_module, "HELLOS", ("hello",))
    monkeypatch.setitem(requests_module.PHRASINGS, "greeting", ("{hello}",))
    requests_module._requests_in.cache_clear()
    try:
        assert generate_requests(2, kinds=("greeting",))[0].question == "hello"
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

    texts = {GREETING_REPLY, *(number_words(n) for n in range(1, 100))}
    for split in ("train", "test"):
        for request in generate_requests(5000, split=split, seed=7):
            texts.update((request.question, request.answer))
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
