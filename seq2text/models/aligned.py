"""The N-vs-N couplet model: one output character per input character.

A bidirectional encoder reads the 上联 ``(B, S)`` and every position is labelled with the 下联
character at the same position: logits ``(B, S, V)``.  A 下联 has the 上联's length by
construction; positions do not see each other's outputs (the search's constraints tie them).

For search, :meth:`encode` computes all positions at once and :meth:`step` hands them out one
position per call, then ``</s>`` after each row's last position, so greedy, sampling and beam
search (with logit processors) run on it as on the attention model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from seq2text.models.encoder import Encoder
from seq2text.recipe import ModelConfig
from seq2text.tokenizers import EOS, PAD


@dataclass
class AlignedState:
    """``log_probs`` ``(N, S + 1, V)``: each row's distributions per position, ``</s>`` only
    from its length on; ``position``: the next position to hand out."""

    log_probs: torch.Tensor
    position: int = 0

    @property
    def batch_size(self) -> int:
        return self.log_probs.size(0)

    @property
    def device(self) -> torch.device:
        return self.log_probs.device

    def select(self, index: torch.Tensor) -> "AlignedState":
        return AlignedState(self.log_probs.index_select(0, index), self.position)

    reorder = select


class AlignedTagger(nn.Module):
    def __init__(self, config: ModelConfig, src_vocab: int, tgt_vocab: int):
        super().__init__()
        self.src_embedding = nn.Embedding(src_vocab, config.embed_size, padding_idx=PAD)
        directions = 2 if config.bidirectional else 1
        self.encoder = Encoder(self.src_embedding, config.cell, config.encoder_output_size // directions,
                               config.encoder_layers, config.bidirectional, config.dropout, config.layer_norm)
        tied = config.tied_embeddings and src_vocab == tgt_vocab
        self.projection = nn.Linear(self.encoder.output_size, config.embed_size) if tied else None
        self.generator = nn.Linear(config.embed_size if tied else self.encoder.output_size, tgt_vocab, bias=False)
        if tied:
            self.generator.weight = self.src_embedding.weight

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, S, V)``: the output character at every source position."""
        outputs, _ = self.encoder(src, src_mask)
        if self.projection is not None:
            outputs = self.projection(outputs)
        return self.generator(outputs)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor) -> AlignedState:
        log_probs = torch.log_softmax(self(src, src_mask).float(), dim=-1)
        batch, length, vocab = log_probs.shape
        padded = log_probs.new_full((batch, length + 1, vocab), float("-inf"))
        padded[:, :length] = log_probs
        ended = torch.arange(length + 1, device=src.device)[None, :] >= src_mask.sum(1, keepdim=True)
        padded[ended] = float("-inf")
        padded[..., EOS] = torch.where(ended, 0.0, float("-inf"))
        return AlignedState(padded)

    def step(self, previous: torch.Tensor, state: AlignedState
             ) -> tuple[torch.Tensor, AlignedState, Optional[torch.Tensor]]:
        """The next position's log-probabilities ``(N, V)``; ``previous`` is not read."""
        position = min(state.position, state.log_probs.size(1) - 1)
        return state.log_probs[:, position], AlignedState(state.log_probs, state.position + 1), None
