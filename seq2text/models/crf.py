"""A linear-chain CRF over tag scores: training likelihood, Viterbi decoding, tag marginals.

Shapes: ``emissions`` ``(B, S, T)`` scores of each tag at each word, ``mask`` ``(B, S)`` True
at real words (every sentence has at least one, and padding comes last), ``tags`` ``(B, S)``.
A path's score is ``start[t_1] + sum_i emissions[i, t_i] + sum_i transitions[t_i, t_{i+1}] +
end[t_n]``; the CRF gives it the probability ``exp(score) / Z``.

Written here rather than taken from ``pytorch-crf`` (unmaintained since 2019): the marginals
(``tag --format jsonl``) come from the gradient of ``log Z``, which that package does not offer.
"""

from __future__ import annotations

import torch
from torch import nn


class CRF(nn.Module):
    def __init__(self, tags: int):
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(tags, tags))  # [from, to]
        self.start = nn.Parameter(torch.zeros(tags))
        self.end = nn.Parameter(torch.zeros(tags))

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``log Z`` of each sentence ``(B,)`` (the forward algorithm)."""
        alpha = self.start + emissions[:, 0]
        for i in range(1, emissions.size(1)):
            step = torch.logsumexp(alpha.unsqueeze(2) + self.transitions, dim=1) + emissions[:, i]
            alpha = torch.where(mask[:, i:i + 1], step, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def path_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The score of the path ``tags`` in each sentence ``(B,)``."""
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)
        moved = self.transitions[tags[:, :-1], tags[:, 1:]]
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
        return (self.start[tags[:, 0]] + (emitted * mask).sum(1) + (moved * mask[:, 1:]).sum(1) + self.end[last])

    def negative_log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``-log p(tags)`` summed over the batch."""
        emissions = emissions.float()
        return (self.log_partition(emissions, mask) - self.path_score(emissions, tags, mask)).sum()

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``p(tag at word i)`` ``(B, S, T)``: the gradient of ``log Z`` by the emissions."""
        with torch.enable_grad():
            emissions = emissions.detach().float().requires_grad_(True)
            (gradient,) = torch.autograd.grad(self.log_partition(emissions, mask).sum(), emissions)
        return gradient * mask.unsqueeze(2)

    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The best path of each sentence, as many tags as it has words."""
        emissions = emissions.float()
        score, backpointers = self.start + emissions[:, 0], []
        for i in range(1, emissions.size(1)):
            best, previous = (score.unsqueeze(2) + self.transitions).max(dim=1)
            backpointers.append(previous)
            score = torch.where(mask[:, i:i + 1], best + emissions[:, i], score)
        lengths = mask.sum(1).tolist()
        last = (score + self.end).argmax(dim=1).tolist()
        paths = []
        for row, length in enumerate(lengths):
            path = [last[row]]
            for pointers in reversed(backpointers[:length - 1]):
                path.append(int(pointers[row, path[-1]]))
            paths.append(path[::-1])
        return paths
