"""Pretrain a tiny base model on the synthetic corpus: ``r1lab pretrain base``.

The model is a standard transformers architecture (Llama), saved with its tokenizer, so TRL,
PEFT, ``AutoModelForCausalLM.from_pretrained`` / ``AutoTokenizer`` and the full-scale code
treat it like any hub model. (Not Qwen2: transformers maps every Qwen2 folder to Qwen's own
byte-level tokenizer class, which would silently mangle this tokenizer's spaces and Chinese.)
Training is transformers' ``Trainer`` on packed blocks of corpus tokens.

``pretrain`` checks its request before building anything and raises ``PretrainError`` for
one it cannot honour: a corpus too small for two optimizer steps, a seed numpy refuses, a
missing tokenizer to reuse, a destination that is a file, or a folder that already holds
files (a shipped model included) unless ``overwrite=True``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from datasets import Dataset
from transformers import (
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    Trainer,
    TrainingArguments,
)

from r1lab.sources import REPO_ROOT, local_path
from r1lab.tiny.corpus import CorpusConfig, documents
from r1lab.tiny.tokenizer import build_tokenizer

SHIPPED_MODELS = REPO_ROOT / "data" / "models"
SEED_MAX = 2**32 - 1  # Trainer seeds numpy, whose seeds are 32-bit
TOKENS_PER_DOCUMENT = 40
"""About how many tokens one corpus document takes with the tiny tokenizer (measured on the
default corpus: 200 documents pack into 61 blocks of 128 tokens)."""


class PretrainError(ValueError):
    """A pretraining request that cannot run as asked; the message says what to change."""


@dataclass(frozen=True)
class PretrainConfig:
    """A tiny model's size and training budget. Presets: ``PRESETS``."""

    name: str = "tiny-base"
    """Folder name under data/models/."""
    hidden_size: int = 128
    """Width of the residual stream."""
    num_layers: int = 4
    """Transformer blocks."""
    num_heads: int = 4
    """Attention heads (head size = hidden_size / num_heads)."""
    num_kv_heads: int = 2
    """Key/value heads (grouped-query attention)."""
    intermediate_size: int = 384
    """Width of the MLP."""
    documents: int = 350_000
    """Corpus documents drawn (train split of the task)."""
    epochs: float = 1.0
    """Passes over the corpus."""
    learning_rate: float = 2e-3
    """Peak learning rate (AdamW, linear warm-up then cosine decay)."""
    batch_size: int = 16
    """Blocks per optimizer step."""
    block_size: int = 256
    """Tokens per packed block: long enough that a page of worked examples or a detailed,
    checked answer (the cold start's prompts) mostly fits one training window."""
    vocab_size: int = 1024
    """Upper bound for the BPE vocabulary (the corpus needs fewer)."""
    seed: int = 0
    """Seeds the corpus, the initialization and the data order."""
    tokenizer: str | None = None
    """Reuse the tokenizer saved in this folder instead of training one (a student must
    share its teacher's tokenizer for distillation)."""
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    """What the corpus contains."""


PRESETS = {
    "base": PretrainConfig(),
    # Same corpus and tokenizer as the base, narrower and shallower, trained on less text: the
    # small model the distillation stage (R1 §2.4) teaches.
    "student": PretrainConfig(
        name="tiny-student", hidden_size=96, num_layers=3, num_heads=4, num_kv_heads=2,
        intermediate_size=288, documents=150_000, tokenizer="data/models/tiny-base",
    ),
}


def min_documents(config: PretrainConfig) -> int:
    """The smallest corpus worth training on: enough tokens for two optimizer steps."""
    return math.ceil(2 * config.batch_size * config.block_size / TOKENS_PER_DOCUMENT)


def _tokenizer_folder(config: PretrainConfig) -> Path:
    """The folder of the tokenizer a preset reuses (relative paths: this folder, then the
    repository root, as everywhere in r1lab)."""
    return local_path(config.tokenizer) or Path(config.tokenizer)


def check_request(config: PretrainConfig, out_dir: Path, overwrite: bool = False) -> None:
    """Raise ``PretrainError`` if ``pretrain(config, out_dir)`` cannot run or would overwrite
    a model without ``overwrite``; nothing is built or written."""
    if config.documents < min_documents(config):
        raise PretrainError(
            f"too few documents to train ({config.documents}): two optimizer steps of "
            f"{config.batch_size} blocks of {config.block_size} tokens need about "
            f"{min_documents(config)}; use --documents {min_documents(config)} or more")
    if not 0 <= config.seed <= SEED_MAX:
        raise PretrainError(f"seed {config.seed} is out of range: use --seed (seed=) an integer "
                            f"from 0 to {SEED_MAX} (transformers' Trainer seeds numpy with it)")
    if config.tokenizer and not _tokenizer_folder(config).joinpath("tokenizer.json").is_file():
        raise PretrainError(f"{config.name} reuses the tokenizer in {config.tokenizer}, which is "
                            "missing: train the base first (r1lab pretrain base)")
    for path in (out_dir, *out_dir.parents):
        if path.exists() and not path.is_dir():
            where = "is a file" if path == out_dir else f"is inside the file {path}"
            raise PretrainError(f"output folder {out_dir} {where}: pass --out a new or empty "
                                "folder")
    if overwrite or not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    if out_dir.resolve().parent == SHIPPED_MODELS.resolve():
        raise PretrainError(f"{out_dir} holds the shipped {out_dir.name} model: pass --overwrite "
                            "to replace it (then re-measure its card), or --out NEW_FOLDER")
    if (out_dir / "config.json").exists():
        raise PretrainError(f"{out_dir} already holds a model: pass --overwrite to replace it, "
                            "or --out NEW_FOLDER")
    raise PretrainError(f"{out_dir} is not empty: pass --out a new or empty folder, or "
                        "--overwrite to write into it anyway")

def packed_blocks(tokenizer, texts: list[str], block_size: int) -> torch.Tensor:
    """Concatenate the tokenized documents and cut them into [N, block_size] blocks."""
    ids = [i for row in tokenizer(texts)["input_ids"] for i in row]
    n = len(ids) // block_size
    return torch.tensor(ids[: n * block_size]).view(n, block_size)  # [N, block]


def pretrain(config: PretrainConfig, out_dir: str | Path, max_steps: int = -1,
             progress: bool = True, overwrite: bool = False) -> Path:
    """Build the corpus and tokenizer, train the model, save both to ``out_dir``.

    Refuses (``PretrainError``) a folder that already holds files unless ``overwrite``:
    then the model's files are replaced and any others (an old card) are left as they are.
    """
    out_dir = Path(out_dir)
    check_request(config, out_dir, overwrite)
    start = time.time()
    texts = documents(config.documents, seed=config.seed, config=config.corpus)
    if config.tokenizer:
        tokenizer = AutoTokenizer.from_pretrained(str(_tokenizer_folder(config)))
    else:
        tokenizer = build_tokenizer(texts, config.vocab_size)
    blocks = packed_blocks(tokenizer, texts, config.block_size)  # [N, block]
    torch.manual_seed(config.seed)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer), hidden_size=config.hidden_size,
            num_hidden_layers=config.num_layers, num_attention_heads=config.num_heads,
            num_key_value_heads=config.num_kv_heads, intermediate_size=config.intermediate_size,
            max_position_embeddings=512, tie_word_embeddings=True,
            bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    args = TrainingArguments(
        output_dir=str(out_dir / "checkpoints"), per_device_train_batch_size=config.batch_size,
        num_train_epochs=config.epochs, max_steps=max_steps, learning_rate=config.learning_rate,
        lr_scheduler_type="cosine", warmup_steps=0.02, weight_decay=0.1, adam_beta2=0.98,
        logging_steps=50, save_strategy="no", report_to="none", use_cpu=True, seed=config.seed,
        disable_tqdm=not progress,
    )
    dataset = Dataset.from_dict({"input_ids": blocks, "labels": blocks})
    result = Trainer(model=model, args=args, train_dataset=dataset).train()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    meta = {
        "config": asdict(config), "parameters": sum(p.numel() for p in model.parameters()),
        "tokens": blocks.numel(), "train_loss": result.training_loss,
        "train_seconds": round(time.time() - start, 1), "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    (out_dir / "pretrain.json").write_text(json.dumps(meta, indent=2, default=str))
    return out_dir

