"""The tiny world's tokenizer: byte-pair encoding trained on the corpus, digits kept apart.

Two choices matter for a tiny model doing arithmetic:

* every digit is its own token (``Digits(individual_digits=True)``), so numbers are spelled
  the same way everywhere and the model can learn digit-wise arithmetic;
* merges may cross spaces (no whitespace pre-split): text that recurs verbatim, like the
  R1-Zero template, becomes a few tokens (a rendered 65-word prompt is 25 tokens, most of
  them the question's digits), so the model's context and compute go to the arithmetic.

The R1 tags and the cold-start marker are added tokens, so no merge ever glues them to the
text around them: a prompt ending in "Assistant:" tokenizes the same alone as inside a
training document.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from r1lab.tasks import EOS
from r1lab.template import SPECIAL_TOKEN, TAGS

ALPHABET = list("0123456789+-*()= .,:;?!") + ["？", "，", "。", "："]


def build_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> PreTrainedTokenizerFast:
    """Train a BPE tokenizer on ``texts`` and wrap it for transformers (pad = eos = EOS).

    >>> tok = build_tokenizer(["What is 12+3?<answer>15</answer>" + EOS] * 50, vocab_size=64)
    >>> tok.tokenize("12+3<answer>")
    ['1', '2', '+', '3', '<answer>']
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.Split(Regex(r" = |[+\-*()=]"), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Fuse()
    tokenizer.add_special_tokens([EOS])
    tokenizer.add_tokens([AddedToken(t, normalized=False, special=False) for t in (*TAGS, SPECIAL_TOKEN)])
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[EOS], initial_alphabet=ALPHABET, show_progress=False
    )
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token=EOS, pad_token=EOS, clean_up_tokenization_spaces=False
    )
