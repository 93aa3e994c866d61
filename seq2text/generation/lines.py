"""Writing a poem line by line: several sampled candidates for each line, the best one kept.

Sampling one character at a time commits to a line's first characters before its rhyme is
chosen; when no rhyme character fits what was written, the line ends in nonsense.  Here each
poem is ``candidates`` rows.  All rows sample the next line under the rules
(:class:`~seq2text.verse.constraints.PatternRules`); when the line ends, each poem keeps the row
whose line scores best and every row continues from it.  A line's score is its log-probability
under the model after the subject, plus ``subject_weight`` times how much more likely the subject
makes it than it is without one (a reader's measure of how well the line keeps to the subject);
a line whose rhyme was forced scores low, and so does a stutter that guidance alone favoured.

Patterned poems have one length for every row, so the rows step in lockstep, a position at a
time.  Each poem draws from its own seeded generator, so a poem written alone is the one it is
in a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from seq2text.decoding.guidance import guide
from seq2text.decoding.protocols import SearchModel, SearchState
from seq2text.decoding.sampling import restrict
from seq2text.verse.constraints import PatternRules


@dataclass(frozen=True)
class LineSearch:
    """How lines are drawn and chosen: ``candidates`` per line (1: plain sampling), the sampling
    settings, the ``guidance`` weight and the ``subject_weight`` of the choice."""

    candidates: int = 8
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 0.9
    guidance: float = 0.0
    subject_weight: float = 1.0
    resample: bool = True


@dataclass
class Lines:
    """What :func:`write_lines` wrote for each row: ``tokens`` from the start position, their
    ``log_prob`` after the subject, and the ``score`` the choice read (both summed)."""

    tokens: list[list[int]]
    log_prob: list[float]
    score: list[float]


@torch.no_grad()
def write_lines(model: SearchModel, state: SearchState, plain: Optional[SearchState], last: torch.Tensor,
                written: torch.Tensor, rules: PatternRules, end: int, line_ends: set[int],
                generators: Sequence[torch.Generator], search: LineSearch, choose: bool = True) -> Lines:
    """Extend every row from position ``written.size(1)`` to ``end`` (text positions).

    ``state``: ``(G * K)`` rows that have read the subject, label and ``written`` ``(G*K, p)``
    tokens but the last, ``last`` ``(G*K,)``; ``plain``: the same without the subject (for
    guidance and the subject score), or None; ``G`` poems of ``K = search.candidates`` rows each,
    poem ``g`` drawing with ``generators[g]`` and writing ``rules``' sentence ``g``.  With
    ``choose``, after each position in ``line_ends`` every poem's rows continue from its best
    row; without it each row runs to the end alone (its score is then the whole continuation's).
    """
    rows, k = last.size(0), search.candidates
    poems = rows // k
    sentences = torch.arange(poems, device=last.device).repeat_interleave(k)
    log_prob = torch.zeros(rows, device=last.device)
    score = torch.zeros(rows, device=last.device)
    tokens, previous = written, last
    for position in range(written.size(1), end):
        conditioned, state, _ = model.step(previous, state)
        guided = conditioned
        if plain is not None:
            unconditioned, plain, _ = model.step(previous, plain)
            guided = guide(conditioned, unconditioned, search.guidance)
        allowed = rules(guided.clone(), tokens, sentences)
        previous, drawn = _draw(allowed, search, generators, k)
        gained = conditioned.gather(1, previous.unsqueeze(1)).squeeze(1)
        log_prob += gained
        score += gained - drawn if search.resample else gained
        if plain is not None and search.subject_weight:
            score += search.subject_weight * (gained - unconditioned.gather(1, previous.unsqueeze(1)).squeeze(1))
        tokens = torch.cat([tokens, previous.unsqueeze(1)], dim=1)
        if choose and position in line_ends and k > 1:
            best = _choose(score.view(poems, k), search, generators) + torch.arange(poems, device=last.device) * k
            keep = best.repeat_interleave(k)
            state, tokens, previous = state.select(keep), tokens[keep], previous[keep]
            plain = plain.select(keep) if plain is not None else None
            log_prob, score = log_prob[keep], torch.zeros_like(score)
    start = written.size(1)
    return Lines([row[start:] for row in tokens.tolist()], log_prob.tolist(), score.tolist())


def _draw(log_probs: torch.Tensor, search: LineSearch, generators: Sequence[torch.Generator],
          k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One token per row, and the log-probability it was drawn with; the ``k`` rows of poem ``g``
    draw from ``generators[g]``."""
    if search.temperature == 0:
        chosen = log_probs.argmax(dim=-1)
        return chosen, torch.zeros_like(chosen, dtype=log_probs.dtype)
    drawing = torch.log_softmax(restrict(log_probs / search.temperature, search.top_k, search.top_p), dim=-1)
    # one uniform number per row, looked up in the row's cumulative distribution: a draw in
    # proportion to the probabilities, as torch.multinomial draws, at a fraction of its cost
    cumulative = drawing.exp().cumsum(dim=-1)
    uniform = torch.cat([torch.rand(k, generator=generator) for generator in generators]).to(drawing.device)
    chosen = torch.searchsorted(cumulative, (uniform * cumulative[:, -1]).unsqueeze(1), right=True).squeeze(1)
    chosen = chosen.clamp(max=drawing.size(1) - 1)
    return chosen, drawing.gather(1, chosen.unsqueeze(1)).squeeze(1)


def _choose(scores: torch.Tensor, search: LineSearch, generators: Sequence[torch.Generator]) -> torch.Tensor:
    """The candidate each poem keeps ``(G,)`` of its ``scores`` ``(G, K)``: drawn in proportion
    to exp(score) (resampling), or the best."""
    if not search.resample:
        return scores.argmax(dim=1)
    weights = torch.softmax(scores.float(), dim=1).cpu()
    return torch.cat([torch.multinomial(weights[g], 1, generator=generator)
                      for g, generator in enumerate(generators)]).to(scores.device)
