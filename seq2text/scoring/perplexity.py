"""Perplexity: the losses of language models and of teacher-forced pairs, summed over tokens.

Training's validation and ``seq2text evaluate`` both score with these functions, so a model's
validation perplexity and its evaluated perplexity are computed the same way.

- :func:`score_sequences`: token lines, each read from ``<s>`` to ``</s>``;
- :func:`score_stream`: the lines read as one text (``</s>`` after each) in parallel streams,
  the hidden state carried from window to window (truncated BPTT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from seq2text.data.batching import pad
from seq2text.progress import progress as watch
from seq2text.tokenizers import BOS, EOS, PAD


@dataclass
class Validation:
    loss: float
    perplexity: float
    bleu: Optional[float] = None
    tokens: int = 0  # the predicted tokens the loss is averaged over
    samples: tuple[str, ...] = ()  # a few outputs, for the training log
    accuracy: Optional[float] = None  # classification, in percent (its loss is per example, no perplexity)
    f1: Optional[float] = None  # classification: macro-F1 in percent

    def as_dict(self) -> dict:
        if self.accuracy is not None:
            return {"loss": self.loss, "accuracy": self.accuracy, "f1": self.f1}
        scores = {"loss": self.loss, "ppl": self.perplexity}
        return scores if self.bleu is None else {**scores, "bleu": self.bleu}


def mean_loss(total_loss: float, tokens: int, bleu: Optional[float] = None) -> Validation:
    """The validation of a summed loss over ``tokens`` (perplexity capped at e^50)."""
    mean = total_loss / max(1, tokens)
    return Validation(mean, math.exp(min(mean, 50.0)), bleu, tokens)


def summed_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy of ``logits`` ``(B, T, V)`` against ``targets`` ``(B, T)`` (or ``(N, V)``
    against ``(N,)``), summed, PAD ignored."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=PAD,
                           label_smoothing=label_smoothing, reduction="sum")


@dataclass
class TextBatch:
    """``inputs``/``targets`` ``(B, T)``; ``targets`` is ``inputs`` shifted by one (PAD = ignore)."""

    inputs: torch.Tensor
    targets: torch.Tensor

    @property
    def tokens(self) -> int:
        return int((self.targets != PAD).sum())


def sequence_batch(rows: list[list[int]], device: torch.device, unscored: Optional[list[int]] = None) -> TextBatch:
    """``<s> ids`` predicting ``ids </s>`` for each row, padded; the first ``unscored[i]``
    tokens of row i are read but not predicted (a context, such as a poem's subject)."""
    targets = [[*ids, EOS] for ids in rows]
    if unscored is not None:
        targets = [[PAD] * skip + row[skip:] for row, skip in zip(targets, unscored)]
    return TextBatch(pad([[BOS, *ids] for ids in rows]).to(device), pad(targets).to(device))


def sequence_loss(model, batch: TextBatch, label_smoothing: float = 0.0) -> tuple[torch.Tensor, int]:
    logits, _ = model(batch.inputs)
    return summed_cross_entropy(logits, batch.targets, label_smoothing), batch.tokens


@torch.no_grad()
def score_sequences(model, ids: list[list[int]], device: torch.device, batch_size: int = 64,
                    progress: bool | str = False, unscored: Optional[list[int]] = None) -> Validation:
    """Loss and perplexity of token sequences ``ids``, each read from ``<s>`` to ``</s>``;
    ``unscored``: per sequence, the leading tokens read as context but not scored; ``progress``:
    show it (a string: under that name)."""
    was_training = model.training
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    total_loss, total_tokens = 0.0, 0
    name = progress if isinstance(progress, str) else "perplexity"
    for start in (watch(range(0, len(order), batch_size), name) if progress else
                  range(0, len(order), batch_size)):
        chosen = order[start:start + batch_size]
        skips = None if unscored is None else [unscored[i] for i in chosen]
        loss, tokens = sequence_loss(model, sequence_batch([ids[i] for i in chosen], device, skips))
        total_loss, total_tokens = total_loss + loss.item(), total_tokens + tokens
    model.train(was_training)
    return mean_loss(total_loss, total_tokens)


def stream_rows(lines: list[list[int]], rows: int) -> torch.Tensor:
    """Token lines as one stream ``(rows, length)``: every line followed by ``</s>``, the stream
    cut into ``rows`` equal rows (the remainder dropped)."""
    ids = np.fromiter((token for line in lines for token in [*line, EOS]), dtype=np.int64)
    length = len(ids) // rows
    return torch.from_numpy(ids[:rows * length].reshape(rows, length))


def window(stream: torch.Tensor, start: int, bptt: int, device: torch.device) -> TextBatch:
    """The window of ``stream`` from ``start``: up to ``bptt`` inputs and their next tokens."""
    end = min(start + bptt, stream.size(1) - 1)
    return TextBatch(stream[:, start:end].to(device), stream[:, start + 1:end + 1].to(device))


def carried_loss(model, batch: TextBatch, hidden, label_smoothing: float = 0.0):
    """Summed loss and tokens of one window read from ``hidden``, and the state to carry on
    (detached: back-propagation stops at the window's start)."""
    logits, hidden = model(batch.inputs, hidden)
    hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
    return summed_cross_entropy(logits, batch.targets, label_smoothing), batch.tokens, hidden


@torch.no_grad()
def score_stream(model, ids: list[list[int]], device: torch.device, bptt: int, rows: int = 10,
                 progress: bool = False) -> Validation:
    """Loss and perplexity of the lines ``ids`` read as one text (each line ends with
    ``</s>``) in ``rows`` parallel streams, windows of ``bptt`` tokens, state carried."""
    was_training = model.training
    model.eval()
    stream, hidden = stream_rows(ids, rows), None
    total_loss, total_tokens = 0.0, 0
    windows = range(0, stream.size(1) - 1, bptt)
    for start in (watch(windows, "perplexity", "window") if progress else windows):
        loss, tokens, hidden = carried_loss(model, window(stream, start, bptt, device), hidden)
        total_loss, total_tokens = total_loss + loss.item(), total_tokens + tokens
    model.train(was_training)
    return mean_loss(total_loss, total_tokens)
