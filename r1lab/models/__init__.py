"""The tiny world's models: corpus, tokenizer and pretraining of r1lab's own base models.

``r1lab pretrain base`` (or ``python -m r1lab.models.pretrain base``) regenerates
``data/models/tiny-base`` from its seed; ``python -m r1lab.models.card data/models/tiny-base``
measures it and writes its card. Import from the submodules: ``corpus``, ``tokenizer``,
``pretrain``, ``card``.
"""
