"""Batched beam search: all sentences and all their beams advance in one model call per step.

Each step scores ``2K`` candidates per sentence (``K`` = beam size).  Candidates that end with
``</s>`` among the best ``K`` become finished hypotheses; the best ``K`` others continue.  A
sentence stops when it has ``K`` finished hypotheses (not when the best one ends) or at its
maximum length, where ``</s>`` is forced.  Finished hypotheses are ranked by their model score
divided by a length penalty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from seq2text.tokenizers import BOS, EOS

LogitProcessor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``(log_probs (N, V), prefixes (N, t)) -> log_probs``: where constraints plug in."""


@dataclass
class Hypothesis:
    """One output: ``tokens`` without bos/eos, ``log_prob`` (model score, with ``</s>``) and the
    ``score`` it was ranked by (``log_prob`` over the length penalty)."""

    tokens: list[int]
    log_prob: float
    score: float


def length_penalty(length: int, alpha: float, kind: str = "gnmt") -> float:
    """GNMT's ``((5 + length) / 6) ** alpha`` or plain ``length ** alpha``; 1 for alpha 0."""
    return ((5 + length) / 6) ** alpha if kind == "gnmt" else length ** alpha


@torch.no_grad()
def beam_search(model, src: torch.Tensor, src_mask: torch.Tensor, beam_size: int = 5,
                max_length: int | torch.Tensor = 100, alpha: float = 1.0, penalty: str = "gnmt",
                nbest: int = 1, processors: Sequence[LogitProcessor] = ()) -> list[list[Hypothesis]]:
    """The ``nbest`` best hypotheses for each row of ``src`` ``(B, S)``, best first.

    ``max_length`` is an int or a ``(B,)`` tensor of per-sentence limits (in tokens, without
    ``</s>``).
    """
    batch, k = src.size(0), beam_size
    device = src.device
    limits = torch.as_tensor(max_length, device=device).expand(batch).clamp(min=0)
    state = model.encode(src, src_mask)
    state = state.select(torch.arange(batch, device=device).repeat_interleave(k))
    scores = torch.full((batch, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live beam per sentence at the start
    prefixes = torch.full((batch * k, 1), BOS, dtype=torch.long, device=device)
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    offsets = torch.arange(batch, device=device).unsqueeze(1) * k

    for step in range(int(limits.max()) + 1):
        log_probs, state, _ = model.step(prefixes[:, -1], state)
        for process in processors:
            log_probs = process(log_probs, prefixes[:, 1:])
        vocab = log_probs.size(-1)
        forced = (limits <= step).repeat_interleave(k)  # at the limit only </s> may follow
        log_probs[forced] = torch.where(torch.arange(vocab, device=device) == EOS, log_probs[forced],
                                        torch.tensor(float("-inf"), device=device))
        total = (scores.reshape(-1, 1) + log_probs).view(batch, k * vocab)
        cand_scores, cand = total.topk(2 * k, dim=1)
        cand_beam, cand_token = cand // vocab, cand % vocab
        ends = (cand_token == EOS) & torch.isfinite(cand_scores)

        for b, j in (ends[:, :k] & ~done.unsqueeze(1)).nonzero().tolist():
            tokens = prefixes[b * k + cand_beam[b, j], 1:].tolist()
            log_prob = cand_scores[b, j].item()
            finished[b].append(Hypothesis(tokens, log_prob,
                                          log_prob / length_penalty(len(tokens) + 1, alpha, penalty)))
        done |= torch.tensor([len(f) >= k for f in finished], device=device)
        if bool(done.all()):
            break

        # The best k candidates that do not end continue.
        position = torch.arange(2 * k, device=device).expand(batch, -1)
        keep = torch.where(ends, position + 2 * k, position).argsort(dim=1)[:, :k]
        beams = (offsets + cand_beam.gather(1, keep)).view(-1)
        scores = cand_scores.gather(1, keep).masked_fill(done.unsqueeze(1), float("-inf"))
        prefixes = torch.cat([prefixes[beams], cand_token.gather(1, keep).view(-1, 1)], dim=1)
        state = state.select(beams)

    return [sorted(f, key=lambda h: -h.score)[:nbest] for f in finished]
