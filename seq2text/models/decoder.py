"""The recurrent decoder with attention, input feeding and a bridge from the encoder.

One decoder step (Luong et al. 2015 with any scoring function):

1. the RNN reads ``[embedding(y_{t-1}); a_{t-1}]`` (``a_{t-1}`` only with input feeding);
2. attention with the top hidden state ``h_t`` as query gives the context ``c_t``;
3. the attentional vector ``a_t = tanh(W [h_t; c_t])`` is projected to vocabulary logits.

Without attention the RNN's top state stands in for ``a_t`` (the basic seq2seq).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import partial
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from seq2text.models.attention import Attention

CELL_CLASSES = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}
Hidden = Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]


@dataclass
class DecoderState:
    """Everything a decoder step needs, batch-first; :meth:`select` reorders it (beam search).

    - ``hidden``: per layer ``(B, H)`` (LSTM: a pair ``(h, c)``);
    - ``feed``: ``(B, A)`` the previous attentional vector (zeros at the start);
    - ``keys``/``memory``: ``(B, S, K)``/``(B, S, M)`` projected and raw encoder outputs;
    - ``mask``: ``(B, S)`` True at real source tokens.
    """

    hidden: list[Hidden]
    feed: torch.Tensor
    keys: torch.Tensor
    memory: torch.Tensor
    mask: torch.Tensor

    @property
    def batch_size(self) -> int:
        return self.feed.size(0)

    @property
    def device(self) -> torch.device:
        return self.feed.device

    def select(self, index: torch.Tensor) -> "DecoderState":
        """The rows ``index`` ``(N,)`` of everything."""
        pick = partial(torch.Tensor.index_select, dim=0, index=index)
        return DecoderState(*(_each(getattr(self, f.name), pick) for f in fields(self)))

    def reorder(self, index: torch.Tensor) -> "DecoderState":
        """Like :meth:`select` when every row keeps its input sentence (beams swapping places):
        the source side is the same for all of a sentence's rows, so it is not copied."""
        pick = partial(torch.Tensor.index_select, dim=0, index=index)
        return DecoderState(_each(self.hidden, pick), pick(self.feed), self.keys, self.memory, self.mask)

    def narrow(self, rows: int, width: int) -> "DecoderState":
        """The first ``rows`` rows, with the first ``width`` source positions."""
        return DecoderState(_each(self.hidden, lambda t: t[:rows]), self.feed[:rows], self.keys[:rows, :width],
                            self.memory[:rows, :width], self.mask[:rows, :width])


def _each(value, change):
    """``change`` applied to a tensor, or to every tensor of a (nested) list or tuple of them."""
    if isinstance(value, (list, tuple)):
        return type(value)(_each(v, change) for v in value)
    return change(value)


class Decoder(nn.Module):
    def __init__(self, embedding: nn.Embedding, cell: str, hidden_size: int, layers: int,
                 memory_size: int, attention: Optional[Attention], input_feeding: bool,
                 dropout: float, layer_norm: bool, output_size: int):
        super().__init__()
        self.embedding = embedding
        self.cell_kind, self.layers, self.hidden_size = cell, layers, hidden_size
        self.attention = attention
        self.input_feeding = input_feeding and attention is not None
        self.output_size = output_size if attention is not None else hidden_size
        first_input = embedding.embedding_dim + (self.output_size if self.input_feeding else 0)
        self.cells = nn.ModuleList(CELL_CLASSES[cell](first_input if i == 0 else hidden_size, hidden_size)
                                   for i in range(layers))
        self.bridge = nn.Linear(memory_size, hidden_size * (2 if cell == "lstm" else 1))
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(hidden_size) if layer_norm else nn.Identity()
        if attention is not None:
            self.combine = nn.Linear(hidden_size + memory_size, self.output_size, bias=False)

    def init_state(self, memory: torch.Tensor, mask: torch.Tensor, final: torch.Tensor) -> DecoderState:
        """The first state: every layer starts from ``tanh(bridge(final))``; ``final`` ``(B, M)``."""
        start = torch.tanh(self.bridge(final))
        if self.cell_kind == "lstm":
            h, c = start.chunk(2, dim=-1)
            hidden = [(h, c) for _ in range(self.layers)]
        else:
            hidden = [start for _ in range(self.layers)]
        keys = self.attention.prepare(memory) if self.attention is not None else memory
        feed = memory.new_zeros(memory.size(0), self.output_size)
        return DecoderState(hidden, feed, keys, memory, mask)

    def _project(self, ids: torch.Tensor) -> torch.Tensor:
        """The first layer's input projection of the embeddings of ``ids`` (``(B,)`` or ``(B, T)``).

        In training this is one matrix product for all time steps instead of one per step.
        """
        first = self.cells[0]
        width = self.embedding.embedding_dim
        return F.linear(self.dropout(self.embedding(ids)), first.weight_ih[:, :width], first.bias_ih)

    def _feed_weight(self) -> Optional[torch.Tensor]:
        """The first layer's input weights for the fed-back attentional vector (None without
        input feeding), in the dtype autocast multiplies in: a slice of a weight is not in
        autocast's cache of cast weights, so it is cast here once rather than at every step."""
        if not self.input_feeding:
            return None
        weight = self.cells[0].weight_ih[:, self.embedding.embedding_dim:]
        device = weight.device.type
        return weight.to(torch.get_autocast_dtype(device)) if torch.is_autocast_enabled(device) else weight

    def _advance(self, projected: torch.Tensor, state: DecoderState, feed_weight: Optional[torch.Tensor]
                 ) -> tuple[torch.Tensor, DecoderState, Optional[torch.Tensor]]:
        """One step from the projected input ``(B, G)``: ``a_t`` (before dropout), state, weights."""
        first = self.cells[0]
        if feed_weight is not None:
            projected = projected + F.linear(state.feed, feed_weight)
        hidden = [recurrent_step(self.cell_kind, projected, state.hidden[0], first.weight_hh, first.bias_hh)]
        for layer in range(1, self.layers):
            below = hidden[-1][0] if isinstance(hidden[-1], tuple) else hidden[-1]
            hidden.append(self.cells[layer](self.dropout(below), state.hidden[layer]))
        top = self.norm(hidden[-1][0] if isinstance(hidden[-1], tuple) else hidden[-1])
        if self.attention is None:
            return top, DecoderState(hidden, state.feed, state.keys, state.memory, state.mask), None
        context, weights = self.attention(top, state.keys, state.memory, state.mask)
        output = torch.tanh(self.combine(torch.cat([top, context], dim=-1)))
        return output, DecoderState(hidden, output, state.keys, state.memory, state.mask), weights

    def step(self, previous: torch.Tensor, state: DecoderState
             ) -> tuple[torch.Tensor, DecoderState, Optional[torch.Tensor]]:
        """One step from ids ``previous`` ``(B,)``: returns ``a_t`` ``(B, A)``, the new state and
        the attention weights ``(B, S)`` (None without attention)."""
        output, state, weights = self._advance(self._project(previous), state, self._feed_weight())
        return self.dropout(output), state, weights

    def forward(self, tgt_in: torch.Tensor, state: DecoderState, tgt_mask: Optional[torch.Tensor] = None
                ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Teacher forcing over ``tgt_in`` ``(B, T)``: attentional vectors ``(B, T, A)`` and
        attention weights ``(B, T, S)`` (None without attention).

        With ``tgt_mask`` ``(B, T)`` (True at the real positions, which come first in each row)
        only the real positions are computed: vectors ``(N, A)`` in the order of ``tgt_mask``'s
        True positions, and no weights.
        """
        if tgt_mask is not None:
            return self._forward_real(tgt_in, state, tgt_mask), None
        # The weight slice and the per-step inputs are taken once, outside the loop: slicing or
        # indexing inside it makes backward allocate a zero tensor of the whole source at each step.
        feed_weight = self._feed_weight()
        outputs, weights = [], []
        for projected in self._project(tgt_in).unbind(1):
            output, state, attn = self._advance(projected, state, feed_weight)
            outputs.append(output)
            weights.append(attn)
        stacked = torch.stack(weights, dim=1) if self.attention is not None else None
        return self.dropout(torch.stack(outputs, dim=1)), stacked

    def _forward_real(self, tgt_in: torch.Tensor, state: DecoderState, tgt_mask: torch.Tensor) -> torch.Tensor:
        """Teacher forcing without the padded steps, as packed sequences do it: the rows are
        sorted longest first, so the rows still going at step ``t`` are the first ``active[t]``,
        and each step runs those over the source positions they have (padding is often half of a
        batch of random sentences).  Returns ``(N, A)`` in the order of ``tgt_mask``'s True
        positions."""
        steps = tgt_in.size(1)
        lengths = tgt_mask.sum(1)
        order = lengths.argsort(descending=True, stable=True)
        active = (lengths[order].unsqueeze(1) > torch.arange(steps, device=lengths.device)).sum(0).tolist()
        state = state.select(order)
        widest = state.mask.sum(1).cummax(0).values.tolist()  # source width of the first n rows
        feed_weight = self._feed_weight()
        outputs, rows = [], state.batch_size
        for step, projected in enumerate(self._project(tgt_in.index_select(0, order)).unbind(1)):
            if active[step] == 0:
                break
            if active[step] < rows or step == 0:
                rows = active[step]
                state = state.narrow(rows, widest[rows - 1])
            output, state, _ = self._advance(projected[:rows], state, feed_weight)
            outputs.append(output)
        # Packed rows run step by step over the sorted rows; their places in the (B, T) grid:
        places = torch.cat([order[:n] * steps + t for t, n in enumerate(active) if n])
        return self.dropout(torch.cat(outputs).index_select(0, places.argsort()))


def recurrent_step(kind: str, gates_in: torch.Tensor, hidden: Hidden, weight_hh: torch.Tensor,
                   bias_hh: torch.Tensor) -> Hidden:
    """One RNN/GRU/LSTM cell step given its input projection ``gates_in`` ``(B, G)``.

    The same equations as ``nn.RNNCell``/``nn.GRUCell``/``nn.LSTMCell`` (whose parameters are
    used), split so that the input side can be computed for all time steps at once.
    """
    if kind == "lstm":
        h, c = hidden
        i, f, g, o = (gates_in + F.linear(h, weight_hh, bias_hh)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    if kind == "gru":
        r_in, z_in, n_in = gates_in.chunk(3, dim=-1)
        r_h, z_h, n_h = F.linear(hidden, weight_hh, bias_hh).chunk(3, dim=-1)
        r, z = torch.sigmoid(r_in + r_h), torch.sigmoid(z_in + z_h)
        n = torch.tanh(n_in + r * n_h)
        return n + z * (hidden - n)
    return torch.tanh(gates_in + F.linear(hidden, weight_hh, bias_hh))
