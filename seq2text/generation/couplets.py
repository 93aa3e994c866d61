"""下联 for 上联, from a couplet model (attention or aligned N-vs-N, ``task: couplet``).

Every 下联 is written under :class:`~seq2text.verse.couplet.CoupletRules` and checked by
:func:`~seq2text.verse.couplet.check_couplet`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from seq2text.decoding import EncoderDecoder, Hypothesis, decode_sources, encode_sources, sample
from seq2text.errors import Seq2TextError
from seq2text.generation.requests import CoupletRequest
from seq2text.tokenizers.base import VocabTokenizer
from seq2text.verse.couplet import (CoupletRules, as_read, check_couplet, clean_first_line, first_line_problem,
                                    with_marks_of)
from seq2text.verse.forms import is_han
from seq2text.verse.tones import ToneTable


@dataclass
class Couplet:
    first: str
    second: str
    log_prob: float
    checks: dict[str, bool]

    def to_dict(self) -> dict:
        """The couplet as ``--format jsonl`` and the HTTP API give it."""
        return {"first": self.first, "second": self.second, "log_prob": round(self.log_prob, 3), "checks": self.checks}


class CoupletWriter:
    """A couplet model with its character tokenizer and tone table."""

    def __init__(self, model: EncoderDecoder, tokenizer: VocabTokenizer, tones: ToneTable):
        self.model, self.tokenizer, self.tones = model, tokenizer, tones

    def couplets(self, first_lines: Sequence[str], request: CoupletRequest, batch_size: int = 64
                 ) -> list[list[Couplet]]:
        """The 下联 ``request`` asks for, for each 上联 (see :meth:`seq2text.generator.Generator.couplets`)."""
        firsts = [self.tokenizer.normalize(clean_first_line(line)) for line in first_lines]
        for number, (line, first) in enumerate(zip(first_lines, firsts), start=1):
            problem = self._problem(first)
            if problem:
                raise Seq2TextError(f"上联 {number} ({line.strip()[:20]!r}): {problem}")
        device = next(self.model.parameters()).device
        generator = torch.Generator(device=device).manual_seed(request.seeds()[0])
        found = []
        for start in range(0, len(firsts), batch_size):
            found += self._answer(firsts[start:start + batch_size], request, generator)
        return [[self._couplet(first, h) for h in hypotheses] for first, hypotheses in zip(firsts, found)]

    @torch.no_grad()
    def _answer(self, firsts: list[str], request: CoupletRequest, generator: torch.Generator
                ) -> list[list[Hypothesis]]:
        count, beam_size, tones = request.count, request.beam_size, request.tones
        firsts = [as_read(first, self.tokenizer) for first in firsts]
        limits = torch.tensor([len(first) for first in firsts])
        sources = [self.tokenizer.encode(first) for first in firsts]
        if beam_size > 1 or request.temperature == 0:  # greedy: the same answer count times
            beam = max(beam_size, count) if beam_size > 1 else 1
            found = decode_sources(self.model, sources, limits, beam, alpha=0.0, nbest=count if beam > 1 else 1,
                                   processors=[CoupletRules(self.tokenizer, self.tones, firsts, tones)])
            return found if beam > 1 else [hypotheses * count for hypotheses in found]
        rows = torch.arange(len(firsts)).repeat_interleave(count)
        rules = CoupletRules(self.tokenizer, self.tones, [firsts[i] for i in rows.tolist()], tones)
        state = encode_sources(self.model, sources)
        state = state.select(rows.to(state.device))
        found = sample(self.model, state, limits[rows], request.temperature, request.top_k, request.top_p, generator,
                       [rules])
        return [found[i * count:(i + 1) * count] for i in range(len(firsts))]

    def first_line_problem(self, line: str) -> Optional[str]:
        """Why ``line`` cannot be answered as a 上联 (empty, only punctuation, too long, Latin
        letters), or None."""
        return self._problem(self.tokenizer.normalize(clean_first_line(line)))

    def _problem(self, first: str) -> Optional[str]:
        problem = first_line_problem(first)
        if problem:
            return problem
        unknown = sorted({c for c in as_read(first, self.tokenizer) if not is_han(c) and c not in self.tokenizer.index})
        return f"punctuation the model does not know: {''.join(unknown)}" if unknown else None

    def _couplet(self, first: str, hypothesis: Hypothesis) -> Couplet:
        second = with_marks_of(first, self.tokenizer.decode(hypothesis.tokens))
        return Couplet(first, second, hypothesis.log_prob, check_couplet(first, second, self.tones))
