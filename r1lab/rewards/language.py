"""Language-consistency reward (R1 §2.3.2): the share of the chain of thought's words that
are in the target language.

R1-Zero's chains of thought mix languages (a question in Chinese, reasoning that drifts
into English); DeepSeek-R1 adds this reward during reasoning RL, summed directly with the
accuracy reward. The paper's ablation: slightly lower benchmark scores, clearly more readable
outputs.

How words are counted (deterministic: the same text always gets the same score):

* The chain of thought is the ``<think>`` block (R1-Zero tags) or, failing that, the
  reasoning part of the cold-start format (``|special_token|reasoning|special_token|…``).
  No chain of thought, or no countable word in it: ``None`` (could not be scored).
* Numbers, math and code are not words. Removed first: fenced and inline code (```…```,
  `…`), display and inline LaTeX (``$$…$$``, ``\\[…\\]``, ``\\(…\\)``), then every
  whitespace-separated chunk that holds a digit or a math/code character (``2+3=5``,
  ``$x$``, ``\\frac``, ``x^2``, ``f(x)``, ``np.sum``, ``snake_case``, URLs), words longer than
  ``MAX_WORD_LETTERS`` (hashes, base64, "aaaa…"), and one-letter
  Latin or Greek words (``x``, ``n``, ``π``: in a chain of thought nearly always variables;
  the few one-letter words, "a", "I", "y", carry no language signal anyway), and function
  names written without a backslash (``MATH_NAMES``: ``sin x``, ``log 2``). Emoji and
  symbols are not letters, so never words.
* Chinese has no spaces: each Han character counts as one word (as does each kana
  character). Characters, not segmented words, because segmentation needs a dictionary-based
  segmenter whose output changes with its dictionary and version, and a character count needs
  nothing. The cost: a Chinese word is about 1.5 characters, so Chinese weighs a little more
  per idea than a space-separated language; a pure chain still scores 1.0 or 0.0, and the
  score still falls as mixing grows.
* Scripts decide where they can: Han characters are Chinese (Japanese when the sentence has
  kana), kana are Japanese, Hangul Korean, Greek Greek, and so on (``SCRIPT_LANGUAGES``);
  letters of a script no language in the table uses count as words that are never in the
  target language.
* Where scripts do not decide (English vs Spanish: both Latin; Russian vs Ukrainian), the
  lingua language identifier (lingua-language-detector, rule-based filtering then character
  n-gram models, shipped in its wheel: no download, no randomness) names the language of
  each sentence's words, choosing among the languages of the table that use that script.
  Sentence by sentence, not word by word: single words are too short to identify ("no",
  "a" and "de" are words in several languages); and short sentences ("Hmm.", "OK.") are
  joined with the next ones into groups of at least ``MIN_WORDS_IDENTIFIED`` words. On
  synthetic chains of thought switching between English and Spanish sentences, the score
  is off by 0.025 on average, and 294 of 300 pure English chains full of short sentences
  score exactly 1.0 (identifying each sentence alone: 0.021 and 94 of 300). It is called
  only when the target language shares its script with other languages of the table: for
  an English target (Latin, like Spanish) it is, for a Chinese one never.

Mixing (R1 §2.3.2: R1-Zero's chains of thought mix languages) is measured with the same
count, so that the reward RL trains on and the mixing rate evaluation reports cannot drift
apart: a chain of thought *mixes* when not all of its words are in the target language
(``mixes_languages``: share < 1, i.e. the reward is below its maximum). A chain written
wholly in another language counts too: for the reader who asked in the target language it
is no more readable.

Why lingua: it is the most accurate identifier on short text among the maintained,
offline, deterministic candidates we measured (on short chain-of-thought sentences,
restricted to the seven Latin languages below: lingua 38/40 English and Spanish sentences
right, py3langid 32/40; langdetect is unmaintained since 2021 and random unless seeded).
Its price: a 96 MB wheel (all 75 language models) and ~30 MB of memory per language model
loaded (~0.2 GB once Latin text is identified), loaded lazily on first use (~1 s).

Cost: linear in the completion's length. A 1 MB chain of thought is scored in about a
second on one CPU core (``tests/test_language_reward.py`` holds it to ``MAX_SECONDS_PER_MB``),
because the identifier is called at most ``MAX_IDENTIFICATIONS`` times per completion
(beyond that, neighbouring sentences are identified together) and its answers are cached.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import regex

from r1lab.rewards.contract import as_text, column
from r1lab.template import parse_completion

# ISO 639-1 codes this reward knows, grouped by the script they are written in (Unicode
# script names; "Kana" is Hiragana and Katakana). Adding a language lingua knows to its
# script's tuple makes it a valid target.
SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Latin": ("en", "es", "fr", "de", "it", "pt", "nl"),
    "Cyrillic": ("ru", "uk"),
    "Arabic": ("ar", "fa"),
    "Devanagari": ("hi", "mr"),
    "Greek": ("el",),
    "Hebrew": ("he",),
    "Hangul": ("ko",),
    "Thai": ("th",),
    "Han": ("zh",),
    "Kana": ("ja",),
}
LANGUAGES: dict[str, str] = {
    code: script for script, codes in SCRIPT_LANGUAGES.items() for code in codes
}

# Longer runs of letters are not words (base64, hashes, "aaaa…"); German compounds stay
# below it. It also keeps the identifier, slow on one very long word, fast.
MAX_WORD_LETTERS = 64
# Sentences shorter than this are identified together with their neighbours: "Hmm.",
# "OK." or "So it is one." are too short for any identifier (lingua calls the last
# Italian), and a chain of thought is full of them.
MIN_WORDS_IDENTIFIED = 5
# Identifier calls per completion at most (a 32k-token chain of thought has ~2,000
# sentences); beyond it, consecutive sentences are identified together. Bounds the cost of
# a huge completion at ~0.1 ms per call.
MAX_IDENTIFICATIONS = 2048
# The time bound the tests hold a 1 MB completion to, on one CPU core.
MAX_SECONDS_PER_MB = 5.0
_CACHE_SIZE = 1 << 16

# Spans that are code or math, whatever they contain: (opening, closing, replacement).
# A display block also ends a sentence; an inline span does not.
_SPANS = (("```", "```", "\n"), ("$$", "$$", "\n"), ("\\[", "\\]", "\n"), ("\\(", "\\)", " "))
_INLINE_CODE = regex.compile(r"`[^`\n]*`")
_KANA = r"\p{Hiragana}\p{Katakana}\u30fc"  # ー (U+30FC) is kana but of script Common
_CJK = r"\p{Han}" + _KANA
# A chunk: a run of characters that are neither spaces nor CJK (Chinese has no spaces, so
# "答案是14" holds the chunk "14"), nor CJK punctuation and full-width forms.
_CHUNK = regex.compile(rf"[^\s{_CJK}\u3000-\u303f\uff01-\uff65]+")
_MATH_OR_CODE = regex.compile(r"[\d_=+*/^<>\\{}\[\]|#@%&~$`]|\p{L}\(|\w[.:]\w")
_SENTENCE_END = ".!?;:…。！？；："
_LETTERS = rf"[[\p{{L}}\p{{M}}]--[{_CJK}]]"
_TOKEN = regex.compile(
    rf"(?P<stop>[{_SENTENCE_END}\n]+)|(?P<han>\p{{Han}}+)"
    rf"|(?P<kana>[{_KANA}]+)|(?P<word>{_LETTERS}+(?:['’]{_LETTERS}+)*)",
    regex.V1,
)
_SCRIPT = regex.compile(
    "|".join(rf"(?P<{s}>\p{{Script={s}}})" for s in SCRIPT_LANGUAGES if s not in ("Han", "Kana"))
    + r"|(?P<Symbol>[\p{Script=Common}\p{Script=Inherited}])"
)
_VARIABLE_SCRIPTS = ("Latin", "Greek")  # where a one-letter word is a math variable
# Function names written without a backslash ("sin x", "log 2") are math, not English.
MATH_NAMES = frozenset({"sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "lg", "exp",
                        "max", "min", "mod", "gcd", "lcm", "lim", "det"})
# RL samples the same sentences again and again: (script, text) -> language.
_identified: dict[tuple[str, str], str | None] = {}


def language_consistency_reward(completions, target_lang=None, **columns) -> list[float | None]:
    """Share of the words of each chain of thought that are in ``target_lang`` (R1 §2.3.2).

    ``target_lang``: one ISO 639-1 code per completion (a dataset column, as TRL passes it)
    or one code for all; see ``LANGUAGES`` for the codes known. ``None`` in the column scores
    that completion ``None``. Counting rules: see the module docstring. Never raises on any
    completion text; raises ``ValueError`` for an unknown code or a missing column.

    >>> language_consistency_reward([
    ...     "<think>let me see: 3*4 = 12。所以 2+12 = 14</think><answer>14</answer>",
    ...     "<think>三乘四等于十二。所以答案是 14</think><answer>14</answer>",
    ...     "<think>3*4 = 12, 2+12 = 14</think><answer>14</answer>",
    ...     "<answer>14</answer>",
    ... ], target_lang="zh")
    [0.4, 1.0, None, None]
    """
    n = len(completions)
    # Without the column, the error lists the columns TRL did pass.
    given = columns if target_lang is None else {"target_lang": target_lang}
    targets = [None if code is None else checked_language(code, f"`target_lang` of completion {i}")
               for i, code in enumerate(column(given, "target_lang", n))]
    prompts = column(columns, "prompts", n, required=False)
    scores: list[float | None] = []
    for completion, prompt, target in zip(completions, prompts, targets):
        cot = parse_completion(as_text(completion), as_text(prompt) or None).think
        no_score = cot is None or target is None
        scores.append(None if no_score else target_language_share(cot, target))
    return scores


def target_language_share(text: str, target: str) -> float | None:
    """Share of the words of ``text`` that are in language ``target``, an ISO 639-1 code of
    ``LANGUAGES`` (None: no words). The reward without the parsing: the score of one chain
    of thought, e.g. to measure mixing.

    >>> target_language_share("so the answer is 14。所以答案是 14", "en")  # 4 words of 4 + 5
    0.4444444444444444
    """
    target = checked_language(target, "`target`")
    script = LANGUAGES[target]
    identify = len(SCRIPT_LANGUAGES[script]) > 1
    total = hits = 0
    to_identify: list[list[str]] = []  # per sentence, its words in the target's script
    for han, kana, words in _sentences(text):
        total += han + kana + len(words)
        # Han characters are Japanese where kana sit beside them, else Chinese.
        if target == "zh" and not kana:
            hits += han
        elif target == "ja" and kana:
            hits += han + kana
        same_script = [word for word, word_script in words if word_script == script]
        if identify and same_script:
            to_identify.append(same_script)
        else:
            hits += len(same_script)
    hits += _words_identified_as(target, to_identify)
    return hits / total if total else None


def mixes_languages(text: str | None, target: str) -> bool:
    """True when the chain of thought ``text`` has words outside language ``target``:
    ``target_language_share(text, target) < 1``, the one mixing measure of r1lab (the
    evaluation's mixing rate is the share of reasoning samples for which it holds). False
    for no text or a text without words (nothing to read, so nothing mixed).

    >>> mixes_languages("三乘四 equals 十二", "zh"), mixes_languages("三乘四等于十二", "zh")
    (True, False)
    >>> mixes_languages("3*4=12, so the answer is 14", "zh")  # wholly English: not Chinese
    True
    >>> mixes_languages(r"答案是 \\frac{1}{2} x", "zh")  # math is not a word
    False
    """
    if not isinstance(text, str):
        return False
    share = target_language_share(text, target)
    return share is not None and share < 1


def _sentences(text: str) -> Iterator[tuple[int, int, list[tuple[str, str]]]]:
    """Per sentence of ``text``'s prose: its Han characters, its kana, and its other words
    with their scripts (math variables and symbols left out)."""
    han = kana = 0
    words: list[tuple[str, str]] = []
    for token in _TOKEN.finditer(_prose(text)):
        kind = token.lastgroup
        if kind == "stop":
            yield han, kana, words
            han, kana, words = 0, 0, []
        elif kind == "han":
            han += len(token.group())
        elif kind == "kana":
            kana += len(token.group())
        else:
            word = token.group()
            script = _script(word[0])
            if _is_word(word, script):
                words.append((word, script))
    yield han, kana, words


def _prose(text: str) -> str:
    """``text`` without its code, math and numbers (each replaced by a space, or by a line
    break where it ended a sentence)."""
    for opening, closing, replacement in _SPANS:
        text = _without_spans(text, opening, closing, replacement)
    text = _INLINE_CODE.sub(" ", text)
    return _CHUNK.sub(_prose_chunk, text)


def _without_spans(text: str, opening: str, closing: str, replacement: str) -> str:
    """Replace every ``opening…closing`` span. A linear scan: once no closing delimiter
    follows an opening one, none follows any later one either (a backtracking regular
    expression would rescan the rest of the text from every unclosed opening)."""
    parts, i = [], 0
    while (start := text.find(opening, i)) != -1:
        end = text.find(closing, start + len(opening))
        if end == -1:
            break
        parts += [text[i:start], replacement]
        i = end + len(closing)
    parts.append(text[i:])
    return "".join(parts)


def _prose_chunk(chunk: regex.Match) -> str:
    text = chunk.group()
    if not _MATH_OR_CODE.search(text):
        return text
    return " " + text[-1] if text[-1] in _SENTENCE_END else " "  # keep a sentence's end


def _is_word(letters: str, script: str) -> bool:
    """False for math letters, one-letter variables, function names and overlong runs of
    letters."""
    if script == "Symbol" or len(letters) > MAX_WORD_LETTERS or letters.lower() in MATH_NAMES:
        return False
    return len(letters) > 1 or script not in _VARIABLE_SCRIPTS


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str:
    """The script of a letter: a key of ``SCRIPT_LANGUAGES``, "Symbol" for math letters and
    marks (ℝ, 𝐀, a lone accent), "Other" for scripts no language of the table uses."""
    match = _SCRIPT.match(char)
    return match.lastgroup if match else "Other"


def _words_identified_as(target: str, sentences: list[list[str]]) -> int:
    """How many of the sentences' words the identifier puts in ``target``."""
    hits = 0
    for words in _identification_groups(sentences):
        if _identify(LANGUAGES[target], " ".join(words)) == target:
            hits += len(words)
    return hits


def _identification_groups(sentences: list[list[str]]) -> list[list[str]]:
    """Consecutive sentences joined until each group has ``MIN_WORDS_IDENTIFIED`` words (a
    trailing shorter group joins the one before), and more when there would otherwise be
    more than ``MAX_IDENTIFICATIONS`` groups.

    >>> _identification_groups([["Hmm"], ["Wait"], ["so", "it", "is", "one"], ["Sí"]])
    [['Hmm', 'Wait', 'so', 'it', 'is', 'one', 'Sí']]
    """
    n_words = sum(len(sentence) for sentence in sentences)
    least = max(MIN_WORDS_IDENTIFIED, math.ceil(n_words / MAX_IDENTIFICATIONS))
    groups: list[list[str]] = []
    group: list[str] = []
    for sentence in sentences:
        group += sentence
        if len(group) >= least:
            groups.append(group)
            group = []
    if group and groups:
        groups[-1] += group
    elif group:
        groups.append(group)
    return groups


def _identify(script: str, text: str) -> str | None:
    """The language of ``text`` among ``SCRIPT_LANGUAGES[script]`` (None: undecided)."""
    key = (script, text)
    if key not in _identified:
        if len(_identified) >= _CACHE_SIZE:
            _identified.clear()
        language = _detector(script).detect_language_of(text)
        _identified[key] = None if language is None else language.iso_code_639_1.name.lower()
    return _identified[key]


@functools.lru_cache(maxsize=None)
def _detector(script: str):
    """A lingua detector for the languages of ``script``; models load on first use."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
                 for code in SCRIPT_LANGUAGES[script]]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def checked_language(code, what: str) -> str:
    """``code`` as a key of ``LANGUAGES`` (case and surrounding spaces ignored)."""
    if isinstance(code, str) and code.strip().lower() in LANGUAGES:
        return code.strip().lower()
    raise ValueError(
        f"{what} must be an ISO 639-1 code of {sorted(LANGUAGES)}; got {code!r}. Map the "
        f"dataset's language column onto these codes (e.g. 'zh-CN' -> 'zh'), or add the "
        f"language to r1lab.rewards.language.SCRIPT_LANGUAGES."
    )
