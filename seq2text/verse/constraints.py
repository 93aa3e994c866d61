"""The logit processor that makes a character language model write regulated verse.

At every step each row's text so far (prompt + generated characters) fixes what comes next:
punctuation where the form puts it, ``</s>`` after the last line, the acrostic character at
the start of a line, and otherwise a Han character that keeps the tone rules, the rhyme and
the no-three-times rule.  If a row's rules leave no character, the repetition rule gives way
first, then rhyme, then tone; the form itself never does.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import torch

from seq2text.verse.forms import is_han
from seq2text.decoding.processors import NEG_INF, relax
from seq2text.tokenizers import EOS
from seq2text.tokenizers.base import VocabTokenizer
from seq2text.verse.forms import Form
from seq2text.verse.rhymes import RhymeTable
from seq2text.verse.rules import key_places, required_tone, rhyme_groups
from seq2text.verse.tones import PING, ZE, ToneTable


class CharRules:
    """A logit processor over a character vocabulary that decides, row by row, from the text a
    row has written so far: subclasses say which tokens may follow with :meth:`row_allowed`."""

    def __init__(self, tokenizer: VocabTokenizer):
        self.chars, self.index = tokenizer.tokens, tokenizer.index
        self.han = torch.tensor([len(t) == 1 and is_han(t) for t in self.chars])

    def __call__(self, log_probs: torch.Tensor, prefixes: torch.Tensor, sentences: torch.Tensor) -> torch.Tensor:
        for row, (prefix, sentence) in enumerate(zip(prefixes.tolist(), sentences.tolist())):
            allowed = self.row_allowed(sentence, "".join(self.chars[i] for i in prefix))
            log_probs[row].masked_fill_(~allowed.to(log_probs.device), NEG_INF)
        return log_probs

    def row_allowed(self, sentence: int, written: str) -> torch.Tensor:
        """Which tokens ``(V,)`` may follow ``written`` for input ``sentence``."""
        raise NotImplementedError

    def _ids(self, chars: Iterable[str]) -> torch.Tensor:
        mask = torch.zeros(len(self.chars), dtype=torch.bool)
        mask[[self.index[c] for c in chars if c in self.index]] = True
        return mask


class VerseRules(CharRules):
    def __init__(self, form: Form, tokenizer: VocabTokenizer, tones: ToneTable, rhymes: RhymeTable,
                 prompts: Sequence[str], acrostics: Sequence[Optional[str]], rhyme: bool = True,
                 tone_rules: bool = True):
        super().__init__(tokenizer)
        self.form, self.tones, self.rhymes = form, tones, rhymes
        self.prompts, self.acrostics = list(prompts), list(acrostics)
        self.rhyme, self.tone_rules = rhyme, tone_rules
        tone_of = [tones.tone(t) if len(t) == 1 else None for t in self.chars]
        self.tone_mask = {tone: self.han & torch.tensor([t == tone for t in tone_of]) for tone in (PING, ZE)}
        self.groups = [rhymes.groups(t) if len(t) == 1 else set() for t in self.chars]
        self.rhymes_at_all = self.tone_mask[PING] & torch.tensor([bool(g) for g in self.groups])

    def row_allowed(self, sentence: int, written: str) -> torch.Tensor:
        return self.allowed(self.prompts[sentence] + written, self.acrostics[sentence])

    def allowed(self, text: str, acrostic: Optional[str]) -> torch.Tensor:
        """Which tokens may follow ``text`` ``(V,)``."""
        only = torch.zeros(len(self.chars), dtype=torch.bool)
        form = self.form
        if len(text) >= form.length:
            only[EOS] = True
            return only
        fixed = form.fixed(len(text), acrostic)
        if fixed is not None:
            only[self.index[fixed]] = True
            return only
        line, place = form.slot(len(text))
        lines = [text[i:i + form.chars] for i in range(0, len(text), form.chars + 1)]
        rules = []  # weakest last: dropped first when nothing is left
        if self.tone_rules and (place in key_places(form) or place == form.chars - 1):
            need = required_tone(form, line, place, lambda at, p: self.tones.tone(lines[at][p]))
            rules.append(self.tone_mask[need] if need else self.tone_mask[PING] | self.tone_mask[ZE])
        if self.rhyme and place == form.chars - 1 and line % 2 == 1:
            rules.append(self._rhymes_with([lines[i][-1] for i in range(1, line, 2)]))
        used = [c for c in text if is_han(c)]
        rules.append(~self._ids([c for c in set(used) if used.count(c) >= 2]))
        return relax(self.han, rules)

    def _rhymes_with(self, previous: list[str]) -> torch.Tensor:
        """Level-tone characters that share a group with all ``previous`` rhyme characters."""
        if not previous:
            return self.rhymes_at_all
        shared = rhyme_groups(previous, self.rhymes)
        mask = self.rhymes_at_all & torch.tensor([bool(g & shared) for g in self.groups])
        return mask & ~self._ids(previous)
