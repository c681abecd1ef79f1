import random
import time

import pytest

from r1lab.tasks import CLOSINGS, EOS, OPENINGS, chain_of_thought
from r1lab.tiny.corpus import documents
from r1lab.rewards import REWARDS, combined_reward, language_consistency_reward
from r1lab.rewards import language
from r1lab.rewards.language import MAX_SECONDS_PER_MB, target_language_share
from r1lab.tasks import generate
from r1lab.template import parse, render_readable

EN_COT = ("First multiply three by four: 3*4 = 12. Then add two to the result, "
          "2 + 12 = 14. Wait, let me check that again. Yes, the answer is 14.")
ZH_COT = "首先计算三乘四：3*4 = 12。然后加二，2 + 12 = 14。等等，我再检查一下。没错，答案是 14。"
ES_COT = ("Primero multiplico tres por cuatro: 3*4 = 12. Luego sumo dos al resultado, "
          "2 + 12 = 14. Espera, déjame comprobarlo otra vez. Sí, la respuesta es 14.")


def think(cot):
    return f"<think>{cot}</think><answer>14</answer>"


def score(cot, target):
    return language_consistency_reward([think(cot)], target_lang=target)[0]


def test_pure_chains_score_one_in_their_language_and_zero_in_the_other():
    assert score(EN_COT, "en") == 1.0
    assert score(ZH_COT, "zh") == 1.0
    assert score(ZH_COT, "en") == 0.0
    assert score(EN_COT, "zh") == 0.0


@pytest.mark.parametrize("cot, english, chinese", [
    # 3 English words + 1 Han character
    ("we add them。加", 3, 1),
    # the tiny world's mixed chain: 6 English words, 5 Han characters; numbers do not count
    ("let me compute step by step. 7-2*3+5 = 7-6+5 = 1+5 = 6。所以答案是 6。", 6, 5),
    # variables, operators and LaTeX inside a Chinese sentence are not words
    (r"设 x = 3, 所以 \frac{x}{3} = 1. so the answer is one", 5, 3),
])
def test_mixed_chains_score_their_exact_shares(cot, english, chinese):
    assert score(cot, "en") == pytest.approx(english / (english + chinese))
    assert score(cot, "zh") == pytest.approx(chinese / (english + chinese))


def test_spanish_is_told_from_english_by_the_identifier():
    assert score(ES_COT, "es") == 1.0
    assert score(ES_COT, "en") == 0.0
    assert score(EN_COT, "es") == 0.0
    # switching language between sentences: 5 English words, then 5 Spanish ones
    switched = "First multiply three by four. Luego sumo dos al resultado."
    assert score(switched, "en") == score(switched, "es") == 0.5


def test_scripts_decide_without_the_identifier():
    assert score("Сначала умножим три на четыре.", "en") == 0.0
    assert score("Сначала умножим три на четыре.", "ru") == 1.0
    assert score("まず三と四を掛けます。", "ja") == 1.0  # kanji beside kana are Japanese
    assert score("まず三と四を掛けます。", "zh") == 0.0
    assert score("먼저 삼 곱하기 사", "ko") == 1.0
    assert score("Πρώτα πολλαπλασιάζουμε", "el") == 1.0
    assert score("first multiply, Πρώτα πολλαπλασιάζουμε", "el") == 0.5


def test_short_sentences_are_identified_with_their_neighbours():
    # alone, lingua calls "OK." Dutch, "Then the sum." German and "So it is one." Italian
    assert score("First compute the product 3*4 = 12. OK. Then the sum. That makes sense, "
                 "so the answer is 14.", "en") == 1.0
    assert score("Hmm. So it is one. Let me verify this with another method.", "en") == 1.0


@pytest.mark.parametrize("cot", [
    "2+3*4 = 2+12 = 14",
    "x = 5, y = 7, x + y = 12",
    r"\frac{1}{2} + \sqrt{2} \cdot \pi",
    "$$ area = width \\times height $$",
    "```python\nprint(sum([1, 2]))\nfor item in items: total += item\n```",
    "3.14159 -1,000 2^10 1e-3 ０１２",
    "α + β = γ, ℝ → 𝐀",
    "😀🎉👍 🤔",
])
def test_numbers_math_code_and_emoji_alone_have_no_words(cot):
    assert score(cot, "en") is None
    assert score(cot, "zh") is None


def test_math_code_and_emoji_do_not_count_beside_words():
    assert score("so 😀 the answer 🎉 is 2+12 = 14", "en") == 1.0
    assert score("```python\nfor item in items:\n    total += item\n```\n所以答案是 6", "zh") == 1.0
    assert score("用 `np.sum(values)` 和 f(x) = x^2 以及 snake_case, https://example.org", "zh") == 1.0
    assert score(r"所以 $$ area = width \times height $$ 等于 \( a b c \) 十二", "zh") == 1.0


@pytest.mark.parametrize("completion", [
    "<think> </think><answer>14</answer>",  # empty think block
    "<think></think><answer>14</answer>",
    "<answer>14</answer>",  # no think block
    "the answer is 14",  # no format at all: no chain of thought to judge
    "<think>a</think><think>b</think><answer>14</answer>",  # two think blocks
    "|special_token| |special_token|Summary: 14",  # empty cold-start reasoning
    None,
    12,
])
def test_no_chain_of_thought_is_none(completion):
    assert language_consistency_reward([completion], target_lang="en") == [None]


def test_cold_start_format_scores_the_reasoning_not_the_summary():
    readable = render_readable("我们一步一步地计算。3*4 = 12, 2+12 = 14。", "Summary: the answer is 14.")
    assert language_consistency_reward([readable], target_lang="zh") == [1.0]
    assert language_consistency_reward([readable], target_lang="en") == [0.0]
    mixed = render_readable("let me compute step by step。所以答案是 14", "答案 14")
    assert language_consistency_reward([mixed], target_lang="en") == [pytest.approx(6 / 11)]


def test_think_block_wins_and_prompt_echo_is_ignored():
    prompt = "User: 2+3*4 等于多少？. Assistant:"
    completion = prompt + think("first multiply, then add")
    assert language_consistency_reward([completion], target_lang="en", prompts=[prompt]) == [1.0]


def test_target_lang_is_a_column_or_one_code():
    completions = [think(EN_COT), think(ZH_COT), think(ES_COT)]
    assert language_consistency_reward(completions, target_lang=["en", "zh", "es"]) == [1.0] * 3
    assert language_consistency_reward(completions, target_lang="en") == [1.0, 0.0, 0.0]
    assert language_consistency_reward(completions, target_lang=(" EN", "Zh", "es")) == [1.0] * 3
    # a row without a target language cannot be scored
    assert language_consistency_reward(completions, target_lang=["en", None, "es"]) == [
        1.0, None, 1.0]
    assert language_consistency_reward([], target_lang=[]) == []


def test_trl_contract_shapes_and_extra_columns():
    chat = [[{"role": "assistant", "content": think(EN_COT)}]]
    out = language_consistency_reward(chat, target_lang=["en"], answer=["14"], lang=["en"],
                                      prompts=["q"], completion_ids=[[1]], trainer_state=None)
    assert out == [1.0]


@pytest.mark.parametrize("target_lang, message", [
    ("xx", r"`target_lang` of completion 0 must be an ISO 639-1 code of \['ar', .*got 'xx'"),
    (["en", "zh-CN"], r"`target_lang` of completion 1 .*got 'zh-CN'.*'zh-CN' -> 'zh'"),
    ("english", "got 'english'"),
    (5, "got 5"),
    (["en"], "column `target_lang` has 1 values for 2 completions"),
])
def test_bad_target_lang_is_a_clear_error(target_lang, message):
    with pytest.raises(ValueError, match=message):
        language_consistency_reward([think(EN_COT)] * 2, target_lang=target_lang)


def test_missing_target_lang_column_names_the_columns_given():
    message = "needs the dataset column `target_lang`.*given: answer, lang"
    with pytest.raises(ValueError, match=message):
        language_consistency_reward([think(EN_COT)], answer=["14"], lang=["en"])
    with pytest.raises(ValueError, match="`target` must be an ISO 639-1 code"):
        target_language_share(EN_COT, "klingon")


def test_scores_are_deterministic_and_the_cache_changes_nothing():
    cots = [EN_COT, ES_COT, ZH_COT, "primero three por four. then sumo dos."]
    first = [target_language_share(c, t) for c in cots for t in ("en", "es", "zh")]
    language._identified.clear()
    assert [target_language_share(c, t) for c in cots for t in ("en", "es", "zh")] == first


def test_never_raises_on_junk():
    junk = [
        "<think>\ud800 lone surrogate \udfff words</think><answer>1</answer>",
        "<think>" + bytes(range(256)).decode("latin-1") + "</think>",
        "<think>\u202eright-to-left override\u202c and \u0301\u0301 lone accents</think>",
        "<think>" + "\\[" * 1000 + "\\(" * 1000 + "```" + "$$" + "`" * 7 + "</think>",
        "<think>" + "\x00" * 100 + "</think>",
        "|special_token|" * 3,
    ]
    rng = random.Random(0)
    alphabet = "<>/think answer`$\\[](){}0123456789 ,.;:éñ中あ한Жα😀_=+*'’-"
    junk += ["<think>" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
             + "</think>" for _ in range(200)]
    for target in ("en", "es", "zh", "ja"):
        scores = language_consistency_reward(junk, target_lang=target)
        assert all(s is None or 0.0 <= s <= 1.0 for s in scores)


def one_megabyte_inputs():
    rng = random.Random(0)
    words = (EN_COT + " " + ES_COT).replace(".", "").split()
    sentences = " ".join(" ".join(rng.choices(words, k=rng.randint(2, 12))) + "."
                         for _ in range(40_000))  # distinct sentences: no cache help
    mixed = "let me compute step by step. 7-2*3+5 = 7-6+5 = 1+5 = 6。所以答案是 6。 "
    return {
        "distinct en/es sentences": sentences,
        "tiny-world mixed chains": mixed * 20_000,
        "one sentence of short words": "ab " * 333_334,
        "one long word": "abcdefghij" * 100_000,
        "han characters and stops": "中。" * 166_667,
        "unclosed delimiters": "\\[ \\( ``` $$ ` x " * 62_500,
    }


@pytest.mark.parametrize("name", list(one_megabyte_inputs()))
def test_one_megabyte_is_scored_within_the_time_bound(name):
    text = one_megabyte_inputs()[name][:1_000_000]
    target_language_share("warm the identifier up", "en")  # loading its models is a one-time cost
    completion = think(text)
    start = time.perf_counter()
    scores = language_consistency_reward([completion], target_lang=["en"])
    elapsed = time.perf_counter() - start
    assert scores[0] is None or 0.0 <= scores[0] <= 1.0
    assert elapsed < MAX_SECONDS_PER_MB * len(completion.encode()) / 1e6, f"{elapsed:.2f} s"


def test_walkthrough_accuracy_plus_consistency():
    # The walkthrough's example with weights accuracy 1, consistency 0.2, its chains in words.
    o1 = "<think>first add: 2 + 3 = 5, then multiply 5 * 4 = 20</think> <answer>20</answer>"
    o2 = "<think>first multiply: 3 * 4 = 12, then add 2 + 12 = 14</think> <answer>14</answer>"
    reward = combined_reward({"accuracy": 1.0, "language": 0.2})
    # TRL passes every dataset column to every reward: each takes the ones it needs
    columns = dict(answer=["14", "14"], target_lang=["en", "en"], lang=["en", "en"],
                   question=["What is 2+3*4?"] * 2, prompts=["q", "q"])
    assert reward([o1, o2], **columns) == pytest.approx([0.2, 1.2])
    assert reward.__name__ == "combined_accuracy_language"
    # a chain of bare math has no words: consistency is None and the total is the accuracy
    bare = "<think>3*4 = 12, 2+12 = 14</think> <answer>14</answer>"
    assert reward([bare], answer=["14"], target_lang=["en"]) == [1.0]
    # mixing costs: the same right answer, half in Chinese
    mixed = "<think>first multiply。然后相加 2+12 = 14</think> <answer>14</answer>"
    assert reward([mixed], answer=["14"], target_lang=["en"]) == pytest.approx([1.0 + 0.2 * 2 / 6])


def test_registered_under_language():
    assert REWARDS["language"] is language_consistency_reward


def tiny_world_chains():
    """(chain of thought, opening language, closing language) from the corpus's own phrases."""
    for doc in documents(400, seed=3):
        cot = parse(doc.partition("Assistant:")[2].removesuffix(EOS)).think
        if cot is None:
            continue
        opening = next(lang for lang, text in OPENINGS.items() if cot.startswith(text))
        closing = next(lang for lang, text in CLOSINGS.items() if text.split("{")[0] in cot)
        yield cot, opening, closing


def test_tiny_world_chains_pure_score_one_and_mixed_in_between():
    seen = {"pure": 0, "mixed": 0}
    for cot, opening, closing in tiny_world_chains():
        en, zh = target_language_share(cot, "en"), target_language_share(cot, "zh")
        assert en + zh == pytest.approx(1.0)  # English and Chinese are all the words there are
        if opening == closing:
            assert (en, zh) == ((1.0, 0.0) if opening == "en" else (0.0, 1.0)), cot
            seen["pure"] += 1
        else:
            assert 0.0 < en < 1.0, cot
            seen["mixed"] += 1
    assert seen["pure"] >= 5 and seen["mixed"] >= 5, seen


@pytest.mark.parametrize("langs", [("en", "en"), ("zh", "zh"), ("en", "zh"), ("zh", "en")])
@pytest.mark.parametrize("check", [False, True])
def test_every_tiny_world_chain_shape(langs, check):
    problem = generate(1, seed=11)[0]
    cot = chain_of_thought(problem, langs, check=check)
    en = target_language_share(cot, "en")
    if langs[0] == langs[1]:
        assert en == (1.0 if langs[0] == "en" else 0.0)
    else:
        assert 0.0 < en < 1.0
    assert target_language_share(cot, "zh") == pytest.approx(1.0 - en)
