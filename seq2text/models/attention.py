"""Attention over encoder outputs: additive (Bahdanau), dot and general (Luong).

Every attention takes the encoder outputs once per batch (:meth:`prepare`, where the keys are
projected, so the per-step work is only the query side) and then, per decoder step, a query:

- ``memory``: ``(B, S, M)`` encoder outputs, ``mask``: ``(B, S)`` True at real source tokens;
- ``query``: ``(B, Q)`` the decoder's top hidden state;
- returns ``context`` ``(B, M)`` and ``weights`` ``(B, S)`` (rows sum to 1 over real tokens).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn


class Attention(nn.Module):
    """Base class: scores are computed by subclasses, masking and weighting are shared."""

    def prepare(self, memory: torch.Tensor) -> torch.Tensor:
        """Keys ``(B, S, K)`` computed once per batch from ``memory`` ``(B, S, M)``."""
        return memory

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Unnormalised scores ``(B, S)``."""
        raise NotImplementedError

    def forward(self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor,
                mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.score(query, keys).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        # The weighted sum stays in memory's dtype even under bf16 autocast: a (1, S) x (S, M)
        # product per row is a memory-bound batch of vector products, which CPU kernels run
        # slower in bf16 than in fp32, and autocast would cast all of memory at every step.
        with torch.autocast(memory.device.type, enabled=False):
            context = torch.bmm(weights.unsqueeze(1).to(memory.dtype), memory).squeeze(1)
        return context, weights


class AdditiveAttention(Attention):
    """Bahdanau et al. (2015): ``v^T tanh(W_k m + W_q q)``."""

    def __init__(self, query_size: int, memory_size: int, hidden_size: int):
        super().__init__()
        self.key_layer = nn.Linear(memory_size, hidden_size, bias=False)
        self.query_layer = nn.Linear(query_size, hidden_size, bias=False)
        self.energy = nn.Linear(hidden_size, 1, bias=False)

    def prepare(self, memory: torch.Tensor) -> torch.Tensor:
        return self.key_layer(memory)

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return self.energy(torch.tanh(keys + self.query_layer(query).unsqueeze(1))).squeeze(2)


class DotAttention(Attention):
    """Luong et al. (2015) dot: ``q . m`` (query and memory of the same size)."""

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return torch.bmm(keys, query.unsqueeze(2)).squeeze(2)


class GeneralAttention(DotAttention):
    """Luong et al. (2015) general: ``q . W m``; ``W m`` is precomputed per batch."""

    def __init__(self, query_size: int, memory_size: int):
        super().__init__()
        self.key_layer = nn.Linear(memory_size, query_size, bias=False)

    def prepare(self, memory: torch.Tensor) -> torch.Tensor:
        return self.key_layer(memory)


def make_attention(kind: str, query_size: int, memory_size: int) -> Optional[Attention]:
    """The attention a recipe names (``none`` -> None)."""
    if kind == "none":
        return None
    if kind == "bahdanau":
        return AdditiveAttention(query_size, memory_size, query_size)
    if kind == "general":
        return GeneralAttention(query_size, memory_size)
    if memory_size != query_size:
        raise ValueError(f"dot attention needs equal sizes (decoder {query_size}, encoder {memory_size}); "
                         f"use general or bahdanau")
    return DotAttention()
