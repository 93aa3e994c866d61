"""Poems and ci from a character language model trained on the Tang and Song poems (and ci).

The model writes after the form's label (``七绝|``, or a ci's tune: ``浣溪沙|``), and a
title-conditioned model after the poem's subject too (``秋夜|七绝|``, see
:mod:`seq2text.verse.subjects`).  A regulated poem or a ci is written to a pattern
(:mod:`seq2text.verse.patterns`): its line lengths and punctuation always, and unless switched
off its tones and rhymes, by :class:`~seq2text.verse.constraints.PatternRules`, line by line with
candidates (:mod:`seq2text.generation.lines`).  Every poem comes back with its checks.

Seeds: poem i of a request with seed s is written from seed s + i mixed with its subject and
form, so one seed gives different poems on different subjects, and the poem written alone with
seed s + i is the same poem.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

import torch
import zhconv

from seq2text.decoding import beam_search, sample
from seq2text.decoding.guidance import Guided, GuidedState
from seq2text.decoding.sampling import row_generators
from seq2text.errors import Seq2TextError, marked, option, shown
from seq2text.generation.lines import LineSearch, write_lines
from seq2text.generation.requests import PoemRequest
from seq2text.models.lm import RNNLM
from seq2text.tokenizers import BOS
from seq2text.tokenizers.base import VocabTokenizer
from seq2text.verse.constraints import PatternRules
from seq2text.verse.forms import CHINESE_NAMES, FORMS, is_han, labelled
from seq2text.verse.patterns import Pattern, agrees, check_pattern, place_keywords
from seq2text.verse.rhymes import RhymeTable
from seq2text.verse.shapes import Free, Regulated, Shape, Tune
from seq2text.verse.subjects import MAX_SUBJECT, subject
from seq2text.verse.tones import PING, ZE, ToneTable
from seq2text.verse.tunes import Tunes

FREE_LENGTH = 96
REVISION_DRAWS = 4  # candidate lines drawn per revision asked for


@dataclass
class Poem:
    """A poem: its ``text``, ``form`` (or tune), the ``log_prob`` of its text after its subject,
    the ``seed`` that writes it, its rule ``checks``; a written one also carries the ``pattern``
    it was written to, which revising and marking it read."""

    text: str
    form: str
    log_prob: float
    seed: Optional[int]
    checks: dict[str, bool]
    subject: str = ""
    form_name: str = ""  # the Chinese name of a poem's form, a ci's tune
    pattern: Optional[Pattern] = field(default=None, repr=False, compare=False)

    def lines(self) -> list[str]:
        """The poem cut after every 。 (one couplet per line), for printing."""
        return [part + "。" for part in self.text.split("。") if part] or [self.text]

    def to_dict(self) -> dict:
        """The poem as ``--format jsonl`` and the HTTP API give it (its form also by its Chinese name)."""
        return {"text": self.text, "form": self.form, "form_name": self.form_name or self.form,
                "subject": self.subject, "seed": self.seed, "log_prob": round(self.log_prob, 3), "checks": self.checks}


class PoemWriter:
    """A poetry language model with the tone and rhyme tables its rules read; ``subjects``: the
    model was trained to read a subject before the form label; ``tunes``: the ci it writes."""
    def __init__(self, model: RNNLM, tokenizer: VocabTokenizer, tones: ToneTable, rhymes: RhymeTable,
                 subjects: bool = False, name: str = "this model", tunes: Optional[Tunes] = None):
        self.model, self.tokenizer, self.tones, self.rhymes = model, tokenizer, tones, rhymes
        self.subjects, self.name, self.tunes = subjects, name, tunes
        self.writable = _writable(tokenizer)

    # -- what a request asks for -------------------------------------------------------------

    def shape(self, name: str) -> Shape:
        """The form or tune called ``name``: the one place that tells them apart; a one-line
        error naming what there is otherwise."""
        form = FORMS.get(CHINESE_NAMES.get(name, name))
        if form is not None:
            return Regulated(form, self.rhymes) if form.regulated else Free(form)
        tune = self.tunes.find(name) if self.tunes else None
        if tune is not None:
            return Tune(tune, self.tunes.pattern(tune), self.tunes.rhymes)
        known = ", ".join([*FORMS, *list(CHINESE_NAMES)[:4]])
        tunes = (f"; tunes (ci): {'、'.join(c.tune for c in self.tunes.choices[:6])} ... (see --list-forms)"
                 if self.tunes else "; ci need a ci model (-m ci)")
        raise Seq2TextError(f"{option('form')} {shown(name)}: unknown form (one of {known}{tunes})")

    # -- writing -------------------------------------------------------------------------------

    def poems(self, request: PoemRequest) -> list[Poem]:
        """The poems ``request`` asks for (see :meth:`seq2text.generator.Generator.poems`)."""
        shape = self.shape(request.form)
        about = self.check_subject(request.title or "", request.keywords)
        keywords = tuple(self.tokenizer.normalize(word.strip()) for word in request.keywords)
        prompt = self._check_text(request.prompt or "", "prompt")
        acrostic = request.acrostic
        if not shape.patterned:
            if acrostic is not None or request.keywords:
                raise Seq2TextError(f"{option('acrostic' if acrostic else 'keywords')} needs a regulated form "
                                    f"(五言/七言 绝句/律诗) or a tune")
            return self._free(request, shape, prompt, about)
        seeds = request.seeds(1 if request.beam_size > 1 else request.count)
        mixed = [_mixed(seed, about, shape.label) for seed in seeds]
        plans = [self._plan(shape, keywords, prompt, acrostic, seed) for seed in mixed]
        rules = PatternRules(self.tokenizer, self.tones, shape.rhymes, [p for p, _ in plans],
                             [f for _, f in plans], request.rhyme, request.tones, self.writable)
        if request.beam_size > 1:
            model, last, state = self._start(shape, about, "", 1, request.guidance_for(about))
            found = beam_search(model, state, request.beam_size, plans[0][0].length, alpha=0.0,
                                nbest=min(request.count, request.beam_size), processors=[rules], start=last)[0]
            texts = [(self.tokenizer.decode(h.tokens), h.log_prob) for h in found]
            return [self._poem(text, shape, plans[0][0], lp, request.seed, acrostic, about, keywords)
                    for text, lp in texts]
        search = self._search(request, about)
        written = self._write(shape, about, "", rules, [torch.Generator().manual_seed(seed) for seed in mixed],
                              search, plans[0][0])
        return [self._poem(self.tokenizer.decode(tokens), shape, plan, lp, seed, acrostic, about, keywords)
                for (tokens, lp), (plan, _), seed in zip(written, plans, seeds)]

    def revise(self, poem: Poem, line: int, request: PoemRequest) -> list[Poem]:
        """``request.count`` new versions of line ``line`` (1-based) of ``poem``, best first: each
        keeps every other line byte for byte and every rule, and is chosen by how well the whole
        poem reads with it (the line and the lines after it, after the poem's subject)."""
        shape = self.shape(poem.form)
        rhymes = shape.rhymes
        if not shape.patterned:
            raise Seq2TextError(f"{shown(poem.form)}: only regulated poems and ci can be revised line by line")
        pattern = self.pattern_of(poem, shape)
        if not 1 <= line <= len(pattern.lines):
            raise Seq2TextError(f"{option('line')} {line}: the poem has lines 1 to {len(pattern.lines)}")
        start, end = pattern.start(line - 1), pattern.start(line)
        fixed = {p: c for p, c in enumerate(poem.text) if not start <= p < end - 1}
        draws = max(REVISION_DRAWS * request.count, 8)
        seed = request.seeds()[0]
        rules = PatternRules(self.tokenizer, self.tones, rhymes, [pattern], [fixed], request.rhyme, request.tones,
                             self.writable)
        search = replace(self._search(request, poem.subject), candidates=draws)
        generator = torch.Generator().manual_seed(_mixed(seed, poem.subject, f"{shape.label}|{line}|{poem.text}"))
        written = self._write(shape, poem.subject, poem.text[:start], rules, [generator], search, pattern,
                              choose=False)
        old = poem.text[start:end - 1]
        found: dict[str, float] = {}
        for tokens, score in written:
            text = poem.text[:start] + self.tokenizer.decode(tokens)
            if text[start:end - 1] != old:
                found[text] = max(score, found.get(text, float("-inf")))
        best = sorted(found, key=found.get, reverse=True)[:request.count]
        return [self._poem(text, shape, pattern, found[text], seed, None, poem.subject, ()) for text in best]

    # -- the parts -----------------------------------------------------------------------------

    def _search(self, request: PoemRequest, about: str) -> LineSearch:
        return LineSearch(request.candidates, request.temperature, request.top_k, request.top_p,
                          request.guidance_for(about), request.subject_weight, request.resample)

    def _plan(self, shape: Shape, keywords: Sequence[str], prompt: str, acrostic: Optional[str],
              seed: int) -> tuple[Pattern, dict[int, str]]:
        """The pattern one poem is written to and its fixed characters (prompt, acrostic,
        keywords).  A regulated poem starts 平起 or 仄起 by its seed, unless only the other way
        fits its prompt and keywords."""
        first_tones = (PING, ZE) if random.Random(seed).random() < 0.5 else (ZE, PING)
        plans = []
        for pattern in shape.patterns(first_tones):
            fixed = self._fixed(pattern, shape, prompt, acrostic)
            placed = place_keywords(pattern, keywords, self.tones, fixed)
            if placed is not None:
                plans.append((pattern, {**fixed, **placed}))
                if all(agrees(pattern.slots[p].tone, self.tones.tone(c)) for p, c in enumerate(prompt)):
                    return plans[-1]
        if plans:
            return plans[0]  # the prompt's own tones break the pattern either way: it is the user's
        raise Seq2TextError(f"{option('keywords')} {shown('，'.join(keywords))}: do not all fit one "
                            f"{shape.called} (each keyword needs a line of its own, longer than it, whose tones "
                            f"agree with its characters')")

    def _fixed(self, pattern: Pattern, shape: Shape, prompt: str, acrostic: Optional[str]) -> dict[int, str]:
        """Text position -> character for the prompt and the acrostic, checked against the pattern."""
        fixed = {}
        if acrostic is not None:
            acrostic = self._check_text(acrostic, "acrostic")
            if len(acrostic) != len(pattern.lines) or not all(is_han(c) for c in acrostic):
                raise Seq2TextError(f"{option('acrostic')} {shown(acrostic)}: a {shape.called} needs "
                                    f"{len(pattern.lines)} characters, one per line")
            fixed = {pattern.start(line): char for line, char in enumerate(acrostic)}
        if len(prompt) >= pattern.length:
            raise Seq2TextError(f"{option('prompt')} {shown(prompt)}: longer than a whole {shape.called}")
        for position, char in enumerate(prompt):
            slot = pattern.slots[position]
            wanted = slot.mark or fixed.get(position)
            if (wanted and char != wanted) or (not wanted and not is_han(char)):
                which = " with this acrostic" if acrostic else ""
                raise Seq2TextError(f"{option('prompt')} {shown(prompt)}: character {position + 1} ({char}) "
                                    f"does not fit a {shape.called}{which}")
            fixed[position] = char
        return fixed

    def pattern_of(self, poem: Poem, shape: Shape) -> Pattern:
        """The pattern ``poem`` follows: the one it was written to, else (a text from elsewhere)
        a tune's, or the regulated one (平起 or 仄起) its key characters agree with most."""
        text = poem.text
        if poem.pattern is not None and poem.pattern.split(text) is not None:
            return poem.pattern
        candidates = shape.patterns()
        checks = [check_pattern(text, p, self.tones, shape.rhymes) for p in candidates]
        if not checks[0].checks["form"]:
            raise Seq2TextError(f"{shown(text)}: does not have the lines of a {shape.called} "
                                f"({len(candidates[0].lines)} lines, punctuation included)")
        return max(zip(candidates, checks), key=lambda pc: pc[1].tones_held)[0]

    def _write(self, shape: Shape, about: str, before: str, rules: PatternRules,
               generators: Sequence[torch.Generator], search: LineSearch, pattern: Pattern,
               choose: bool = True) -> list[tuple[list[int], float]]:
        """Each poem's tokens from ``len(before)`` on and its log-probability (the choice's score
        when not ``choose``)."""
        rows = len(generators) * search.candidates
        model, last, state = self._start(shape, about, before, rows, search.guidance)
        plain = state.plain if isinstance(state, GuidedState) else None
        state = state.conditioned if isinstance(state, GuidedState) else state
        if plain is None and search.subject_weight and about:  # the subject's share of the score
            _, plain = self.model.start([[BOS, *self.tokenizer.encode(labelled(before, shape.label))]] * rows)
        written = torch.tensor([self.tokenizer.encode(before)] * rows, dtype=torch.long).view(rows, len(before))
        line_ends = {pattern.start(line) - 1 for line in range(1, len(pattern.lines) + 1)}
        lines = write_lines(self.model, state, plain, last, written, rules, pattern.length, line_ends,
                            generators, search, choose)
        if not choose:
            return list(zip(lines.tokens, lines.score))
        k = search.candidates
        return [(lines.tokens[i * k], lines.log_prob[i * k]) for i in range(len(generators))]

    def _free(self, request: PoemRequest, shape: Shape, prompt: str, about: str) -> list[Poem]:
        """Free verse: sampled (or searched) up to :data:`FREE_LENGTH` characters, no rules."""
        inputs = 1 if request.beam_size > 1 else request.count
        model, last, state = self._start(shape, about, prompt, inputs, request.guidance_for(about))
        limit = FREE_LENGTH - len(prompt)
        if request.beam_size > 1:
            found = beam_search(model, state, request.beam_size, limit, alpha=0.0,
                                nbest=min(request.count, request.beam_size), start=last)[0]
            seeds = [request.seed] * len(found)
        else:
            seeds = request.seeds(inputs)
            mixed = [_mixed(seed, about, shape.label) for seed in seeds]
            found = sample(model, state, limit, request.temperature, request.top_k, request.top_p,
                           row_generators(mixed, state.device), start=last)
        return [Poem(text=prompt + self.tokenizer.decode(h.tokens), form=shape.name, log_prob=h.log_prob, seed=seed,
                     checks={}, subject=about, form_name=shape.chinese) for h, seed in zip(found, seeds)]

    def _start(self, shape: Shape, about: str, before: str, rows: int, guidance: float):
        """The model to search with, the last tokens and the state of ``rows`` rows that have read
        the subject, the label and ``before``; with ``guidance``, the model reads them without the
        subject too, and the subject's pull is strengthened (:mod:`seq2text.decoding.guidance`)."""
        text = labelled(before, shape.label, about)
        last, state = self.model.start([[BOS, *self.tokenizer.encode(text)]] * rows)
        if not guidance:
            return self.model, last, state
        _, plain_state = self.model.start([[BOS, *self.tokenizer.encode(labelled(before, shape.label))]] * rows)
        return Guided(self.model, guidance), last, GuidedState(state, plain_state)

    def check_subject(self, title: str, keywords: Sequence[str]) -> str:
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
            self._check_text(text, name)
            parts.append(text)
        about = subject(parts[0], parts[1:])
        if len(about) > MAX_SUBJECT:
            raise Seq2TextError(f"{both}: {len(about)} characters together, at most {MAX_SUBJECT}")
        return about

    def _check_text(self, text: str, name: str) -> str:
        """``text`` (spaces dropped, normalized) if the model knows every character of it."""
        given, text = text, self.tokenizer.normalize(text.replace(" ", ""))
        unknown = [c for c in text if c not in self.tokenizer.index]
        if unknown:
            latin = " (for English text use a model of English, such as shakespeare-char)" \
                if any(c.isascii() and c.isalpha() for c in unknown) else ""
            known = (lambda c: c == " " or self.tokenizer.normalize(c) in self.tokenizer.index)
            raise Seq2TextError(f"{option(name)} {marked(given, known)}: the poetry model {self.name} does not know "
                                f"the characters marked ⟦ ⟧{latin}")
        return text

    def _poem(self, text: str, shape: Shape, pattern: Pattern, log_prob: float, seed: Optional[int],
              acrostic: Optional[str], about: str, keywords: Sequence[str]) -> Poem:
        checks = shape.check(text, pattern, self.tones, acrostic)
        if keywords:
            checks["keywords"] = all(word in text for word in keywords)
        return Poem(text=text, form=shape.name, log_prob=log_prob, seed=seed, checks=checks, subject=about,
                    form_name=shape.chinese, pattern=pattern)


def _mixed(seed: int, about: str, label: str) -> int:
    """The seed a poem is drawn with: ``seed`` mixed with its subject and form, so that one seed
    writes different poems on different subjects."""
    digest = hashlib.sha256(f"{seed}|{about}|{label}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 2**63


def _writable(tokenizer: VocabTokenizer) -> Optional[torch.Tensor]:
    """For a model of simplified characters, those it may write: not the variant forms that
    OpenCC leaves alone but zhconv (MediaWiki's conversion tables) simplifies (鴈 for 雁, 逈 for
    迥).  Characters OpenCC converts alone but keeps in some words (乾 of 乾坤) stay.  None (every
    character) for other models."""
    if not getattr(tokenizer, "simplified", False):
        return None

    return torch.tensor([not (len(t) == 1 and tokenizer.normalize(t) == t and zhconv.convert(t, "zh-cn") != t)
                         for t in tokenizer.tokens])
