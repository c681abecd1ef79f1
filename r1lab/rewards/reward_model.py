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
  when there is one; ``None`` for a completion or prompt it cannot read (not text, a chat
  whose last message has no text, text that is not valid Unicode), never an exception;
* bounded: a text longer than ``max_length`` tokens (default: the model's window,
  ``window``) loses its beginning, so its cost is bounded whatever the policy writes;
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
REWARD_MODEL_FOLDER = ("a sequence classifier with one label, its score (config.json: "
                       "architectures *ForSequenceClassification, one id2label), such as the "
                       "final/ of r1lab train tiny/reward_model_helpful")
"""What a folder or hub id named as a reward model must be (said by every refusal)."""


def view_of(completion: str, view: str) -> str:
    """The part of a completion a judge reads: the summary (``"summary"``) or all of it.

    >>> view_of("|special_token|16+1 = 17|special_token|17", "summary")
    '17'
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}; got {view!r}")
    return summary(completion) if view == "summary" else completion


def readable_text(item) -> str | None:
    """The text of a prompt or completion in either of TRL's shapes (``as_text``), or None
    when it has none: not a string or a chat, an empty chat, a last message with neither
    text content nor reasoning, text that cannot be encoded (a lone surrogate).

    >>> readable_text([{"role": "assistant", "content": "hi"}]), readable_text(b"hi")
    ('hi', None)
    >>> readable_text([{"role": "assistant", "content": None}]) is None
    True
    """
    if isinstance(item, str):
        text = item
    elif (isinstance(item, Sequence) and item and isinstance(item[-1], Mapping)
          and (isinstance(item[-1].get("content"), str) or as_text(item))):
        text = as_text(item)
    else:
        return None
    return text if _encodes(text) else None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _chat_turns(prompt) -> list | None:
    """A conversational prompt's turns as a chat template takes them, or None when a turn
    is not a ``{"role": str, "content": str}`` message."""
    turns = list(prompt)
    ok = all(isinstance(t, Mapping) and isinstance(t.get("role"), str)
             and isinstance(t.get("content"), str) and _encodes(t["content"]) for t in turns)
    return turns if ok else None


def window(config, tokenizer) -> int | None:
    """The most tokens a model reads: its position table (``max_position_embeddings``, or
    ``n_positions``) or its tokenizer's ``model_max_length``, whichever is smaller; None when
    neither says. A tokenizer that does not know its length says 10**30 (transformers'
    ``VERY_LARGE_INTEGER``) and is not counted.

    >>> from types import SimpleNamespace as Config
    >>> window(Config(max_position_embeddings=514), Config(model_max_length=512))
    512
    >>> window(Config(max_position_embeddings=512), Config(model_max_length=10**30))
    512
    """
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    sizes = [getattr(text, "max_position_embeddings", None), getattr(text, "n_positions", None),
             getattr(tokenizer, "model_max_length", None)]
    return min((s for s in sizes if isinstance(s, int) and not isinstance(s, bool)
                and 0 < s < 10**30), default=None)


def not_one_score(config) -> str | None:
    """Why a model config is not a reward model's (``REWARD_MODEL_FOLDER``), or None.

    >>> from types import SimpleNamespace as Config
    >>> not_one_score(Config(architectures=["LlamaForCausalLM"], num_labels=2))
    'is a LlamaForCausalLM (its config.json architectures), not a sequence classifier'
    >>> not_one_score(Config(architectures=["LlamaForSequenceClassification"], num_labels=1))
    """
    architectures = [str(a) for a in getattr(config, "architectures", None) or ()]
    if not architectures:
        return "names no architecture in its config.json"
    if not any(a.endswith("ForSequenceClassification") for a in architectures):
        return (f"is a {', '.join(architectures)} (its config.json architectures), not a "
                "sequence classifier")
    if config.num_labels != 1:
        return f"has {config.num_labels} labels; a reward model has one (a score)"
    return None


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
        if max_length is not None and (isinstance(max_length, bool)
                                       or not isinstance(max_length, int) or max_length < 1):
            raise ValueError(f"max_length must be an integer >= 1 (tokens) or None (the "
                             f"model's window); got {max_length!r}")
        kinds = (kinds,) if isinstance(kinds, str) else (None if kinds is None else tuple(kinds))
        if kinds is not None and not (kinds and all(isinstance(k, str) and k for k in kinds)):
            raise ValueError(f"kinds must name at least one kind (text), or be None to score "
                             f"every row; got {kinds!r}")
        self.model_name = model
        self.view = view
        self.kinds = kinds
        self.batch_size = batch_size
        self.max_length = max_length
        self.__name__ = name or f"reward_model_{view}"
        self._model = self._tokenizer = self._max_tokens = None

    _loaded: dict = {}
    """Model name -> (model, tokenizer): two judges of one model (two views) share it."""

    def problem(self) -> str | None:
        """Why this judge cannot score, read from the model's config and tokenizer only (no
        weights), or None: not a one-score model (``not_one_score``), ``max_length`` beyond
        the model's window, or no window known and no ``max_length``. The recipe check and
        the trainer build ask it, so a wrong folder is refused before any step."""
        from transformers import AutoConfig, AutoTokenizer

        try:
            config = AutoConfig.from_pretrained(self.model_name)
            tokenizer = AutoTokenizer.from_pretrained(self.model_name)
        except (OSError, ValueError, KeyError, TypeError) as error:
            lines = str(error).strip().splitlines() or [type(error).__name__]
            return f"cannot be read as a reward model ({lines[0]})"
        found = not_one_score(config)
        if found:
            return f"{found}; a reward model folder is {REWARD_MODEL_FOLDER}"
        try:
            self._token_limit(config, tokenizer)
        except ValueError as error:
            return str(error)
        return None

    def check(self) -> None:
        """``ValueError`` naming the model and its ``problem``, if it has one."""
        found = self.problem()
        if found:
            raise ValueError(f"reward model {self.model_name} {found}")

    def _token_limit(self, config, tokenizer) -> int:
        """The most tokens one text is given to the model: ``max_length``, at most the
        model's ``window``; the window when ``max_length`` is None."""
        known = window(config, tokenizer)
        if self.max_length is None:
            if known is None:
                raise ValueError("states no window (config max_position_embeddings, tokenizer "
                                 "model_max_length): set max_length, the most tokens it reads")
            return known
        if known is not None and self.max_length > known:
            raise ValueError(f"reads at most {known} tokens (its window); max_length "
                             f"{self.max_length} is beyond it: give at most {known}, or leave "
                             "max_length out for the window")
        return self.max_length

    def load(self):
        """The model and tokenizer (loaded once per model name, eval mode, on the GPU when
        there is one); ``ValueError`` for a model that is not a reward model."""
        if self._model is None and self.model_name in self._loaded:
            self._model, self._tokenizer = self._loaded[self.model_name]
        if self._model is None:
            import torch
            from transformers import (AutoConfig, AutoModelForSequenceClassification,
                                      AutoTokenizer)

            config = AutoConfig.from_pretrained(self.model_name)
            found = not_one_score(config)
            if found:
                raise ValueError(f"reward model {self.model_name} {found}; a reward model "
                                 f"folder is {REWARD_MODEL_FOLDER}")
            tokenizer = AutoTokenizer.from_pretrained(self.model_name)
            model = AutoModelForSequenceClassification.from_pretrained(self.model_name,
                                                                       config=config)
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            model.config.pad_token_id = tokenizer.pad_token_id
            # Too long a text loses its beginning, not its end: the end holds the answer (the
            # summary a helpfulness judge reads) and the end-of-text, and a sequence
            # classifier reads its score at the last token. Cutting the end would score a
            # text cut mid-sentence, which the model never saw in training; what is lost is
            # the start of the prompt, or of the reasoning when the prompt is gone already.
            tokenizer.truncation_side = "left"
            device = "cuda" if torch.cuda.is_available() else "cpu"
            self._model, self._tokenizer = model.to(device).eval(), tokenizer
            self._loaded[self.model_name] = (self._model, self._tokenizer)
        if self._max_tokens is None:
            try:
                self._max_tokens = self._token_limit(self._model.config, self._tokenizer)
            except ValueError as error:
                raise ValueError(f"reward model {self.model_name} {error}") from None
        return self._model, self._tokenizer

    def text(self, prompt, completion, question: str | None = None) -> str | None:
        """The text the model scores for one row (None when it cannot be read), then the
        end-of-text. A reward model with a chat template (a hub reward model) reads a chat:
        the user's ``question`` (or a conversational ``prompt``) and the view of the
        completion as the assistant's turn; one without (the tiny world's) reads the prompt
        and the view joined, as it was trained."""
        prompt_text, completion_text = readable_text(prompt), readable_text(completion)
        if prompt_text is None or completion_text is None:
            return None
        _, tokenizer = self.load()
        shown = view_of(completion_text, self.view)
        chat = getattr(tokenizer, "chat_template", None)
        if isinstance(prompt, str) and not (chat and isinstance(question, str)
                                            and _encodes(question)):
            text = prompt + shown
        else:
            turns = (_chat_turns(prompt) if not isinstance(prompt, str)
                     else [{"role": "user", "content": question}])
            if not chat or turns is None:
                return None
            text = self._apply_chat(tokenizer, turns + [{"role": "assistant", "content": shown}])
            if text is None:
                return None
        eos = tokenizer.eos_token or ""
        return text if text.endswith(eos) else text + eos

    @staticmethod
    def _apply_chat(tokenizer, turns: list) -> str | None:
        """The chat as the template writes it; None when the template refuses it (a role it
        does not take, turns out of order: its ``raise_exception``)."""
        from jinja2 import TemplateError

        try:
            text = tokenizer.apply_chat_template(turns, tokenize=False)
        except (TemplateError, TypeError, ValueError, KeyError):
            return None
        return text if isinstance(text, str) else None

    def scores(self, texts: list[str]) -> list[float]:
        """The model's score of each text, ``batch_size`` at a time, each text cut to its
        last ``max_length`` tokens (the window by default; see ``load``)."""
        import torch

        model, tokenizer = self.load()
        out: list[float] = []
        for start in range(0, len(texts), self.batch_size):
            batch = tokenizer(texts[start:start + self.batch_size], return_tensors="pt",
                              padding=True, padding_side="right", add_special_tokens=False,
                              truncation=True, max_length=self._max_tokens).to(model.device)
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
                f"kinds={self.kinds}, max_length={self.max_length}, name={self.__name__!r})")
