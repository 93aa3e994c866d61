"""Writing with trained models, one module per task: regulated and free poems
(:mod:`~seq2text.generation.poems`), 下联 for 上联 (:mod:`~seq2text.generation.couplets`) and
free text from any language model (:mod:`~seq2text.generation.text`).  The
:class:`~seq2text.generator.Generator` API picks the one a model can do."""
