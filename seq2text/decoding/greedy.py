"""Batched greedy search: the most probable token at every step, for all sentences at once."""

from __future__ import annotations

import torch

from seq2text.tokenizers import BOS, EOS


@torch.no_grad()
def greedy_search(model, src: torch.Tensor, src_mask: torch.Tensor, max_length: int) -> list[list[int]]:
    """Token ids (without bos/eos) for each row of ``src`` ``(B, S)``; at most ``max_length``."""
    state = model.encode(src, src_mask)
    previous = torch.full((src.size(0),), BOS, dtype=torch.long, device=src.device)
    finished = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
    steps = []
    for _ in range(max_length):
        log_probs, state, _ = model.step(previous, state)
        previous = log_probs.argmax(dim=-1)
        steps.append(previous)
        finished |= previous == EOS
        if finished.all():
            break
    outputs = torch.stack(steps, dim=1).tolist() if steps else [[] for _ in range(src.size(0))]
    return [row[:row.index(EOS)] if EOS in row else row for row in outputs]
