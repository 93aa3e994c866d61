"""Checkpoints: a self-describing model folder, written atomically, loaded without pickle.

A checkpoint folder holds

- ``model.safetensors``: the weights;
- ``recipe.yaml``: the resolved recipe; ``tokenizer/``: the tokenizers;
- ``trainer.safetensors`` + ``trainer.json``: optimizer tensors and the :class:`TrainerState`
  (step, epoch, batch position, RNG state, validations) needed to resume exactly.

It is built in a temporary folder and renamed into place, so a kill at any moment leaves either
the previous checkpoints or the new one, never half of one.  Nothing in it is executable: tensors
are safetensors, the rest is JSON/YAML.  Loading checks what it reads, so a damaged checkpoint
is one line naming the file, never a traceback.

This module also keeps the best checkpoints (:func:`keep_best`) and averages them
(:func:`average_checkpoints` at the end of training, :func:`average_models` for ``seq2text
average``).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seq2text.atomic import atomic_folder, write_text_atomic
from seq2text.data.textfile import read_json
from seq2text.errors import Seq2TextError
from seq2text.training.schedule import score

MODEL_FILE, STATE_FILE, STATE_TENSORS = "model.safetensors", "trainer.json", "trainer.safetensors"
POINTER = "latest"
CHECKPOINT_NAME = re.compile(r"step-\d{7,}")


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
        from seq2text.pretrained import check_history

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
    with atomic_folder(folder) as tmp:
        weights = model.state_dict()
        unique = {name: weights[name].detach().cpu().contiguous() for name in stored_names(weights)}
        save_file(unique, str(tmp / MODEL_FILE), metadata={"format": "seq2text-1"})
        tensors: dict[str, torch.Tensor] = {}
        rest = flatten(extra, "state", tensors)
        save_file(tensors, str(tmp / STATE_TENSORS))
        (tmp / STATE_FILE).write_text(json.dumps(rest), encoding="utf-8")
        (tmp / "recipe.yaml").write_text(recipe_yaml, encoding="utf-8")
        shutil.copytree(tokenizer_dir, tmp / "tokenizer")
    if pointer:
        write_text_atomic(folder.parent / POINTER, folder.name + "\n")
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
    pointer = Path(run_dir) / "checkpoints" / POINTER
    if not pointer.exists() and not pointer.is_symlink():
        return None
    return read_pointer(pointer)


def best_validations(history: list[dict], count: int, metric: str) -> list[dict]:
    """The ``count`` best validations under ``metric``."""
    return sorted(history, key=lambda h: -score(h, metric))[:count]


def checkpoint_name(step: int) -> str:
    return f"step-{step:07d}"


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


def mean_weights(state_dicts: Iterable[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts with the same names and shapes, summed in float64
    and returned in the first one's dtypes."""
    total, dtypes, count = None, {}, 0
    for weights in state_dicts:
        if total is None:
            dtypes = {k: v.dtype for k, v in weights.items()}
            total = {k: v.detach().double().clone() for k, v in weights.items()}
        else:
            for k, v in weights.items():
                total[k] += v.detach().double()
        count += 1
    return {k: (v / count).to(dtypes[k]) for k, v in total.items()}


def average_checkpoints(run_dir: Path, history: list[dict], count: int, metric: str,
                        model: torch.nn.Module) -> Path:
    """Average the weights of the best ``count`` checkpoints into ``run_dir/averaged``.

    ``model`` ends up holding the averaged weights.
    """
    folders = [run_dir / "checkpoints" / checkpoint_name(h["step"]) for h in best_validations(history, count, metric)]

    def weights_of(folder: Path) -> dict[str, torch.Tensor]:
        load_weights(folder, model)
        return {k: v.clone() for k, v in model.state_dict().items()}

    model.load_state_dict(mean_weights(weights_of(folder) for folder in folders))
    best = folders[0]
    target = run_dir / "averaged"
    save_checkpoint(target, model, {"averaged": [f.name for f in folders]},
                    (best / "recipe.yaml").read_text(encoding="utf-8"), best / "tokenizer", pointer=False)
    return target


def average_models(names: list[str], target: Path) -> Path:
    """Average the weights of the model folders ``names`` (checkpoints of one model: the same
    recipe model section and tokenizers) into the model folder ``target``; the first one's
    recipe, tokenizers and learned tables go with it."""
    from seq2text.pretrained import TONES_FILE, load_pretrained

    if len(names) < 2:
        raise Seq2TextError("average: give two or more model folders")
    target = Path(target)
    if target.exists() and not (target / MODEL_FILE).is_file() and any(target.iterdir()):
        raise Seq2TextError(f"{target}: exists and is not a model folder; choose a new output folder")
    members = [load_pretrained(name) for name in names]
    first = members[0]
    for name, loaded in zip(names, members):
        if loaded.folder.weights.resolve() == target.resolve():
            raise Seq2TextError(f"{target}: is one of the models averaged ({name}); choose a new output folder")
        if loaded.recipe.model != first.recipe.model or loaded.task != first.task:
            raise Seq2TextError(f"{name}: its model (recipe.yaml task and model section) differs from that of "
                                f"{names[0]}; only checkpoints of one model can be averaged")
        if not loaded.shares_tokenizers(first):
            raise Seq2TextError(f"{name}: its tokenizers differ from those of {names[0]}; only checkpoints of "
                                f"one model can be averaged")
        if loaded.labels != first.labels:
            raise Seq2TextError(f"{name}: its labels {loaded.labels[:5]} are not those of {names[0]} "
                                f"{first.labels[:5]} (in order); only checkpoints of one model can be averaged")
    model = copy.deepcopy(first.model).cpu()
    model.load_state_dict(mean_weights(loaded.model.state_dict() for loaded in members))
    save_checkpoint(target, model, {"averaged": [str(name) for name in names]},
                    (first.folder.weights / "recipe.yaml").read_text(encoding="utf-8"), first.folder.tokenizer,
                    pointer=False)
    if (first.folder.weights / TONES_FILE).is_file():
        shutil.copyfile(first.folder.weights / TONES_FILE, target / TONES_FILE)
    return target
