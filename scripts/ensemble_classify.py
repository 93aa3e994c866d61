#!/usr/bin/env python3
"""What averaging several classifiers buys: the accuracy of each and of their mean probabilities.

    python scripts/ensemble_classify.py sentiment-zh runs/abl_max runs/abl_mean ...

Every model must have the same labels (or the values the first model's ``data.label_names``
names).  All are scored on the held-out split of the first model's recipe (for sentiment-zh: the 1,697 validation reviews), each text read as that model
reads it; prints one JSON line per model and one for the ensemble of them all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seq2text import Classifier  # noqa: E402
from seq2text.data.corpora import load_corpus  # noqa: E402
from seq2text.data.labels import label_ids  # noqa: E402
from seq2text.errors import Seq2TextError  # noqa: E402
from seq2text.scoring.labels import ClassScores, confusion  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="bundled names or trained model or run folders")
    args = parser.parse_args()
    try:
        ensemble(args.models)
    except Seq2TextError as err:  # a missing model, another task, other labels: one line, as seq2text says it
        sys.exit(f"error: {err.for_cli()}")


def ensemble(models: list[str]) -> None:
    """Print the scores of each of ``models`` and of their mean probabilities."""
    classifiers = [Classifier.load(model) for model in models]
    labels, recipe = classifiers[0].labels, classifiers[0].loaded.recipe
    corpus = load_corpus(recipe, held_out_only=True)
    split = corpus[corpus.held_out]
    gold = label_ids(split["label"], labels, corpus.held_out)
    total = torch.zeros(len(gold), len(labels))
    for model, classifier in zip(models, classifiers):
        probabilities = classifier.probabilities(split["text"], labels, recipe.data.label_names)
        total += probabilities
        print(json.dumps(_scores(model, gold, probabilities, len(labels))))
    print(json.dumps(_scores(f"mean of {len(classifiers)}", gold, total, len(labels))))


def _scores(name: str, gold: list[int], probabilities: torch.Tensor, labels: int) -> dict:
    scores = ClassScores(confusion(gold, probabilities.argmax(-1).tolist(), labels))
    return {"model": name, "accuracy": round(scores.accuracy, 2), "macro_f1": round(scores.macro_f1, 2)}


if __name__ == "__main__":
    main()
