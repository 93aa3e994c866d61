"""The books a poetry model writes by, carried in its folder: the 平水韵 and 词林正韵 cut to its
characters (``rhymes.json``) and the patterns of its tunes (``patterns.json``).

They are taken from the data root when a model is bundled (:func:`book_tables`, run by
``scripts/bundle_model.py``), so that a bundled model rhymes as the poets did on a machine
without the data.  :meth:`~seq2text.pretrained.Pretrained.books` reads them back: from the
folder when it has them, else from the data root, else (regulated verse only) by modern readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from seq2text.recipe import Recipe
from seq2text.verse.rhymes import CILIN_TABLE, CilinTable, RhymeTable
from seq2text.verse.tunes import PATTERNS, TuneBook, TuneChoice

PINGSHUIYUN_TABLE = "rhyme/pingshuiyun.txt"


@dataclass
class Books:
    """The rhyme books of a model: ``rhymes`` for regulated verse, ``cilin`` and ``tunes`` for
    the ci (None for a model that writes none)."""

    rhymes: RhymeTable
    cilin: Optional[CilinTable]
    tunes: Optional[TuneBook]


def book_tables(recipe: Recipe, chars: Iterable[str], choices: list[TuneChoice]) -> dict[str, Any]:
    """The JSON tables for a model folder: ``{"rhymes.json": ..., "patterns.json": ...}`` (the
    latter for a ci model), from the data root of ``recipe``, cut to ``chars``."""
    chars = sorted(set(chars))
    rhymes = {"pingshuiyun": RhymeTable.pingshuiyun(recipe.data_path(PINGSHUIYUN_TABLE)).only(chars).to_json()}
    tables: dict[str, Any] = {"rhymes.json": rhymes}
    if choices:
        rhymes["cilin"] = CilinTable.read(recipe.data_path(CILIN_TABLE)).only(chars).to_json()
        tables["patterns.json"] = TuneBook.read(recipe.data_path(PATTERNS)).to_json(choices)
    return tables
