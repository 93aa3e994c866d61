"""The networks' building blocks against direct computations: the split recurrent step against
PyTorch's own cells, every attention against its formula written out, and training's packed
teacher forcing against the padded one."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from seq2text.data.batching import collate_pairs
from seq2text.scoring.perplexity import summed_cross_entropy
from seq2text.models.attention import AdditiveAttention, DotAttention, GeneralAttention
from seq2text.models.decoder import recurrent_step
from seq2text.pretrained import load_pretrained


@pytest.mark.parametrize("kind, cell_class", [("rnn", nn.RNNCell), ("gru", nn.GRUCell), ("lstm", nn.LSTMCell)])
def test_recurrent_step_equals_the_pytorch_cell(kind: str, cell_class: type) -> None:
    torch.manual_seed(0)
    cell = cell_class(6, 5)
    inputs = torch.randn(4, 6)
    hidden = (torch.randn(4, 5), torch.randn(4, 5)) if kind == "lstm" else torch.randn(4, 5)
    expected = cell(inputs, hidden)
    gates_in = nn.functional.linear(inputs, cell.weight_ih, cell.bias_ih)
    got = recurrent_step(kind, gates_in, hidden, cell.weight_hh, cell.bias_hh)
    for a, b in zip(got if kind == "lstm" else [got], expected if kind == "lstm" else [expected]):
        torch.testing.assert_close(a, b)


def _masked_softmax_context(scores: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor):
    """Softmax over the real positions, one row at a time, and the weighted sum of memory."""
    weights = torch.zeros_like(scores)
    for row in range(scores.size(0)):
        real = mask[row].nonzero().flatten()
        exps = [math.exp(float(scores[row, j])) for j in real]
        for j, e in zip(real.tolist(), exps):
            weights[row, j] = e / sum(exps)
    context = torch.stack([sum(weights[b, j] * memory[b, j] for j in range(memory.size(1)))
                           for b in range(memory.size(0))])
    return context, weights


@pytest.fixture
def inputs():
    torch.manual_seed(1)
    memory = torch.randn(3, 5, 4)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
    return torch.randn(3, 4), memory, mask


def test_additive_attention_is_bahdanau(inputs) -> None:
    query, memory, mask = inputs
    attention = AdditiveAttention(4, 4, 7)
    context, weights = attention(query, attention.prepare(memory), memory, mask)
    v, w_k, w_q = attention.energy.weight[0], attention.key_layer.weight, attention.query_layer.weight
    scores = torch.tensor([[float(v @ torch.tanh(w_k @ memory[b, j] + w_q @ query[b])) for j in range(5)]
                           for b in range(3)])
    want_context, want_weights = _masked_softmax_context(scores, memory, mask)
    torch.testing.assert_close(weights, want_weights)
    torch.testing.assert_close(context, want_context)
    assert bool((weights[~mask] == 0).all())


def test_dot_and_general_attention_are_luong(inputs) -> None:
    query, memory, mask = inputs
    dot = DotAttention()
    context, weights = dot(query, dot.prepare(memory), memory, mask)
    scores = torch.tensor([[float(query[b] @ memory[b, j]) for j in range(5)] for b in range(3)])
    want_context, want_weights = _masked_softmax_context(scores, memory, mask)
    torch.testing.assert_close(weights, want_weights)
    torch.testing.assert_close(context, want_context)

    general = GeneralAttention(4, 4)
    context, weights = general(query, general.prepare(memory), memory, mask)
    w = general.key_layer.weight
    scores = torch.tensor([[float(query[b] @ (w @ memory[b, j])) for j in range(5)] for b in range(3)])
    want_context, want_weights = _masked_softmax_context(scores, memory, mask)
    torch.testing.assert_close(weights, want_weights)
    torch.testing.assert_close(context, want_context)


def test_training_without_the_padded_steps_equals_the_padded_forward(data_root) -> None:
    """The decoder's packed teacher forcing (rows sorted, finished rows dropped) gives the padded
    forward's logits at the real positions, and the same gradients, on real sentences."""
    loaded = load_pretrained("multi30k-de-en")
    model = loaded.model.float().eval()  # no dropout: both passes see the same network
    folder = data_root / "multi30k"
    src = (folder / "val.de").read_text(encoding="utf-8").splitlines()[:24]
    tgt = (folder / "val.en").read_text(encoding="utf-8").splitlines()[:24]
    batch = collate_pairs([loaded.src.encode(line) for line in src], [loaded.tgt.encode(line) for line in tgt])
    assert batch.tgt_mask.sum(1).unique().numel() > 5  # lengths differ: rows leave at many steps
    gradients = []
    for mask in (None, batch.tgt_mask):
        model.zero_grad()
        logits, _ = model(batch.src, batch.src_mask, batch.tgt_in, mask)
        real = logits[batch.tgt_mask] if mask is None else logits
        summed_cross_entropy(real, batch.tgt_out[batch.tgt_mask]).backward()
        gradients.append(([p.grad.clone() for p in model.parameters()], real.detach()))
    (padded_grads, padded), (packed_grads, packed) = gradients
    torch.testing.assert_close(packed, padded, atol=1e-4, rtol=1e-4)
    for a, b in zip(packed_grads, padded_grads):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3)
