"""Tokenizers: SentencePiece subwords, characters, whitespace words; one interface.

``train_tokenizer(config, texts)`` builds one from a recipe's ``tokenizer`` section and
``load_tokenizer(directory)`` reads one saved with ``Tokenizer.save``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from seq2text.textfile import read_regular
from seq2text.errors import Seq2TextError
from seq2text.recipe import TokenizerConfig
from seq2text.tokenizers.base import BOS, CONFIG_FILE, EOS, MAX_TOKENIZER_BYTES, PAD, SEP, SPECIALS, UNK, Tokenizer
from seq2text.tokenizers.char import CharTokenizer
from seq2text.tokenizers.sentencepiece import SentencePieceTokenizer
from seq2text.tokenizers.splitting import SPLITS
from seq2text.tokenizers.word import WordTokenizer

__all__ = ["Tokenizer", "CharTokenizer", "SentencePieceTokenizer", "WordTokenizer",
           "train_tokenizer", "load_tokenizer", "save_tokenizers", "load_tokenizers", "has_tokenizers",
           "PAD", "UNK", "BOS", "EOS", "SEP", "SPECIALS"]


def train_tokenizer(config: TokenizerConfig, texts: Iterable[str]) -> Tokenizer:
    """Train the tokenizer a recipe's ``tokenizer`` section describes on ``texts``."""
    if config.type == "sentencepiece" and config.model_file:
        return SentencePieceTokenizer(read_regular(Path(config.model_file), MAX_TOKENIZER_BYTES, "SentencePiece model"))
    if config.type == "sentencepiece":
        return SentencePieceTokenizer.train(
            texts, vocab_size=config.vocab_size, model_type=config.model_type,
            character_coverage=config.character_coverage, byte_fallback=config.byte_fallback)
    if config.type == "char":
        return CharTokenizer.train(texts, min_freq=config.min_freq, simplified=config.simplified)
    return WordTokenizer.train(texts, min_freq=config.min_freq, split=config.split)


def load_tokenizer(directory: str | Path) -> Tokenizer:
    """Read a tokenizer saved by ``Tokenizer.save``; one-line error if the folder is not one."""
    directory = Path(directory)
    config_file = directory / CONFIG_FILE
    if not config_file.exists():
        raise Seq2TextError(f"{config_file}: missing (not a saved tokenizer folder?)")
    try:
        config = json.loads(read_regular(config_file, MAX_TOKENIZER_BYTES, "tokenizer file").decode("utf-8"))
        if not isinstance(config, dict):
            raise ValueError("expected a JSON object")
        kind = config["type"]
        if kind == "sentencepiece":
            return SentencePieceTokenizer.load_files(directory, config["sha1"], config.get("kept"))
        if kind in ("char", "word"):
            tokens = config["tokens"]
            if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens) \
                    or len(set(tokens)) != len(tokens):
                raise ValueError("tokens: expected a list of distinct, non-empty strings")
            if kind == "char":
                return CharTokenizer(tokens, simplified=config.get("simplified", False) is True)
            split = config.get("split", "spaces")
            if split not in SPLITS:
                raise ValueError(f"split: expected one of {', '.join(SPLITS)}")
            return WordTokenizer(tokens, split)
    except FileNotFoundError as err:
        raise Seq2TextError(f"{err.filename}: missing (not a saved tokenizer folder?)") from None
    except IsADirectoryError as err:
        raise Seq2TextError(f"{err.filename}: is a folder, expected a file of the tokenizer") from None
    except RecursionError:
        raise Seq2TextError(f"{config_file}: not a valid tokenizer file (nested too deeply)") from None
    except (ValueError, KeyError, TypeError, RuntimeError) as err:
        raise Seq2TextError(f"{config_file}: not a valid tokenizer file ({str(err)[:100]})") from None
    raise Seq2TextError(f"{config_file}: unknown tokenizer type {str(kind)[:40]!r}")


def save_tokenizers(src: Tokenizer, tgt: Tokenizer, directory: str | Path) -> Path:
    """Save a model's tokenizers: one folder if they are the same object, else ``src/``, ``tgt/``."""
    directory = Path(directory)
    if src is tgt:
        return src.save(directory)
    src.save(directory / "src")
    tgt.save(directory / "tgt")
    return directory


def has_tokenizers(directory: str | Path) -> bool:
    """Whether :func:`save_tokenizers` wrote to ``directory`` (joint or separate)."""
    directory = Path(directory)
    return (directory / CONFIG_FILE).is_file() or (directory / "src").is_dir()


def load_tokenizers(directory: str | Path) -> tuple[Tokenizer, Tokenizer]:
    """``(source, target)`` tokenizers saved by :func:`save_tokenizers` (the same object if joint)."""
    directory = Path(directory)
    if (directory / "src").is_dir():
        return load_tokenizer(directory / "src"), load_tokenizer(directory / "tgt")
    tokenizer = load_tokenizer(directory)
    return tokenizer, tokenizer
