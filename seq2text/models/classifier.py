"""The N-vs-1 model: a recurrent encoder reads a text, one pooled vector decides its label.

``forward(src (B, S), mask (B, S))`` returns logits ``(B, L)`` over the labels and, for
attention pooling, the weights ``(B, S)`` each position got (zero on padding; else None).

Pooling (``model.pooling``) turns the encoder's outputs ``(B, S, D)`` into ``(B, D)``:

- ``last``: the last states of both directions (the forward one after the last token, the
  backward one after the first);
- ``max`` / ``mean``: over the real positions, per dimension;
- ``attention``: a weighted mean, the weights a softmax over positions of
  ``v · tanh(W h_t)`` (Yang et al. 2016, without the hierarchy).

Padding never changes a prediction: the encoder packs the sequences and every pooling masks
the padded positions.

:meth:`language_model_loss` pretrains the encoder without labels (``training.objective: bilm``,
as ELMo's biLM, Peters et al. 2018): the forward states at ``t`` predict token ``t + 1``, the
backward states token ``t - 1``, each through the embedding matrix (so the pretrained model
has exactly the classifier's weights, and a labels run starts from all of them).
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from seq2text.models.encoder import Encoder
from seq2text.recipe import ModelConfig
from seq2text.tokenizers import PAD


class RNNClassifier(nn.Module):
    def __init__(self, config: ModelConfig, vocab: int, labels: int):
        super().__init__()
        self.pooling = config.pooling
        self.embedding = nn.Embedding(vocab, config.embed_size, padding_idx=PAD)
        directions = 2 if config.bidirectional else 1
        self.encoder = Encoder(self.embedding, config.cell, config.encoder_output_size // directions,
                               config.encoder_layers, config.bidirectional, config.dropout, config.layer_norm)
        size = self.encoder.output_size
        if self.pooling == "attention":
            self.attention = nn.Sequential(nn.Linear(size, size), nn.Tanh(), nn.Linear(size, 1, bias=False))
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(size, labels)

    def forward(self, src: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        outputs, final = self.encoder(src, mask)
        weights = None
        if self.pooling == "last":
            pooled = final
        elif self.pooling == "max":
            pooled = outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values
        elif self.pooling == "mean":
            pooled = (outputs * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        else:
            scores = self.attention(outputs).squeeze(-1).float().masked_fill(~mask, float("-inf"))
            weights = scores.softmax(dim=-1)
            pooled = torch.bmm(weights.unsqueeze(1).to(outputs.dtype), outputs).squeeze(1)
        return self.output(self.dropout(pooled)), weights

    def language_model_loss(self, src: torch.Tensor, mask: torch.Tensor, label_smoothing: float = 0.0
                            ) -> tuple[torch.Tensor, int]:
        """The summed cross-entropy of predicting each real token of ``src`` ``(B, S)`` from its
        left context (forward states) and from its right context (backward states), and the
        number of predictions."""
        outputs, _ = self.encoder(src, mask)
        half = outputs.size(-1) // 2
        pairs = mask[:, 1:]  # positions t-1 and t both real
        forward = outputs[:, :-1, :half][pairs]  # (N, H): read up to t-1, predict t
        backward = outputs[:, 1:, half:][pairs]  # (N, H): read from t down, predict t-1
        states = torch.cat([forward, backward])
        targets = torch.cat([src[:, 1:][pairs], src[:, :-1][pairs]])
        logits = states @ self.embedding.weight.to(states.dtype).t()
        loss = F.cross_entropy(logits.float(), targets, label_smoothing=label_smoothing, reduction="sum")
        return loss, len(targets)
