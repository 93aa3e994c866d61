"""The recurrent encoder: embeddings -> (bi)directional stacked RNN/GRU/LSTM.

``forward(src, mask)`` with ``src`` ``(B, S)`` ids and ``mask`` ``(B, S)`` returns

- ``outputs``: ``(B, S, D)`` the top layer at every position, ``D = hidden * directions``,
  (padding positions hold no information; attention masks them);
- ``final``: ``(B, D)`` the top layer's last states of both directions, concatenated (for the
  decoder's initial state).

:meth:`Encoder.read` does the same for inputs embedded already ``(B, S, E)`` (a tagger's word
vectors joined with their spellings); ``embedding`` is then any module with an
``embedding_dim``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

RNN_CLASSES = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class Encoder(nn.Module):
    def __init__(self, embedding: nn.Module, cell: str, hidden_size: int, layers: int,
                 bidirectional: bool, dropout: float, layer_norm: bool):
        super().__init__()
        self.embedding = embedding
        self.dropout = nn.Dropout(dropout)
        self.rnn = RNN_CLASSES[cell](embedding.embedding_dim, hidden_size, num_layers=layers,
                                     batch_first=True, bidirectional=bidirectional,
                                     dropout=dropout if layers > 1 else 0.0)
        self.output_size = hidden_size * (2 if bidirectional else 1)
        self.norm = nn.LayerNorm(self.output_size) if layer_norm else nn.Identity()

    def forward(self, src: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.read(self.embedding(src), mask)

    def read(self, embedded: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = mask.sum(1)
        packed = pack_padded_sequence(self.dropout(embedded), lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, state = self.rnn(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=embedded.size(1))
        hidden = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c)
        directions = 2 if self.rnn.bidirectional else 1
        final = torch.cat(list(hidden[-directions:]), dim=-1)  # top layer, every direction
        return self.norm(self.dropout(outputs)), final
