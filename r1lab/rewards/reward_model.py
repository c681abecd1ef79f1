"""A trained reward model as a TRL reward function (R1 §2.3.4).

R1's all-scenario RL scores general prompts with reward models trained on preference pairs:
helpfulness judged "exclusively on the final summary", so that the judgement does not
disturb the reasoning, and harmlessness on "the entire response of the model, including
both the reasoning process and the summary". ``RewardModelReward`` is one such judge:

* ``view``: ``"summary"`` scores the prompt followed by the summary only
  (``r1lab.tasks.general.summary``), ``"whole"`` the prompt and the whole completion;
* ``kinds``: the values of the dataset column ``kind`` it scores (``None`` for other rows,
  which TRL leaves out of the sum), so rule rewards and reward models share one batch;
* batched (``batch_size`` texts per forward pass), the model loaded on first use, on the GPU
  when there is one; ``None`` for a completion or prompt it cannot read;
* a hub reward model with a chat template reads the row as a chat (the dataset's
  ``question`` as the user's turn), the form it was trained on.

TRL can take a sequence-classification model as a reward function itself, but it scores
``prompt + completion`` whole and every row; the summary-only view and the scope are what
this class adds. The text is built as the reward model was trained: ``prompt + view``
followed by the tokenizer's end-of-text, as ``trl.RewardTrainer`` appends it.

torch and transformers are imported on the first call, so ``r1lab.rewards`` stays
importable without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from r1lab.rewards.contract import as_text, column
from r1lab.tasks.general import summary

VIEWS = ("summary", "whole")


def view_of(completion: str, view: str) -> str:
    """The part of a completion a judge reads: the summary (``"summary"``) or all of it.

    >>> view_of("|special_token|16+1 = 17|special_token|17", "summary")
    '17'
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}; got {view!r}")
    return summary(completion) if view == "summary" else completion


def _readable(item) -> bool:
    return isinstance(item, str) or (isinstance(item, Sequence) and bool(item)
                                     and isinstance(item[-1], Mapping))


class RewardModelReward:
    """Score completions with a reward model (``AutoModelForSequenceClassification``,
    one label), TRL's reward-function contract.

    >>> judge = RewardModelReward("data/models/tiny-rm-helpful", view="summary",
    ...                           kinds=("request",), name="helpful_rm")
    >>> judge.__name__, judge.view
    ('helpful_rm', 'summary')
    """

    def __init__(self, model: str, view: str = "whole", kinds=None, batch_size: int = 64,
                 name: str | None = None, max_length: int | None = None):
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}; got {view!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")
        if not isinstance(model, str) or not model:
            raise ValueError(f"model must be a local folder or a hub id; got {model!r}")
        self.model_name = model
        self.view = view
        self.kinds = (kinds,) if isinstance(kinds, str) else (tuple(kinds) if kinds else None)
        self.batch_size = batch_size
        self.max_length = max_length
        self.__name__ = name or f"reward_model_{view}"
        self._model = self._tokenizer = None

    _loaded: dict = {}
    """Model name -> (model, tokenizer): two judges of one model (two views) share it."""

    def load(self):
        """The model and tokenizer (loaded once per model name, eval mode, on the GPU when
        there is one)."""
        if self._model is None and self.model_name in self._loaded:
            self._model, self._tokenizer = self._loaded[self.model_name]
        if self._model is None:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(self.model_name)
            model = AutoModelForSequenceClassification.from_pretrained(self.model_name)
            if model.config.num_labels != 1:
                raise ValueError(f"{self.model_name} has {model.config.num_labels} labels; a "
                                 "reward model has one (a score)")
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            model.config.pad_token_id = tokenizer.pad_token_id
            device = "cuda" if torch.cuda.is_available() else "cpu"
            self._model, self._tokenizer = model.to(device).eval(), tokenizer
            self._loaded[self.model_name] = (self._model, self._tokenizer)
        return self._model, self._tokenizer

    def text(self, prompt, completion, question: str | None = None) -> str | None:
        """The text the model scores for one row (None when it cannot be read), then the
        end-of-text. A reward model with a chat template (a hub reward model) reads a chat:
        the user's ``question`` (or a conversational ``prompt``) and the view of the
        completion as the assistant's turn; one without (the tiny world's) reads the prompt
        and the view joined, as it was trained."""
        if not (_readable(prompt) and _readable(completion)):
            return None
        _, tokenizer = self.load()
        shown = view_of(as_text(completion), self.view)
        chat = getattr(tokenizer, "chat_template", None)
        if isinstance(prompt, str) and not (chat and isinstance(question, str)):
            text = prompt + shown
        else:
            if not chat:
                return None
            turns = list(prompt) if not isinstance(prompt, str) else [
                {"role": "user", "content": question}]
            text = tokenizer.apply_chat_template(
                turns + [{"role": "assistant", "content": shown}], tokenize=False)
        eos = tokenizer.eos_token or ""
        return text if text.endswith(eos) else text + eos

    def scores(self, texts: list[str]) -> list[float]:
        """The model's score of each text, ``batch_size`` at a time."""
        import torch

        model, tokenizer = self.load()
        out: list[float] = []
        for start in range(0, len(texts), self.batch_size):
            batch = tokenizer(texts[start:start + self.batch_size], return_tensors="pt",
                              padding=True, padding_side="right", add_special_tokens=False,
                              truncation=self.max_length is not None,
                              max_length=self.max_length).to(model.device)
            with torch.inference_mode():
                out.extend(model(**batch).logits[:, 0].float().tolist())
        return out

    def __call__(self, completions, prompts=None, kind=None, question=None,
                 **columns) -> list[float | None]:
        n = len(completions)
        prompts = column({"prompts": prompts}, "prompts", n)
        kinds = column({"kind": kind}, "kind", n, required=False)
        questions = column({"question": question}, "question", n, required=False)
        texts = [None if (self.kinds and k is not None and k not in self.kinds)
                 else self.text(p, c, q)
                 for p, c, k, q in zip(prompts, completions, kinds, questions)]
        scored = [i for i, t in enumerate(texts) if t is not None]
        out: list[float | None] = [None] * n
        for i, score in zip(scored, self.scores([texts[i] for i in scored])):
            out[i] = score
        return out

    def __repr__(self) -> str:
        return (f"RewardModelReward({self.model_name!r}, view={self.view!r}, "
                f"kinds={self.kinds}, name={self.__name__!r})")
