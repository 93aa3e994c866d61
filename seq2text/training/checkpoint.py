"""Checkpoints: a self-describing model folder, written atomically, loaded without pickle.

A checkpoint folder holds

- ``model.safetensors``: the weights;
- ``recipe.yaml``: the resolved recipe; ``tokenizer/``: the tokenizers;
- ``trainer.safetensors`` + ``trainer.json``: optimizer tensors and everything else needed to
  resume (step, epoch, batch position, RNG state, metrics).

It is built in a temporary folder and renamed into place, so a kill at any moment leaves either
the previous checkpoints or the new one, never half of one.  Nothing in it is executable: tensors
are safetensors, the rest is JSON/YAML.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seq2text.atomic import write_text_atomic
from seq2text.errors import Seq2TextError

MODEL_FILE, STATE_FILE, STATE_TENSORS = "model.safetensors", "trainer.json", "trainer.safetensors"


def flatten(tree: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Move the tensors of a nested dict/list into ``tensors``; return the JSON-able rest."""
    if isinstance(tree, torch.Tensor):
        tensors[prefix] = tree.detach().cpu().contiguous()
        return {"__tensor__": prefix}
    if isinstance(tree, dict):
        return {"__dict__": [[k, flatten(v, f"{prefix}.{k}", tensors)] for k, v in tree.items()]}
    if isinstance(tree, (list, tuple)):
        return [flatten(v, f"{prefix}.{i}", tensors) for i, v in enumerate(tree)]
    return tree


def unflatten(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`flatten` (dict keys keep their types: optimizer states use ints)."""
    if isinstance(tree, dict) and "__tensor__" in tree:
        return tensors[tree["__tensor__"]]
    if isinstance(tree, dict):
        return {k: unflatten(v, tensors) for k, v in tree["__dict__"]}
    if isinstance(tree, list):
        return [unflatten(v, tensors) for v in tree]
    return tree


def save_checkpoint(folder: Path, model: torch.nn.Module, trainer_state: dict, recipe_yaml: str,
                    tokenizer_dir: Path, pointer: bool = True) -> Path:
    """Write a checkpoint folder atomically (temporary folder + rename).

    With ``pointer``, ``latest`` beside it is updated to name it (what ``--resume`` reads).
    """
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = model.state_dict()
    unique = {name: weights[name].detach().cpu().contiguous() for name in stored_names(weights)}
    save_file(unique, str(tmp / MODEL_FILE), metadata={"format": "seq2text-1"})
    tensors: dict[str, torch.Tensor] = {}
    rest = flatten(trainer_state, "state", tensors)
    save_file(tensors, str(tmp / STATE_TENSORS))
    (tmp / STATE_FILE).write_text(json.dumps(rest), encoding="utf-8")
    (tmp / "recipe.yaml").write_text(recipe_yaml, encoding="utf-8")
    shutil.copytree(tokenizer_dir, tmp / "tokenizer")
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    if pointer:
        write_text_atomic(folder.parent / "latest", folder.name + "\n")
    return folder


def stored_names(weights: dict[str, torch.Tensor]) -> list[str]:
    """State-dict names minus aliases: tied weights are one tensor under two names."""
    seen, names = set(), []
    for name, tensor in weights.items():
        key = (tensor.data_ptr(), tuple(tensor.shape))
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names


def load_weights(folder: Path, model: torch.nn.Module) -> None:
    """Load ``model.safetensors`` into ``model``; one-line errors for foreign or broken files."""
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
    try:
        model.load_state_dict(weights, strict=False)  # aliases of tied weights are filled through sharing
    except RuntimeError as err:
        raise Seq2TextError(f"{path}: weights do not fit this model ({str(err).splitlines()[-1].strip()})") from None


def load_trainer_state(folder: Path) -> dict:
    """The resume state saved beside the weights."""
    try:
        rest = json.loads((Path(folder) / STATE_FILE).read_text(encoding="utf-8"))
        return unflatten(rest, load_file(str(Path(folder) / STATE_TENSORS)))
    except (FileNotFoundError, json.JSONDecodeError, SafetensorError, KeyError) as err:
        raise Seq2TextError(f"{folder}: cannot resume from this checkpoint ({err})") from None


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint named by ``run_dir/checkpoints/latest``, if any."""
    pointer = Path(run_dir) / "checkpoints" / "latest"
    try:
        return pointer.parent / pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
