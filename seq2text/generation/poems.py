"""Poems from a character language model trained on Tang (and Song) poems.

The model writes after the form's label (``七绝|``), and a title-conditioned model after the
poem's subject too (``秋夜|七绝|``, see :mod:`seq2text.verse.subjects`); for the four regulated forms
:class:`~seq2text.verse.constraints.VerseRules` fixes the shape (lines, length, ，and 。) and,
unless switched off, the rhyme and tone rules.  Every poem comes back with the checks of
:func:`~seq2text.verse.rules.check_poem`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from seq2text.decoding import beam_search, sample
from seq2text.decoding.sampling import row_generators
from seq2text.decoding.guidance import Guided, GuidedState
from seq2text.decoding.protocols import SearchModel, SearchState
from seq2text.errors import Seq2TextError, option, shown
from seq2text.generation.requests import PoemRequest
from seq2text.models.lm import RNNLM
from seq2text.tokenizers import BOS
from seq2text.tokenizers.base import VocabTokenizer
from seq2text.verse.constraints import VerseRules
from seq2text.verse.forms import Form, get_form, is_han, labelled
from seq2text.verse.rhymes import RhymeTable
from seq2text.verse.rules import check_poem
from seq2text.verse.subjects import MAX_SUBJECT, subject
from seq2text.verse.tones import ToneTable

FREE_LENGTH = 96


@dataclass
class Poem:
    text: str
    form: str
    log_prob: float
    seed: Optional[int]
    checks: dict[str, bool]
    subject: str = ""

    def lines(self) -> list[str]:
        """The poem cut after every 。 (one couplet per line), for printing."""
        return [part + "。" for part in self.text.split("。") if part] or [self.text]

    def to_dict(self) -> dict:
        """The poem as ``--format jsonl`` and the HTTP API give it (its form also by its Chinese name)."""
        return {"text": self.text, "form": self.form, "form_name": get_form(self.form).chinese,
                "subject": self.subject, "seed": self.seed, "log_prob": round(self.log_prob, 3), "checks": self.checks}


class PoemWriter:
    """A poetry language model with the tone and rhyme tables its rules read; ``subjects``: the
    model was trained to read a subject before the form label."""

    def __init__(self, model: RNNLM, tokenizer: VocabTokenizer, tones: ToneTable, rhymes: RhymeTable,
                 subjects: bool = False, name: str = "this model"):
        self.model, self.tokenizer, self.tones, self.rhymes = model, tokenizer, tones, rhymes
        self.subjects, self.name = subjects, name

    def poems(self, request: PoemRequest) -> list[Poem]:
        """The poems ``request`` asks for (see :meth:`seq2text.generator.Generator.poems`)."""
        shape, acrostic, count, beam_size = get_form(request.form), request.acrostic, request.count, request.beam_size
        prompt = self._check_request(shape, acrostic, request.prompt or "")
        about = self._check_subject(request.title or "", request.keywords)
        inputs = 1 if beam_size > 1 else count  # sampled poems are separate inputs
        model, last, state = self._start(labelled(prompt, shape.name, about), labelled(prompt, shape.name),
                                         inputs, request.guidance if about else 0.0)
        processors, limit = [], FREE_LENGTH - len(prompt)
        if shape.regulated:
            processors = [VerseRules(shape, self.tokenizer, self.tones, self.rhymes, [prompt] * inputs,
                                     [acrostic] * inputs, request.rhyme, request.tones)]
            limit = shape.length - len(prompt)
        if beam_size > 1:
            found = beam_search(model, state, beam_size, limit, alpha=0.0, nbest=min(count, beam_size),
                                processors=processors, start=last)[0]
            seeds = [request.seed] * len(found)
        else:
            seed = random.randrange(2**31) if request.seed is None else request.seed
            # poem i of a sampled batch is the one its own seed, seed + i, writes alone
            seeds = [seed + i for i in range(inputs)]
            found = sample(model, state, limit, request.temperature, request.top_k, request.top_p,
                           row_generators(seeds, state.device), processors, start=last)
        return [self._poem(prompt + self.tokenizer.decode(h.tokens), shape, h.log_prob, row_seed, acrostic, about)
                for h, row_seed in zip(found, seeds)]

    def _start(self, text: str, plain: str, rows: int, guidance: float) -> tuple[SearchModel, torch.Tensor,
                                                                                  SearchState]:
        """The model to search with, the last tokens and the state of ``rows`` rows that have read
        ``text``; with ``guidance``, the model reads ``plain`` (``text`` without the subject)
        too, and the subject's pull is strengthened (:mod:`seq2text.decoding.guidance`)."""
        last, state = self.model.start([[BOS, *self.tokenizer.encode(text)]] * rows)
        if not guidance:
            return self.model, last, state
        _, plain_state = self.model.start([[BOS, *self.tokenizer.encode(plain)]] * rows)
        return Guided(self.model, guidance), last, GuidedState(state, plain_state)

    def _check_subject(self, title: str, keywords: Sequence[str]) -> str:
        """The subject the model reads for ``title`` and ``keywords`` (normalized), or a
        one-line error naming the option at fault."""
        if not (title or keywords):
            return ""
        both = f"{option('title')} and {option('keywords')}"
        if not self.subjects:
            raise Seq2TextError(f"{self.name}: {both} need a model trained with subjects (the bundled poems model)")
        parts = []
        for name, text in [("title", title), *(("keywords", word) for word in keywords)]:
            text = self.tokenizer.normalize(text.strip())
            if name == "keywords" and not text:
                raise Seq2TextError(f"{option(name)}: an empty keyword (separate them with commas: 明月,故乡)")
            if text and not all(is_han(c) for c in text):
                raise Seq2TextError(f"{option(name)} {shown(text)}: only Han characters (a title such as 秋夜 "
                                    f"or keywords such as 明月,故乡)")
            unknown = "".join(dict.fromkeys(c for c in text if c not in self.tokenizer.index))
            if unknown:
                raise Seq2TextError(f"{option(name)} {shown(text)}: characters the model does not know: {unknown}")
            parts.append(text)
        about = subject(parts[0], parts[1:])
        if len(about) > MAX_SUBJECT:
            raise Seq2TextError(f"{both}: {len(about)} characters together, at most {MAX_SUBJECT}")
        return about

    def _check_request(self, form: Form, acrostic: Optional[str], prompt: str) -> str:
        prompt = self.tokenizer.normalize(prompt.replace(" ", ""))
        wanted = prompt + (acrostic or "")
        unknown = "".join(dict.fromkeys(c for c in wanted if c not in self.tokenizer.index))
        if unknown:
            latin = " (for English text use a model of English, such as shakespeare-char)" \
                if any(c.isascii() and c.isalpha() for c in unknown) else ""
            raise Seq2TextError(f"{option('prompt' if set(unknown) & set(prompt) else 'acrostic')}: characters the "
                                f"poetry model {self.name} does not know: {shown(unknown)}{latin}")
        if acrostic is not None:
            if not form.regulated:
                raise Seq2TextError(f"{option('acrostic')} needs a regulated form (五言/七言 绝句/律诗)")
            if len(acrostic) != form.lines or not all(is_han(c) for c in acrostic):
                raise Seq2TextError(f"{option('acrostic')} {shown(acrostic)}: a {form.chinese} poem needs "
                                    f"{form.lines} characters, one per line")
        if form.regulated:
            if len(prompt) >= form.length:
                raise Seq2TextError(f"{option('prompt')} {shown(prompt)}: longer than a whole {form.chinese} poem")
            for position, char in enumerate(prompt):
                expected = form.fixed(position, acrostic)
                if (expected and char != expected) or (not expected and not is_han(char)):
                    which = " with this acrostic" if acrostic else ""
                    raise Seq2TextError(f"{option('prompt')} {shown(prompt)}: character {position + 1} ({char}) "
                                        f"does not fit a {form.chinese} poem{which}")
        return prompt

    def _poem(self, text: str, form: Form, log_prob: float, seed: Optional[int], acrostic: Optional[str],
              about: str) -> Poem:
        checks = check_poem(text, form, self.tones, self.rhymes, acrostic) if form.regulated else {}
        return Poem(text, form.name, log_prob, seed, checks, about)
