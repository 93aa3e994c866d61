"""The logit processor that makes a character language model write to a pattern.

At every step each row's text so far fixes what comes next (:class:`PatternRules`): punctuation
where the pattern puts it, ``</s>`` after the last line, a fixed character (acrostic, keyword,
prompt, a kept line) where one stands, and otherwise a Han character that keeps the tone of the
position, the rhyme at a rhyme position and the repetition limit.  If a row's rules leave no
character, the repetition rule gives way first, then rhyme, then tone; the form itself never
does.  The same rules hold for regulated verse and for the ci (:mod:`seq2text.verse.patterns`).
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional, Sequence

import torch

from seq2text.verse.forms import is_han
from seq2text.decoding.processors import NEG_INF, relax
from seq2text.tokenizers import EOS
from seq2text.tokenizers.base import VocabTokenizer
from seq2text.verse.patterns import Pattern, RhymeBook, Slot, fits, level
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


class PatternRules(CharRules):
    """Row ``r`` writes a poem of ``patterns[sentences[r]]`` with the characters of
    ``fixed[sentences[r]]`` (text position -> character: an acrostic, keywords, a prompt, the
    lines a revision keeps) where they stand.

    ``writable`` ``(V,)``: the characters the poet may choose (for a simplified model, not the
    traditional forms); fixed characters are always allowed."""

    def __init__(self, tokenizer: VocabTokenizer, tones: ToneTable, rhymes: RhymeBook,
                 patterns: Sequence[Pattern], fixed: Sequence[dict[int, str]], rhyme: bool = True,
                 tone_rules: bool = True, writable: Optional[torch.Tensor] = None):
        super().__init__(tokenizer)
        self.tones, self.rhymes, self.patterns, self.fixed = tones, rhymes, list(patterns), list(fixed)
        self.rhyme, self.tone_rules = rhyme, tone_rules
        self.free = self.han if writable is None else self.han & writable
        tone_of = [tones.tone(t) if len(t) == 1 else None for t in self.chars]
        self.tone_mask = {tone: self.han & torch.tensor([t == tone for t in tone_of]) for tone in (PING, ZE)}
        # at a rhyme position the rhyme book fixes the class; a character the tone table cannot
        # decide (read both ways) may stand there too
        unknown = self.han & torch.tensor([t is None for t in tone_of])
        self.rhyme_tone_mask = {tone: mask | unknown for tone, mask in self.tone_mask.items()}
        self.readings = [rhymes.readings(t) if len(t) == 1 else set() for t in self.chars]
        self.keys = sorted({key for readings in self.readings for key in readings})
        self.key_mask = {key: torch.tensor([key in r for r in self.readings]) for key in self.keys}
        self._rhyme_masks: dict = {}

    def row_allowed(self, sentence: int, written: str) -> torch.Tensor:
        return self.allowed(self.patterns[sentence], self.fixed[sentence], written)

    def allowed(self, pattern: Pattern, fixed: dict[int, str], text: str) -> torch.Tensor:
        """Which tokens may follow ``text`` ``(V,)``."""
        only = torch.zeros(len(self.chars), dtype=torch.bool)
        position = len(text)
        if position >= pattern.length:
            only[EOS] = True
            return only
        slot = pattern.slots[position]
        forced = slot.mark or fixed.get(position)
        if forced is not None:
            only[self.index[forced]] = True
            return only
        rules = []  # strongest first: the weakest give way first when nothing is left
        if self.tone_rules and slot.tone is not None:
            rules.append((self.rhyme_tone_mask if slot.rhyme is not None else self.tone_mask)[slot.tone])
        if self.rhyme and slot.rhyme is not None:
            rules.append(self._rhymes_at(pattern, fixed, text, slot))
        known = Counter(c for c in text if is_han(c)) + Counter(c for p, c in fixed.items() if p >= position)
        rules.append(~self._ids([c for c, n in known.items() if n >= pattern.repeats]))
        return relax(self.free, rules)

    def _rhymes_at(self, pattern: Pattern, fixed: dict[int, str], text: str, slot: Slot) -> torch.Tensor:
        """Characters that rhyme at ``slot`` with the other positions of its rhyme group, those
        written and those fixed further on, and are none of them."""
        others = tuple((text[p] if p < len(text) else fixed.get(p), other.tone)
                       for p, other in enumerate(pattern.slots) if other.rhyme == slot.rhyme and other is not slot
                       and (p < len(text) or p in fixed))
        cache_key = (others, slot.tone)
        if cache_key not in self._rhyme_masks:
            mask = torch.zeros(len(self.chars), dtype=torch.bool)
            for key in self.keys:
                if (slot.tone is None or level(key[1]) == level(slot.tone)) and all(
                        fits(self.rhymes.readings(char), key, tone) for char, tone in others):
                    mask |= self.key_mask[key]
            self._rhyme_masks[cache_key] = mask & ~self._ids(char for char, _ in others)
        return self._rhyme_masks[cache_key]
