"""The Python API behind ``seq2text tag``: a tag for every word, from a trained tagger.

    >>> from seq2text import Tagger
    >>> Tagger.load("pos-en").tag("I can't swim.").pairs()
    [('I', 'PRON'), ('ca', 'AUX'), ("n't", 'PART'), ('swim', 'VERB'), ('.', 'PUNCT')]

Raw text is split into words as the model's training data was (its tokenizer's ``split``:
treebank rules for English, characters and known words for Classical Chinese); with
``pretokenized`` the words are what spaces separate.  A sentence is tagged whole, however long.

Chinese input is read in the script of the model's training words: a model of the Classical
Chinese treebank (traditional characters, ``pos-lzh``) tags simplified input as if it were
written in traditional characters, and the other way round.  The words come back as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Optional, Sequence

import opencc
import torch

from seq2text.data.conllu import Reading
from seq2text.errors import Seq2TextError
from seq2text.pretrained import Pretrained, load_pretrained
from seq2text.scoring.tags import predict_tags
from seq2text.tasks import require
from seq2text.verse.forms import is_han

MAX_WORDS = 100_000  # words in one sentence: a whole book on one line is not a sentence
MIN_HAN_WORDS = 50  # a vocabulary with fewer Chinese words has no script to convert to


@dataclass
class TaggedSentence:
    """The ``words`` of ``text``, their ``tags``, the probability of each tag found
    (``probabilities``) and of every tag (``distributions``, in the model's tag order), and
    whether each word was ``known`` from training (unknown ones are tagged by their spelling)."""

    text: str
    words: list[str]
    tags: list[str]
    probabilities: list[float]
    distributions: list[dict[str, float]]
    known: list[bool]

    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.words, self.tags))

    def __str__(self) -> str:
        """``word/TAG`` pairs separated by spaces."""
        return " ".join(f"{word}/{tag}" for word, tag in self.pairs())

    def to_dict(self, top: int = 0) -> dict:
        """The sentence as ``--format jsonl`` and the HTTP API give it: each word with its tag,
        the tag's probability, and (``top`` > 0) the ``top`` most probable tags."""
        words = []
        for word, tag, probability, distribution, known in zip(self.words, self.tags, self.probabilities,
                                                                self.distributions, self.known):
            entry = {"word": word, "tag": tag, "probability": round(probability, 4), "known": known}
            if top:
                best = sorted(distribution.items(), key=lambda item: -item[1])[:top]
                entry["tags"] = {name: round(p, 4) for name, p in best}
            words.append(entry)
        return {"words": words}


class Tagger:
    """A tagging model with its word and character vocabularies and tag names."""

    def __init__(self, loaded: Pretrained):
        # a tagger's tokenizers: the words (source) and the characters that spell them (target)
        self.loaded, self.model, self.words, self.characters = loaded, loaded.model, loaded.src, loaded.tgt
        self.name, self.tags = loaded.name, loaded.labels
        self.reading = Reading.of(loaded.recipe.data)  # how CoNLL-U input is read, as in training

    @classmethod
    def load(cls, model: str | Path | Pretrained = "pos-en", device: str | torch.device = "cpu") -> "Tagger":
        """A bundled model by name, a trained model or run folder, or a loaded
        :class:`~seq2text.pretrained.Pretrained`."""
        loaded = load_pretrained(model, device)
        require(loaded, "Tagger")
        return cls(loaded)

    @cached_property
    def script(self) -> Optional[str]:
        """``"traditional"`` or ``"simplified"``: the script of the model's Chinese training
        words, which input is converted to; None for a model of no Chinese."""
        han = [word for word in self.words.tokens if word and all(is_han(c) for c in word)]
        if len(han) < MIN_HAN_WORDS:
            return None
        to_simplified, to_traditional = opencc.OpenCC("t2s"), opencc.OpenCC("s2t")
        traditional = sum(to_simplified.convert(word) != word for word in han)
        simplified = sum(to_traditional.convert(word) != word for word in han)
        return "traditional" if traditional > simplified else "simplified"

    @cached_property
    def _convert(self) -> Callable[[str], str]:
        """Text in the model's script, character for character (the same length)."""
        if self.script is None:
            return lambda text: text
        converter = opencc.OpenCC("s2t" if self.script == "traditional" else "t2s")

        def convert(text: str) -> str:
            whole = converter.convert(text)  # by phrases where it can: 头发 -> 頭髮, 发展 -> 發展
            return whole if len(whole) == len(text) else "".join(converter.convert(c) for c in text)
        return convert

    def split(self, text: str, pretokenized: bool = False) -> list[str]:
        """The words of ``text`` as the tagger reads them (in the script of ``text``)."""
        if pretokenized:
            return text.split()
        if self.script is None:
            return self.words.words(text)
        converted = self._convert(text)
        words, start = [], 0
        for word in self.words.words(converted):  # substrings of the converted text
            start = converted.index(word, start)
            words.append(text[start:start + len(word)])
            start += len(word)
        return words

    def tag(self, texts: str | Sequence[str], pretokenized: bool = False,
            batch_size: int = 64) -> TaggedSentence | list[TaggedSentence]:
        """A :class:`TaggedSentence` for each text (one sentence each), or for the one text a
        string is.  Empty texts have no words: :class:`~seq2text.errors.Seq2TextError` names them."""
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        found = self.tag_words([self.split(text, pretokenized) for text in texts], batch_size, texts)
        return found[0] if single else found

    def tag_words(self, sentences: Sequence[Sequence[str]], batch_size: int = 64,
                  texts: Sequence[str] | None = None) -> list[TaggedSentence]:
        """Tags for sentences split into words already (a treebank's)."""
        sentences = [list(words) for words in sentences]
        empty = [number for number, words in enumerate(sentences, start=1) if not words]
        if empty:
            raise Seq2TextError(f"text {', '.join(map(str, empty[:5]))}: empty, nothing to tag")
        long = [number for number, words in enumerate(sentences, start=1) if len(words) > MAX_WORDS]
        if long:
            raise Seq2TextError(f"text {long[0]}: {len(sentences[long[0] - 1])} words, over the {MAX_WORDS:,} a "
                                f"sentence may have; split it into sentences")
        converted = [[self._convert(word) for word in words] for words in sentences]
        ids = [self.words.encode_words(words) for words in converted]
        found = predict_tags(self.model, ids, converted, self.characters, self.loaded.device, batch_size)
        unknown = self.words.unk_id
        results = []
        for index, (words, word_ids, tagged) in enumerate(zip(sentences, ids, found)):
            rows = tagged.probabilities.tolist()
            results.append(TaggedSentence(
                texts[index] if texts is not None else " ".join(words), words,
                [self.tags[tag] for tag in tagged.best], [row[tag] for row, tag in zip(rows, tagged.best)],
                [dict(zip(self.tags, row)) for row in rows], [i != unknown for i in word_ids]))
        return results
