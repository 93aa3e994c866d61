"""The label set of a classification model: names taken from the training data, in a fixed order.

Saved as ``labels.json`` beside the model's tokenizer (``["0", "1"]``), so that a model folder
names its own outputs.  Integer labels sort as numbers (2 before 10), others as text.
"""

from __future__ import annotations

import json
from pathlib import Path

from seq2text.atomic import write_text_atomic
from seq2text.errors import Seq2TextError

LABELS_FILE = "labels.json"


def label_names(labels: list[str]) -> list[str]:
    """The distinct ``labels`` in the model's order."""
    names = set(labels)
    numeric = all(name.lstrip("-").isdigit() for name in names)
    return sorted(names, key=lambda name: (int(name), name) if numeric else (0, name))


def label_ids(names: list[str], labels: list[str], where: str) -> list[int]:
    """The index of each label name of ``names`` in the model's ``labels``; names it does not
    know are an error naming ``where`` (a split or a file)."""
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted(set(names) - set(index))
    if unknown:
        raise Seq2TextError(f"{where}: labels the model does not know: {', '.join(unknown[:5])} "
                            f"(it knows {', '.join(labels)})")
    return [index[name] for name in names]


def save_labels(labels: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / LABELS_FILE, json.dumps(labels, ensure_ascii=False) + "\n")


def load_labels(folder: Path) -> list[str]:
    path = folder / LABELS_FILE
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Seq2TextError(f"{path}: missing (a classification model names its labels there)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise Seq2TextError(f"{path}: not a JSON list of label names ({err})") from None
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) for x in labels) \
            or len(set(labels)) != len(labels):
        raise Seq2TextError(f"{path}: expected a JSON list of two or more distinct label names")
    return labels
