"""Classifiers: label probabilities for many texts, and the scores of predicted labels.

:func:`predict` runs a :class:`~seq2text.models.classifier.RNNClassifier` over token ids in
batches of similar length; :func:`confusion` and :class:`ClassScores` turn gold and predicted
label ids into accuracy, macro-F1 (the unweighted mean of the labels' F1) and per-label
precision and recall.  Training validates with these, and :func:`evaluate_classification` is
``seq2text evaluate`` for classifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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


MISTAKES = 10  # the most confident mistakes shown
SHADED = 8  # held-out texts shown with their attention weights


def evaluate_classification(loaded, labelled: Optional[Path], figures: Optional[Path]):
    """Accuracy, macro-F1, per-label precision and recall, the confusion matrix, the most
    confident mistakes and (attention pooling) texts shaded by their weights, on the recipe's
    held-out split or on the ``labelled`` TSV/CSV file (the recipe's columns)."""
    import time

    from seq2text.classifier import Classifier
    from seq2text.data.corpora import load_corpus
    from seq2text.data.labels import label_ids
    from seq2text.evaluation.sections import Evaluation, Section, count_of, learning_curves
    from seq2text.plots import plot_confusion

    recipe, labels = loaded.recipe, loaded.labels
    if labelled is not None:
        data = recipe.data.model_copy(update={"train": str(labelled.resolve()), "valid": None, "test": None})
        corpus, split = load_corpus(recipe.model_copy(update={"data": data})), "train"
        where = str(labelled)
    else:
        corpus = load_corpus(recipe)
        split, where = corpus.held_out, f"{corpus.held_out} split"
    texts, gold_names = corpus[split]["text"], corpus[split]["label"]
    gold = label_ids(gold_names, labels, where)
    started = time.perf_counter()
    found = Classifier(loaded).classify(texts)
    per_second = len(texts) / (time.perf_counter() - started)
    predicted = [labels.index(prediction.label) for prediction in found]
    scores = ClassScores(confusion(gold, predicted, len(labels)))
    per_label = {label: {"precision": round(p, 2), "recall": round(r, 2), "f1": round(f, 2), "support": support}
                 for label, p, r, f, support in zip(labels, scores.precision(), scores.recall(), scores.f1(),
                                                   scores.matrix.sum(1).tolist())}
    summary = {"model": loaded.name, "task": "classification", "data": where, "examples": len(texts),
               "accuracy": round(scores.accuracy, 2), "macro_f1": round(scores.macro_f1, 2), "labels": per_label,
               "confusion": scores.matrix.tolist(), "texts_per_s": round(per_second, 1)}
    evaluation = Evaluation(summary, [], f"{loaded.name}: text classification on the {where}", language="zh")
    evaluation.add(Section("Scores", f"{count_of(len(texts), 'text')} ({where}), each read up to its first "
                           f"{recipe.data.max_length} tokens; macro-F1 is the unweighted mean of the labels' F1; "
                           f"{per_second:.0f} texts/s (tokenising included) in batches of 64 on {loaded.device}.",
                           ["accuracy %", "macro-F1 %"], [[f"{scores.accuracy:.2f}", f"{scores.macro_f1:.2f}"]]))
    figure = None
    if figures is not None:
        figure = figures / "confusion.png"
        plot_confusion(labels, scores.matrix, figure)
    evaluation.add(Section("Per label", "Precision and recall in percent; support: the texts with that gold label.",
                           ["label", "precision %", "recall %", "F1 %", "support"],
                           [[label, *values.values()] for label, values in per_label.items()]))
    evaluation.add(Section("Confusion matrix", "Rows: gold label; columns: predicted label.",
                           ["gold \\ predicted", *labels],
                           [[label, *row] for label, row in zip(labels, scores.matrix.tolist())],
                           [figure] if figure else []))
    wrong = sorted((i for i in range(len(texts)) if predicted[i] != gold[i]),
                   key=lambda i: -found[i].probability)[:MISTAKES]
    evaluation.add(Section("The most confident mistakes", "", ["text", "gold", "predicted", "probability"],
                           [[texts[i], gold_names[i], found[i].label, f"{found[i].probability:.3f}"]
                            for i in wrong]))
    if recipe.model.pooling == "attention":
        shown = [i for i in range(len(texts)) if len(found[i].tokens) <= 60][:SHADED]
        evaluation.add(Section(
            "What the attention read", "Texts shaded by the attention weight of each token (the darkest: the "
            "largest weight in that text; in report.md the three largest are in bold), with the gold and the "
            "predicted label.", shaded=[(f"gold {gold_names[i]}, predicted {found[i].label}",
                                         found[i].tokens, found[i].attention) for i in shown]))
    evaluation.add(learning_curves(loaded.history, figures))
    return evaluation
