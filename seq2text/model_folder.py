"""The model folder: the one module that knows its file names, finds it, reads and writes it.

A model folder holds ``model.safetensors`` (the weights), ``recipe.yaml`` and ``tokenizer/``
(a checkpoint ``runs/<name>/checkpoints/step-N``, or ``runs/<name>/averaged``), and may hold
learned tables beside the weights: ``tones.json`` (the tones of characters, for verse),
``tunes.json``, ``patterns.json`` and ``rhymes.json`` (the tunes a ci model writes, their
patterns, and the rhyme books of its characters, so that it writes without the data), and
``history.json`` (the validations of its training run, for learning curves).  A checkpoint
also holds the resume state, ``trainer.json`` and ``trainer.safetensors``
(:mod:`seq2text.training.checkpoint` reads and writes them).  An exported folder (``seq2text
export``) holds ``encoder.onnx``, ``step.onnx`` and ``export.json`` in place of the weights.

A bundled model keeps its weights, recipe, tables and ``card.json`` in
``seq2text/pretrained/<name>/`` and its tokenizer in the repository's ``vocab/<name>/``,
installed as ``seq2text.vocab``.  ``-m`` also takes a run folder (``runs/x``: its averaged model
if there is one, else its latest checkpoint) and a run's ``checkpoints/latest`` pointer.

Nothing here executes code from a file: weights are safetensors, the rest JSON and YAML, and
every damage is a one-line :class:`~seq2text.errors.Seq2TextError` naming the file.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from dataclasses import dataclass
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any, Iterator, Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seq2text.atomic import atomic_folder, write_text_atomic
from seq2text.textfile import read_json
from seq2text.errors import Seq2TextError, shown
from seq2text.recipe import Recipe, load_recipe
from seq2text.tokenizers import has_tokenizers
from seq2text.tokenizers.base import CONFIG_FILE

MODEL_FILE, RECIPE_FILE, TOKENIZER_DIR = "model.safetensors", "recipe.yaml", "tokenizer"
CARD_FILE, TONES_FILE, HISTORY_FILE = "card.json", "tones.json", "history.json"
TUNES_FILE = "tunes.json"  # the tunes a ci model writes and the form of each (seq2text.verse.tunes)
RHYMES_FILE = "rhymes.json"  # the rhyme books of the model's characters (seq2text.verse.rhymes)
PATTERNS_FILE = "patterns.json"  # the patterns of the tunes in tunes.json (seq2text.verse.tunes)
# What a model folder may hold beside its weights, recipe and tokenizer, learned or taken from
# the data when it was bundled: copies of a model (seq2text average) keep every one of them.
TABLE_FILES = (TONES_FILE, TUNES_FILE, RHYMES_FILE, PATTERNS_FILE)
STATE_FILE, STATE_TENSORS = "trainer.json", "trainer.safetensors"
EXPORT_FILE, ENCODER_FILE, STEP_FILE = "export.json", "encoder.onnx", "step.onnx"
CHECKPOINTS, POINTER, AVERAGED = "checkpoints", "latest", "averaged"  # inside a run folder
CHECKPOINT_NAME = re.compile(r"step-\d{7,}")
BUNDLED_ROOT = files("seq2text") / "pretrained"
VOCAB_ROOT = files("seq2text.vocab")
MAX_TABLE_BYTES = 64 * 2**20  # a learned table larger than this is not one of ours


@dataclass
class ModelFolder:
    """Where one model's files are: ``weights`` (with ``recipe.yaml`` and the tables) and
    ``tokenizer``; ``exported``: ONNX graphs in place of the weights."""

    name: str
    weights: Path
    tokenizer: Path
    exported: bool = False

    @cached_property
    def recipe(self) -> Recipe:
        return load_recipe(self.weights / RECIPE_FILE, check_files=False)

    def table(self, name: str) -> Optional[Any]:
        """The JSON table ``name`` beside the weights (``card.json``, ``tones.json``), or None."""
        path = self.weights / name
        return read_table(path) if path.is_file() else None

    @property
    def history_path(self) -> Optional[Path]:
        """Where the validation history of the model's run is: beside a bundled model's weights,
        or in its run folder (``runs/<name>`` above ``averaged`` or ``checkpoints/step-N``)."""
        for folder in (self.weights, self.weights.parent, self.weights.parent.parent):
            if (folder / HISTORY_FILE).is_file():
                return folder / HISTORY_FILE
        return None


def read_table(path: Path) -> Any:
    """A small JSON file of a model folder; one-line errors for unreadable or broken files."""
    return read_json(path, MAX_TABLE_BYTES)


def is_exported(path: str | Path) -> bool:
    """Whether ``path`` is a folder that ``seq2text export`` wrote."""
    return (Path(path) / EXPORT_FILE).is_file()


def bundled_models() -> list[dict]:
    """The cards of the models shipped with the package: name, task, description, size_mb, ..."""
    cards = []
    for folder in sorted(Path(str(BUNDLED_ROOT)).iterdir()):
        if (folder / CARD_FILE).is_file():
            card = read_table(folder / CARD_FILE)
            files_of = [f for d in (folder, Path(str(VOCAB_ROOT)) / folder.name) for f in d.rglob("*") if f.is_file()]
            cards.append({"name": folder.name, **card, "size_mb": sum(f.stat().st_size for f in files_of) / 2**20})
    return cards


def find_model(name_or_path: str | Path) -> ModelFolder:
    """A bundled model by name, else a model folder, an exported folder, a run folder or a
    ``latest`` pointer; one-line error naming what was tried."""
    path = Path(name_or_path)
    if path.name == POINTER and path.is_file():
        path = read_pointer(path)
    elif (path / CHECKPOINTS / POINTER).exists() and not (path / MODEL_FILE).is_file():
        averaged = path / AVERAGED
        path = averaged if (averaged / MODEL_FILE).is_file() else latest_checkpoint(path)
    if (path / MODEL_FILE).is_file() or is_exported(path):
        tokenizer = path / TOKENIZER_DIR
        if not has_tokenizers(tokenizer):
            config = tokenizer / CONFIG_FILE
            what = f"{config} is not a regular file" if config.exists() or config.is_symlink() else \
                f"{tokenizer}/ holds no tokenizer ({CONFIG_FILE} or src/ and tgt/)" if tokenizer.is_dir() else \
                f"no {TOKENIZER_DIR}/ folder"
            raise Seq2TextError(f"{path}: a model folder whose tokenizer is missing: {what}")
        return ModelFolder(path.name, path, tokenizer, exported=is_exported(path))
    bundled = Path(str(BUNDLED_ROOT)) / str(name_or_path)
    if "/" not in str(name_or_path) and (bundled / CARD_FILE).is_file():
        return ModelFolder(str(name_or_path), bundled, Path(str(VOCAB_ROOT)) / str(name_or_path))
    names = ", ".join(card["name"] for card in bundled_models()) or "none"
    raise Seq2TextError(f"{shown(name_or_path)}: neither a bundled model ({names}) nor a model folder "
                        f"({MODEL_FILE}, or {EXPORT_FILE}) or run folder ({CHECKPOINTS}/{POINTER})")


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


# --- a run's checkpoints ---------------------------------------------------------------------

def checkpoint_name(step: int) -> str:
    return f"step-{step:07d}"


def read_pointer(pointer: Path) -> Path:
    """The checkpoint folder a ``latest`` file names; one line if it is damaged."""
    try:
        name = pointer.read_bytes().decode("utf-8").strip()
    except IsADirectoryError:
        raise Seq2TextError(f"{pointer}: is a folder, expected the file naming the latest checkpoint") from None
    except UnicodeDecodeError:
        raise Seq2TextError(f"{pointer}: not UTF-8; expected the name of a checkpoint (step-N)") from None
    if not CHECKPOINT_NAME.fullmatch(name):
        raise Seq2TextError(f"{pointer}: names {name[:40]!r}, not a checkpoint folder (step-N)")
    folder = pointer.parent / name
    if not folder.is_dir():
        raise Seq2TextError(f"{pointer}: names {name}, which is not there")
    return folder


def latest_checkpoint(run_dir: Path) -> Optional[Path]:
    """The checkpoint named by ``run_dir/checkpoints/latest``, if there is one."""
    pointer = Path(run_dir) / CHECKPOINTS / POINTER
    if not pointer.exists() and not pointer.is_symlink():
        return None
    return read_pointer(pointer)


def point_to(folder: Path) -> None:
    """Make ``latest`` beside ``folder`` name it (what ``--resume`` reads)."""
    write_text_atomic(folder.parent / POINTER, folder.name + "\n")


# --- weights -----------------------------------------------------------------------------------

def stored_names(weights: dict[str, torch.Tensor]) -> list[str]:
    """State-dict names minus aliases: tied weights are one tensor under two names."""
    seen, names = set(), []
    for name, tensor in weights.items():
        key = (tensor.data_ptr(), tuple(tensor.shape))
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names


def save_weights(model: torch.nn.Module, folder: Path) -> None:
    """``model``'s weights as ``folder/model.safetensors`` (each tied tensor once)."""
    weights = model.state_dict()
    unique = {name: weights[name].detach().cpu().contiguous() for name in stored_names(weights)}
    save_file(unique, str(Path(folder) / MODEL_FILE), metadata={"format": "seq2text-1"})


def load_weights(folder: Path, model: torch.nn.Module) -> None:
    """Load ``model.safetensors`` into ``model``; one-line errors for foreign, broken or
    non-finite (NaN, inf) weights."""
    path = Path(folder) / MODEL_FILE
    try:
        weights = load_file(str(path))
    except FileNotFoundError:
        raise Seq2TextError(f"{path}: no such file (not a seq2text model folder?)") from None
    except (SafetensorError, OSError, ValueError) as err:
        raise Seq2TextError(f"{path}: not a readable safetensors file ({err})") from None
    expected = stored_names(model.state_dict())
    if set(weights) != set(expected):
        missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
        raise Seq2TextError(f"{path}: weights do not fit this model (missing {missing[:3]}, "
                            f"unexpected {unexpected[:3]})")
    broken = [name for name, tensor in weights.items()
              if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
    if broken:
        raise Seq2TextError(f"{path}: {len(broken)} weight tensors hold NaN or infinite values "
                            f"({broken[0]}, ...): the model diverged or the file is damaged")
    try:
        model.load_state_dict(weights, strict=False)  # aliases of tied weights are filled through sharing
    except RuntimeError as err:
        raise Seq2TextError(f"{path}: weights do not fit this model ({str(err).splitlines()[-1].strip()})") from None


# Every name a model folder (or an exported one) of ours holds: a folder holding anything else
# is the user's.
MODEL_NAMES = frozenset({MODEL_FILE, RECIPE_FILE, TOKENIZER_DIR, CARD_FILE, HISTORY_FILE, STATE_FILE, STATE_TENSORS,
                         *TABLE_FILES})
EXPORT_NAMES = frozenset({EXPORT_FILE, ENCODER_FILE, STEP_FILE, RECIPE_FILE, TOKENIZER_DIR})


def check_replaceable(target: Path, written: frozenset[str], force: bool = False) -> None:
    """Refuse to replace ``target`` when it holds anything but the ``written`` names of the
    folder about to replace it (notes, a subfolder, another kind of model): replacing a folder
    deletes all of it.  ``force``: replace it anyway."""
    target = Path(target)
    if force or not target.exists():
        return
    if not target.is_dir():
        raise Seq2TextError(f"{target}: exists and is not a folder; choose a new output folder")
    foreign = sorted(entry.name for entry in target.iterdir() if entry.name not in written)
    if foreign:
        listed = ", ".join(shown(name) for name in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise Seq2TextError(f"{target}: holds files this program did not write ({listed}), which replacing it "
                            f"would delete; choose a new output folder, or give --force")


@contextlib.contextmanager
def new_model_folder(target: Path, recipe_yaml: str, tokenizer_dir: Path) -> Iterator[Path]:
    """A model folder written atomically at ``target``: the recipe and the tokenizers are put
    in a temporary folder, the caller adds the weights (or graphs) and anything else, and the
    folder replaces ``target`` when the block ends without an error."""
    with atomic_folder(target) as tmp:
        (tmp / RECIPE_FILE).write_text(recipe_yaml, encoding="utf-8")
        shutil.copytree(tokenizer_dir, tmp / TOKENIZER_DIR)
        yield tmp
