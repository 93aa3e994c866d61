"""Checkpoints: a model folder that can resume training, written atomically, loaded without pickle.

A checkpoint is a model folder (:mod:`seq2text.model_folder`) plus the resume state:
``trainer.safetensors`` + ``trainer.json`` hold the optimizer tensors and the
:class:`TrainerState` (step, epoch, batch position, RNG state, validations) needed to resume
exactly.  It is built in a temporary folder and renamed into place, so a kill at any moment
leaves either the previous checkpoints or the new one, never half of one.  Loading checks what
it reads, so a damaged checkpoint is one line naming the file, never a traceback.

This module also keeps the best checkpoints (:func:`keep_best`); averaging them is
:mod:`seq2text.training.averaging`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seq2text.textfile import read_json
from seq2text.errors import Seq2TextError
from seq2text.model_folder import (STATE_FILE, STATE_TENSORS, check_history, checkpoint_name, new_model_folder,
                                   point_to, save_weights)
from seq2text.training.schedule import score

@dataclass
class TrainerState:
    """Where training stands; with the optimizer and RNG state, all a resume needs.

    ``epoch`` counts finished epochs and ``batch`` the batches done in the next one; ``history``
    holds one entry per validation (``step``, the 1-based ``epoch`` it ran in, ``lr``, the
    validation scores and ``train_loss``, the mean training loss since the previous one);
    ``plateau_scale`` and ``bad_validations`` are the schedule's counters; ``loss_sum`` and
    ``loss_tokens`` add up the training loss since the last validation.
    """

    step: int = 0
    epoch: int = 0
    batch: int = 0
    lr: float = 0.0
    history: list[dict] = field(default_factory=list)
    plateau_scale: float = 1.0
    bad_validations: int = 0
    loss_sum: float = 0.0
    loss_tokens: int = 0

    @classmethod
    def from_json(cls, data: Any, where: Path) -> "TrainerState":
        """The state saved as ``data``, checked field by field; one-line error naming ``where``."""
        if not isinstance(data, dict):
            raise Seq2TextError(f"{where}: cannot resume: expected a JSON object of the trainer state")
        values = {}
        for item in fields(cls):
            if item.name not in data:
                continue
            value, kind = data[item.name], {"step": int, "epoch": int, "batch": int, "bad_validations": int,
                                            "loss_tokens": int, "lr": float, "plateau_scale": float,
                                            "loss_sum": float}.get(item.name)
            if kind is int and (type(value) is not int or value < 0):
                raise Seq2TextError(f"{where}: cannot resume: {item.name} is {value!r}, not a count")
            if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise Seq2TextError(f"{where}: cannot resume: {item.name} is {value!r}, not a number")
            values[item.name] = value
        values["history"] = check_history(data.get("history", []), where)
        return cls(**values)


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


def save_checkpoint(folder: Path, model: torch.nn.Module, extra: dict, recipe_yaml: str,
                    tokenizer_dir: Path, pointer: bool = True) -> Path:
    """Write a checkpoint folder atomically (temporary folder + rename); ``extra`` is the
    resume state (a :class:`TrainerState` as a dict, optimizer and RNG states).

    With ``pointer``, ``latest`` beside it is updated to name it (what ``--resume`` reads).
    """
    folder = Path(folder)
    with new_model_folder(folder, recipe_yaml, tokenizer_dir) as tmp:
        save_weights(model, tmp)
        tensors: dict[str, torch.Tensor] = {}
        rest = flatten(extra, "state", tensors)
        save_file(tensors, str(tmp / STATE_TENSORS))
        (tmp / STATE_FILE).write_text(json.dumps(rest), encoding="utf-8")
    if pointer:
        point_to(folder)
    return folder


def all_finite(model: torch.nn.Module) -> bool:
    """Whether every parameter of ``model`` is a finite number."""
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def load_resume_state(folder: Path) -> tuple[TrainerState, dict]:
    """The :class:`TrainerState` saved in a checkpoint and the rest of its resume state
    (``optimizer``, ``rng``, ``scaler``, ``feed``); one line for any damage."""
    path, tensors = Path(folder) / STATE_FILE, Path(folder) / STATE_TENSORS
    rest = read_json(path)
    try:
        saved = unflatten(rest, load_file(str(tensors)))
    except FileNotFoundError:
        raise Seq2TextError(f"{tensors}: missing: cannot resume from this checkpoint") from None
    except (SafetensorError, OSError) as err:
        raise Seq2TextError(f"{tensors}: cannot resume: not a readable safetensors file ({err})") from None
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as err:
        raise Seq2TextError(f"{path}: cannot resume: malformed state ({type(err).__name__})") from None
    state = TrainerState.from_json(saved, path)  # refuses anything but a mapping
    return state, {key: saved.get(key) for key in ("optimizer", "rng", "scaler", "feed")}


def check_optimizer_state(saved: Any, optimizer: torch.optim.Optimizer, where: Path) -> None:
    """Refuse an optimizer state whose tensors do not have their parameters' shapes (it would
    fail, or silently train wrongly, at the first step)."""
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), dict) \
            or not isinstance(saved.get("param_groups"), list):
        raise Seq2TextError(f"{where}: cannot resume: the optimizer state is malformed")
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    for index, values in saved["state"].items():
        if not isinstance(index, int) or not 0 <= index < len(parameters) or not isinstance(values, dict):
            raise Seq2TextError(f"{where}: cannot resume: the optimizer state names parameter {index!r}")
        for name, value in values.items():
            if name == "step":
                continue
            if not isinstance(value, torch.Tensor) or value.shape != parameters[index].shape:
                shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                raise Seq2TextError(f"{where}: cannot resume: optimizer {name} of parameter {index} is "
                                    f"{shape}, the parameter {tuple(parameters[index].shape)}")


def best_validations(history: list[dict], count: int, metric: str) -> list[dict]:
    """The ``count`` best validations under ``metric``."""
    return sorted(history, key=lambda h: -score(h, metric))[:count]


def keep_best(folder: Path, history: list[dict], keep: int, metric: str, latest: str) -> None:
    """Delete all but the ``keep`` best checkpoints by ``metric`` (the latest always stays).

    While fewer than ``keep`` checkpoints have been validated (a run stopped by Ctrl-C before
    its first validation, then resumed and stopped again), the most recent others fill the
    places, so that ``seq2text average`` still finds ``keep`` of them."""
    wanted = {checkpoint_name(h["step"]) for h in best_validations(history, keep, metric)} | {latest}
    others = sorted((path.name for path in folder.glob("step-*") if path.name not in wanted), reverse=True)
    wanted |= set(others[:max(0, keep - len(wanted))])
    for path in folder.glob("step-*"):
        if path.name not in wanted:
            shutil.rmtree(path, ignore_errors=True)
