"""Loading a model folder once: :func:`load_pretrained` returns one :class:`Pretrained` per
folder and device, cached, so the layers above pass the loaded object down instead of loading a
name again.

Where the folder is and what it holds is :mod:`seq2text.model_folder`'s; here it becomes a
network in eval mode (weights may be stored in half precision; they are loaded into a float32
model and must be finite), its tokenizers and its tables.  An exported folder (``seq2text
export``) loads as well: its network is the ONNX graphs, run by ONNX Runtime on the CPU, so
``translate``, ``serve`` and ``evaluate`` take it like any translation model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Optional

import torch

from seq2text.data.labels import load_labels
from seq2text.decoding.onnx_model import OnnxSeq2Seq
from seq2text.decoding.shortlist import load_shortlist
from seq2text.device import resolve_device
from seq2text.errors import Seq2TextError
from seq2text.model_folder import (
    CARD_FILE,
    EXPORT_FILE,
    MODEL_FILE,
    PATTERNS_FILE,
    RHYMES_FILE,
    TONES_FILE,
    TUNES_FILE,
    ModelFolder,
    check_history,
    find_model,
    load_weights,
    read_table,
)
from seq2text.models import build_model
from seq2text.recipe import Recipe
from seq2text.tasks import task_of
from seq2text.tokenizers import Tokenizer, load_tokenizers
from seq2text.verse.books import PINGSHUIYUN_TABLE, Books
from seq2text.verse.rhymes import CILIN_TABLE, CilinTable, RhymeTable
from seq2text.verse.tones import ToneTable
from seq2text.verse.tunes import PATTERNS, TuneBook, load_choices

__all__ = ["Pretrained", "load_pretrained"]


@dataclass(eq=False)
class Pretrained:
    """A loaded model folder: its ``recipe``, the network in eval mode on its device, its
    tokenizers, and the learned tables beside the weights (read when first asked for)."""
    name: str
    folder: ModelFolder
    recipe: Recipe
    model: Any  # a torch.nn.Module, or for an exported folder its ONNX graphs (OnnxSeq2Seq)
    src: Tokenizer
    tgt: Tokenizer
    labels: list[str] = field(default_factory=list)  # classification: the label names, in output order

    @property
    def task(self) -> str:
        return self.recipe.task

    @property
    def exported(self) -> bool:
        return self.folder.exported

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def shares_tokenizers(self, other: "Pretrained") -> bool:
        """Whether ``other`` maps text to ids and back as this model does (source and target)."""
        return (self.src.fingerprint(), self.tgt.fingerprint()) == (other.src.fingerprint(), other.tgt.fingerprint())

    @cached_property
    def card(self) -> dict:
        """The bundled model's card (empty for a trained folder)."""
        card = self.folder.table(CARD_FILE)
        if card is None:
            return {}
        if not isinstance(card, dict):
            raise Seq2TextError(f"{self.folder.weights / CARD_FILE}: expected a JSON object")
        return card

    @cached_property
    def tones(self):
        """The :class:`~seq2text.verse.tones.ToneTable` learned for this model."""
        path = self.folder.weights / TONES_FILE
        table = self.folder.table(TONES_FILE)
        if table is None:
            raise Seq2TextError(f"{path}: missing; write it with scripts/learn_tones.py {self.folder.weights}")
        return ToneTable.from_json(table, path)

    @cached_property
    def tunes(self) -> list:
        """The :class:`~seq2text.verse.tunes.TuneChoice` list of a ci model (empty for others)."""
        table = self.folder.table(TUNES_FILE)
        return [] if table is None else load_choices(table, self.folder.weights / TUNES_FILE)

    def books(self, rhyme_table: Optional[Path] = None) -> Books:
        """The rhyme books (and for a ci model the tune patterns) it writes by: the tables of its
        folder (``rhymes.json``, ``patterns.json``), else those of the data root; ``rhyme_table``
        (a 平水韵 file) overrides the rhymes of regulated verse.  Without any 平水韵, the modern
        readings of its characters."""
        recipe, weights = self.recipe, self.folder.weights
        tables = self.folder.table(RHYMES_FILE) or {}
        if not isinstance(tables, dict):
            raise Seq2TextError(f"{weights / RHYMES_FILE}: expected a JSON object of rhyme books")
        if rhyme_table is not None:
            rhymes = RhymeTable.pingshuiyun(rhyme_table)
        elif "pingshuiyun" in tables:
            rhymes = RhymeTable.from_json(tables["pingshuiyun"], str(weights / RHYMES_FILE))
        elif recipe.data_path(PINGSHUIYUN_TABLE).is_file():
            rhymes = RhymeTable.pingshuiyun(recipe.data_path(PINGSHUIYUN_TABLE))
        else:
            rhymes = RhymeTable.modern(t for t in self.src.tokens if len(t) == 1)
        if not self.tunes:
            return Books(rhymes, None, None)
        cilin = CilinTable.from_json(tables["cilin"], str(weights / RHYMES_FILE)) if "cilin" in tables \
            else CilinTable.read(recipe.data_path(CILIN_TABLE))
        patterns = self.folder.table(PATTERNS_FILE)
        book = TuneBook.from_json(patterns, weights / PATTERNS_FILE) if patterns is not None \
            else TuneBook.read(recipe.data_path(PATTERNS))
        return Books(rhymes, cilin, book)

    @cached_property
    def shortlist(self) -> Optional[torch.Tensor]:
        """The target ids ``(K,)`` a translation model's search scores (those of its training
        targets, saved beside its tokenizers), or None to score them all."""
        return load_shortlist(self.folder.tokenizer, self.tgt.vocab_size)

    @cached_property
    def history(self) -> list[dict]:
        """The validations of the model's training run (empty when unknown)."""
        path = self.folder.history_path
        return [] if path is None else check_history(read_table(path), path)


_LOADED: dict[tuple, Pretrained] = {}


def load_pretrained(name_or_path: str | Path | Pretrained, device: str | torch.device = "cpu") -> Pretrained:
    """The model ``name_or_path`` names, loaded on ``device``: once per folder, weights file and
    device (later calls return the same object).  A :class:`Pretrained` is returned as it is."""
    if isinstance(name_or_path, Pretrained):
        return name_or_path

    device = resolve_device(device)
    folder = find_model(name_or_path)
    weights_file = folder.weights / (EXPORT_FILE if folder.exported else MODEL_FILE)
    key = (str(weights_file.resolve()), weights_file.stat().st_mtime_ns, str(device))
    if key in _LOADED:
        return _LOADED[key]
    recipe = folder.recipe
    src, tgt = load_tokenizers(folder.tokenizer)
    labels = load_labels(folder.tokenizer) if task_of(recipe).labels else []
    if folder.exported:
        model = _exported(folder, recipe, tgt, device)
    else:
        model = build_model(recipe, src.vocab_size, tgt.vocab_size, len(labels))
        load_weights(folder.weights, model)
        try:
            model = model.to(device).eval()
        except (RuntimeError, AssertionError) as err:
            raise Seq2TextError(f"device {device}: {str(err).splitlines()[0]}") from None
    loaded = Pretrained(str(name_or_path), folder, recipe, model, src, tgt, labels)
    _LOADED[key] = loaded
    return loaded


def _exported(folder: ModelFolder, recipe: Recipe, tgt: Tokenizer, device: torch.device) -> Any:
    if not task_of(recipe).exportable:
        raise Seq2TextError(f"{folder.weights / EXPORT_FILE}: an exported {recipe.task} model, which export "
                            f"does not write")
    if device.type != "cpu":
        raise Seq2TextError(f"{folder.weights}: an exported model runs on the CPU, not on {device}")
    return OnnxSeq2Seq(folder.weights, tgt.vocab_size)
