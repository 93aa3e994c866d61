"""The Python API for poems, couplets and free text.

    from seq2text import Generator
    generator = Generator.load("poems")                      # or a trained model or run folder
    generator.poems("七言律诗", title="秋夜", seed=1)
    generator.poems("七言绝句", title="送别", acrostic="春夏秋冬", seed=1)
    poem = generator.poems("七律", title="秋夜", seed=1)[0]
    generator.revise(poem, line=3, n=5)                       # new candidates for one line
    Generator.load("ci").ci("浣溪沙", title="春日", seed=1)      # ci by tune
    Generator.load("couplet").couplets(["海阔凭鱼跃"], count=3)
    Generator.load("shakespeare-char").text("ROMEO:", length=200, seed=1)

What a model can write depends on its task: a Tang poetry language model writes poems
(:mod:`seq2text.generation.poems`), a couplet model 下联 (:mod:`seq2text.generation.couplets`),
and every language model free text (:mod:`seq2text.generation.text`).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

from seq2text.errors import Seq2TextError, option
from seq2text.generation.couplets import Couplet, CoupletWriter
from seq2text.generation.poems import Poem, PoemWriter
from seq2text.generation.requests import MAX_REVISIONS, CoupletRequest, PoemRequest, TextRequest, check_count
from seq2text.generation.text import Passage, TextWriter
from seq2text.pretrained import Pretrained, load_pretrained
from seq2text.tasks import require, writes_poems
from seq2text.verse.books import Books
from seq2text.verse.forms import FORMS, poem_form
from seq2text.verse.patterns import line_marks
from seq2text.verse.rhymes import RhymeTable
from seq2text.verse.subjects import SEPARATOR
from seq2text.verse.tunes import Tunes, describe

DEFAULT_POEMS = "poems"  # the bundled title-conditioned model of the Tang and Song poems
DEFAULT_CI = "ci"  # the bundled model of the ci by tune

__all__ = ["Couplet", "CoupletRequest", "Generator", "Passage", "Poem", "PoemRequest", "TextRequest"]


class Generator:
    """A loaded language or couplet model and the writers its task allows."""
    def __init__(self, loaded: Pretrained, rhyme_table: Optional[Path] = None):
        self.loaded, self.rhyme_table = loaded, rhyme_table
        self.name, self.task = loaded.name, loaded.task
        self.writes_couplets = require(loaded, "Generator").pairs  # else a language model

    @classmethod
    def load(cls, model: str | Path | Pretrained = DEFAULT_POEMS, device: str | torch.device = "cpu",
             rhyme_table: Optional[Path] = None) -> "Generator":
        """A bundled model by name, a trained model or run folder, or a loaded
        :class:`~seq2text.pretrained.Pretrained`: a language model or a couplet model.

        Poems rhyme by the 平水韵 table at ``rhyme_table``, else the one the model folder carries
        (a bundled model's ``rhymes.json``), else the one under the data root
        (``rhyme/pingshuiyun.txt``) if it is there, else by modern readings (pypinyin).
        """
        return cls(load_pretrained(model, device), rhyme_table)

    @property
    def is_poetry_model(self) -> bool:
        return writes_poems(self.loaded.recipe)

    @property
    def tokenizer(self):
        return self.loaded.src

    @cached_property
    def books(self) -> Books:
        return self.loaded.books(self.rhyme_table)

    @property
    def rhymes(self) -> RhymeTable:
        """The 平水韵 of regulated verse (:meth:`~seq2text.pretrained.Pretrained.books`)."""
        return self.books.rhymes

    @cached_property
    def tunes(self) -> Optional[Tunes]:
        """The tunes a ci model writes, their patterns and the 词林正韵 (from the model folder, else
        the data root's ``cipu/``); None for a model that writes no ci."""
        choices, books = self.loaded.tunes, self.books
        return Tunes(choices, books.tunes, books.cilin) if choices else None

    @cached_property
    def _poet(self) -> PoemWriter:
        if not self.is_poetry_model:
            raise Seq2TextError(f"{self.name}: poems need a Tang poetry language model; for free text "
                                f"use {option('prompt')} and {option('length')}")
        return PoemWriter(self.loaded.model, self.tokenizer, self.loaded.tones, self.rhymes,
                          self.loaded.recipe.data.subjects, self.name, self.tunes)

    @cached_property
    def _couplet_writer(self) -> CoupletWriter:
        if not self.writes_couplets:
            raise Seq2TextError(f"{self.name}: couplets need a couplet model (for example: couplet)")
        return CoupletWriter(self.loaded.model, self.tokenizer, self.loaded.tones)

    @cached_property
    def _writer(self) -> TextWriter:
        if self.writes_couplets:
            raise Seq2TextError(f"{self.name}: free text needs a language model, not a {self.task} model")
        return TextWriter(self.loaded.model, self.tokenizer, bool(self.loaded.recipe.training.bptt), self.name)

    def poems(self, form: str | PoemRequest = "qiyan-jueju", count: int = 1, **options: Any) -> list[Poem]:
        """``count`` poems of ``form`` (English or Chinese name), or what a :class:`PoemRequest`
        asks for; ``options`` are its other fields:

        ``title``: what the poem is about (秋夜, 送别, 黄鹤楼), and ``keywords`` (``["明月",
        "故乡"]``) words it should use, for a model trained with subjects (``poems``), their pull
        strengthened by classifier-free ``guidance`` (0: off; :mod:`seq2text.decoding.guidance`);
        ``acrostic``: the first character of every line (as many characters as lines);
        ``prompt``: the poem's first characters; ``rhyme``/``tones``: the rules of regulated
        verse (ignored for free verse); sampling with ``temperature``, ``top_k``, ``top_p``
        and ``seed`` (poem i has seed + i, which writes it again alone), or beam search with
        ``beam_size`` > 1 (its best ``min(count, beam_size)`` poems).
        """
        request = form if isinstance(form, PoemRequest) else PoemRequest(form=form, count=count, **options)
        return self._poet.poems(request)

    def ci(self, tune: str, count: int = 1, **options: Any) -> list[Poem]:
        """``count`` ci of ``tune`` (浣溪沙, 水调歌头; see :meth:`forms`), with the options of
        :meth:`poems`: the tune's line lengths and punctuation always, its tones and rhymes
        (词林正韵) unless ``tones``/``rhyme`` are switched off."""
        if self.tunes is None:
            raise Seq2TextError(f"{self.name}: ci need a ci model (the bundled {DEFAULT_CI})")
        return self.poems(PoemRequest(form=tune, count=count, **options))

    def forms(self) -> list[dict]:
        """What :meth:`poems` writes with this model: the four regulated forms and free verse,
        and for a ci model every tune with its pattern's shape and how many corpus ci it has."""
        found = [{"form": form.name, "name": form.chinese} for form in FORMS.values()]
        for choice in self.tunes.choices if self.tunes else []:
            pattern = self.tunes.pattern(choice)
            found.append({"form": choice.tune, "name": choice.tune, "pattern": describe(pattern),
                          "description": pattern.description, "corpus_ci": choice.ci})
        return found

    def revise(self, poem: Poem | str, line: int, n: int = 5, form: Optional[str] = None,
               title: str = "", **options: Any) -> list[Poem]:
        """``n`` new versions of line ``line`` (1-based, a clause: 五律 has 8) of ``poem``, best
        first.  Every other line is kept byte for byte and every rule still holds; candidates are
        ranked by how well the whole poem reads with them.  ``poem``: a :class:`Poem` this model
        wrote, or its text with its ``form`` (a tune for ci; a regulated form is recognised) and
        ``title``; ``options``: sampling as in :meth:`poems`."""
        if not isinstance(poem, (str, Poem)):
            raise Seq2TextError(f"{option('poem')}: a Poem or its text, not {type(poem).__name__}")
        if isinstance(line, bool) or not isinstance(line, int):  # True is not line 1
            raise Seq2TextError(f"{option('line')} {line!r}: not a line number (a whole number from 1)")
        check_count("n", n, MAX_REVISIONS)
        if isinstance(poem, str):
            name = form or poem_form(poem)
            title, *keywords = title.split(SEPARATOR)  # a subject as poems() gave it: 秋夜、明月
            about = self._poet.check_subject(title, keywords)
            poem = Poem(text=self.tokenizer.normalize(poem.strip()), form=name, log_prob=0.0, seed=None, checks={},
                        subject=about)
        request = PoemRequest(form=poem.form, count=n, **options)
        return self._poet.revise(poem, line, request)

    def line_marks(self, poem: Poem) -> list[dict]:
        """Per line (clause) of a regulated poem or ci: its text, tones and rhyme readings, as the
        web page shows them (:func:`seq2text.verse.patterns.line_marks`); empty for free verse."""
        shape = self._poet.shape(poem.form)
        if not shape.patterned:
            return []
        try:
            pattern = self._poet.pattern_of(poem, shape)
        except Seq2TextError:  # not the form's shape: nothing to mark
            return []
        return line_marks(poem.text, pattern, self.loaded.tones, shape.rhymes)

    def couplets(self, first_lines: str | Sequence[str], count: int = 1, batch_size: int = 64,
                 request: Optional[CoupletRequest] = None, **options: Any) -> list[list[Couplet]] | list[Couplet]:
        """``count`` 下联 for each 上联 (spaces ignored), best first: by beam search of
        ``max(beam_size, count)`` (``beam_size`` 5 by default), or with ``beam_size`` 1 sampled
        with ``temperature``, ``top_k``, ``top_p`` and ``seed`` (greedy with ``temperature``
        0); ``tones``: 平仄相对 at the rhythm points (the other rules always hold).  A string is
        one 上联, answered by one list.  A line the model cannot answer (see
        :meth:`first_line_problem`) raises :class:`~seq2text.errors.Seq2TextError` naming it."""
        request = request or CoupletRequest(count=count, **options)
        lines = [first_lines] if isinstance(first_lines, str) else list(first_lines)
        found = self._couplet_writer.couplets(lines, request, batch_size)
        return found[0] if isinstance(first_lines, str) else found

    def first_line_problem(self, line: str) -> Optional[str]:
        """Why ``line`` cannot be answered as a 上联 (empty, only punctuation, too long, Latin
        letters), or None."""
        return self._couplet_writer.first_line_problem(line)

    def text(self, prompt: str | TextRequest = "", length: int = 200, count: int = 1, **options: Any) -> list[Passage]:
        """``count`` samples of free text from a language model: ``prompt`` continued by up to
        ``length`` tokens (characters, words or pieces, as the model reads text), sampled with
        ``temperature``, ``top_k``, ``top_p`` and ``seed`` (passage i has seed + i)."""
        request = prompt if isinstance(prompt, TextRequest) else TextRequest(prompt=prompt, length=length,
                                                                            count=count, **options)
        return self._writer.text(request)
