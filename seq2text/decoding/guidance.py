"""Classifier-free guidance for a language model read after a condition (a poem's subject).

The same model reads each row twice: after the condition (``秋夜|七绝|``) and without it
(``七绝|``); every step it scores the next token by the conditioned log-probabilities pushed
away from the plain ones, ``cond + weight * (cond - plain)``, renormalised.  At weight 0 this
is the conditioned model alone; larger weights favour what the condition makes more likely
than it would be anyway (Ho & Salimans 2022; Sanchez et al. 2023 for language models).  It
needs a model trained both with and without the condition, as ``data.untitled_fraction``
trains the poems model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

import torch

from seq2text.decoding.protocols import SearchModel, SearchState


@dataclass
class GuidedState:
    """The rows' state after the condition and the same rows' state without it."""

    conditioned: SearchState
    plain: SearchState

    @property
    def batch_size(self) -> int:
        return self.conditioned.batch_size

    @property
    def device(self) -> torch.device:
        return self.conditioned.device

    def select(self, index: torch.Tensor) -> "GuidedState":
        return GuidedState(self.conditioned.select(index), self.plain.select(index))

    def reorder(self, index: torch.Tensor) -> "GuidedState":
        return GuidedState(self.conditioned.reorder(index), self.plain.reorder(index))


def guide(conditioned: torch.Tensor, plain: torch.Tensor, weight: float) -> torch.Tensor:
    """The guided log-probabilities ``(B, V)`` of the conditioned and plain ones ``(B, V)``:
    ``cond + weight * (cond - plain)``, renormalised."""
    return torch.log_softmax(conditioned + weight * (conditioned - plain), dim=-1)


class Guided:
    """``model`` stepped on a :class:`GuidedState`, its two readings mixed by ``weight``."""

    def __init__(self, model: SearchModel, weight: float):
        self.model, self.weight = model, weight

    def step(self, previous: torch.Tensor, state: GuidedState
             ) -> tuple[torch.Tensor, GuidedState, Optional[torch.Tensor]]:
        conditioned, conditioned_state, _ = self.model.step(previous, state.conditioned)
        plain, plain_state, _ = self.model.step(previous, state.plain)
        return guide(conditioned, plain, self.weight), GuidedState(conditioned_state, plain_state), None

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        return self.model.parameters()
