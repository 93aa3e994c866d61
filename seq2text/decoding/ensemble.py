"""An ensemble of encoder-decoders that share their tokenizers, searched as one model.

Each member encodes the same source ids and keeps its own decoder state; every step the
ensemble predicts the mean of the members' probabilities, ``log(mean_i p_i)``, and its
attention is the mean of theirs.  It satisfies :class:`~seq2text.decoding.protocols.EncoderDecoder`,
so greedy and beam search, n-best lists, penalties and heat-maps run on it unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

import torch

from seq2text.decoding.protocols import EncoderDecoder, SearchState


@dataclass
class EnsembleState:
    """One decoder state per member, for the same ``N`` rows."""

    members: tuple[SearchState, ...]

    @property
    def batch_size(self) -> int:
        return self.members[0].batch_size

    @property
    def device(self) -> torch.device:
        return self.members[0].device

    def select(self, index: torch.Tensor) -> "EnsembleState":
        return EnsembleState(tuple(state.select(index) for state in self.members))

    def reorder(self, index: torch.Tensor) -> "EnsembleState":
        return EnsembleState(tuple(state.reorder(index) for state in self.members))


def mean_attention(weights: Sequence[Optional[torch.Tensor]]) -> Optional[torch.Tensor]:
    """The mean of the members' attention weights, or None if any member has none."""
    if any(w is None for w in weights):
        return None
    return torch.stack([w.float() for w in weights]).mean(0)


class Ensemble:
    """``models`` (two or more, same target vocabulary) decoding together."""

    def __init__(self, models: Sequence[EncoderDecoder]):
        if len(models) < 2:
            raise ValueError("an ensemble needs two or more models")
        self.models = list(models)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor) -> EnsembleState:
        return EnsembleState(tuple(model.encode(src, src_mask) for model in self.models))

    def step(self, previous: torch.Tensor, state: EnsembleState
             ) -> tuple[torch.Tensor, EnsembleState, Optional[torch.Tensor]]:
        """Log of the mean probability ``(N, V)`` of the next token, the new states, the mean attention."""
        steps = [model.step(previous, member) for model, member in zip(self.models, state.members)]
        log_probs = torch.stack([log_prob.float() for log_prob, _, _ in steps])
        mixed = torch.logsumexp(log_probs, dim=0) - math.log(len(steps))
        return mixed, EnsembleState(tuple(s for _, s, _ in steps)), mean_attention([a for _, _, a in steps])

    def __call__(self, src: torch.Tensor, src_mask: torch.Tensor, tgt_in: torch.Tensor
                 ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Teacher-forced: the log of the mean probabilities ``(B, T, V)`` and the mean attention."""
        outputs = [model(src, src_mask, tgt_in) for model in self.models]
        log_probs = torch.stack([torch.log_softmax(logits.float(), dim=-1) for logits, _ in outputs])
        return torch.logsumexp(log_probs, dim=0) - math.log(len(outputs)), mean_attention([a for _, a in outputs])

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        for model in self.models:
            yield from model.parameters()
