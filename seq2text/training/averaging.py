"""Averaging the weights of checkpoints of one model: the best ones of a run at the end of
training (:func:`average_checkpoints`, into ``runs/<name>/averaged``) and any model folders
(:func:`average_models`, for ``seq2text average``)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Iterable

import torch

from seq2text.errors import Seq2TextError
from seq2text.model_folder import (AVERAGED, CHECKPOINTS, MODEL_NAMES, RECIPE_FILE, TABLE_FILES, TOKENIZER_DIR, check_replaceable,
                                   checkpoint_name, load_weights)
from seq2text.pretrained import load_pretrained
from seq2text.training.checkpoint import best_validations, save_checkpoint


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
    folders = [run_dir / CHECKPOINTS / checkpoint_name(h["step"]) for h in best_validations(history, count, metric)]

    def weights_of(folder: Path) -> dict[str, torch.Tensor]:
        load_weights(folder, model)
        return {k: v.clone() for k, v in model.state_dict().items()}

    model.load_state_dict(mean_weights(weights_of(folder) for folder in folders))
    best = folders[0]
    target = run_dir / AVERAGED
    save_checkpoint(target, model, {"averaged": [f.name for f in folders]},
                    (best / RECIPE_FILE).read_text(encoding="utf-8"), best / TOKENIZER_DIR, pointer=False)
    return target


def average_models(names: list[str], target: Path, force: bool = False) -> Path:
    """Average the weights of the model folders ``names`` (checkpoints of one model: the same
    recipe model section and tokenizers) into the model folder ``target``; the first one's
    recipe, tokenizers and learned tables go with it.  An existing ``target`` is replaced only
    if it holds nothing but a model folder's files (``force``: whatever it holds)."""
    if len(names) < 2:
        raise Seq2TextError("average: give two or more model folders")
    target = Path(target)
    check_replaceable(target, MODEL_NAMES, force)
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
                    (first.folder.weights / RECIPE_FILE).read_text(encoding="utf-8"), first.folder.tokenizer,
                    pointer=False)
    for table in TABLE_FILES:  # tones, tunes, rhyme books, patterns: every one the model writes by
        if (first.folder.weights / table).is_file():
            shutil.copyfile(first.folder.weights / table, target / table)
    return target
