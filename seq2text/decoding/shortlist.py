"""A vocabulary shortlist: search scores only the target tokens that training ever saw.

A joint German-English vocabulary of 8,000 pieces holds 4,143 that occur in the English side
of Multi30k, and the output layer with its log-softmax is the largest cost of a beam search
step after attention.  ``prepare`` writes the list beside the tokenizers (``shortlist.json``);
:class:`Shortlisted` decodes with it.

It is an approximation for a model trained over the whole vocabulary: label smoothing taught it
to give every token a little probability, so the left-out tokens hold about 4% of each step's
mass (more on odd inputs).  Renormalised over the shortlist, a hypothesis's log-probability
rises with its length; greedy outputs change only where the best token is a left-out one
(none of 1,000), and a few beam outputs change (on
Multi30k test2016 with the bundled seed-42 model: 68 of 1,000, BLEU 38.08 -> 38.00, in 19%
less time; with the distilled student of issue 33, 38.56 -> 38.58).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator, Optional

import torch
import torch.nn.functional as F

from seq2text.atomic import write_text_atomic
from seq2text.textfile import read_json
from seq2text.decoding.protocols import SearchState
from seq2text.errors import Seq2TextError
from seq2text.tokenizers import EOS

SHORTLIST_FILE = "shortlist.json"


def target_tokens(targets: Iterable[Iterable[int]]) -> list[int]:
    """The sorted ids that occur in ``targets`` (token id lists), with ``</s>``."""
    seen = {EOS}
    for ids in targets:
        seen.update(ids)
    return sorted(seen)


def save_shortlist(ids: list[int], directory: Path) -> Path:
    path = Path(directory) / SHORTLIST_FILE
    write_text_atomic(path, json.dumps({"ids": ids}) + "\n")
    return path


def load_shortlist(directory: Path, vocab_size: int) -> Optional[torch.Tensor]:
    """The ids ``(K,)`` saved in ``directory``, or None where there is no shortlist."""
    path = Path(directory) / SHORTLIST_FILE
    if not path.is_file():
        return None
    data = read_json(path, 2**24)
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not ids or not all(type(i) is int and 0 <= i < vocab_size for i in ids) \
            or EOS not in ids or len(set(ids)) != len(ids):
        raise Seq2TextError(f"{path}: expected {{\"ids\": [...]}} with distinct token ids below {vocab_size}, "
                            f"</s> ({EOS}) among them")
    return torch.tensor(sorted(ids))


class Shortlisted:
    """A loaded translation model whose search steps score only the ids ``ids`` ``(K,)``;
    the other tokens get a log-probability of -inf.  The output rows are copied once, so the
    model's weights must not change afterwards (it is for decoding a loaded model)."""

    def __init__(self, model: torch.nn.Module, ids: torch.Tensor):
        self.model = model
        self.ids = ids.to(model.generator.weight.device)
        self.weight = model.generator.weight.detach().index_select(0, self.ids)
        self.vocab_size = model.generator.weight.size(0)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor) -> SearchState:
        return self.model.encode(src, src_mask)

    def step(self, previous: torch.Tensor, state: SearchState
             ) -> tuple[torch.Tensor, SearchState, Optional[torch.Tensor]]:
        """Log-probabilities ``(N, V)`` over the shortlist (-inf elsewhere), as ``Seq2Seq.step``."""
        output, state, weights = self.model.decoder.step(previous, state)
        scores = torch.log_softmax(F.linear(output, self.weight.to(output.dtype)).float(), dim=-1)
        log_probs = scores.new_full((scores.size(0), self.vocab_size), float("-inf"))
        return log_probs.index_copy_(1, self.ids, scores), state, weights

    def __call__(self, src: torch.Tensor, src_mask: torch.Tensor, tgt_in: torch.Tensor
                 ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Teacher forcing (attention heat-maps) over the whole vocabulary, as the model."""
        return self.model(src, src_mask, tgt_in)

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        return self.model.parameters()
