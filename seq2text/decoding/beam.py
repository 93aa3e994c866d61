"""Batched beam search: all inputs and all their beams advance in one model call per step.

Each step scores ``2K`` candidates per input (``K`` = beam size).  Candidates that end with
``</s>`` among the best ``K`` become finished hypotheses; the best ``K`` others continue.  An
input stops when it has ``K`` finished hypotheses (not when its best one ends), when no live
beam can still beat its ``nbest`` best finished ones, or at its maximum length, where ``</s>``
is forced; its beams then leave the batch.  With ``early`` an input also stops at the first
step whose best candidate ends (JoeyNMT's rule: fewer steps, but a longer hypothesis that the
length penalty would have ranked first is not waited for).  Finished hypotheses
are ranked by their model score over a length penalty, plus GNMT's coverage penalty
``beta * sum_source log(min(attention received, 1))`` when ``coverage`` is set.

Works on any model with ``step(previous (N,), state) -> (log_probs (N, V), state, weights)``
whose state has ``batch_size``, ``device``, ``select(index)`` and ``reorder(index)`` (a select
that may assume every row keeps its input).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from seq2text.decoding.protocols import SearchModel, SearchState
from seq2text.decoding.hypothesis import Hypothesis, length_penalty
from seq2text.decoding.processors import LogitProcessor, apply, end_at_limit
from seq2text.tokenizers import BOS, EOS


@torch.no_grad()
def beam_search(model: SearchModel, state: SearchState, beam_size: int = 5, max_length: int | torch.Tensor = 100,
                alpha: float = 1.0, penalty: str = "gnmt", coverage: float = 0.0, nbest: int = 1,
                processors: Sequence[LogitProcessor] = (), start: Optional[torch.Tensor] = None,
                early: bool = False) -> list[list[Hypothesis]]:
    """The ``nbest`` best hypotheses for each of the ``B`` rows of ``state``, best first.

    ``max_length``: an int or a ``(B,)`` tensor of per-row limits (tokens, without ``</s>``);
    ``start``: the ``(B,)`` tokens the model reads first (default ``<s>``).
    """
    batch, k, device = state.batch_size, beam_size, state.device
    length_penalty(1, alpha, penalty)  # rejects an unknown kind before any work
    limits = torch.as_tensor(max_length, device=device).expand(batch).clamp(min=0)
    alive = torch.arange(batch, device=device)  # inputs still searching
    state = state.select(alive.repeat_interleave(k))
    scores = torch.full((batch, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live beam per input at the start
    prefixes = torch.empty(batch * k, 0, dtype=torch.long, device=device)
    previous = (torch.full((batch * k,), BOS, dtype=torch.long, device=device) if start is None
                else start.repeat_interleave(k))
    attended: Optional[torch.Tensor] = None  # (A*K, S) attention received so far
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]

    for step in range(int(limits.max()) + 1):
        log_probs, state, weights = model.step(previous, state)
        if coverage and weights is not None:
            attended = weights if attended is None else attended + weights
        sentences = alive.repeat_interleave(k)
        log_probs = apply(processors, log_probs, prefixes, sentences)
        log_probs = end_at_limit(log_probs, limits[sentences] <= step)
        vocab = log_probs.size(-1)
        total = (scores.reshape(-1, 1) + log_probs).view(len(alive), k * vocab)
        cand_scores, cand = total.topk(2 * k, dim=1)
        cand_beam, cand_token = cand // vocab, cand % vocab
        ends = (cand_token == EOS) & torch.isfinite(cand_scores)

        for a, j in ends[:, :k].nonzero().tolist():
            row = a * k + cand_beam[a, j].item()
            tokens, log_prob = prefixes[row].tolist(), cand_scores[a, j].item()
            score = log_prob / length_penalty(len(tokens) + 1, alpha, penalty)
            if attended is not None:
                score += coverage * _coverage_penalty(attended[row])
            finished[alive[a]].append(Hypothesis(tokens, log_prob, score))
        # A live beam's log-probability only falls, so its best possible final score is that
        # over the largest length penalty it could reach.
        live = cand_scores.masked_fill(ends, float("-inf")).max(dim=1).values
        bounds = (live / length_penalty(limits[alive] + 1, alpha, penalty)).tolist()
        done = torch.tensor([_settled(finished[b], k, nbest, bound) for b, bound in zip(alive.tolist(), bounds)],
                            device=device)
        done |= limits[alive] <= step
        if early:
            done |= ends[:, 0]
        if bool(done.all()):
            break

        # The best k candidates that do not end continue, for the inputs not done.
        position = torch.arange(2 * k, device=device).expand(len(alive), -1)
        keep = torch.where(ends, position + 2 * k, position).argsort(dim=1)[:, :k]
        going = (~done).nonzero().flatten()
        keep = keep[going]
        beams = (going.unsqueeze(1) * k + cand_beam[going].gather(1, keep)).view(-1)
        scores = cand_scores[going].gather(1, keep)
        previous = cand_token[going].gather(1, keep).view(-1)
        prefixes = torch.cat([prefixes[beams], previous.unsqueeze(1)], dim=1)
        state = state.select(beams) if len(going) < len(alive) else state.reorder(beams)
        attended = attended[beams] if attended is not None else None
        alive = alive[going]

    return [sorted(f, key=lambda h: -h.score)[:nbest] for f in finished]


def _settled(finished: list[Hypothesis], k: int, nbest: int, bound: float) -> bool:
    """An input is done with ``k`` finished hypotheses, or once no live beam can still enter
    its ``nbest`` best."""
    if len(finished) >= k:
        return True
    return len(finished) >= nbest and sorted(h.score for h in finished)[-nbest] >= bound


def _coverage_penalty(attended: torch.Tensor) -> float:
    """``sum log(min(a, 1))`` over the source positions (padding receives exactly 0 and is skipped)."""
    real = attended[attended > 0]
    return real.clamp(max=1.0).log().sum().item()
