"""How raw text becomes words for a word vocabulary (``tokenizer.split``).

- ``spaces``: the text is tokenised already; words are what spaces separate.
- ``treebank``: English as the Penn and UD English treebanks split it: contractions
  (``don't`` -> ``do n't``, ``cannot`` -> ``can not``), possessives and punctuation apart, by
  NLTK's improved Treebank rules.  Words keep the characters of the text (NLTK would turn
  ``"`` into ````` and ``''``; the treebanks keep them).
- ``characters``: one character a word (Classical Chinese, where most words are one
  character), except where the vocabulary holds a longer word that the text spells: the
  longest such word is kept whole (forward maximum matching).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Collection

SPLITS = ("spaces", "treebank", "characters")


def split_words(text: str, split: str, known: Collection[str] = (), longest: int = 1) -> list[str]:
    """The words of ``text`` by the rule ``split``; ``known`` words of up to ``longest``
    characters are kept whole by ``characters``."""
    if split == "treebank":
        return [text[start:end] for start, end in _treebank().span_tokenize(text)]
    if split == "characters":
        return _longest_matches("".join(text.split()), known, longest)
    return text.split()


@lru_cache(maxsize=1)
def _treebank():
    # nltk takes a second to import, and only English treebank splitting needs it; its rules need
    # no downloaded data
    from nltk.tokenize import NLTKWordTokenizer  # noqa: PLC0415

    return NLTKWordTokenizer()


def _longest_matches(text: str, known: Collection[str], longest: int) -> list[str]:
    words, start = [], 0
    while start < len(text):
        size = next((size for size in range(min(longest, len(text) - start), 1, -1)
                     if text[start:start + size] in known), 1)
        words.append(text[start:start + size])
        start += size
    return words
