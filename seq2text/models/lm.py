"""The recurrent language model a recipe with ``task: lm`` describes.

``embedding -> dropout -> stacked RNN/GRU/LSTM (model.decoder_layers, model.hidden_size) ->
dropout -> [projection to embed_size when tied and the sizes differ] -> vocabulary logits``,
with the output layer tied to the embeddings when ``model.tied_embeddings`` is set.

Regularisers of small language models, all off by default and active only in training:
``model.locked_dropout`` (one mask per sequence, the same at every position),
``model.embedding_dropout`` (whole word types dropped from the lookup) and ``model.weight_drop``
(DropConnect on the recurrent weights; the weights stay where they are, so the state dict and
inference are those of the plain model).

- :meth:`forward` ``(B, T)`` ids and an optional carried hidden state -> logits ``(B, T, V)``
  and the final hidden state (truncated back-propagation through time carries it on);
- :meth:`start` and :meth:`step` implement the search protocol of :mod:`seq2text.decoding`,
  so greedy, sampling and beam search run on language models as on translation models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import torch
from torch import nn
from torch.func import functional_call

from seq2text.models.encoder import RNN_CLASSES
from seq2text.recipe import ModelConfig
from seq2text.tokenizers import PAD

Hidden = Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]


@dataclass
class LMState:
    """The recurrent state between steps: ``(layers, N, H)`` (LSTM: a pair ``(h, c)``)."""

    hidden: Hidden

    @property
    def _first(self) -> torch.Tensor:
        return self.hidden[0] if isinstance(self.hidden, tuple) else self.hidden

    @property
    def batch_size(self) -> int:
        return self._first.size(1)

    @property
    def device(self) -> torch.device:
        return self._first.device

    def select(self, index: torch.Tensor) -> "LMState":
        if isinstance(self.hidden, tuple):
            return LMState(tuple(h.index_select(1, index) for h in self.hidden))
        return LMState(self.hidden.index_select(1, index))

    reorder = select  # nothing is shared between the rows of one input


class RNNLM(nn.Module):
    def __init__(self, config: ModelConfig, vocab_size: int):
        super().__init__()
        self.cell, self.layers, self.hidden_size = config.cell, config.decoder_layers, config.hidden_size
        self.embedding = nn.Embedding(vocab_size, config.embed_size, padding_idx=PAD)
        self.rnn = RNN_CLASSES[config.cell](config.embed_size, config.hidden_size, config.decoder_layers,
                                            batch_first=True,
                                            dropout=config.dropout if config.decoder_layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.locked_dropout, self.embedding_dropout = config.locked_dropout, config.embedding_dropout
        self.weight_drop = config.weight_drop
        tied_projection = config.tied_embeddings and config.hidden_size != config.embed_size
        self.projection = nn.Linear(config.hidden_size, config.embed_size) if tied_projection else None
        output_size = config.embed_size if config.tied_embeddings else config.hidden_size
        self.generator = nn.Linear(output_size, vocab_size)
        if config.tied_embeddings:
            self.generator.weight = self.embedding.weight

    def forward(self, ids: torch.Tensor, hidden: Optional[Hidden] = None) -> tuple[torch.Tensor, Hidden]:
        """Logits ``(B, T, V)`` for the token after each position of ``ids`` ``(B, T)``."""
        outputs, hidden = self._recur(self._drop(self._embed(ids)), hidden)
        outputs = self._drop(outputs)
        if self.projection is not None:
            outputs = self.projection(outputs)
        return self.generator(outputs), hidden

    def _embed(self, ids: torch.Tensor) -> torch.Tensor:
        if not (self.training and self.embedding_dropout):
            return self.embedding(ids)
        weight = self.embedding.weight
        keep = weight.new_empty(weight.size(0), 1).bernoulli_(1 - self.embedding_dropout)
        return nn.functional.embedding(ids, weight * keep / (1 - self.embedding_dropout), PAD)

    def _drop(self, values: torch.Tensor) -> torch.Tensor:
        """Dropout on ``(B, T, D)``; with ``locked_dropout`` one mask per row for all ``T``."""
        if not (self.training and self.locked_dropout and self.dropout.p):
            return self.dropout(values)
        keep = values.new_empty(values.size(0), 1, values.size(2)).bernoulli_(1 - self.dropout.p)
        return values * keep / (1 - self.dropout.p)

    def _recur(self, inputs: torch.Tensor, hidden: Optional[Hidden]) -> tuple[torch.Tensor, Hidden]:
        if not (self.training and self.weight_drop):
            return self.rnn(inputs, hidden)
        dropped = {name: nn.functional.dropout(weight, self.weight_drop)
                   for name, weight in self.rnn.named_parameters() if name.startswith("weight_hh")}
        return functional_call(self.rnn, dropped, (inputs, hidden))

    def start(self, prefixes: list[list[int]]) -> tuple[torch.Tensor, LMState]:
        """Read equal-length ``prefixes`` (each starts with ``<s>``, at least one token) and return
        the ids of their last tokens ``(N,)`` with the state before them: ready for search."""
        ids = torch.tensor(prefixes, dtype=torch.long, device=self.embedding.weight.device)
        hidden = None
        if ids.size(1) > 1:
            _, hidden = self.rnn(self.embedding(ids[:, :-1]))
        if hidden is None:
            zeros = ids.new_zeros((self.layers, ids.size(0), self.hidden_size), dtype=self.embedding.weight.dtype)
            hidden = (zeros, zeros.clone()) if self.cell == "lstm" else zeros
        return ids[:, -1], LMState(hidden)

    def step(self, previous: torch.Tensor, state: LMState) -> tuple[torch.Tensor, LMState, None]:
        """Log-probabilities ``(N, V)`` of the token after ``previous`` ``(N,)``."""
        logits, hidden = self(previous.unsqueeze(1), state.hidden)
        return torch.log_softmax(logits[:, 0].float(), dim=-1), LMState(hidden), None
