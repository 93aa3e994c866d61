"""What every search returns, and how outputs of different lengths are compared."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Hypothesis:
    """One output: ``tokens`` without bos/eos, ``log_prob`` (model score, with ``</s>``) and the
    ``score`` it was ranked by (``log_prob`` over the length penalty, plus any coverage penalty)."""

    tokens: list[int]
    log_prob: float
    score: float


def length_penalty(length, alpha: float, kind: str = "gnmt"):
    """GNMT's ``((5 + length) / 6) ** alpha`` or plain ``length ** alpha``; 1 for alpha 0.

    ``length`` may be a number or a tensor of lengths."""
    if kind not in ("gnmt", "plain"):
        raise ValueError(f"unknown length penalty {kind!r} (gnmt or plain)")
    return ((5 + length) / 6) ** alpha if kind == "gnmt" else length ** alpha
