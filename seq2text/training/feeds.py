"""What the training loop feeds a model, per kind of task: its batches, their loss, validation.

- :class:`PairFeed` (translation, couplets): length-bucketed sentence pairs, teacher-forced
  cross-entropy over the target; validation reports loss, perplexity and greedy BLEU
  (couplets: character BLEU).  :class:`AlignedFeed` is the same for the N-vs-N couplet model,
  whose loss labels every source position with the target character there.
- :class:`SequenceFeed` (language model, whole sentences or poems): ``<s> text`` predicts
  ``text </s>``, length-bucketed like pairs.
- :class:`StreamFeed` (language model, ``training.bptt`` set): the split's lines joined by
  ``</s>`` into one stream, cut into ``batch_size`` parallel rows and read in windows of
  ``bptt`` tokens; the hidden state runs on from one window to the next (truncated
  back-propagation through time, Zaremba et al. 2014).

A feed hands out a list of batch descriptions per epoch (:meth:`batches`), turns one into
tensors (:meth:`collate`), computes the summed loss of a batch and its token count
(:meth:`loss`) and scores a split (:meth:`validate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import sacrebleu
import torch
import torch.nn.functional as F

from seq2text.data.batching import BucketBatcher, collate_pairs, pad
from seq2text.decoding import beam_search, greedy_search
from seq2text.errors import Seq2TextError
from seq2text.prepare import Prepared, example_lengths
from seq2text.recipe import Recipe
from seq2text.tokenizers import BOS, EOS, PAD
from seq2text.training.distributed import Process


@dataclass
class Validation:
    loss: float
    perplexity: float
    bleu: Optional[float] = None
    tokens: int = 0  # the predicted tokens the loss is averaged over

    def as_dict(self) -> dict:
        scores = {"loss": self.loss, "ppl": self.perplexity}
        return scores if self.bleu is None else {**scores, "bleu": self.bleu}


def _validation(total_loss: float, tokens: int, bleu: Optional[float] = None) -> Validation:
    mean = total_loss / max(1, tokens)
    return Validation(mean, math.exp(min(mean, 50.0)), bleu, tokens)


def _cross_entropy(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=PAD,
                           label_smoothing=label_smoothing, reduction="sum")


def pair_loss(model, batch, label_smoothing: float) -> tuple[torch.Tensor, int]:
    """Summed teacher-forced cross-entropy of a :class:`~seq2text.data.batching.PairBatch` and
    its number of target tokens."""
    logits, _ = model(batch.src, batch.src_mask, batch.tgt_in)
    return _cross_entropy(logits, batch.tgt_out, label_smoothing), batch.target_tokens


class _BucketedFeed:
    """Examples batched by length (:class:`BucketBatcher`); nothing runs on between batches."""

    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        config = recipe.training
        self.data = data
        self.batcher = BucketBatcher(example_lengths(data.splits["train"]), config.batch_size, config.batch_tokens,
                                     config.bucket_pool, recipe.seed, rank=process.rank,
                                     world_size=process.world_size)

    def batches(self, epoch: int) -> list[Any]:
        return self.batcher.batches(epoch)

    def start_epoch(self) -> None:
        """Every batch starts from a zero state."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        """Stateless."""


def aligned_loss(model, batch, label_smoothing: float) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy of an N-vs-N model: source position i predicts target token i."""
    logits = model(batch.src, batch.src_mask)
    targets = batch.tgt_out[:, :logits.size(1)].clone()
    targets[targets == EOS] = PAD
    return _cross_entropy(logits, targets, label_smoothing), int((targets != PAD).sum())


class PairFeed(_BucketedFeed):
    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        super().__init__(recipe, data, process)
        self.max_length = recipe.decoding.max_length
        self.bleu_tokenize = "char" if recipe.task == "couplet" else "13a"

    def collate(self, batch: list[int], device: torch.device):
        rows = self.data.splits["train"].dataset[batch]
        return collate_pairs(rows["src_ids"], rows["tgt_ids"]).to(device)

    loss = staticmethod(pair_loss)

    @torch.no_grad()
    def validate(self, model, split: str, device: torch.device, beam_size: int = 1,
                 alpha: float = 1.0, batch_size: int = 64) -> Validation:
        """Loss and perplexity (no smoothing) and cased sacreBLEU of greedy or beam search."""
        was_training = model.training
        model.eval()
        dataset = self.data.splits[split].dataset
        total_loss, total_tokens, hypotheses = 0.0, 0, []
        for start in range(0, len(dataset), batch_size):
            rows = dataset[start:start + batch_size]
            batch = collate_pairs(rows["src_ids"], rows["tgt_ids"]).to(device)
            loss, tokens = self.loss(model, batch, 0.0)
            total_loss, total_tokens = total_loss + loss.item(), total_tokens + tokens
            state = model.encode(batch.src, batch.src_mask)
            if beam_size == 1:
                outputs = greedy_search(model, state, self.max_length)
            else:
                outputs = [best[0] for best in beam_search(model, state, beam_size, self.max_length, alpha)]
            hypotheses += [self.data.tgt.decode(output.tokens) for output in outputs]
        model.train(was_training)
        bleu = sacrebleu.corpus_bleu(hypotheses, [dataset["tgt"]], tokenize=self.bleu_tokenize)
        return _validation(total_loss, total_tokens, bleu.score)


class AlignedFeed(PairFeed):
    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        super().__init__(recipe, data, process)
        for split, encoded in data.splits.items():
            rows = encoded.dataset
            uneven = sum(len(s) != len(t) for s, t in zip(rows["src_ids"], rows["tgt_ids"]))
            if uneven:
                raise Seq2TextError(f"{recipe.path}: model.architecture: aligned needs sides of equal length, "
                                    f"but {uneven} {split} pairs differ")

    loss = staticmethod(aligned_loss)


@dataclass
class TextBatch:
    """``inputs``/``targets`` ``(B, T)``; ``targets`` is ``inputs`` shifted by one (PAD = ignore)."""

    inputs: torch.Tensor
    targets: torch.Tensor

    @property
    def tokens(self) -> int:
        return int((self.targets != PAD).sum())


class SequenceFeed(_BucketedFeed):
    def collate(self, batch: list[int], device: torch.device) -> TextBatch:
        return self._collate(self.data.splits["train"].dataset[batch]["ids"], device)

    @staticmethod
    def _collate(rows: list[list[int]], device: torch.device) -> TextBatch:
        return TextBatch(pad([[BOS, *ids] for ids in rows]).to(device), pad([[*ids, EOS] for ids in rows]).to(device))

    @staticmethod
    def loss(model, batch: TextBatch, label_smoothing: float) -> tuple[torch.Tensor, int]:
        logits, _ = model(batch.inputs)
        return _cross_entropy(logits, batch.targets, label_smoothing), batch.tokens

    def validate(self, model, split: str, device: torch.device) -> Validation:
        """Per-token loss and perplexity, ``</s>`` of every sequence counted as a token."""
        return self.score(model, self.data.splits[split].dataset["ids"], device)

    @classmethod
    @torch.no_grad()
    def score(cls, model, ids: list[list[int]], device: torch.device, batch_size: int = 64) -> Validation:
        """Loss and perplexity of token sequences ``ids``, each read from ``<s>`` to ``</s>``."""
        was_training = model.training
        model.eval()
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        total_loss, total_tokens = 0.0, 0
        for start in range(0, len(order), batch_size):
            batch = cls._collate([ids[i] for i in order[start:start + batch_size]], device)
            loss, tokens = cls.loss(model, batch, 0.0)
            total_loss, total_tokens = total_loss + loss.item(), total_tokens + tokens
        model.train(was_training)
        return _validation(total_loss, total_tokens)


class StreamFeed:
    def __init__(self, recipe: Recipe, data: Prepared, process: Process = Process()):
        if process.world_size > 1:
            raise Seq2TextError("training.bptt: several processes are not supported yet")
        self.data, self.bptt = data, recipe.training.bptt
        self.rows = recipe.training.batch_size or 20
        self.train = stream_rows(self.data.splits["train"].dataset["ids"], self.rows)
        self.hidden = None

    def batches(self, epoch: int) -> list[Any]:
        """Window start positions; every window needs one more token as the last target."""
        return list(range(0, self.train.size(1) - 1, self.bptt))

    def collate(self, start: int, device: torch.device) -> TextBatch:
        return _window(self.train, start, self.bptt, device)

    def start_epoch(self) -> None:
        self.hidden = None

    def state_dict(self) -> dict:
        """The carried hidden state, so that a resumed run continues exactly."""
        hidden = self.hidden if isinstance(self.hidden, tuple) else (self.hidden,) if self.hidden is not None else ()
        return {"hidden": [h.cpu() for h in hidden]}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        hidden = [h.to(device) for h in state.get("hidden") or []]
        self.hidden = None if not hidden else tuple(hidden) if len(hidden) == 2 else hidden[0]

    def loss(self, model, batch: TextBatch, label_smoothing: float) -> tuple[torch.Tensor, int]:
        loss, tokens, self.hidden = _carried_loss(model, batch, self.hidden, label_smoothing)
        return loss, tokens

    def validate(self, model, split: str, device: torch.device) -> Validation:
        """Perplexity of the split read as 10 streams with the state carried throughout."""
        return self.score(model, self.data.splits[split].dataset["ids"], device, self.bptt)

    @staticmethod
    @torch.no_grad()
    def score(model, ids: list[list[int]], device: torch.device, bptt: int, rows: int = 10) -> Validation:
        """Loss and perplexity of the lines ``ids`` read as one text (each line ends with
        ``</s>``) in ``rows`` parallel streams, windows of ``bptt`` tokens, state carried."""
        was_training = model.training
        model.eval()
        stream, hidden = stream_rows(ids, rows), None
        total_loss, total_tokens = 0.0, 0
        for start in range(0, stream.size(1) - 1, bptt):
            loss, tokens, hidden = _carried_loss(model, _window(stream, start, bptt, device), hidden, 0.0)
            total_loss, total_tokens = total_loss + loss.item(), total_tokens + tokens
        model.train(was_training)
        return _validation(total_loss, total_tokens)


def stream_rows(lines: list[list[int]], rows: int) -> torch.Tensor:
    """Token lines as one stream ``(rows, length)``: every line followed by ``</s>``, the stream
    cut into ``rows`` equal rows (the remainder dropped)."""
    ids = np.fromiter((token for line in lines for token in [*line, EOS]), dtype=np.int64)
    length = len(ids) // rows
    return torch.from_numpy(ids[:rows * length].reshape(rows, length))


def _window(stream: torch.Tensor, start: int, bptt: int, device: torch.device) -> TextBatch:
    """The window of ``stream`` from ``start``: up to ``bptt`` inputs and their next tokens."""
    end = min(start + bptt, stream.size(1) - 1)
    return TextBatch(stream[:, start:end].to(device), stream[:, start + 1:end + 1].to(device))


def _carried_loss(model, batch: TextBatch, hidden, label_smoothing: float):
    """Summed loss and tokens of one window read from ``hidden``, and the state to carry on
    (detached: back-propagation stops at the window's start)."""
    logits, hidden = model(batch.inputs, hidden)
    hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
    return _cross_entropy(logits, batch.targets, label_smoothing), batch.tokens, hidden


def make_feed(recipe: Recipe, data: Prepared, process: Process = Process()):
    """The feed a recipe's task asks for."""
    if recipe.task == "lm":
        return (StreamFeed if recipe.training.bptt else SequenceFeed)(recipe, data, process)
    return (AlignedFeed if recipe.model.architecture == "aligned" else PairFeed)(recipe, data, process)
