"""Poem forms: the shapes ``seq2text generate`` writes (by English or Chinese name), the
labels language models read before a poem, and how a text splits into lines and forms.

A regulated form has 4 (绝句) or 8 (律诗) lines of 5 or 7 Han characters, ``，`` after odd
lines and ``。`` after even ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from seq2text.errors import Seq2TextError, option, shown

COMMA, STOP = "，", "。"
PUNCTUATION = "，。？！；：、"
CLAUSE_END = re.compile(f"[{PUNCTUATION}]")


def is_han(char: str) -> bool:
    """True for CJK unified ideographs (all extensions) and compatibility ideographs."""
    code = ord(char)
    return (0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3FFFF)


# Language models read every poem after its form's label and LABEL_END, so that generation can
# ask for a form by starting with its label; a title-conditioned model reads the poem's subject
# (seq2text.verse.subjects) and LABEL_END before that.
FORM_LABELS = {"wuyan-jueju": "五绝", "qiyan-jueju": "七绝", "wuyan-lushi": "五律", "qiyan-lushi": "七律",
               "free": "古诗"}
LABEL_END = "|"


def labelled(text: str, form: str, subject: str = "") -> str:
    """``text`` after its form label (and its subject), as language models read it:
    ``七绝|...`` or ``秋夜|七绝|...``; a ci's label is its tune: ``浣溪沙|...``."""
    return f"{subject}{LABEL_END if subject else ''}{FORM_LABELS.get(form, form)}{LABEL_END}{text}"


def unlabelled(text: str) -> str:
    """The poem of a language model's ``七绝|...`` or ``秋夜|七绝|...`` text, without its label
    and subject."""
    return text.rsplit(LABEL_END, 1)[-1]


def verse_lines(text: str) -> list[str]:
    """The lines (clauses) of a poem, without punctuation."""
    return [line for line in CLAUSE_END.split(text) if line]


def poem_form(text: str) -> str:
    """``wuyan-jueju``/``qiyan-jueju``/``wuyan-lushi``/``qiyan-lushi`` or ``free``.

    Regulated forms need 4 or 8 lines of 5 or 7 characters, alternating ， and 。.
    """
    lines = verse_lines(text)
    marks = "".join(c for c in text if c in PUNCTUATION)
    if len({len(line) for line in lines}) != 1 or marks != "，。" * (len(lines) // 2):
        return "free"
    shape = (len(lines[0]), len(lines))
    return next((form.name for form in FORMS.values() if (form.chars, form.lines) == shape), "free")


@dataclass(frozen=True)
class Form:
    """``lines`` lines of ``chars`` characters, ``，`` after odd lines and ``。`` after even ones;
    ``chars == 0`` for free verse (no fixed shape)."""

    name: str
    chars: int
    lines: int

    @property
    def regulated(self) -> bool:
        return self.chars > 0

    @property
    def label(self) -> str:
        """What the language model reads before a poem of this form (``七绝|``)."""
        return FORM_LABELS[self.name] + LABEL_END

    @property
    def chinese(self) -> str:
        """The form's Chinese name (七言绝句, 古诗), as messages and pages show it."""
        return next(chinese for chinese, name in CHINESE_NAMES.items() if name == self.name)

    @property
    def length(self) -> int:
        """Characters of a whole poem, punctuation included."""
        return self.lines * (self.chars + 1)

    def mark(self, line: int) -> str:
        return COMMA if line % 2 == 0 else STOP


FORMS = {name: Form(name, chars, lines) for name, chars, lines in (
    ("wuyan-jueju", 5, 4), ("qiyan-jueju", 7, 4), ("wuyan-lushi", 5, 8), ("qiyan-lushi", 7, 8), ("free", 0, 0))}
CHINESE_NAMES = {"五言绝句": "wuyan-jueju", "七言绝句": "qiyan-jueju", "五言律诗": "wuyan-lushi",
                 "七言律诗": "qiyan-lushi", "五绝": "wuyan-jueju", "七绝": "qiyan-jueju", "五律": "wuyan-lushi",
                 "七律": "qiyan-lushi", "古诗": "free"}


def is_poem_form(name: str) -> bool:
    """True for the name of a regulated form or free verse (English or Chinese), not a ci tune."""
    return name in FORMS or name in CHINESE_NAMES


def get_form(name: str) -> Form:
    """A form by name (``qiyan-jueju``, ``七言绝句`` or ``七绝``); one-line error otherwise."""
    form: Optional[Form] = FORMS.get(CHINESE_NAMES.get(name, name))
    if form is None:
        known = ", ".join([*FORMS, *list(CHINESE_NAMES)[:4]])
        raise Seq2TextError(f"{option('form')} {shown(name)}: unknown form (one of {known})")
    return form
