"""Search one token at a time without beams: greedy (the most probable token) and sampling.

Both work on any model with ``step(previous (N,), state) -> (log_probs (N, V), state, weights)``
whose state has ``batch_size``, ``device`` and ``select(index)``.  Rows that have produced
``</s>`` leave the batch, so later steps only compute the unfinished ones.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch

from seq2text.decoding.protocols import SearchModel, SearchState
from seq2text.errors import Seq2TextError, option
from seq2text.decoding.hypothesis import Hypothesis
from seq2text.decoding.processors import LogitProcessor, apply, end_at_limit
from seq2text.tokenizers import BOS, EOS


# The sampling settings every front end accepts (the CLI's options and the API's fields are
# declared with these bounds, and check_sampling enforces them for the Python API).  Below a
# temperature of 0.01 sampling is greedy in all but name, and logits / 1e-300 overflow: 0
# itself means greedy.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 100.0
MAX_TOP_K = 100_000
NUCLEUS_SEARCH = 256


def check_sampling(temperature: float, top_k: int, top_p: float) -> None:
    """One line naming the setting out of range: ``temperature`` 0 (greedy) or in [0.01, 100],
    ``top_k`` in [0, 100000] (0: no limit), ``top_p`` in (0, 1]."""
    if isinstance(temperature, bool) or not (temperature == 0 or MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE):
        raise Seq2TextError(f"{option('temperature')} {temperature!r}: not 0 (greedy) or in [{MIN_TEMPERATURE}, "
                            f"{MAX_TEMPERATURE:g}]")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 0 <= top_k <= MAX_TOP_K:
        raise Seq2TextError(f"{option('top_k')} {top_k!r}: not a count in [0, {MAX_TOP_K}] (0: no limit)")
    if isinstance(top_p, bool) or not 0.0 < top_p <= 1.0:
        raise Seq2TextError(f"{option('top_p')} {top_p!r}: not in (0, 1]")


@torch.no_grad()
def greedy_search(model: SearchModel, state: SearchState, max_length: int | torch.Tensor,
                  processors: Sequence[LogitProcessor] = (), start: Optional[torch.Tensor] = None) -> list[Hypothesis]:
    """The greedy output for each of the ``B`` rows of ``state``.

    ``max_length``: an int or ``(B,)`` per-row limit in tokens (``</s>`` is forced there);
    ``start``: the ``(B,)`` tokens the model reads first (default ``<s>``; a language model
    continuing a prompt reads the prompt's last token).
    """
    return _extend(model, state, max_length, processors, _most_probable, start)


def _most_probable(log_probs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    return log_probs.argmax(dim=-1)


@torch.no_grad()
def sample(model: SearchModel, state: SearchState, max_length: int | torch.Tensor, temperature: float = 1.0,
           top_k: int = 0, top_p: float = 1.0, generator: Optional[torch.Generator | Sequence[torch.Generator]] = None,
           processors: Sequence[LogitProcessor] = (), start: Optional[torch.Tensor] = None,
           stop_at_eos: bool = True) -> list[Hypothesis]:
    """One sampled output per row: tokens drawn from ``softmax(log_probs / temperature)``
    (temperature 0: the most probable, as greedy search) restricted to the ``top_k`` most
    probable (0: all) and to the smallest set whose probability reaches ``top_p`` (nucleus).

    A seeded ``generator`` makes it repeatable; a list of them, one per row, makes each row's
    output its own generator's (a row then samples alone what it samples in a batch).

    Without ``stop_at_eos`` a row runs on to ``max_length``, ``</s>`` kept among its tokens (a
    language model of a text stream, where ``</s>`` is a line end)."""
    check_sampling(temperature, top_k, top_p)
    if temperature == 0:
        return _extend(model, state, max_length, processors, _most_probable, start, stop_at_eos)

    def choose(log_probs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        probs = restrict(log_probs / temperature, top_k, top_p).softmax(dim=-1)
        if generator is None or isinstance(generator, torch.Generator):
            return torch.multinomial(probs, 1, generator=generator).squeeze(1)
        return torch.cat([torch.multinomial(probs[i], 1, generator=generator[row])
                          for i, row in enumerate(rows.tolist())])

    return _extend(model, state, max_length, processors, choose, start, stop_at_eos)


def row_generators(seeds: Sequence[int], device: torch.device) -> list[torch.Generator]:
    """One seeded generator per row, for :func:`sample`."""
    return [torch.Generator(device=device).manual_seed(seed) for seed in seeds]


def restrict(logits: torch.Tensor, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """``logits`` ``(N, V)`` with ``-inf`` outside the top-k tokens and outside the nucleus."""
    if 0 < top_k < logits.size(-1):
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        # A nucleus is mostly a few hundred tokens: sort only the most probable NUCLEUS_SEARCH of
        # each row, and the whole row where its nucleus reaches beyond them (the same tokens).
        probs = logits.softmax(dim=-1)
        keep = _nucleus(probs, *probs.topk(min(NUCLEUS_SEARCH, probs.size(-1)), dim=-1), top_p)
        wide = (keep.sum(dim=-1) >= NUCLEUS_SEARCH).nonzero().flatten()
        if wide.numel():
            keep[wide] = _nucleus(probs[wide], *probs[wide].sort(dim=-1, descending=True), top_p)
        logits = logits.masked_fill(~keep, float("-inf"))
    return logits


def _nucleus(probs: torch.Tensor, ordered: torch.Tensor, order: torch.Tensor, top_p: float) -> torch.Tensor:
    """Which tokens of ``probs`` ``(N, V)`` are in the nucleus, from ``ordered``, the largest
    probabilities of each row in order, and their ``order`` (token ids)."""
    drop = ordered.cumsum(dim=-1) - ordered >= top_p
    drop[:, 0] = False  # the most probable token always stays
    return torch.zeros_like(probs, dtype=torch.bool).scatter(1, order, ~drop)


def _extend(model: SearchModel, state: SearchState, max_length: int | torch.Tensor,
            processors: Sequence[LogitProcessor], choose: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
            start: Optional[torch.Tensor], stop_at_eos: bool = True) -> list[Hypothesis]:
    batch, device = state.batch_size, state.device
    limits = torch.as_tensor(max_length, device=device).expand(batch).clamp(min=0)
    rows = torch.arange(batch, device=device)  # the inputs still being extended
    prefixes = torch.empty(batch, 0, dtype=torch.long, device=device)
    totals = torch.zeros(batch, device=device)
    previous = torch.full((batch,), BOS, dtype=torch.long, device=device) if start is None else start
    results: list[Optional[Hypothesis]] = [None] * batch
    for step in range(int(limits.max()) + 1):
        log_probs, state, _ = model.step(previous, state)
        log_probs = apply(processors, log_probs, prefixes, rows)
        log_probs = end_at_limit(log_probs, limits[rows] <= step)
        previous = choose(log_probs, rows)
        totals = totals + log_probs.gather(1, previous.unsqueeze(1)).squeeze(1)
        ended = (previous == EOS) if stop_at_eos else (limits[rows] <= step)
        for i in ended.nonzero().flatten().tolist():
            total = totals[i].item()
            results[rows[i]] = Hypothesis(prefixes[i].tolist(), total, total)
        prefixes = torch.cat([prefixes, previous.unsqueeze(1)], dim=1)
        if bool(ended.any()):
            keep = (~ended).nonzero().flatten()
            if keep.numel() == 0:
                break
            rows, prefixes, totals, previous = rows[keep], prefixes[keep], totals[keep], previous[keep]
            state = state.select(keep)
    return results
