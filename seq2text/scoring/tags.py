"""Tagged sentences as tensors, and the tags a model finds for many sentences.

:func:`tag_batch` turns sentences (word ids and word forms) into a :class:`TagBatch`: the word
ids padded, and each distinct form of the batch spelled once in characters.  :func:`predict_tags`
runs an :class:`~seq2text.models.tagger.RNNTagger` over many sentences in batches of similar
length and gives back, in input order, each sentence's tags and tag probabilities.  Training
validates with it, the :class:`~seq2text.tagger.Tagger` API tags with it and ``seq2text
evaluate`` scores it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import torch

from seq2text.data.batching import pad
from seq2text.tokenizers import PAD, Tokenizer


@dataclass
class TagBatch:
    """``words`` ``(B, S)``; ``spellings`` ``(W, C)`` (row 0 spells padding) and ``spelled``
    ``(B, S)`` as :class:`~seq2text.models.tagger.RNNTagger` reads them; ``tags`` ``(B, S)``
    when known; ``mask`` ``(B, S)`` True at words."""

    words: torch.Tensor
    spellings: torch.Tensor
    spelled: torch.Tensor
    tags: Optional[torch.Tensor] = None

    @property
    def mask(self) -> torch.Tensor:
        return self.words != PAD

    @property
    def word_count(self) -> int:
        return int(self.mask.sum())

    def to(self, device: torch.device) -> "TagBatch":
        return replace(self, **{name: None if value is None else value.to(device)
                                for name, value in vars(self).items()})


def tag_batch(ids: Sequence[Sequence[int]], forms: Sequence[Sequence[str]], characters: Tokenizer,
              tags: Optional[Sequence[Sequence[int]]] = None) -> TagBatch:
    """The batch of sentences with word ``ids`` and word ``forms`` (and gold ``tags``)."""
    rows: dict[str, int] = {}
    spelled = [[rows.setdefault(form, len(rows) + 1) for form in sentence] for sentence in forms]
    spellings = pad([[PAD]] + [characters.encode(form) or [PAD] for form in rows])
    return TagBatch(pad(ids), spellings, pad(spelled), None if tags is None else pad(tags))


@dataclass
class Tagged:
    """The tag ids found for one sentence (``best``) and each word's tag probabilities
    ``(S, T)``."""

    best: list[int]
    probabilities: torch.Tensor


@torch.no_grad()
def predict_tags(model, ids: Sequence[Sequence[int]], forms: Sequence[Sequence[str]], characters: Tokenizer,
                 device: torch.device, batch_size: int = 64) -> list[Tagged]:
    """The tags of every sentence (none may be empty), read in batches of ``batch_size`` sorted
    by length so that little is padded."""
    was_training = model.training
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    found: list[Optional[Tagged]] = [None] * len(ids)
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        batch = tag_batch([ids[i] for i in chosen], [forms[i] for i in chosen], characters).to(device)
        scores = model(batch.words, batch.spellings, batch.spelled)
        best, probabilities = model.decode(scores, batch.mask)
        for row, index in enumerate(chosen):
            found[index] = Tagged(best[row], probabilities[row, :len(ids[index])].cpu())
    model.train(was_training)
    return found
