"""Prompt templates and strict parsing of completions.

Two output formats appear in the R1 pipeline:

* the R1-Zero tags (paper Table 1): ``<think> reasoning </think> <answer> answer </answer>``;
* the cold-start "readable" format (paper §2.3.1):
  ``|special_token|<reasoning_process>|special_token|<summary>``.

Parsing is strict on purpose: a lenient parser is the first thing an RL policy learns to
exploit (R1 §2.2.2 keeps rewards rule-based for the same reason). Parsing is linear in the
length of the completion (``str.find`` scans, no backtracking regular expressions), so a
1 MB completion costs milliseconds.

>>> render("What is 2+3*4?")[-32:]
'User: What is 2+3*4?. Assistant:'
>>> p = parse("<think>3*4=12, 2+12=14</think> <answer>14</answer>")
>>> p.well_formed, p.think, p.answer
(True, '3*4=12, 2+12=14', '14')
>>> parse("<answer>14</answer>")
Parsed(think=None, answer='14', well_formed=False, problem='no <think> block')
"""

from __future__ import annotations

from typing import NamedTuple

# R1 Table 1, verbatim (one paragraph; the paper's line breaks are typographic only).
# Deliberately content-free: no request to reflect or to follow a strategy, so that what
# RL changes in the model's behaviour can be observed (R1 §2.2.3).
R1_ZERO_TEMPLATE = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant "
    "solves it. The assistant first thinks about the reasoning process in the mind and then "
    "provides the user with the answer. The reasoning process and answer are enclosed within "
    "<think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning "
    "process here </think> <answer> answer here </answer>. User: {prompt}. Assistant:"
)

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)

# The template shows the tags once, as an example; a model that echoes that example must not
# be credited for it (it would otherwise be a free, well-formed "<think>…<answer>…" pair).
TEMPLATE_EXAMPLE = "<think> reasoning process here </think> <answer> answer here </answer>"

# Cold-start readable format (R1 §2.3.1): the summary states the answer after a fixed prefix.
# "Summary:" is the paper's and "总结：" its Chinese. The tiny world writes "answer:": its
# tokenizer has no capital S and no 总结, and spells "summary" letter by letter, which a
# 0.8M-parameter model misspells when sampling ("summyy"); "answer" is one token.
SPECIAL_TOKEN = "|special_token|"
SUMMARY_PREFIXES = ("Summary:", "总结：", "总结:", "answer:", "答案：", "答案:")
# The tiny world's summary, one prefix for both languages: with "答案：" for Chinese beside
# it, the tiny model blended the two ("answer案：34") in 1 Chinese summary in 3.
READABLE_SUMMARY = "answer: {answer}"

# Two of the cold start's collection paths (R1 §2.3.1) are prompts; both are written here,
# the lowest layer that needs them, because the tiny world's corpus holds the few documents
# its base needs to follow them (``r1lab.tiny.corpus``) and ``r1lab.cold_start`` sends them.
# Path 1, few-shot prompting with long-CoT examples: a page of worked examples opens with
# this line, then each example is a finished document in the readable format.
EXAMPLES_HEADER = "worked examples, every step checked. "
# Path 2, direct prompting for detailed answers with reflection and verification.
DETAILED_TEMPLATE = R1_ZERO_TEMPLATE.replace(
    "User: {prompt}.", "User: {prompt}. Show every step in detail, then check your answer.")

# Characters that print nothing: zero-width spaces and joiners, word joiners, the BOM, the soft
# hyphen, invisible math operators. For emptiness they are whitespace, so that
# "<think>\u200b</think>" is an empty block, not a free chain of thought.
INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
# Every character str.isspace() knows (all lie below U+3001), plus the invisible ones.
BLANK = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + INVISIBLE


def strip_blank(text: str) -> str:
    """``text.strip()`` that also strips invisible characters (``INVISIBLE``).

    >>> strip_blank("\ufeff 14\u200b "), strip_blank("\u2060")
    ('14', '')
    """
    return text.strip(BLANK)


class Parsed(NamedTuple):
    """A completion split into its parts.

    ``think`` and ``answer`` are the stripped contents of the think and answer blocks when
    exactly one complete, non-empty block of that kind exists (even if the whole completion
    is not well formed: ``<answer>14</answer>`` alone still has an answer to grade).
    ``problem`` says in words why the completion is not well formed (None when it is).
    """

    think: str | None
    answer: str | None
    well_formed: bool
    problem: str | None


class Readable(NamedTuple):
    """A completion in the cold-start readable format, split into reasoning and summary."""

    reasoning: str | None
    summary: str | None
    well_formed: bool
    problem: str | None


def render(question: str, template: str = R1_ZERO_TEMPLATE) -> str:
    """Fill the R1-Zero template with a question.

    >>> render("What is 2+3*4?").startswith("A conversation between User and Assistant.")
    True
    """
    if not isinstance(question, str):
        raise TypeError(f"render() takes the question as a str; got {type(question).__name__}")
    return template.format(prompt=question)


def strip_echo(completion: str, prompt: str | None = None) -> str:
    """Remove text the model copied from its prompt: the rendered prompt itself and the
    template's example tags. Tags that were only echoed never count as the model's own.
    Each echo becomes one space, so the text around it cannot join into a new tag.

    >>> strip_echo("<think> reasoning process here </think> <answer> answer here </answer>")
    ' '
    """
    if isinstance(prompt, str) and prompt and prompt in completion:
        completion = completion.replace(prompt, " ")
    return completion.replace(TEMPLATE_EXAMPLE, " ")


def _tag_positions(text: str) -> list[tuple[int, str]]:
    """Every occurrence of the four R1 tags, in order of position: [(index, tag), ...]."""
    found = []
    for tag in TAGS:
        start = text.find(tag)
        while start != -1:
            found.append((start, tag))
            start = text.find(tag, start + len(tag))
    found.sort()
    return found


def _single_block(text: str, tags: list[tuple[int, str]], open_tag: str, close_tag: str):
    """Content of the only ``open…close`` pair with no other tag between them, else None."""
    blocks = [
        strip_blank(text[i + len(open_tag) : j])
        for (i, a), (j, b) in zip(tags, tags[1:])
        if a == open_tag and b == close_tag
    ]
    opened = sum(1 for _, tag in tags if tag == open_tag)
    if len(blocks) == 1 and opened == 1 and blocks[0]:
        return blocks[0]
    return None


def parse(completion: str, prompt: str | None = None) -> Parsed:
    """Split a completion into think / answer and judge its format strictly.

    Well formed means all of:

    * exactly one ``<think>…</think>`` block, then exactly one ``<answer>…</answer>`` block,
      and no other R1 tag anywhere (so no answer tag inside the think block);
    * both blocks non-empty (after stripping whitespace and ``INVISIBLE`` characters);
    * only whitespace before ``<think>``, between ``</think>`` and ``<answer>``, and after
      ``</answer>``;
    * tags echoed from the prompt are removed first and never count: the template's own
      example, and ``prompt`` when given. ``prompt`` is the full rendered prompt the model
      saw (TRL's ``prompts`` column), not the bare question: every copy of it is removed.

    Never raises: a ``completion`` that is not a string is treated as empty, a ``prompt``
    that is not a string as absent.

    >>> parse("<think>2+3=5, 5*4=20</think><answer>20</answer>").well_formed
    True
    >>> parse("<think>abc</think> <answer>7<answer>").problem
    'expected exactly one <answer> block, found 2 <answer> and 0 </answer>'
    >>> parse("<think>x</think><answer>14</answer> trailing").problem
    'text after </answer>'
    """
    text = strip_echo(completion if isinstance(completion, str) else "", prompt)
    tags = _tag_positions(text)
    think = _single_block(text, tags, THINK_OPEN, THINK_CLOSE)
    answer = _single_block(text, tags, ANSWER_OPEN, ANSWER_CLOSE)
    problem = _format_problem(text, tags, think, answer)
    return Parsed(think, answer, problem is None, problem)


def _format_problem(text, tags, think, answer) -> str | None:
    """Why ``text`` is not well formed, or None if it is."""
    names = [tag for _, tag in tags]
    for open_tag, close_tag in ((THINK_OPEN, THINK_CLOSE), (ANSWER_OPEN, ANSWER_CLOSE)):
        n_open, n_close = names.count(open_tag), names.count(close_tag)
        if n_open == n_close == 0:
            return f"no {open_tag} block"
        if (n_open, n_close) != (1, 1):
            return (f"expected exactly one {open_tag} block, found {n_open} {open_tag} "
                    f"and {n_close} {close_tag}")
    if names != list(TAGS):
        return f"tags out of order: expected {' '.join(TAGS)}, got {' '.join(names)}"
    (i_to, _), (i_tc, _), (i_ao, _), (i_ac, _) = tags
    if strip_blank(text[:i_to]):
        return "text before <think>"
    if strip_blank(text[i_tc + len(THINK_CLOSE) : i_ao]):
        return "text between </think> and <answer>"
    if strip_blank(text[i_ac + len(ANSWER_CLOSE) :]):
        return "text after </answer>"
    if think is None:
        return "empty <think> block"
    if answer is None:
        return "empty <answer> block"
    return None


def render_readable(reasoning: str, summary: str) -> str:
    """Write a cold-start sample in the readable format (R1 §2.3.1).

    >>> render_readable("3*4=12, then 2+12=14.", "The answer is 14.")
    '|special_token|3*4=12, then 2+12=14.|special_token|The answer is 14.'
    """
    return f"{SPECIAL_TOKEN}{reasoning}{SPECIAL_TOKEN}{summary}"


def parse_readable(completion: str) -> Readable:
    """Split a readable-format completion into reasoning and summary, strictly.

    Well formed: exactly two ``|special_token|`` markers, only whitespace before the first,
    a non-empty reasoning between them and a non-empty summary after the second.

    >>> parse_readable("|special_token|3*4=12, 2+12=14|special_token|Summary: 14")
    Readable(reasoning='3*4=12, 2+12=14', summary='Summary: 14', well_formed=True, problem=None)
    >>> parse_readable("|special_token|3*4=12, 2+12=14").problem
    'expected 2 |special_token| markers, found 1'
    """
    text = completion if isinstance(completion, str) else ""
    parts = text.split(SPECIAL_TOKEN)
    if len(parts) != 3:
        problem = f"expected 2 {SPECIAL_TOKEN} markers, found {len(parts) - 1}"
        return Readable(None, None, False, problem)
    before, reasoning, summary = (strip_blank(part) for part in parts)
    reasoning, summary = reasoning or None, summary or None
    problem = None
    if before:
        problem = f"text before the first {SPECIAL_TOKEN}"
    elif reasoning is None:
        problem = "empty reasoning"
    elif summary is None:
        problem = "empty summary"
    return Readable(reasoning, summary, problem is None, problem)


def summary_answer(summary: str | None) -> str | None:
    """The answer a readable summary states: the text after one of ``SUMMARY_PREFIXES``
    (any case), without a final full stop; None when the summary starts with none of them.

    >>> summary_answer("Summary: 14."), summary_answer("答案：14。"), summary_answer("14")
    ('14', '14', None)
    """
    if not isinstance(summary, str):
        return None
    text = strip_blank(summary)
    for prefix in SUMMARY_PREFIXES:
        if text.lower().startswith(prefix.lower()):
            answer = strip_blank(strip_blank(text[len(prefix) :]).rstrip(".。"))
            return answer or None
    return None


def parse_completion(completion: str, prompt: str | None = None) -> Parsed:
    """``parse`` for either output format: R1-Zero tags, or the cold-start readable format.

    A completion containing ``|special_token|`` is read as the readable format: ``think``
    is its reasoning, ``answer`` what its summary states (``summary_answer``), and it is
    well formed when ``parse_readable`` says so and the summary states an answer. Anything
    else goes to ``parse`` (tags). Rewards, probes and evaluation all read completions
    through this function, so a cold-started model is scored like an R1-Zero one.

    >>> parse_completion("|special_token|3*4 = 12, 2+12 = 14.|special_token|Summary: 14")
    Parsed(think='3*4 = 12, 2+12 = 14.', answer='14', well_formed=True, problem=None)
    >>> parse_completion("|special_token|3*4 = 12|special_token|so 12").problem
    "summary does not start with 'Summary:' (or '总结：')"
    >>> parse_completion("<think>3*4 = 12</think><answer>12</answer>").well_formed
    True
    """
    text = strip_echo(completion if isinstance(completion, str) else "", prompt)
    if SPECIAL_TOKEN not in text:
        return parse(text)
    readable = parse_readable(text)
    answer = summary_answer(readable.summary)
    problem = readable.problem
    if problem is None and answer is None:
        problem = f"summary does not start with {SUMMARY_PREFIXES[0]!r} (or {SUMMARY_PREFIXES[1]!r})"
    return Parsed(readable.reasoning, answer, problem is None, problem)
