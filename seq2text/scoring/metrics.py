"""Corpus scores of outputs against references through sacrebleu: BLEU, chrF and TER.

The numbers and signatures are those ``sacrebleu REF -i HYP -m bleu chrf ter`` prints for the
same files and options (``tokenize`` is BLEU's ``--tokenize``; ``char`` for couplets, where
TER also gets ``--ter-normalized --ter-asian-support``, which splits Chinese into characters);
``bootstrap`` > 0 adds the 95% confidence interval of ``--confidence --confidence-n N``.
"""

from __future__ import annotations

from typing import Sequence

from sacrebleu.metrics import BLEU, CHRF, TER


def metrics_for(tokenize: str = "13a") -> dict:
    """sacrebleu metric objects, as its CLI builds them for these options."""
    chinese = tokenize in ("char", "zh")
    return {"bleu": BLEU(tokenize=tokenize), "chrf": CHRF(), "ter": TER(normalized=chinese, asian_support=chinese)}


def text_scores(hypotheses: Sequence[str], references: Sequence[str], tokenize: str = "13a",
                bootstrap: int = 0) -> dict:
    """``{"bleu": .., "chrf": .., "ter": .., "signatures": {...}}`` and, with ``bootstrap``,
    ``"<metric>_mean"`` and ``"<metric>_ci"``: the bootstrap mean and the half-width of the 95%
    interval around it (sacrebleu's ``confidence_mean`` and ``confidence_var``)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} outputs but {len(references)} references")
    scores: dict = {"signatures": {}}
    for name, metric in metrics_for(tokenize).items():
        score = metric.corpus_score(list(hypotheses), [list(references)], n_bootstrap=max(1, bootstrap))
        scores[name] = score.score
        if bootstrap:  # sacrebleu keeps the bootstrap figures on the score object
            scores[f"{name}_mean"], scores[f"{name}_ci"] = float(score._mean), float(score._ci)
        scores["signatures"][name] = metric.get_signature().format()
    return scores


def sentence_bleu(hypothesis: str, reference: str, tokenize: str = "13a") -> float:
    """Smoothed sentence BLEU (sacrebleu's default exponential smoothing), for ranking."""
    return BLEU(tokenize=tokenize, effective_order=True).sentence_score(hypothesis, [reference]).score
