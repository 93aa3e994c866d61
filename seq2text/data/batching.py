"""Length-bucketed batching, padding and sharding.

A batch is a list of example indices.  :class:`BucketBatcher` builds them per epoch:

1. shuffle all indices with a generator seeded by ``(seed, epoch)`` (so a resumed run sees the
   same order);
2. cut the shuffled order into pools of ``pool`` batches, sort each pool by length;
3. fill batches greedily while ``sentences x longest`` stays within ``batch_tokens`` (padded
   tokens, the cost a recurrent network really pays) and the count within ``batch_size``;
4. shuffle the order of the batches; with several processes, each batch is a global batch
   (``world_size`` times the limits) and rank ``r`` takes every ``world_size``-th example of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch

from seq2text.tokenizers import BOS, EOS, PAD


class BucketBatcher:
    """Batches of example indices for one epoch at a time.

    ``lengths`` has one row per example and one column per side (source, target), in tokens as
    the model sees them (with bos/eos).  A batch's cost is its number of examples times the
    longest row entry.
    """

    def __init__(self, lengths: Sequence[Sequence[int]] | np.ndarray, batch_size: Optional[int] = None,
                 batch_tokens: Optional[int] = None, pool: int = 100, seed: int = 0,
                 shuffle: bool = True, rank: int = 0, world_size: int = 1):
        if batch_size is None and batch_tokens is None:
            raise ValueError("give batch_size, batch_tokens or both")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in 0..{world_size - 1}")
        lengths = np.asarray(lengths, dtype=np.int64)
        self.lengths = lengths.reshape(len(lengths), -1)
        self.longest = self.lengths.max(axis=1) if len(lengths) else np.zeros(0, np.int64)
        self.batch_size, self.batch_tokens = batch_size, batch_tokens
        self.pool, self.seed, self.shuffle = pool, seed, shuffle
        self.rank, self.world_size = rank, world_size

    def _typical_batch(self) -> int:
        """Examples in a typical global batch (sets the pool size)."""
        size = self.batch_size * self.world_size if self.batch_size else None
        if self.batch_tokens is None:
            return size
        typical = max(1, self.batch_tokens * self.world_size // max(1, int(np.median(self.longest))))
        return min(typical, size or typical)

    def _global_batches(self, epoch: int) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.longest)) if self.shuffle else np.arange(len(self.longest))
        pool_size = self.pool * self._typical_batch()
        batches = []
        for start in range(0, len(order), pool_size):
            chunk = order[start:start + pool_size]
            # Sort by longest side, then by each side, so similar shapes end up together.
            keys = [self.lengths[chunk, c] for c in reversed(range(self.lengths.shape[1]))]
            chunk = chunk[np.lexsort(keys + [self.longest[chunk]])]
            batches += self._fill(chunk)
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def _fill(self, indices: np.ndarray) -> list[list[int]]:
        batches, current, longest = [], [], 0
        for index in indices.tolist():
            new_longest = max(longest, int(self.longest[index]))
            over_tokens = self.batch_tokens is not None and \
                (len(current) + 1) * new_longest > self.batch_tokens * self.world_size
            over_count = self.batch_size is not None and len(current) + 1 > self.batch_size * self.world_size
            if current and (over_tokens or over_count):
                batches.append(current)
                current, new_longest = [], int(self.longest[index])
            current.append(index)
            longest = new_longest
        if current:
            batches.append(current)
        return batches

    def batches(self, epoch: int = 0) -> list[list[int]]:
        """This rank's share of the epoch: its slice of every global batch.

        With ``world_size`` ranks the global batches are built with ``world_size`` times the
        limits and rank ``r`` takes their examples ``r, r + world_size, ...``, so a run on N
        processes sees the same global batches as one process with N times the batch.
        """
        if self.world_size == 1:
            return self.all_batches(epoch)
        return [batch[self.rank::self.world_size] for batch in self.all_batches(epoch)]

    def all_batches(self, epoch: int = 0) -> list[list[int]]:
        """The global batches of ``epoch`` (for every rank together), in training order."""
        batches = self._global_batches(epoch)
        if self.world_size > 1:  # every rank needs at least one example of every batch
            for i in range(len(batches) - 1, 0, -1):
                if len(batches[i]) < self.world_size:
                    batches[i - 1] += batches.pop(i)
        return batches


def padding_overhead(batches: list[list[int]], lengths: np.ndarray) -> float:
    """Padded positions / real tokens over all batches and sides (0.0 means no padding)."""
    lengths = np.asarray(lengths).reshape(len(lengths), -1)
    real = padded = 0
    for batch in batches:
        rows = lengths[batch]
        real += int(rows.sum())
        padded += len(batch) * int(rows.max(axis=0).sum())
    return (padded - real) / real if real else 0.0


def pad(sequences: Sequence[Sequence[int]], pad_id: int = PAD) -> torch.Tensor:
    """Right-pad id lists into a ``(batch, longest)`` LongTensor."""
    longest = max((len(s) for s in sequences), default=0)
    out = torch.full((len(sequences), longest), pad_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        out[row, :len(seq)] = torch.as_tensor(seq, dtype=torch.long)
    return out


@dataclass
class PairBatch:
    """A padded batch of source/target pairs.

    - ``src``: ``(B, S)`` source ids, ``src_mask``: ``(B, S)`` True at real tokens;
    - ``tgt_in``: ``(B, T)`` ``<s>`` + target ids (decoder input);
    - ``tgt_out``: ``(B, T)`` target ids + ``</s>`` (what the decoder must predict);
    - ``tgt_mask``: ``(B, T)`` True where ``tgt_out`` is real.
    """

    src: torch.Tensor
    src_mask: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    tgt_mask: torch.Tensor

    @property
    def target_tokens(self) -> int:
        """Real target tokens, ``</s>`` included (the count losses are averaged over)."""
        return int(self.tgt_mask.sum())

    def to(self, device: torch.device | str) -> "PairBatch":
        return PairBatch(*(t.to(device) for t in (self.src, self.src_mask, self.tgt_in,
                                                  self.tgt_out, self.tgt_mask)))


def collate_pairs(src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]]) -> PairBatch:
    """Pad source ids and build teacher-forcing target input/output."""
    source = pad(src)
    target_in = pad([[BOS, *ids] for ids in tgt])
    target_out = pad([[*ids, EOS] for ids in tgt])
    return PairBatch(source, source != PAD, target_in, target_out, target_out != PAD)
