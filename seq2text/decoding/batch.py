"""Decoding a batch of sources with an encoder-decoder: pad, encode, search.

The one path from token ids to hypotheses for the translator, couplets, training's validation
and ``seq2text evaluate``, so all of them follow one output-length rule
(:func:`output_limits`).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from seq2text.data.batching import pad
from seq2text.decoding.beam import beam_search
from seq2text.decoding.hypothesis import Hypothesis
from seq2text.decoding.processors import LogitProcessor
from seq2text.decoding.protocols import EncoderDecoder, SearchState
from seq2text.decoding.sampling import greedy_search
from seq2text.tokenizers import PAD

LENGTH_RATIO, LENGTH_SLACK = 2.0, 10


def output_limits(source_lengths: torch.Tensor, max_length: int, ratio: Optional[float] = None) -> torch.Tensor:
    """The longest output for each source ``(B,)``: ``ratio`` (default 2) × its length + 10
    pieces, and never more than ``max_length``."""
    ratio = LENGTH_RATIO if ratio is None else ratio
    return (source_lengths.double() * ratio + LENGTH_SLACK).long().clamp(max=max_length)


def encode_sources(model: EncoderDecoder, sources: Sequence[Sequence[int]]) -> SearchState:
    """The decoder's first state for each source (token ids, no ``<s>``/``</s>``), padded on
    the model's device."""
    src = pad([list(ids) for ids in sources]).to(next(model.parameters()).device)
    return model.encode(src, src != PAD)


@torch.no_grad()
def decode_sources(model: EncoderDecoder, sources: Sequence[Sequence[int]], limits: torch.Tensor, beam_size: int = 1,
                   alpha: float = 1.0, penalty: str = "gnmt", coverage: float = 0.0, nbest: int = 1,
                   processors: Sequence[LogitProcessor] = (), early: bool = False) -> list[list[Hypothesis]]:
    """The ``nbest`` hypotheses of each source (token ids, no ``<s>``/``</s>``), best first:
    greedy search for ``beam_size`` 1, else beam search (``early``: see
    :func:`~seq2text.decoding.beam.beam_search`); ``limits`` ``(B,)`` as from
    :func:`output_limits`."""
    state = encode_sources(model, sources)
    limits = limits.to(state.device)
    if beam_size == 1:
        return [[hypothesis] for hypothesis in greedy_search(model, state, limits, processors)]
    return beam_search(model, state, beam_size, limits, alpha, penalty, coverage, nbest, processors, early=early)
