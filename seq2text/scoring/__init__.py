"""Scoring what a model writes or predicts, for training's validations, the Python API and
``seq2text evaluate`` alike: perplexity (:mod:`~seq2text.scoring.perplexity`), corpus BLEU, chrF
and TER (:mod:`~seq2text.scoring.metrics`), and label predictions with their scores
(:mod:`~seq2text.scoring.labels`).  The ``evaluate`` command and its reports are
:mod:`seq2text.evaluation`."""
