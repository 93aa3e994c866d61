"""Finding trained models: bundled ones by name, or any model folder written by training.

A model folder holds ``model.safetensors``, ``recipe.yaml`` and ``tokenizer/`` (a checkpoint, or
``runs/<name>/averaged``).  A bundled model keeps its weights, recipe and ``card.json`` in
``seq2text/pretrained/<name>/`` and its tokenizer in the repository's ``vocab/<name>/``,
installed as ``seq2text.vocab``.  Weights may be stored in half precision; they are loaded
into a float32 model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import torch

from seq2text.errors import Seq2TextError
from seq2text.recipe import Recipe, load_recipe
from seq2text.tokenizers import Tokenizer, has_tokenizers, load_tokenizers

BUNDLED_ROOT = files("seq2text") / "pretrained"
VOCAB_ROOT = files("seq2text.vocab")
CARD_FILE = "card.json"


@dataclass
class ModelFolder:
    """Where one model's files are: ``weights`` (with ``recipe.yaml``) and ``tokenizer``."""

    name: str
    weights: Path
    tokenizer: Path

    @property
    def recipe(self) -> Recipe:
        return load_recipe(self.weights / "recipe.yaml", check_files=False)


def bundled_models() -> list[dict]:
    """The cards of the models shipped with the package: name, task, description, size_mb, ..."""
    cards = []
    for folder in sorted(Path(str(BUNDLED_ROOT)).iterdir()):
        if (folder / CARD_FILE).is_file():
            card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
            files_of = [f for d in (folder, Path(str(VOCAB_ROOT)) / folder.name) for f in d.rglob("*") if f.is_file()]
            cards.append({"name": folder.name, **card, "size_mb": sum(f.stat().st_size for f in files_of) / 2**20})
    return cards


def find_model(name_or_path: str | Path) -> ModelFolder:
    """A bundled model by name, else a model folder; one-line error naming both lookups."""
    path = Path(name_or_path)
    if (path / "model.safetensors").is_file():
        tokenizer = path / "tokenizer"
        if not has_tokenizers(tokenizer):
            raise Seq2TextError(f"{path}: model folder without a tokenizer/ folder")
        return ModelFolder(path.name, path, tokenizer)
    bundled = Path(str(BUNDLED_ROOT)) / str(name_or_path)
    if "/" not in str(name_or_path) and (bundled / CARD_FILE).is_file():
        return ModelFolder(str(name_or_path), bundled, Path(str(VOCAB_ROOT)) / str(name_or_path))
    names = ", ".join(card["name"] for card in bundled_models()) or "none"
    raise Seq2TextError(f"{name_or_path}: neither a bundled model ({names}) nor a folder with "
                        f"model.safetensors")


def load_model(name_or_path: str | Path, device: str | torch.device = "cpu"
               ) -> tuple[Recipe, torch.nn.Module, Tokenizer, Tokenizer]:
    """``(recipe, model in eval mode on device, source tokenizer, target tokenizer)``."""
    from seq2text.models import build_model
    from seq2text.training.checkpoint import load_weights

    folder = find_model(name_or_path)
    recipe = folder.recipe
    src, tgt = load_tokenizers(folder.tokenizer)
    model = build_model(recipe, src.vocab_size, tgt.vocab_size)
    load_weights(folder.weights, model)
    try:
        return recipe, model.to(device).eval(), src, tgt
    except (RuntimeError, AssertionError) as err:
        raise Seq2TextError(f"--device {device}: {str(err).splitlines()[0]}") from None
