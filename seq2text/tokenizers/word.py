"""Word tokenizer: one id per word, the words split from raw text by ``split`` (see
:mod:`seq2text.tokenizers.splitting`: at spaces for text tokenised already, treebank rules for
English, characters and known words for Chinese).

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
from seq2text.tokenizers.splitting import split_words


class WordTokenizer(VocabTokenizer):
    """Text -> one id per word."""

    kind = "word"

    def __init__(self, tokens: list[str], split: str = "spaces"):
        super().__init__(tokens)
        self.split = split

    @classmethod
    def train(cls, texts: Iterable[str], min_freq: int = 1, split: str = "spaces") -> "WordTokenizer":
        """Build the vocabulary from ``texts``: words seen ``min_freq`` times, most frequent first."""
        return cls.from_words((word for text in texts for word in split_words(without_surrogates(text), split)),
                              min_freq, split)

    @classmethod
    def from_words(cls, words: Iterable[str], min_freq: int = 1, split: str = "spaces") -> "WordTokenizer":
        """The vocabulary of ``words`` (a treebank's, split already) seen ``min_freq`` times."""
        counts = Counter(words)
        kept = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w))
        return cls(kept, split)

    @cached_property
    def _multicharacter(self) -> tuple[frozenset, int]:
        words = frozenset(token for token in self.tokens[len(SPECIALS):] if len(token) > 1)
        return words, max(map(len, words), default=1)

    def words(self, text: str) -> list[str]:
        """The words of raw ``text`` as this vocabulary's ``split`` rule finds them."""
        text = without_surrogates(text)
        if self.split == "characters":
            return split_words(text, self.split, *self._multicharacter)
        return split_words(text, self.split)

    @cached_property
    def lowercased(self) -> bool:
        """Whether the vocabulary was learned from lowercased text (under 1% of its words hold
        a capital)."""
        capitals = sum(token != token.lower() for token in self.tokens if token not in SPECIALS)
        return capitals < 0.01 * len(self.tokens)

    def normalize(self, text: str) -> str:
        return " ".join(self.pieces(text))

    def pieces(self, text: str) -> list[str]:
        return self.known_forms(self.words(text))

    def known_forms(self, words: list[str]) -> list[str]:
        """``words`` as the vocabulary holds them: a lowercased vocabulary reads a word it does
        not know in its lowercase form when it knows that."""
        if not self.lowercased:
            return words
        return [word if word in self.index or word.lower() not in self.index else word.lower() for word in words]

    def encode_words(self, words: list[str]) -> list[int]:
        """The ids of words split already (a treebank's)."""
        return self.ids_of(self.known_forms(words))

    def decode(self, ids: list[int]) -> str:
        return " ".join(self.tokens_of(ids))

    def _config(self) -> dict:
        return {**({"split": self.split} if self.split != "spaces" else {}), **super()._config()}
