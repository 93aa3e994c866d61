"""What a user can ask for, declared once: the requests of poems, couplets, free text and
translations with their defaults, their limits and their checks.

Each field carries what a front end needs to offer it (:func:`about`): what it means, its
bounds, the HTTP API's tighter bound and name where they differ.  The HTTP API's bodies are
built from these fields (:mod:`seq2text.server.schemas`); the command line maps its flags onto
them; the Python API builds them from keywords (``Generator.poems("七律", title="秋夜")``).  A
value out of range is a one-line :class:`~seq2text.errors.Seq2TextError` naming the option,
which each front end names its own way (``--top-p`` or ``top_p``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Optional

from seq2text.decoding.sampling import MAX_TEMPERATURE, MAX_TOP_K, MIN_TEMPERATURE, check_sampling
from seq2text.errors import Seq2TextError, option
from seq2text.verse.subjects import CANDIDATES, GUIDANCE, SUBJECT_WEIGHT

# The limits of every request, whichever front end builds it: generous for real use, never a
# crash (a count or a beam is memory).  The HTTP API serves many users at once and keeps each
# request smaller: SERVED_* (seq2text.server.schemas).
MAX_GUIDANCE = 20.0
MAX_CANDIDATES = 64
MAX_COUNT = 10_000  # poems, 下联 or texts in one request
MAX_BEAM = 256
MAX_REVISIONS = 64  # new versions of one line
SERVED_COUNT, SERVED_BEAM, SERVED_REVISIONS = 10, 16, 10
MAX_SEED = 2**63 - 1  # poem i of a batch has seed + i: still a 64-bit seed
MAX_TITLE = 50  # characters of a title or a prompt the HTTP API takes
MAX_NAME = 20  # characters of a form's or a tune's name


def about(default: Any, meaning: str, low: Optional[float] = None, high: Optional[float] = None,
          served: Optional[float] = None, api: Optional[str] = None, open_low: bool = False,
          length: Optional[int] = None, item_length: Optional[int] = None, offered: bool = True) -> Any:
    """A request field with its ``default`` and what a front end shows of it: its ``meaning``,
    its bounds (``low`` excluded with ``open_low``), the HTTP API's upper bound where it is
    tighter (``served``) and its name there (``api``), the ``length`` of a text or a list (and of
    a list's items), and whether the HTTP API ``offered`` it."""
    return field(default=default, metadata={"meaning": meaning, "low": low, "high": high, "served": served,
                                            "api": api, "open_low": open_low, "length": length,
                                            "item_length": item_length, "offered": offered})


@dataclass(frozen=True)
class Sampling:
    """How tokens are drawn: ``temperature`` (0: the most probable), ``top_k`` (0: no limit),
    ``top_p`` (nucleus) and ``seed`` (None: a random one, reported with the outputs)."""

    temperature: float = about(0.8, f"0 (the most probable) or {MIN_TEMPERATURE} to {MAX_TEMPERATURE:g}: lower is "
                                    f"safer, higher more varied", low=0.0, high=MAX_TEMPERATURE)
    top_k: int = about(0, "draw from the k most probable tokens (0: no limit)", low=0, high=MAX_TOP_K)
    top_p: float = about(0.9, "draw from the most probable tokens that make up this share", low=0.0, high=1.0,
                         open_low=True)
    seed: Optional[int] = about(None, "same seed, same output (output i has seed + i)", low=0, high=MAX_SEED)

    def seeds(self, count: int = 1) -> list[int]:
        """The seeds of ``count`` outputs: ``seed``, ``seed + 1``, ... (output i is the one its seed
        writes alone), from a random first seed when none was given."""
        first = random.randrange(2**31) if self.seed is None else self.seed
        return [first + i for i in range(count)]

    def __post_init__(self) -> None:
        check_sampling(self.temperature, self.top_k, self.top_p)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or not 0 <= self.seed < 2**63):
            raise Seq2TextError(f"{option('seed')} {self.seed!r}: not a whole number from 0 to 2**63 - 1")


@dataclass(frozen=True)
class PoemRequest(Sampling):
    """``count`` poems of ``form`` (English or Chinese name) on ``title`` and ``keywords``, with
    an ``acrostic`` and a ``prompt``; ``rhyme``/``tones``: the rules of regulated verse and ci;
    ``guidance``: how strongly the subject steers; ``candidates``: lines sampled for each line
    of a regulated poem or ci, one kept (1: plain sampling), drawn in proportion to how much
    likelier the model finds it than the rules' sampling made it (``resample``; else the one the
    model finds likeliest), plus ``subject_weight`` times the subject's share of it
    (:mod:`seq2text.generation.lines`); ``beam_size`` > 1: beam search."""

    form: str = about("qiyan-jueju", "wuyan-jueju, qiyan-jueju, wuyan-lushi, qiyan-lushi, free, or 五言绝句, 七言绝句, "
                                     "五言律诗, 七言律诗, or a ci tune (浣溪沙)", length=MAX_NAME)
    count: int = about(1, "number of poems", low=1, high=MAX_COUNT, served=SERVED_COUNT, api="n")
    title: Optional[str] = about(None, "what the poem is about: 秋夜", length=MAX_TITLE)
    keywords: tuple[str, ...] = about((), "words the poem should use", length=8, item_length=10)
    acrostic: Optional[str] = about(None, "藏头诗: the first character of each line (a ci: of each clause)",
                                    length=MAX_TITLE)
    prompt: Optional[str] = about(None, "the poem's first characters", length=MAX_TITLE)
    rhyme: bool = about(True, "the rhymes of the form or tune")
    tones: bool = about(True, "the 平仄 of the form or tune")
    guidance: float = about(GUIDANCE, "how strongly title and keywords steer the poem (0: off)", low=0.0,
                            high=MAX_GUIDANCE)
    candidates: int = about(CANDIDATES, "lines sampled for each line, one kept (1: plain sampling)", low=1,
                            high=MAX_CANDIDATES)
    subject_weight: float = about(SUBJECT_WEIGHT, "how much the choice among candidates favours the subject",
                                  low=0.0, high=MAX_GUIDANCE)
    beam_size: int = about(1, "1 samples; more: beam search", low=1, high=MAX_BEAM, served=SERVED_BEAM)
    resample: bool = about(True, "keep a candidate line drawn by its score (else the best)", offered=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count("count", self.count, MAX_COUNT)
        check_count("beam_size", self.beam_size, MAX_BEAM)
        check_count("candidates", self.candidates)
        if self.candidates > MAX_CANDIDATES:
            raise Seq2TextError(f"{option('candidates')} {self.candidates}: at most {MAX_CANDIDATES}")
        if isinstance(self.subject_weight, bool) or not 0 <= self.subject_weight <= MAX_GUIDANCE:
            raise Seq2TextError(f"{option('subject_weight')} {self.subject_weight!r}: not in [0, {MAX_GUIDANCE:g}]")
        if isinstance(self.guidance, bool) or not 0 <= self.guidance <= MAX_GUIDANCE:
            raise Seq2TextError(f"{option('guidance')} {self.guidance!r}: not in [0, {MAX_GUIDANCE:g}] (0: off)")
        object.__setattr__(self, "keywords", tuple(self.keywords))

    def guidance_for(self, about: str) -> float:
        """The guidance weight for a poem on subject ``about``: none without a subject."""
        return self.guidance if about else 0.0


@dataclass(frozen=True)
class CoupletRequest(Sampling):
    """``count`` 下联 for each 上联, by beam search of ``beam_size`` (1: sampled); ``tones``:
    平仄相对 at the rhythm points."""

    count: int = about(1, "下联 per 上联", low=1, high=MAX_COUNT, served=SERVED_COUNT, api="n")
    beam_size: int = about(5, "beam search; 1 samples", low=1, high=MAX_BEAM, served=SERVED_BEAM)
    tones: bool = about(True, "平仄相对 at the rhythm points")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count("count", self.count, MAX_COUNT)
        check_count("beam_size", self.beam_size, MAX_BEAM)


@dataclass(frozen=True)
class TextRequest(Sampling):
    """``count`` continuations of ``prompt`` by up to ``length`` tokens."""

    prompt: str = about("", "continued by the model", length=1000)
    length: int = about(200, "tokens written after the prompt", low=1, high=100_000, served=1000)
    count: int = about(1, "number of passages", low=1, high=MAX_COUNT, served=SERVED_COUNT, api="n")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count("count", self.count, MAX_COUNT)
        check_count("length", self.length)


def check_count(name: str, value: object, most: Optional[int] = None) -> None:
    """``value`` is a whole number from 1 (to ``most``); else an error naming the option ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Seq2TextError(f"{option(name)} {value!r}: not a count >= 1")
    if most is not None and value > most:
        raise Seq2TextError(f"{option(name)} {value}: at most {most:,}")


@dataclass(frozen=True)
class TranslationRequest:
    """How sentences are translated: ``beam_size`` (1: greedy), ``nbest`` hypotheses each (at
    most ``beam_size``), and the search's penalties and bounds (:meth:`seq2text.translator.Translator.search`)."""

    beam_size: int = 5
    nbest: int = 1

    def __post_init__(self) -> None:
        check_count("beam_size", self.beam_size, MAX_BEAM)
        check_count("nbest", self.nbest, MAX_BEAM)
        if self.nbest > self.beam_size:
            raise Seq2TextError(f"{option('nbest')} {self.nbest} needs {option('beam_size')} of at least {self.nbest} "
                                f"(it is {self.beam_size})")
