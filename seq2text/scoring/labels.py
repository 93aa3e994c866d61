"""Classifiers: label probabilities for many texts, and the scores of predicted labels.

:func:`predict` runs a :class:`~seq2text.models.classifier.RNNClassifier` over token ids in
batches of similar length; :func:`confusion` and :class:`ClassScores` turn gold and predicted
label ids into accuracy, macro-F1 (the unweighted mean of the labels' F1) and per-label
precision and recall.  Training validates with these, the :class:`~seq2text.classifier.Classifier`
API predicts with them, and ``seq2text evaluate`` reports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from seq2text.data.batching import pad
from seq2text.tokenizers import PAD


@dataclass
class Predictions:
    """``probabilities`` ``(N, L)`` in input order; ``attention``: per text the weights of its
    tokens (attention pooling only, else None)."""

    probabilities: torch.Tensor
    attention: Optional[list[list[float]]] = None


@torch.no_grad()
def predict(model, ids: Sequence[Sequence[int]], device: torch.device, batch_size: int = 64) -> Predictions:
    """Label probabilities of every text of ``ids`` (none may be empty), read in batches of
    ``batch_size`` sorted by length so that little is padded."""
    was_training = model.training
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    probabilities: list[Optional[torch.Tensor]] = [None] * len(ids)
    attention: list[list[float]] = [[] for _ in ids]
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        src = pad([ids[i] for i in chosen]).to(device)
        logits, weights = model(src, src != PAD)
        for row, index in enumerate(chosen):
            probabilities[index] = logits[row].float().softmax(-1).cpu()
            if weights is not None:
                attention[index] = weights[row, :len(ids[index])].float().cpu().tolist()
    model.train(was_training)
    stacked = torch.stack(probabilities) if ids else torch.empty(0)
    return Predictions(stacked, attention if model.pooling == "attention" else None)


def confusion(gold: Sequence[int], predicted: Sequence[int], labels: int) -> torch.Tensor:
    """``(L, L)`` counts: row = gold label, column = predicted label."""
    pairs = torch.tensor(list(gold), dtype=torch.long) * labels + torch.tensor(list(predicted), dtype=torch.long)
    return torch.bincount(pairs, minlength=labels * labels).reshape(labels, labels)


@dataclass
class ClassScores:
    """Scores (percent) from a confusion matrix ``(L, L)``."""

    matrix: torch.Tensor

    @property
    def accuracy(self) -> float:
        return 100.0 * float(self.matrix.diag().sum()) / max(1, int(self.matrix.sum()))

    def precision(self) -> list[float]:
        predicted = self.matrix.sum(0)
        return [100.0 * float(self.matrix[i, i]) / int(predicted[i]) if predicted[i] else 0.0
                for i in range(len(self.matrix))]

    def recall(self) -> list[float]:
        gold = self.matrix.sum(1)
        return [100.0 * float(self.matrix[i, i]) / int(gold[i]) if gold[i] else 0.0 for i in range(len(self.matrix))]

    def f1(self) -> list[float]:
        return [2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(self.precision(), self.recall())]

    @property
    def macro_f1(self) -> float:
        scores = self.f1()
        return sum(scores) / len(scores)
