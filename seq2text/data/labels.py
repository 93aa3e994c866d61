"""The label set of a classification model: names taken from the training data, in a fixed order.

Saved as ``labels.json`` beside the model's tokenizer (``["negative", "positive"]``), so that a
model folder names its own outputs.  A recipe's ``data.label_names`` gives the names and their
order (the data's values, such as ``0``/``1``, are read as aliases of them); without it integer
labels sort as numbers (2 before 10), others as text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Sequence

from seq2text.atomic import write_text_atomic
from seq2text.textfile import read_json
from seq2text.errors import Seq2TextError, shown

LABELS_FILE = "labels.json"
MAX_LABEL_CHARS = 100
MAX_LABELS_BYTES = 2**20
INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits only: "²" and "--1" are names, not numbers


def check_label(label: str, where: str) -> None:
    """A one-line error naming ``where`` if ``label`` cannot name a class: it would break the
    one-line-per-text output."""
    problem = None
    if not label.strip():
        problem = "is empty"
    elif len(label) > MAX_LABEL_CHARS:
        problem = f"is over {MAX_LABEL_CHARS} characters"
    elif any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in label):
        problem = "holds a line break or control character"
    if problem:
        raise Seq2TextError(f"{where}: label {shown(label)} {problem}; a label must be one short line")


def label_names(labels: list[str], where: str = "training data", order: Sequence[str] = ()) -> list[str]:
    """The distinct ``labels`` in the model's order: as in ``order`` (a recipe's
    ``data.label_names``) where given, else sorted; a label that cannot be printed on one line is
    an error naming ``where``."""
    names = set(labels)
    for name in names:
        check_label(name, where)
    if order:
        return [name for name in dict.fromkeys(order) if name in names]
    numeric = all(INTEGER.fullmatch(name) for name in names)
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
    if not path.exists():
        raise Seq2TextError(f"{path}: missing (a classification model names its labels there)")
    labels = read_json(path, MAX_LABELS_BYTES)
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) for x in labels) \
            or len(set(labels)) != len(labels):
        raise Seq2TextError(f"{path}: expected a JSON list of two or more distinct label names")
    for label in labels:
        check_label(label, str(path))
    return labels
