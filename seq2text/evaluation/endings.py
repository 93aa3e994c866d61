"""Line-ending quality: how likely each rhyme character is under the model itself, unconstrained.

A rhyme forced at a line's last character shows as a character the model would hardly have
written there.  For a poem read after its subject and form label (``秋夜|七律|...``), with no
rules and no guidance, the measure is the mean log-probability of the characters at its rhyme
positions (the even lines of regulated verse, a tune's rhyme lines), and the share of them the
model gives less than 1 chance in 3,000 (:data:`FORCED`).  The same figures for held-out human
poems are the mark to reach.
"""

from __future__ import annotations

from typing import Sequence

import torch

from seq2text.tokenizers import BOS
from seq2text.verse.forms import labelled
from seq2text.verse.patterns import Pattern

BATCH = 64
FORCED = -8.0  # a rhyme character the model alone gives less than 1 chance in 3,000 counts as forced


def rhyme_positions(pattern: Pattern) -> list[int]:
    """The text positions of a pattern's rhyme characters."""
    return [position for position, slot in enumerate(pattern.slots) if slot.rhyme is not None]


@torch.no_grad()
def rhyme_log_probs(loaded, poems: Sequence[tuple[str, str, str, list[int]]]) -> list[float]:
    """For each ``(subject, label, text, positions)``, for each of ``positions``: the
    log-probability (nats) of the character of ``text`` there, read after the subject and label
    by the model of ``loaded`` alone; all in one list."""
    model, tokenizer = loaded.model, loaded.src
    was_training = model.training
    model.eval()
    found: list[float] = []
    for start in range(0, len(poems), BATCH):
        chunk = poems[start:start + BATCH]
        prefixes = [[BOS, *tokenizer.encode(labelled("", label, subject))] for subject, label, _, _ in chunk]
        rows = [prefix + tokenizer.encode(text) for prefix, (_, _, text, _) in zip(prefixes, chunk)]
        width = max(len(row) for row in rows)
        ids = torch.tensor([row + [0] * (width - len(row)) for row in rows], device=loaded.device)
        log_probs = torch.log_softmax(model(ids[:, :-1])[0].float(), dim=-1)
        for row, (prefix, (_, _, _, positions)) in enumerate(zip(prefixes, chunk)):
            at = [len(prefix) + p for p in positions]  # token index of each rhyme character
            found += [log_probs[row, i - 1, ids[row, i]].item() for i in at]
    model.train(was_training)
    return found


def summary(values: list[float]) -> dict:
    """The mean of rhyme log-probabilities and the percent of them under :data:`FORCED`."""
    return {"rhyme_log_prob": round(sum(values) / len(values), 3) if values else None,
            "forced_rhymes": round(100 * sum(v < FORCED for v in values) / len(values), 1) if values else None}
