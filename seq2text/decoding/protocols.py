"""What a model and its state must offer for greedy, sampling and beam search to run on it.

The translation model, the aligned couplet model and the language model all satisfy these;
search code only ever calls what is listed here.
"""

from __future__ import annotations

from typing import Iterator, Optional, Protocol

import torch


class SearchState(Protocol):
    """A batch of ``N`` rows of decoder state."""

    @property
    def batch_size(self) -> int: ...

    @property
    def device(self) -> torch.device: ...

    def select(self, index: torch.Tensor) -> "SearchState":
        """The rows ``index`` ``(M,)``, in that order."""

    def reorder(self, index: torch.Tensor) -> "SearchState":
        """Like :meth:`select` when every row keeps its input (beams swapping places), so that
        what all rows of one input share need not be copied."""


class SearchModel(Protocol):
    """A model that extends rows of state one token at a time."""

    def step(self, previous: torch.Tensor, state: SearchState
             ) -> tuple[torch.Tensor, SearchState, Optional[torch.Tensor]]:
        """Log-probabilities ``(N, V)`` of the token after ``previous`` ``(N,)``, the new state,
        and attention weights ``(N, S)`` (None if the model has none)."""

    def parameters(self) -> Iterator[torch.nn.Parameter]: ...


class EncoderDecoder(SearchModel, Protocol):
    """A search model that starts from a source: ``encode(src (B, S), mask (B, S))``."""

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor) -> SearchState: ...
