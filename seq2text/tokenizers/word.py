"""Word tokenizer: whitespace-separated words (PTB-style, already tokenised text).

The corpus's own ``<unk>`` (as in Mikolov's PTB) is the tokenizer's unknown token, so it round-trips.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from seq2text.tokenizers.base import VocabTokenizer, without_surrogates


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

    def normalize(self, text: str) -> str:
        return " ".join(self.pieces(text))

    def pieces(self, text: str) -> list[str]:
        return without_surrogates(text).split()

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.tokens_of(ids))
