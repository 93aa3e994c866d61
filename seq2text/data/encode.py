"""Tokenising corpus splits once: ids are cached as Arrow files through ``datasets``.

The cache key combines the split's fingerprint (files, loader settings), the tokenizer's
fingerprint and the length limit, so a second run with the same inputs maps the cached file
instead of tokenising again, and any change to them tokenises afresh.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import datasets
import pyarrow

from seq2text.data.cache import cache_folder
from seq2text.data.corpora import Corpus
from seq2text.data.labels import label_ids
from seq2text.errors import Seq2TextError
from seq2text.tokenizers import Tokenizer


@dataclass
class EncodedSplit:
    """Token ids of one split (columns ``src_ids``/``tgt_ids``, or ``ids`` and for labelled
    texts ``label_id``) and what was filtered or cut."""

    dataset: datasets.Dataset
    total: int
    too_long: int
    cache_file: Path
    truncated: int = 0  # labelled texts cut to max_length rather than dropped

    def report(self, name: str, max_length: int) -> str:
        if self.truncated:
            return (f"{name}: {self.total} examples, {self.truncated} of them cut to their first "
                    f"max_length={max_length} tokens")
        return (f"{name}: {len(self.dataset)} of {self.total} examples kept; {self.too_long} "
                f"longer than max_length={max_length} tokens filtered out")


def encode_split(corpus: Corpus, split: str, max_length: int, src: Tokenizer,
                 tgt: Optional[Tokenizer] = None, labels: Optional[list[str]] = None) -> EncodedSplit:
    """Tokenise ``corpus[split]``; examples over ``max_length`` tokens (either side) are dropped.

    For pairs (``src``/``tgt`` columns) ``src`` and ``tgt`` tokenise each side (``tgt``
    defaults to ``src``: a joint vocabulary); text is tokenised by ``src``.  Labelled texts
    (a ``label`` column; ``labels``: the model's label names) are cut to their first
    ``max_length`` tokens instead, since a long review keeps its label, and get ``label_id``.
    """
    tgt = tgt if tgt is not None else src
    dataset = corpus[split]
    pairs = "src" in dataset.column_names
    if "label" in dataset.column_names:
        return _encode_labelled(corpus, split, max_length, src, labels or [])
    if "tags" in dataset.column_names:
        return _encode_tagged(corpus, split, max_length, src, labels or [])
    key = hashlib.sha1("|".join([corpus.fingerprints[split], src.fingerprint(),
                                 tgt.fingerprint() if pairs else "", str(max_length)]).encode())
    folder = cache_folder("encoded")
    encoded_file = folder / f"{key.hexdigest()}.arrow"
    kept_file = folder / f"{key.hexdigest()}-kept.arrow"

    def encode(batch: dict) -> dict:
        if pairs:
            return {"src_ids": [src.encode(t) for t in batch["src"]],
                    "tgt_ids": [tgt.encode(t) for t in batch["tgt"]]}
        return {"ids": [src.encode(t) for t in batch["text"]]}

    def short_enough(batch: dict) -> list[bool]:
        columns = [batch["src_ids"], batch["tgt_ids"]] if pairs else [batch["ids"]]
        return [all(len(ids) <= max_length for ids in row) for row in zip(*columns)]

    encoded = _cached_map(dataset, encode, encoded_file, key.hexdigest())
    kept = _cached_map(encoded, short_enough, kept_file, key.hexdigest() + "-kept", filtering=True)
    return EncodedSplit(kept, len(dataset), len(dataset) - len(kept), kept_file)


def _cached_map(dataset: datasets.Dataset, function: Callable, path: Path, fingerprint: str,
                filtering: bool = False, **options: Any) -> datasets.Dataset:
    """``dataset.map`` (or ``filter``) with its result cached in ``path``; a damaged cache file
    (a truncated ``.arrow`` after a crash or a full disk) is removed and built again."""
    run = dataset.filter if filtering else dataset.map
    for attempt in range(2):
        try:
            return run(function, batched=True, cache_file_name=str(path), new_fingerprint=fingerprint, **options)
        except (pyarrow.ArrowException, OSError, ValueError) as err:
            if attempt or not path.exists():
                reason = str(err).splitlines()[0][:120]
                raise Seq2TextError(f"{path}: cannot build the token cache ({reason})") from None
            path.unlink()
    raise AssertionError("unreachable")


def _encode_labelled(corpus: Corpus, split: str, max_length: int, tokenizer: Tokenizer,
                     labels: list[str]) -> EncodedSplit:
    dataset = corpus[split]
    gold = label_ids(dataset["label"], labels, f"{split} split")
    key = hashlib.sha1("|".join([corpus.fingerprints[split], tokenizer.fingerprint(), str(max_length),
                                 *labels]).encode()).hexdigest()
    encoded_file = cache_folder("encoded") / f"{key}.arrow"

    def encode(batch: dict, rows: list[int]) -> dict:
        ids = [tokenizer.encode(text) for text in batch["text"]]
        return {"ids": [row[:max_length] for row in ids], "cut": [len(row) > max_length for row in ids],
                "label_id": [gold[row] for row in rows]}

    encoded = _cached_map(dataset, encode, encoded_file, key, with_indices=True)
    return EncodedSplit(encoded, len(dataset), 0, encoded_file, truncated=sum(encoded["cut"]))


def _encode_tagged(corpus: Corpus, split: str, max_length: int, words: Tokenizer, tags: list[str]) -> EncodedSplit:
    """Word ids and tag ids of treebank sentences; sentences over ``max_length`` words are
    dropped (and counted)."""
    dataset = corpus[split]
    index = {tag: i for i, tag in enumerate(tags)}
    label_ids(sorted({tag for sentence in dataset["tags"] for tag in sentence}), tags, f"{split} split")
    key = hashlib.sha1("|".join([corpus.fingerprints[split], words.fingerprint(), str(max_length),
                                 *tags]).encode()).hexdigest()
    folder = cache_folder("encoded")

    def encode(batch: dict) -> dict:
        return {"ids": [words.encode_words(sentence) for sentence in batch["words"]],
                "tag_ids": [[index[tag] for tag in sentence] for sentence in batch["tags"]]}

    encoded = _cached_map(dataset, encode, folder / f"{key}.arrow", key)
    kept = _cached_map(encoded, lambda batch: [len(ids) <= max_length for ids in batch["ids"]],
                       folder / f"{key}-kept.arrow", key + "-kept", filtering=True)
    return EncodedSplit(kept, len(dataset), len(dataset) - len(kept), folder / f"{key}-kept.arrow")
