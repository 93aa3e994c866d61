"""SentencePiece subword tokenizer (BPE or unigram), trained from the recipe's training text."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Iterable, Optional

import sentencepiece as spm

from seq2text.atomic import write_bytes_atomic
from seq2text.textfile import read_regular
from seq2text.errors import Seq2TextError
from seq2text.tokenizers.base import BOS, EOS, MAX_TOKENIZER_BYTES, PAD, SEP, SPECIALS, UNK, Tokenizer, without_surrogates

MODEL_FILE = "spm.model"


class SentencePieceTokenizer(Tokenizer):
    """Text -> subword ids with a trained SentencePiece model.

    With byte fallback (the default) characters outside the vocabulary are spelled as UTF-8
    bytes, so every text round-trips to its normalised form (NFKC, single spaces).  ``kept``
    (SentencePiece ids, see :meth:`restricted`) limits the vocabulary to those pieces; the
    others read as ``<unk>``.
    """

    kind = "sentencepiece"

    def __init__(self, model_proto: bytes, kept: Optional[list[int]] = None):
        self.model_proto = model_proto
        self.sp = spm.SentencePieceProcessor(model_proto=model_proto)
        self.kept = kept
        self._to_ours, self._to_theirs = _id_maps(self.sp, kept)

    def restricted(self, texts: Iterable[str]) -> "SentencePieceTokenizer":
        """This model with only the pieces that occur in ``texts`` (a corpus side's training
        text), as JoeyNMT builds its vocabularies: a smaller embedding and output layer."""
        seen: set[int] = set()
        for text in texts:
            seen.update(self.sp.encode(without_surrogates(text)))
        return SentencePieceTokenizer(self.model_proto, sorted(seen))

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 8000, model_type: str = "bpe",
              character_coverage: float = 1.0, byte_fallback: bool = True,
              seed_sentences: int = 2_000_000) -> "SentencePieceTokenizer":
        """Train a model on ``texts`` (one sentence each).  Raises a one-line error if it fails."""
        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(texts), model_writer=model, vocab_size=vocab_size,
                model_type=model_type, character_coverage=character_coverage,
                byte_fallback=byte_fallback, pad_id=0, unk_id=1, bos_id=2, eos_id=3,
                pad_piece=SPECIALS[0], unk_piece=SPECIALS[1], bos_piece=SPECIALS[2],
                eos_piece=SPECIALS[3], control_symbols=[SPECIALS[4]],
                input_sentence_size=seed_sentences, shuffle_input_sentence=True,
                num_threads=2, minloglevel=2)
        except RuntimeError as err:
            # e.g. "Vocabulary size too high (8000). Please set it to a value <= 3130."
            message = str(err).strip().splitlines()[-1]
            raise Seq2TextError(f"tokenizer.vocab_size: SentencePiece training failed: {message}") from None
        return cls(model.getvalue())

    @classmethod
    def load_files(cls, directory: Path, sha1: str, kept: Optional[list[int]] = None) -> "SentencePieceTokenizer":
        """Read ``spm.model``; refuse it if it is not the file ``tokenizer.json`` was saved with."""
        proto = read_regular(directory / MODEL_FILE, MAX_TOKENIZER_BYTES, "SentencePiece model")
        if hashlib.sha1(proto).hexdigest() != sha1:
            raise ValueError(f"{MODEL_FILE} does not match its checksum (changed or truncated)")
        tokenizer = cls(proto)
        if kept is None:
            return tokenizer
        size = tokenizer.sp.get_piece_size()
        if not isinstance(kept, list) or not all(type(i) is int and 0 <= i < size for i in kept) \
                or kept != sorted(set(kept)):
            raise ValueError(f"kept: expected increasing SentencePiece ids below {size}")
        return cls(proto, kept)

    @property
    def vocab_size(self) -> int:
        return len(self._to_theirs) if self._to_theirs else self.sp.get_piece_size()

    def normalize(self, text: str) -> str:
        # SentencePiece marks spaces (and a dummy word-initial space) with U+2581.
        return self.sp.normalize(without_surrogates(text)).replace("\u2581", " ").removeprefix(" ")

    def pieces(self, text: str) -> list[str]:
        return self.sp.encode(without_surrogates(text), out_type=str)

    def encode(self, text: str) -> list[int]:
        ids = self.sp.encode(without_surrogates(text))
        return [self._to_ours[i] for i in ids] if self._to_ours else ids

    def sample(self, texts: list[str], alpha: float, seed: int) -> list[list[int]]:
        """Ids of ``texts`` each split at random (BPE-dropout, Provilkov et al. 2020, or unigram
        sampling, Kudo 2018): the same ``seed`` gives the same splits."""
        spm.set_random_generator_seed(seed)
        # One call per text: a list is split over threads, and their draws come in any order.
        found = [self.sp.encode(without_surrogates(text), enable_sampling=True, alpha=alpha, nbest_size=-1)
                 for text in texts]
        return [[self._to_ours[i] for i in ids] for ids in found] if self._to_ours else found

    def pieces_of(self, ids: list[int]) -> list[str]:
        theirs = [self._to_theirs[i] if self._to_theirs and i >= len(SPECIALS) else i for i in ids]
        return [SPECIALS[i] if i < len(SPECIALS) else self.sp.id_to_piece(t) for i, t in zip(ids, theirs)]

    def decode(self, ids: list[int]) -> str:
        if self._to_theirs:
            ids = [self._to_theirs[i] for i in ids if i not in (PAD, BOS, EOS, SEP)]
        return self.sp.decode([int(i) for i in ids])

    def _config(self) -> dict:
        config = {"model_file": MODEL_FILE, "sha1": hashlib.sha1(self.model_proto).hexdigest()}
        return config if self.kept is None else {**config, "kept": self.kept}

    def _save_files(self, directory: Path) -> None:
        write_bytes_atomic(directory / MODEL_FILE, self.model_proto)


def _id_maps(sp: spm.SentencePieceProcessor, kept: Optional[list[int]] = None) -> tuple[list[int], list[int]]:
    """Id tables for a model trained elsewhere, whose special ids differ from ours, or one
    limited to the pieces ``kept``.

    Returns ``(theirs -> ours, ours -> theirs)``, both empty when the model already uses our
    ids (every model this module trains does) and keeps every piece.  Its unk/bos/eos become
    ours; the other kept pieces follow our five specials in their original order, and the pieces
    left out read as ``<unk>``.
    """
    if kept is None and [sp.pad_id(), sp.unk_id(), sp.bos_id(), sp.eos_id()] == [PAD, UNK, BOS, EOS] \
            and sp.get_piece_size() > SEP and sp.id_to_piece(SEP) == SPECIALS[SEP]:
        return [], []
    specials = {sp.pad_id(): PAD, sp.unk_id(): UNK, sp.bos_id(): BOS, sp.eos_id(): EOS}
    if sp.get_piece_size() > SEP and sp.id_to_piece(SEP) == SPECIALS[SEP]:
        specials[SEP] = SEP
    keep = set(range(sp.get_piece_size())) if kept is None else set(kept)
    to_ours, to_theirs = [], [-1] * len(SPECIALS)
    for theirs in range(sp.get_piece_size()):
        if theirs in specials:
            to_ours.append(specials[theirs])
            to_theirs[specials[theirs]] = theirs
        elif theirs in keep:
            to_ours.append(len(to_theirs))
            to_theirs.append(theirs)
        else:
            to_ours.append(UNK)
    return to_ours, to_theirs
