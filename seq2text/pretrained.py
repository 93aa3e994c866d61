"""Model folders: finding one (bundled name, model folder, run folder) and loading it once.

A model folder holds ``model.safetensors``, ``recipe.yaml`` and ``tokenizer/`` (a checkpoint,
or ``runs/<name>/averaged``), and may hold learned tables beside the weights: ``tones.json``
(the tones of characters, for verse) and ``history.json`` (the validations of its training
run, for learning curves); a translation model's tokenizer folder may hold ``shortlist.json``
(the target tokens of its training data, for ``translate --shortlist``).  A bundled model keeps
its weights, recipe, tables and ``card.json`` in ``seq2text/pretrained/<name>/`` and its
tokenizer in the repository's ``vocab/<name>/``, installed as ``seq2text.vocab``.

``-m`` also takes a run folder (``runs/x``: its averaged model if there is one, else its
latest checkpoint) and a run's ``checkpoints/latest`` pointer.

:func:`load_pretrained` returns one :class:`Pretrained` per folder and device, cached, so the
layers above pass the loaded object down instead of loading a name again.  Weights may be
stored in half precision; they are loaded into a float32 model and must be finite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any, Optional

import torch

from seq2text.data.labels import load_labels
from seq2text.data.textfile import read_json
from seq2text.device import resolve_device
from seq2text.errors import Seq2TextError
from seq2text.recipe import Recipe, load_recipe
from seq2text.tokenizers import Tokenizer, has_tokenizers, load_tokenizers

BUNDLED_ROOT = files("seq2text") / "pretrained"
VOCAB_ROOT = files("seq2text.vocab")
CARD_FILE, TONES_FILE, HISTORY_FILE = "card.json", "tones.json", "history.json"
MAX_TABLE_BYTES = 64 * 2**20  # a learned table larger than this is not one of ours


@dataclass
class ModelFolder:
    """Where one model's files are: ``weights`` (with ``recipe.yaml``) and ``tokenizer``."""

    name: str
    weights: Path
    tokenizer: Path

    @cached_property
    def recipe(self) -> Recipe:
        return load_recipe(self.weights / "recipe.yaml", check_files=False)


def read_json_file(path: Path) -> Any:
    """A small JSON file of a model folder; one-line errors for unreadable or broken files."""
    return read_json(path, MAX_TABLE_BYTES)


def bundled_models() -> list[dict]:
    """The cards of the models shipped with the package: name, task, description, size_mb, ..."""
    cards = []
    for folder in sorted(Path(str(BUNDLED_ROOT)).iterdir()):
        if (folder / CARD_FILE).is_file():
            card = read_json_file(folder / CARD_FILE)
            files_of = [f for d in (folder, Path(str(VOCAB_ROOT)) / folder.name) for f in d.rglob("*") if f.is_file()]
            cards.append({"name": folder.name, **card, "size_mb": sum(f.stat().st_size for f in files_of) / 2**20})
    return cards


def find_model(name_or_path: str | Path) -> ModelFolder:
    """A bundled model by name, else a model folder, a run folder or a ``latest`` pointer;
    one-line error naming what was tried."""
    from seq2text.training.checkpoint import MODEL_FILE, latest_checkpoint, read_pointer

    path = Path(name_or_path)
    if path.name == "latest" and path.is_file():
        path = read_pointer(path)
    elif (path / "checkpoints" / "latest").exists() and not (path / MODEL_FILE).is_file():
        averaged = path / "averaged"
        path = averaged if (averaged / MODEL_FILE).is_file() else latest_checkpoint(path)
    if (path / MODEL_FILE).is_file():
        tokenizer = path / "tokenizer"
        if not has_tokenizers(tokenizer):
            raise Seq2TextError(f"{path}: model folder without a tokenizer/ folder")
        return ModelFolder(path.name, path, tokenizer)
    bundled = Path(str(BUNDLED_ROOT)) / str(name_or_path)
    if "/" not in str(name_or_path) and (bundled / CARD_FILE).is_file():
        return ModelFolder(str(name_or_path), bundled, Path(str(VOCAB_ROOT)) / str(name_or_path))
    names = ", ".join(card["name"] for card in bundled_models()) or "none"
    raise Seq2TextError(f"{name_or_path}: neither a bundled model ({names}) nor a model folder "
                        f"(model.safetensors) or run folder (checkpoints/latest)")


@dataclass(eq=False)
class Pretrained:
    """A loaded model folder: its ``recipe``, the network in eval mode on its device, its
    tokenizers, and the learned tables beside the weights (read when first asked for)."""

    name: str
    folder: ModelFolder
    recipe: Recipe
    model: torch.nn.Module
    src: Tokenizer
    tgt: Tokenizer
    labels: list[str] = field(default_factory=list)  # classification: the label names, in output order

    @property
    def task(self) -> str:
        return self.recipe.task

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def shares_tokenizers(self, other: "Pretrained") -> bool:
        """Whether ``other`` maps text to ids and back as this model does (source and target)."""
        return (self.src.fingerprint(), self.tgt.fingerprint()) == (other.src.fingerprint(), other.tgt.fingerprint())

    @cached_property
    def card(self) -> dict:
        """The bundled model's card (empty for a trained folder)."""
        path = self.folder.weights / CARD_FILE
        card = read_json_file(path) if path.is_file() else {}
        if not isinstance(card, dict):
            raise Seq2TextError(f"{path}: expected a JSON object")
        return card

    @cached_property
    def tones(self):
        """The :class:`~seq2text.verse.tones.ToneTable` learned for this model."""
        from seq2text.verse.tones import ToneTable

        path = self.folder.weights / TONES_FILE
        if not path.is_file():
            raise Seq2TextError(f"{path}: missing; write it with scripts/learn_tones.py {self.folder.weights}")
        return ToneTable.from_json(read_json_file(path), path)

    @cached_property
    def shortlist(self) -> Optional[torch.Tensor]:
        """The target ids ``(K,)`` a translation model's search scores (those of its training
        targets, saved beside its tokenizers), or None to score them all."""
        from seq2text.decoding.shortlist import load_shortlist

        return load_shortlist(self.folder.tokenizer, self.tgt.vocab_size)

    @cached_property
    def history_path(self) -> Optional[Path]:
        """Where the validation history of the model's run is: beside a bundled model's weights,
        or in its run folder (``runs/<name>`` above ``averaged`` or ``checkpoints/step-N``)."""
        weights = self.folder.weights
        for folder in (weights, weights.parent, weights.parent.parent):
            if (folder / HISTORY_FILE).is_file():
                return folder / HISTORY_FILE
        return None

    @cached_property
    def history(self) -> list[dict]:
        """The validations of the model's training run (empty when unknown)."""
        if self.history_path is None:
            return []
        return check_history(read_json_file(self.history_path), self.history_path)


def check_history(history: Any, where: Path) -> list[dict]:
    """``history`` if it is a list of validations (each a mapping of an integer ``step`` and
    numbers), else a one-line error naming ``where``."""
    if not isinstance(history, list):
        raise Seq2TextError(f"{where}: expected a list of validations")
    for number, entry in enumerate(history, start=1):
        if not isinstance(entry, dict) or type(entry.get("step")) is not int or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in entry.values()):
            raise Seq2TextError(f"{where}: validation {number} is not a mapping of a step and scores")
    return history


_LOADED: dict[tuple, Pretrained] = {}


def load_pretrained(name_or_path: str | Path | Pretrained, device: str | torch.device = "cpu") -> Pretrained:
    """The model ``name_or_path`` names, loaded on ``device``: once per folder, weights file and
    device (later calls return the same object).  A :class:`Pretrained` is returned as it is."""
    if isinstance(name_or_path, Pretrained):
        return name_or_path
    from seq2text.models import build_model
    from seq2text.training.checkpoint import MODEL_FILE, load_weights

    device = resolve_device(device)
    folder = find_model(name_or_path)
    weights_file = folder.weights / MODEL_FILE
    key = (str(weights_file.resolve()), weights_file.stat().st_mtime_ns, str(device))
    if key in _LOADED:
        return _LOADED[key]
    recipe = folder.recipe
    src, tgt = load_tokenizers(folder.tokenizer)
    labels = load_labels(folder.tokenizer) if recipe.task == "classification" else []
    model = build_model(recipe, src.vocab_size, tgt.vocab_size, len(labels))
    load_weights(folder.weights, model)
    try:
        model = model.to(device).eval()
    except (RuntimeError, AssertionError) as err:
        raise Seq2TextError(f"device {device}: {str(err).splitlines()[0]}") from None
    loaded = Pretrained(str(name_or_path), folder, recipe, model, src, tgt, labels)
    _LOADED[key] = loaded
    return loaded
