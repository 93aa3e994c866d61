"""The Python API for poems and couplets.

    from seq2text import Generator
    generator = Generator.load("tang-poetry")                # or a trained model folder
    generator.poems("七言绝句", acrostic="春夏秋冬", seed=1)
    Generator.load("couplet").couplets(["海阔凭鱼跃"], count=3)

A character language model trained on the Tang poems writes after the form's label (``七绝|``);
for the four regulated forms :class:`~seq2text.verse.constraints.VerseRules` fixes the shape
(lines, length, ，and 。) and, unless switched off, the rhyme and tone rules.  Every poem comes
back with the checks of :func:`~seq2text.verse.rules.check_poem`.

A couplet model (attention or aligned N-vs-N, ``task: couplet``) answers each 上联 with a 下联
under :class:`~seq2text.verse.couplet.CoupletRules`, checked by
:func:`~seq2text.verse.couplet.check_couplet`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import torch

from seq2text.data.tang import is_han
from seq2text.decoding import beam_search, greedy_search, sample
from seq2text.errors import Seq2TextError
from seq2text.pretrained import find_model, load_model
from seq2text.data.batching import pad
from seq2text.tokenizers import BOS, PAD
from seq2text.verse.couplet import (CoupletRules, as_read, check_couplet, clean_first_line, first_line_problem,
                                    with_marks_of)
from seq2text.verse.constraints import VerseRules
from seq2text.verse.forms import Form, get_form
from seq2text.verse.rhymes import RhymeTable
from seq2text.verse.rules import check_poem
from seq2text.verse.tones import ToneTable

TONES_FILE = "tones.json"
RHYME_TABLE = "rhyme/pingshuiyun.txt"
FREE_LENGTH = 96


@dataclass
class Poem:
    text: str
    form: str
    log_prob: float
    seed: Optional[int]
    checks: dict[str, bool]

    def lines(self) -> list[str]:
        """The poem cut after every 。 (one couplet per line), for printing."""
        return [part + "。" for part in self.text.split("。") if part] or [self.text]


@dataclass
class Couplet:
    first: str
    second: str
    log_prob: float
    checks: dict[str, bool]


class Generator:
    def __init__(self, model: torch.nn.Module, tokenizer, tones: ToneTable, rhymes: Optional[RhymeTable],
                 name: str = "", task: str = "lm"):
        self.model, self.tokenizer, self.tones, self.rhymes, self.name = model, tokenizer, tones, rhymes, name
        self.task = task

    @classmethod
    def load(cls, model: str | Path = "tang-poetry", device: str | torch.device = "cpu",
             rhyme_table: Optional[Path] = None) -> "Generator":
        """A bundled model by name or a trained model folder: a Tang poetry language model or
        a couplet model.

        Rhymes follow the 平水韵 table at ``rhyme_table``, else the one under the data root
        (``rhyme/pingshuiyun.txt``) if it is there, else modern readings (pypinyin).
        """
        folder = find_model(model)
        recipe, network, tokenizer, _ = load_model(model, device)
        if recipe.task != "couplet" and (recipe.task != "lm" or recipe.data.kind != "tang"):
            raise Seq2TextError(f"{model}: neither a Tang poetry language model nor a couplet model "
                                f"(task {recipe.task}, data {recipe.data.kind})")
        tones_file = folder.weights / TONES_FILE
        if not tones_file.is_file():
            raise Seq2TextError(f"{tones_file}: missing; write it with scripts/learn_tones.py {folder.weights}")
        if recipe.task == "couplet":
            return cls(network, tokenizer, ToneTable.load(tones_file), None, str(model), recipe.task)
        default_table = recipe.data_path(RHYME_TABLE)
        if rhyme_table is not None:
            rhymes = RhymeTable.pingshuiyun(rhyme_table)
        elif default_table.is_file():
            rhymes = RhymeTable.pingshuiyun(default_table)
        else:
            rhymes = RhymeTable.modern(t for t in tokenizer.tokens if len(t) == 1)
        return cls(network, tokenizer, ToneTable.load(tones_file), rhymes, str(model))

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def poems(self, form: str = "qiyan-jueju", count: int = 1, acrostic: Optional[str] = None,
              prompt: Optional[str] = None, rhyme: bool = True, tones: bool = True, temperature: float = 0.8,
              top_k: int = 0, top_p: float = 0.9, seed: Optional[int] = None, beam_size: int = 1) -> list[Poem]:
        """``count`` poems of ``form`` (English or Chinese name).

        ``acrostic``: the first character of every line (as many characters as lines);
        ``prompt``: the poem's first characters; ``rhyme``/``tones``: the rules of regulated
        verse (ignored for free verse); sampling with ``temperature``, ``top_k``, ``top_p``
        and ``seed`` (the same seed gives the same poems), or beam search with ``beam_size`` > 1
        (its best ``min(count, beam_size)`` poems).
        """
        self._expect("lm", "poems")
        shape = get_form(form)
        prompt = self._check_request(shape, acrostic, prompt or "")
        start = [BOS, *self.tokenizer.encode(shape.label + prompt)]
        inputs = 1 if beam_size > 1 else count  # sampled poems are separate inputs
        processors, limit = [], FREE_LENGTH - len(prompt)
        if shape.regulated:
            processors = [VerseRules(shape, self.tokenizer, self.tones, self.rhymes, [prompt] * inputs,
                                     [acrostic] * inputs, rhyme, tones)]
            limit = shape.length - len(prompt)
        if beam_size > 1:
            last, state = self.model.start([start])
            found = beam_search(self.model, state, beam_size, limit, alpha=0.0, nbest=min(count, beam_size),
                                processors=processors, start=last)[0]
        else:
            seed = random.randrange(2**31) if seed is None else seed
            last, state = self.model.start([start] * count)
            found = sample(self.model, state, limit, temperature, top_k, top_p, torch.Generator().manual_seed(seed),
                           processors, start=last)
        return [self._poem(prompt + self.tokenizer.decode(h.tokens), shape, h.log_prob, seed, acrostic)
                for h in found]

    def couplets(self, first_lines: Sequence[str], count: int = 1, beam_size: int = 5, temperature: float = 0.8,
                 top_k: int = 0, top_p: float = 0.9, seed: Optional[int] = None, batch_size: int = 64
                 ) -> list[list[Couplet]]:
        """``count`` 下联 for each 上联 (spaces ignored), best first: by beam search of
        ``max(beam_size, count)``, or with ``beam_size`` 1 sampled as in :meth:`poems`
        (greedy with ``temperature`` 0).  A line the model cannot answer (see
        :meth:`first_line_problem`) raises :class:`~seq2text.errors.Seq2TextError` naming it."""
        self._expect("couplet", "couplets")
        firsts = [self.tokenizer.normalize(clean_first_line(line)) for line in first_lines]
        for number, (line, first) in enumerate(zip(first_lines, firsts), start=1):
            problem = self._problem(first)
            if problem:
                raise Seq2TextError(f"上联 {number} ({line.strip()[:20]!r}): {problem}")
        generator = torch.Generator().manual_seed(random.randrange(2**31) if seed is None else seed)
        found = []
        for start in range(0, len(firsts), batch_size):
            found += self._answer(firsts[start:start + batch_size], count, beam_size, temperature, top_k, top_p,
                                  generator)
        return [[self._couplet(first, h) for h in hypotheses] for first, hypotheses in zip(firsts, found)]

    @torch.no_grad()
    def _answer(self, firsts: list[str], count: int, beam_size: int, temperature: float, top_k: int, top_p: float,
                generator: torch.Generator) -> list[list]:
        firsts = [as_read(first, self.tokenizer) for first in firsts]
        limits = torch.tensor([len(first) for first in firsts])
        src = pad([self.tokenizer.encode(first) for first in firsts]).to(self.device)
        state = self.model.encode(src, src != PAD)
        if beam_size > 1:
            return beam_search(self.model, state, max(beam_size, count), limits, alpha=0.0, nbest=count,
                               processors=[CoupletRules(self.tokenizer, self.tones, firsts)])
        rows = torch.arange(len(firsts)).repeat_interleave(count)
        rules = [CoupletRules(self.tokenizer, self.tones, [firsts[i] for i in rows.tolist()])]
        state = state.select(rows.to(self.device))
        if temperature == 0:
            found = greedy_search(self.model, state, limits[rows], rules)
        else:
            found = sample(self.model, state, limits[rows], temperature, top_k, top_p, generator, rules)
        return [found[i * count:(i + 1) * count] for i in range(len(firsts))]

    def first_line_problem(self, line: str) -> Optional[str]:
        """Why ``line`` cannot be answered as a 上联 (empty, only punctuation, too long, Latin
        letters), or None."""
        return self._problem(self.tokenizer.normalize(clean_first_line(line)))

    def _problem(self, first: str) -> Optional[str]:
        problem = first_line_problem(first)
        if problem:
            return problem
        unknown = sorted({c for c in as_read(first, self.tokenizer) if not is_han(c) and c not in self.tokenizer.index})
        return f"punctuation the model does not know: {''.join(unknown)}" if unknown else None

    def _couplet(self, first: str, hypothesis) -> Couplet:
        second = with_marks_of(first, self.tokenizer.decode(hypothesis.tokens))
        return Couplet(first, second, hypothesis.log_prob, check_couplet(first, second, self.tones))

    def _expect(self, task: str, what: str) -> None:
        if self.task != task:
            kind = "a couplet model" if task == "couplet" else "a Tang poetry language model"
            raise Seq2TextError(f"{self.name}: {what} need {kind}")

    def _check_request(self, form: Form, acrostic: Optional[str], prompt: str) -> str:
        prompt = self.tokenizer.normalize(prompt.replace(" ", ""))
        wanted = prompt + (acrostic or "")
        unknown = sorted({c for c in wanted if c not in self.tokenizer.index})
        if unknown:
            raise Seq2TextError(f"characters the model does not know: {''.join(unknown)}")
        if acrostic is not None:
            if not form.regulated:
                raise Seq2TextError("--acrostic needs a regulated form (五言/七言 绝句/律诗)")
            if len(acrostic) != form.lines or not all(is_han(c) for c in acrostic):
                raise Seq2TextError(f"--acrostic {acrostic}: a {form.name} poem needs {form.lines} characters, "
                                    f"one per line")
        if form.regulated:
            if len(prompt) >= form.length:
                raise Seq2TextError(f"--prompt {prompt}: longer than a whole {form.name} poem")
            for position, char in enumerate(prompt):
                line, place = form.slot(position)
                expected = (form.mark(line) if place == form.chars
                            else acrostic[line] if acrostic and place == 0 else None)
                if (expected and char != expected) or (not expected and not is_han(char)):
                    raise Seq2TextError(f"--prompt {prompt}: character {position + 1} ({char}) does not fit a "
                                        f"{form.name} poem{' with this acrostic' if acrostic else ''}")
        return prompt

    def _poem(self, text: str, form: Form, log_prob: float, seed: Optional[int], acrostic: Optional[str]) -> Poem:
        checks = check_poem(text, form, self.tones, self.rhymes, acrostic) if form.regulated else {}
        return Poem(text, form.name, log_prob, seed, checks)

