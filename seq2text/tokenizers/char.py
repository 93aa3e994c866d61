"""Character tokenizer: every character (Han character, punctuation mark, space) is a token.

For classical Chinese verse, ``simplified=True`` converts traditional characters to simplified
ones with OpenCC before tokenising, so the Tang corpus and modern input share one vocabulary.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from typing import Iterable

import opencc

from seq2text.tokenizers.base import VocabTokenizer, without_surrogates


class CharTokenizer(VocabTokenizer):
    """Text -> one id per character."""

    kind = "char"

    def __init__(self, tokens: list[str], simplified: bool = False):
        super().__init__(tokens)
        self.simplified = simplified

    @cached_property
    def _converter(self):
        return opencc.OpenCC("t2s")

    @classmethod
    def train(cls, texts: Iterable[str], min_freq: int = 1, simplified: bool = False) -> "CharTokenizer":
        """Build the vocabulary: characters seen at least ``min_freq`` times, most frequent first."""
        tokenizer = cls([], simplified)
        counts = Counter()
        for text in texts:
            counts.update(tokenizer.normalize(text))
        kept = sorted((c for c, n in counts.items() if n >= min_freq), key=lambda c: (-counts[c], c))
        return cls(kept, simplified)

    def normalize(self, text: str) -> str:
        text = without_surrogates(text)
        return self._converter.convert(text) if self.simplified else text

    def pieces(self, text: str) -> list[str]:
        return list(self.normalize(text))

    def decode(self, ids: list[int]) -> str:
        return "".join(self.tokens_of(ids))

    def _config(self) -> dict:
        return {"simplified": self.simplified, **super()._config()}
