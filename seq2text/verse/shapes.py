"""What a poem is written to, one protocol for the three kinds: a regulated form (绝句, 律诗),
a ci tune (词牌), and free verse (古诗, no pattern).

A :class:`Shape` gives the label the language model reads before the poem, its names, the
patterns a poem of it may follow (a regulated form has two, 平起 and 仄起; a tune the one form of
it the model writes; free verse none), the rhyme book of its rhymes, and the check of a text
against one of its patterns.  Code that writes, revises or marks a poem asks its shape, never
which kind it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol

from seq2text.verse.forms import FORM_LABELS, Form
from seq2text.verse.patterns import Pattern, RhymeBook, check_pattern, regulated_pattern
from seq2text.verse.rhymes import RhymeTable
from seq2text.verse.rules import check_poem
from seq2text.verse.tones import PING, ZE, ToneTable
from seq2text.verse.tunes import TuneChoice

FIRST_TONES = (PING, ZE)  # 平起, 仄起: the tone of a regulated poem's second character


class Shape(Protocol):
    label: str  # what the model reads before the poem: 七绝, 浣溪沙
    name: str  # how requests and outputs name it: qiyan-jueju, 浣溪沙
    chinese: str  # 七言绝句, 浣溪沙
    rhymes: Optional[RhymeBook]  # the book its rhymes are read in (None: free verse)

    @property
    def called(self) -> str:
        """How messages name a poem of it: 七言绝句 poem, 浣溪沙 ci."""

    @property
    def patterned(self) -> bool:
        """Whether its poems follow a pattern (not free verse)."""

    def patterns(self, first_tones: tuple[str, ...] = FIRST_TONES) -> list[Pattern]:
        """The patterns a poem of it may follow, those of ``first_tones`` first (regulated forms)."""

    def check(self, text: str, pattern: Pattern, tones: ToneTable, acrostic: Optional[str] = None) -> dict[str, bool]:
        """The rules ``text``, written to ``pattern``, keeps."""


class _OfForm:
    """The names of a shape that is one of the forms of :data:`~seq2text.verse.forms.FORMS`."""

    form: Form

    @property
    def label(self) -> str:
        return FORM_LABELS[self.form.name]

    @property
    def name(self) -> str:
        return self.form.name

    @property
    def chinese(self) -> str:
        return self.form.chinese

    @property
    def called(self) -> str:
        return f"{self.chinese} poem"


@dataclass(frozen=True)
class Regulated(_OfForm):
    """A regulated form, rhyming by ``rhymes`` (平水韵, or modern readings)."""

    form: Form
    rhymes: RhymeTable

    @property
    def patterned(self) -> bool:
        return True

    def patterns(self, first_tones: tuple[str, ...] = FIRST_TONES) -> list[Pattern]:
        return [regulated_pattern(self.form, tone) for tone in first_tones]

    def check(self, text: str, pattern: Pattern, tones: ToneTable, acrostic: Optional[str] = None) -> dict[str, bool]:
        return check_poem(text, self.form, tones, self.rhymes, acrostic)


@dataclass(frozen=True)
class Tune:
    """A ci tune: the form ``choice`` names, its ``pattern``, rhyming by the 词林正韵 ``rhymes``."""

    choice: TuneChoice
    pattern: Pattern
    rhymes: RhymeBook

    @property
    def label(self) -> str:
        return self.choice.tune

    @property
    def name(self) -> str:
        return self.choice.tune

    @property
    def chinese(self) -> str:
        return self.choice.tune

    @property
    def called(self) -> str:
        return f"{self.chinese} ci"

    @property
    def patterned(self) -> bool:
        return True

    def patterns(self, first_tones: tuple[str, ...] = FIRST_TONES) -> list[Pattern]:
        return [self.pattern]

    def check(self, text: str, pattern: Pattern, tones: ToneTable, acrostic: Optional[str] = None) -> dict[str, bool]:
        return check_pattern(text, pattern, tones, self.rhymes, acrostic).checks


@dataclass(frozen=True)
class Free(_OfForm):
    """Free verse (古诗): no pattern, no rules."""

    form: Form
    rhymes: None = None

    @property
    def patterned(self) -> bool:
        return False

    def patterns(self, first_tones: tuple[str, ...] = FIRST_TONES) -> list[Pattern]:
        return []

    def check(self, text: str, pattern: Pattern, tones: ToneTable, acrostic: Optional[str] = None) -> dict[str, bool]:
        return {}
