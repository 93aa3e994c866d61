"""The Python API behind ``seq2text classify``: labels for texts from a trained classifier.

    >>> from seq2text import Classifier
    >>> Classifier.load("sentiment-zh").classify("质量很好，非常满意").label
    'positive'

A text longer than the recipe's ``data.max_length`` tokens is judged by its first
``max_length``, as in training (:attr:`Prediction.truncated` says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import torch

from seq2text.errors import Seq2TextError
from seq2text.scoring.labels import predict
from seq2text.pretrained import Pretrained, load_pretrained
from seq2text.tasks import require


@dataclass
class Prediction:
    """The most probable ``label`` of ``text`` with its ``probability``, every label's
    probability (``probabilities``, in the model's label order), and for attention pooling
    the ``tokens`` read with the ``attention`` weight each got."""

    text: str
    label: str
    probability: float
    probabilities: dict[str, float]
    tokens: list[str]
    attention: Optional[list[float]] = None
    truncated: int = 0  # the text's token count where it was cut to max_length, else 0

    def top(self, k: int) -> list[tuple[str, float]]:
        """The ``k`` most probable labels with their probabilities, most probable first."""
        return sorted(self.probabilities.items(), key=lambda item: -item[1])[:k]

    def to_dict(self, attention: bool = False) -> dict:
        """The prediction as ``--format jsonl`` and the HTTP API give it; with ``attention``, the
        tokens read and their weights (attention pooling)."""
        found = {"label": self.label, "probability": round(self.probability, 4),
                 "probabilities": {label: round(p, 4) for label, p in self.probabilities.items()}}
        if attention:
            found["attention"] = {"tokens": self.tokens, "weights": [round(w, 4) for w in self.attention or []]}
        return found


class Classifier:
    """A classification model with its tokenizer and label names."""

    def __init__(self, loaded: Pretrained):
        self.loaded, self.model, self.tokenizer, self.labels = loaded, loaded.model, loaded.src, loaded.labels
        self.name, self.max_length = loaded.name, loaded.recipe.data.max_length

    @classmethod
    def load(cls, model: str | Path | Pretrained = "sentiment-zh", device: str | torch.device = "cpu") -> "Classifier":
        """A bundled model by name, a trained model or run folder, or a loaded
        :class:`~seq2text.pretrained.Pretrained`."""
        loaded = load_pretrained(model, device)
        require(loaded, "Classifier")
        return cls(loaded)

    def probabilities(self, texts: Sequence[str], labels: Sequence[str], names: dict[str, str] | None = None
                      ) -> torch.Tensor:
        """Every label's probability ``(N, L)`` for ``texts``, in the order of ``labels`` (another
        model's); ``names`` maps this model's labels onto those (a recipe's ``data.label_names``,
        for a model trained before the data's ``0``/``1`` had names)."""
        names = names or {}
        columns = [names.get(label, label) for label in self.labels]
        if sorted(columns) != sorted(labels):
            raise Seq2TextError(f"{self.name}: its labels are {', '.join(self.labels)}, not "
                                f"{', '.join(labels)}")
        found = torch.tensor([[p.probabilities[label] for label in self.labels] for p in self.classify(list(texts))])
        return found[:, [columns.index(label) for label in labels]]

    def classify(self, texts: str | Sequence[str], batch_size: int = 64) -> Prediction | list[Prediction]:
        """A :class:`Prediction` for each text, or for the one text a string is.  Empty texts
        (nothing but spaces) have no label: :class:`~seq2text.errors.Seq2TextError` names them."""
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        empty = [number for number, text in enumerate(texts, start=1) if not text.strip()]
        if empty:
            raise Seq2TextError(f"text {', '.join(map(str, empty[:5]))}: empty, nothing to classify")
        encoded = [self.tokenizer.encode(text.strip()) for text in texts]
        found = predict(self.model, [ids[:self.max_length] for ids in encoded], self.loaded.device, batch_size)
        predictions = []
        for index, (text, ids) in enumerate(zip(texts, encoded)):
            probabilities = found.probabilities[index].tolist()
            best = max(range(len(probabilities)), key=probabilities.__getitem__)
            predictions.append(Prediction(
                text, self.labels[best], probabilities[best], dict(zip(self.labels, probabilities)),
                self.tokenizer.pieces_of(ids[:self.max_length]), found.attention[index] if found.attention else None,
                len(ids) if len(ids) > self.max_length else 0))
        return predictions[0] if single else predictions
