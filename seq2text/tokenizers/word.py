"""Word tokenizer: whitespace-separated words (PTB-style, already tokenised text).

The corpus's own ``<unk>`` (as in Mikolov's PTB) is the tokenizer's unknown token, so it round-trips.
A vocabulary of lowercased text (PTB: capitals only in its number token ``N``) reads a word it
does not know in its lowercase form when it knows that, so that ``The Market`` is two words it
knows rather than two ``<unk>``.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from typing import Iterable

from seq2text.tokenizers.base import SPECIALS, VocabTokenizer, without_surrogates


class WordTokenizer(VocabTokenizer):
    """Text -> one id per whitespace-separated word."""

    kind = "word"

    @classmethod
    def train(cls, texts: Iterable[str], min_freq: int = 1) -> "WordTokenizer":
        """Build the vocabulary from ``texts``: words seen ``min_freq`` times, most frequent first."""
        counts = Counter()
        for text in texts:
            counts.update(without_surrogates(text).split())
        kept = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w))
        return cls(kept)

    @cached_property
    def lowercased(self) -> bool:
        """Whether the vocabulary was learned from lowercased text (under 1% of its words hold
        a capital)."""
        capitals = sum(token != token.lower() for token in self.tokens if token not in SPECIALS)
        return capitals < 0.01 * len(self.tokens)

    def normalize(self, text: str) -> str:
        return " ".join(self.pieces(text))

    def pieces(self, text: str) -> list[str]:
        words = without_surrogates(text).split()
        if not self.lowercased:
            return words
        return [word if word in self.index or word.lower() not in self.index else word.lower() for word in words]

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.tokens_of(ids))
