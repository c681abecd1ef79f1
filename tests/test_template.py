import time

import pytest

from r1lab.template import (
    R1_ZERO_TEMPLATE,
    SPECIAL_TOKEN,
    TEMPLATE_EXAMPLE,
    parse,
    parse_readable,
    render,
    render_readable,
)

PAPER_TABLE_1 = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant "
    "solves it. The assistant first thinks about the reasoning process in the mind and then "
    "provides the user with the answer. The reasoning process and answer are enclosed within "
    "<think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning "
    "process here </think> <answer> answer here </answer>. User: prompt. Assistant:"
)


def test_template_is_table_1_verbatim():
    assert R1_ZERO_TEMPLATE.replace("{prompt}", "prompt") == PAPER_TABLE_1
    assert R1_ZERO_TEMPLATE.count("{prompt}") == 1


def test_render_fills_the_question():
    text = render("What is 2+3*4?")
    assert text.endswith("User: What is 2+3*4?. Assistant:")
    assert "{prompt}" not in text
    with pytest.raises(TypeError, match="str"):
        render(None)


@pytest.mark.parametrize(
    "completion, think, answer",
    [
        ("<think>3*4=12, 2+12=14</think><answer>14</answer>", "3*4=12, 2+12=14", "14"),
        ("  \n<think> a </think>\n\n<answer> 14 </answer>\n  ", "a", "14"),
    ],
)
def test_well_formed(completion, think, answer):
    assert parse(completion) == (think, answer, True, None)


@pytest.mark.parametrize(
    "completion, problem",
    [
        ("<answer>14</answer>", "no <think> block"),
        ("<think>a</think>", "no <answer> block"),
        ("<think>a</think><think>b</think><answer>14</answer>", "found 2 <think> and 2 </think>"),
        ("<think>a</think><answer>7<answer>", "found 2 <answer> and 0 </answer>"),
        ("<think>a <answer>14</answer></think><answer>14</answer>", "found 2 <answer>"),
        ("<think>a <answer></think><answer>14</answer>", "found 2 <answer> and 1 </answer>"),
        ("<think>a</think><answer>1</answer><answer>2</answer>", "found 2 <answer>"),
        ("<answer>14</answer><think>a</think>", "tags out of order"),
        ("<think>a</think><answer>14</answer> so 14", "text after </answer>"),
        ("Sure! <think>a</think><answer>14</answer>", "text before <think>"),
        ("<think>a</think> therefore <answer>14</answer>", "text between </think> and <answer>"),
        ("<think> </think><answer>14</answer>", "empty <think> block"),
        ("<think>a</think><answer>\n</answer>", "empty <answer> block"),
        ("<think>a</think></think><answer>14</answer>", "found 1 <think> and 2 </think>"),
        ("</think><think>a<answer>14</answer>", "tags out of order"),
        ("<think>a", "found 1 <think> and 0 </think>"),
        ("", "no <think> block"),
    ],
)
def test_not_well_formed_says_why(completion, problem):
    parsed = parse(completion)
    assert not parsed.well_formed
    assert problem in parsed.problem


def test_answer_is_graded_even_without_think():
    assert parse("<answer>14</answer>").answer == "14"
    assert parse("<think>a</think><answer>7<answer>").answer is None
    assert parse("<answer>1</answer><answer>2</answer>").answer is None  # two answers: none


def test_echoed_tags_never_count():
    assert not parse(TEMPLATE_EXAMPLE).well_formed
    echoed = f"i.e., {TEMPLATE_EXAMPLE}"
    assert parse(echoed).think is None
    prompt = render("What is 2+3*4?")
    completion = prompt + " <think>3*4=12, 2+12=14</think> <answer>14</answer>"
    assert parse(completion, prompt=prompt).well_formed
    # the same text without knowing the prompt still carries no echoed example tags
    assert parse(prompt).answer is None
    # removing an echo cannot glue the text around it into a new tag
    glued = "<thi" + TEMPLATE_EXAMPLE + "nk>a</think><answer>14</answer>"
    assert not parse(glued).well_formed
    assert parse("<think>a</think><answer>14</answer>", prompt=5).well_formed  # bad prompt: ignored


@pytest.mark.parametrize("junk", [None, 42, b"<think>a</think>", ["x"]])
def test_parse_never_raises_on_non_strings(junk):
    assert parse(junk).well_formed is False


def test_parse_is_linear_on_a_megabyte():
    big = "<think>" + "<think></answer>x" * 60_000 + "</think><answer>1</answer>"
    start = time.perf_counter()
    assert not parse(big).well_formed
    assert not parse("x" * 1_000_000).well_formed
    assert time.perf_counter() - start < 2.0


def test_readable_round_trip_and_errors():
    text = render_readable("3*4=12, 2+12=14.", "The answer is 14.")
    assert text.count(SPECIAL_TOKEN) == 2
    assert parse_readable(text) == ("3*4=12, 2+12=14.", "The answer is 14.", True, None)
    assert parse_readable("no markers").problem == f"expected 2 {SPECIAL_TOKEN} markers, found 0"
    assert parse_readable(f"{SPECIAL_TOKEN} {SPECIAL_TOKEN}x").problem == "empty reasoning"
    assert parse_readable(f"{SPECIAL_TOKEN}r{SPECIAL_TOKEN} ").problem == "empty summary"
    assert parse_readable(f"hi{SPECIAL_TOKEN}r{SPECIAL_TOKEN}s").problem.startswith("text before")
    assert parse_readable(None).well_formed is False


# ---------------------------------------------------------------- both formats


@pytest.mark.parametrize("completion, think, answer, problem", [
    ("|special_token|3*4 = 12, 2+12 = 14.|special_token|Summary: 14.", "3*4 = 12, 2+12 = 14.",
     "14", None),
    ("|special_token|3*4 = 12。|special_token|总结：14。", "3*4 = 12。", "14", None),
    ("|special_token|3*4 = 12|special_token|The answer is 12", "3*4 = 12", None,
     "summary does not start with 'Summary:' (or '总结：')"),
    ("|special_token|3*4 = 12|special_token|Summary:", "3*4 = 12", None,
     "summary does not start with 'Summary:' (or '总结：')"),
    ("|special_token|3*4 = 12", None, None, "expected 2 |special_token| markers, found 1"),
    ("<think>3*4 = 12</think> <answer>12</answer>", "3*4 = 12", "12", None),
    ("<answer>12</answer>", None, "12", "no <think> block"),
])
def test_parse_completion_reads_either_format(completion, think, answer, problem):
    from r1lab.template import parse_completion

    parsed = parse_completion(completion)
    assert (parsed.think, parsed.answer, parsed.problem) == (think, answer, problem)
    assert parsed.well_formed is (problem is None)


def test_rewards_and_eval_score_the_readable_format():
    from r1lab.rewards import accuracy_reward, format_reward, readable_format_reward

    completions = ["|special_token|3*4 = 12, 2+12 = 14|special_token|Summary: 14",
                   "|special_token|2+3 = 5, 5*4 = 20|special_token|Summary: 20",
                   "|special_token|copying|special_token|Summary: 2+3*4",
                   "|special_token||special_token|Summary: 14"]
    assert accuracy_reward(completions, answer=["14"] * 4) == [1.0, 0.0, 0.0, 1.0]
    assert readable_format_reward(completions) == [1.0, 1.0, 1.0, 0.0]  # the last has no reasoning
    assert format_reward(completions) == [0.0] * 4  # R1-Zero's format reward pays for tags only


@pytest.mark.parametrize("invisible", ["\u200b", "\u2060", "\ufeff", "\u200b\u200d \u2060"])
def test_invisible_characters_never_fill_a_block(invisible):
    assert parse(f"<think>{invisible}</think><answer>14</answer>").problem == "empty <think> block"
    assert parse(f"<think>3*4=12</think><answer>{invisible}</answer>").answer is None
    readable = parse_readable(f"{SPECIAL_TOKEN}{invisible}{SPECIAL_TOKEN}Summary: 14")
    assert readable.problem == "empty reasoning"
    # ...and count as whitespace around the blocks (a BOM before <think> is no text)
    assert parse(f"{invisible}<think>x</think>{invisible}<answer>14</answer>").well_formed
