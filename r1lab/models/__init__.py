"""The tiny world's models: tokenizer, corpus and pretraining of r1lab's own base models.

``python -m r1lab.models.pretrain base`` regenerates ``data/models/tiny-base`` from its seed;
``python -m r1lab.models.card data/models/tiny-base`` measures it and writes its card.
"""

from r1lab.models.corpus import CorpusConfig, documents
from r1lab.models.pretrain import PRESETS, PretrainConfig, pretrain
from r1lab.models.tokenizer import build_tokenizer

__all__ = ["PRESETS", "CorpusConfig", "PretrainConfig", "build_tokenizer", "documents", "pretrain"]
