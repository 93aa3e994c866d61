"""Logit processors: the one place where rules about the output plug into every search.

A processor is called once per step as ``processor(log_probs, prefixes, sentences)`` with

- ``log_probs`` ``(N, V)``: next-token log-probabilities of the ``N`` rows being extended
  (beams or samples), which it may change in place;
- ``prefixes`` ``(N, t)``: the tokens each row has produced so far (no ``<s>``);
- ``sentences`` ``(N,)``: which input each row belongs to (rows of one input share it),

and returns the log-probabilities, ``-inf`` where a token is forbidden.  The verse constraints
(form, rhyme, tone, couplet rules) are processors too.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import torch

from seq2text.tokenizers import EOS

NEG_INF = float("-inf")


class LogitProcessor(Protocol):
    def __call__(self, log_probs: torch.Tensor, prefixes: torch.Tensor, sentences: torch.Tensor
                 ) -> torch.Tensor: ...


class MinLength:
    """Forbid ``</s>`` before each input's minimum output length ``limits`` ``(B,)`` (tokens)."""

    def __init__(self, limits: torch.Tensor):
        self.limits = limits

    def __call__(self, log_probs: torch.Tensor, prefixes: torch.Tensor, sentences: torch.Tensor
                 ) -> torch.Tensor:
        short = self.limits.to(log_probs.device)[sentences] > prefixes.size(1)
        log_probs[short, EOS] = NEG_INF
        return log_probs


class NoRepeatNGram:
    """Forbid any token that would repeat an n-gram already in the row's output."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("no-repeat n-gram size must be at least 1")
        self.size = size

    def __call__(self, log_probs: torch.Tensor, prefixes: torch.Tensor, sentences: torch.Tensor
                 ) -> torch.Tensor:
        n, length = self.size, prefixes.size(1)
        if length < n:
            return log_probs
        grams = prefixes.unfold(1, n, 1)  # (N, length - n + 1, n)
        if n == 1:
            matches = torch.ones(grams.shape[:2], dtype=torch.bool, device=prefixes.device)
        else:  # which earlier n-grams start with the row's last n - 1 tokens
            matches = (grams[:, :, :-1] == prefixes[:, None, length - n + 1:]).all(dim=2)
        rows, where = matches.nonzero(as_tuple=True)
        log_probs[rows, grams[rows, where, -1]] = NEG_INF
        return log_probs


def relax(allowed: torch.Tensor, rules: Sequence[torch.Tensor]) -> torch.Tensor:
    """``allowed`` ``(V,)`` narrowed by as many of ``rules`` (boolean masks, strongest first) as
    still leave some token: the weakest rules give way first."""
    for count in range(len(rules), 0, -1):
        candidate = allowed.clone()
        for rule in rules[:count]:
            candidate &= rule
        if bool(candidate.any()):
            return candidate
    return allowed


def end_at_limit(log_probs: torch.Tensor, at_limit: torch.Tensor) -> torch.Tensor:
    """Rows where ``at_limit`` ``(N,)`` is True may only produce ``</s>`` (in place).

    Where a processor had forbidden ``</s>`` it gets a very low finite score instead, so that
    every row still ends by its limit.
    """
    if bool(at_limit.any()):
        eos = log_probs[at_limit, EOS].clamp(min=-1e4)
        log_probs[at_limit] = NEG_INF
        log_probs[at_limit, EOS] = eos
    return log_probs


def apply(processors, log_probs: torch.Tensor, prefixes: torch.Tensor, sentences: torch.Tensor
          ) -> torch.Tensor:
    """Run ``processors`` in order."""
    for process in processors:
        log_probs = process(log_probs, prefixes, sentences)
    return log_probs
