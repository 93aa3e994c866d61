"""The poem forms ``seq2text generate`` writes, by English or Chinese name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from seq2text.data.tang import FORM_LABELS, LABEL_END
from seq2text.errors import Seq2TextError

COMMA, STOP = "，", "。"


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
    def length(self) -> int:
        """Characters of a whole poem, punctuation included."""
        return self.lines * (self.chars + 1)

    def slot(self, position: int) -> tuple[int, int]:
        """``(line, place)`` of a 0-based text position; ``place == chars`` is the punctuation."""
        return divmod(position, self.chars + 1)

    def mark(self, line: int) -> str:
        return COMMA if line % 2 == 0 else STOP


FORMS = {name: Form(name, chars, lines) for name, chars, lines in (
    ("wuyan-jueju", 5, 4), ("qiyan-jueju", 7, 4), ("wuyan-lushi", 5, 8), ("qiyan-lushi", 7, 8), ("free", 0, 0))}
CHINESE_NAMES = {"五言绝句": "wuyan-jueju", "七言绝句": "qiyan-jueju", "五言律诗": "wuyan-lushi",
                 "七言律诗": "qiyan-lushi", "五绝": "wuyan-jueju", "七绝": "qiyan-jueju", "五律": "wuyan-lushi",
                 "七律": "qiyan-lushi", "古诗": "free"}


def get_form(name: str) -> Form:
    """A form by name (``qiyan-jueju``, ``七言绝句`` or ``七绝``); one-line error otherwise."""
    form: Optional[Form] = FORMS.get(CHINESE_NAMES.get(name, name))
    if form is None:
        known = ", ".join([*FORMS, *list(CHINESE_NAMES)[:4]])
        raise Seq2TextError(f"--form {name}: unknown form (one of {known})")
    return form
