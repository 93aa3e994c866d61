"""What a user can ask for, declared once: the requests of poems, couplets, free text and
translations with their defaults, their limits and their checks.

The command line and the HTTP API map their flags and JSON fields onto these; the Python API
builds them from keywords (``Generator.poems("七律", title="秋夜")``).  A value out of range is a
one-line :class:`~seq2text.errors.Seq2TextError` naming the option, which each front end names
its own way (``--top-p`` or ``top_p``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

from seq2text.decoding.sampling import check_sampling
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


@dataclass(frozen=True)
class Sampling:
    """How tokens are drawn: ``temperature`` (0: the most probable), ``top_k`` (0: no limit),
    ``top_p`` (nucleus) and ``seed`` (None: a random one, reported with the outputs)."""

    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 0.9
    seed: Optional[int] = None

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

    form: str = "qiyan-jueju"
    count: int = 1
    title: Optional[str] = None
    keywords: tuple[str, ...] = ()
    acrostic: Optional[str] = None
    prompt: Optional[str] = None
    rhyme: bool = True
    tones: bool = True
    guidance: float = GUIDANCE
    candidates: int = CANDIDATES
    subject_weight: float = SUBJECT_WEIGHT
    beam_size: int = 1
    resample: bool = True

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

    count: int = 1
    beam_size: int = 5
    tones: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count("count", self.count, MAX_COUNT)
        check_count("beam_size", self.beam_size, MAX_BEAM)


@dataclass(frozen=True)
class TextRequest(Sampling):
    """``count`` continuations of ``prompt`` by up to ``length`` tokens."""

    prompt: str = ""
    length: int = 200
    count: int = 1

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
