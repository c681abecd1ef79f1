"""The tiny world's models: corpus, tokenizer, pretraining and model cards of r1lab's own
base and student models (the task and its chains of thought are ``r1lab.tasks``).

``r1lab pretrain base --overwrite`` regenerates ``data/models/tiny-base`` from its seed;
``python -m r1lab.tiny.card data/models/tiny-base`` measures it and writes its card. Import
from the submodules: ``corpus``, ``tokenizer``, ``pretrain``, ``card``.
"""
