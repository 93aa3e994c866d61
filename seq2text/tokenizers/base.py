"""The tokenizer interface shared by SentencePiece, character and word tokenizers.

Every tokenizer reserves the same five special ids, so models never need to ask:
``<pad>`` 0, ``<unk>`` 1, ``<s>`` 2 (bos), ``</s>`` 3 (eos), ``<sep>`` 4.

``decode(encode(text)) == normalize(text)`` holds for any text whose tokens are all in the
vocabulary (always, for SentencePiece with byte fallback).  Lone surrogates (which are not
Unicode text, and which a Python string can hold) are read as U+FFFD.
"""

from __future__ import annotations

import hashlib
import json
import re
from abc import ABC, abstractmethod
from pathlib import Path

from seq2text.atomic import write_text_atomic

PAD, UNK, BOS, EOS, SEP = 0, 1, 2, 3, 4
SPECIALS = ("<pad>", "<unk>", "<s>", "</s>", "<sep>")
CONTROL = frozenset(SPECIALS) - {"<unk>"}
CONFIG_FILE = "tokenizer.json"
MAX_TOKENIZER_BYTES = 64 * 2**20  # tokenizer.json or spm.model: larger is not one of ours
SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (libraries refuse them)."""
    return SURROGATE.sub("\ufffd", text)


class Tokenizer(ABC):
    """Text -> ids -> text.  Subclasses describe themselves in ``tokenizer.json``."""

    pad_id, unk_id, bos_id, eos_id, sep_id = PAD, UNK, BOS, EOS, SEP
    kind: str = ""

    @abstractmethod
    def normalize(self, text: str) -> str:
        """The canonical form of ``text`` that a round trip gives back."""

    @abstractmethod
    def pieces(self, text: str) -> list[str]:
        """The tokens of ``text`` as strings (no bos/eos)."""

    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` (no bos/eos; add them where a model needs them)."""

    @abstractmethod
    def decode(self, ids: list[int]) -> str:
        """Text of ``ids``; special ids (pad, bos, eos, sep) are skipped."""

    @abstractmethod
    def pieces_of(self, ids: list[int]) -> list[str]:
        """The token string of every id in ``ids`` (specials included), e.g. to label plots."""

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of ids, specials included."""

    @abstractmethod
    def _config(self) -> dict:
        """What ``tokenizer.json`` holds besides ``type``."""

    @abstractmethod
    def _save_files(self, directory: Path) -> None:
        """Write any files besides ``tokenizer.json``."""

    def fingerprint(self) -> str:
        """A hash that changes whenever the mapping text <-> ids could change (for caches)."""
        config = json.dumps({"type": self.kind, **self._config()}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha1(config.encode("utf-8")).hexdigest()

    def save(self, directory: str | Path) -> Path:
        """Write this tokenizer to ``directory`` (created); returns it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._save_files(directory)
        write_text_atomic(directory / CONFIG_FILE,
                     json.dumps({"type": self.kind, **self._config()}, ensure_ascii=False, indent=1))
        return directory


class VocabTokenizer(Tokenizer):
    """A tokenizer with an explicit list of tokens (characters or words)."""

    def __init__(self, tokens: list[str]):
        if tuple(tokens[:len(SPECIALS)]) != SPECIALS:
            tokens = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        self.tokens = tokens
        self.index = {token: i for i, token in enumerate(tokens)}

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        return self.ids_of(self.pieces(text))

    def ids_of(self, tokens: list[str]) -> list[int]:
        """The id of every token string of ``tokens``."""
        # A literal "<s>" or "</s>" in the text is a word like any other, not a control token
        # (which decoding would drop): it is unknown unless it is "<unk>" itself.
        return [UNK if token in CONTROL else self.index.get(token, UNK) for token in tokens]

    def pieces_of(self, ids: list[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def tokens_of(self, ids: list[int]) -> list[str]:
        """Token strings of ``ids`` with pad/bos/eos/sep dropped (``<unk>`` kept)."""
        return [self.tokens[i] for i in ids if i == UNK or i >= len(SPECIALS)]

    def _config(self) -> dict:
        return {"tokens": self.tokens}

    def _save_files(self, directory: Path) -> None:
        """Everything is in ``tokenizer.json``."""
