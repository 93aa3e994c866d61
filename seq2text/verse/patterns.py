"""The pattern a poem is written to, one shape for regulated verse and for the ci (词).

A :class:`Pattern` is a list of lines (clauses), each with its length, the tone wanted at every
position (平 level, 仄 oblique, 中 either), whether it ends on a rhyme and which one (rhymes are
numbered 1, 2, ... in order of first use, so the number changes where a ci changes its rhyme),
and the punctuation after it.  A ci tune's pattern comes from the book (:mod:`seq2text.verse.tunes`);
a regulated poem's from its form once the tone of its first line's second character (平起 or
仄起) is chosen (:func:`regulated_pattern`).

Rhymes are read with a rhyme book's ``readings(char)``, ``(group, class)`` pairs
(:mod:`seq2text.verse.rhymes`).  The rhyme positions of one group share a group and, where their
tones agree, the class; a position whose tone differs from the rest of its group (叶, the closing
oblique lines of 西江月) shares only the group.

:func:`check_pattern` says which rules a text keeps and counts the positions that hold;
:func:`place_keywords` finds places for words a poem must contain.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Optional, Protocol, Sequence

from seq2text.verse.forms import Form, is_han
from seq2text.verse.rules import required_tone
from seq2text.verse.tones import PING, ZE, ToneTable

ANY_TONE = "中"
POEM_REPEATS, CI_REPEATS = 2, 3  # how often one character may appear in a poem, in a ci


class RhymeBook(Protocol):
    source: str

    def readings(self, char: str) -> set[tuple[str, str]]: ...


@dataclass(frozen=True)
class PatternLine:
    length: int
    tones: str  # one of 平 仄 中 per position
    rhyme: bool
    rhyme_group: Optional[int]
    end: str  # the punctuation after the line


@dataclass(frozen=True)
class Slot:
    """One position of a poem's text: a character of line ``line`` at ``place``, or (``mark``)
    the punctuation after it."""

    line: int
    place: int
    mark: Optional[str]
    tone: Optional[str]  # 平 or 仄 wanted, None for either
    rhyme: Optional[int]  # the rhyme group at a rhyme position


@dataclass(frozen=True)
class Pattern:
    """The shape of one poem: ``name`` (五律, 浣溪沙) and ``lines``; a tune's pattern also names its
    book (``source``) and form number (``variant``)."""

    name: str
    lines: tuple[PatternLine, ...]
    source: str = ""
    variant: int = 0
    description: str = ""
    repeats: int = CI_REPEATS

    @property
    def key(self) -> tuple[str, int]:
        return self.source, self.variant

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(line.length for line in self.lines)

    @property
    def length(self) -> int:
        """Characters of the whole text, punctuation included."""
        return sum(line.length + 1 for line in self.lines)

    @cached_property
    def slots(self) -> tuple[Slot, ...]:
        slots = []
        for number, line in enumerate(self.lines):
            for place, tone in enumerate(line.tones):
                rhyme = line.rhyme_group if line.rhyme and place == line.length - 1 else None
                slots.append(Slot(number, place, None, None if tone == ANY_TONE else tone, rhyme))
            slots.append(Slot(number, line.length, line.end, None, None))
        return tuple(slots)

    def start(self, line: int) -> int:
        """The text position of the first character of ``line`` (0-based)."""
        return sum(previous.length + 1 for previous in self.lines[:line])

    def split(self, text: str) -> Optional[list[str]]:
        """The lines of ``text`` (without punctuation) if it has exactly this shape, else None."""
        if len(text) != self.length:
            return None
        lines, start = [], 0
        for line in self.lines:
            chunk = text[start:start + line.length]
            if not all(is_han(c) for c in chunk) or text[start + line.length] != line.end:
                return None
            lines.append(chunk)
            start += line.length + 1
        return lines

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source, "variant": self.variant, "description": self.description,
                "lines": [line.__dict__ for line in self.lines]}


def regulated_pattern(form: Form, first_tone: str) -> Pattern:
    """The pattern of a regulated ``form`` whose first line's second character has ``first_tone``
    (平起 or 仄起): 二四六分明, 粘 and 对 fix the other key characters; the even lines rhyme on
    a level tone, the odd lines after the first end oblique (see :mod:`seq2text.verse.rules`)."""
    tones = [[None] * form.chars for _ in range(form.lines)]
    for line in range(form.lines):
        for place in range(form.chars):
            need = required_tone(form, line, place, lambda at, p: tones[at][p])
            tones[line][place] = first_tone if (line, place) == (0, 1) else need
    lines = tuple(PatternLine(form.chars, "".join(t or ANY_TONE for t in row), line % 2 == 1,
                              1 if line % 2 == 1 else None, form.mark(line)) for line, row in enumerate(tones))
    return Pattern(form.chinese, lines, repeats=POEM_REPEATS)


def level(tone: str) -> str:
    """平 for the level class, 仄 for the oblique ones (仄 and 入)."""
    return PING if tone == PING else ZE


def fits(readings: Iterable[tuple[str, str]], key: tuple[str, str], tone: Optional[str]) -> bool:
    """Whether a character with ``readings`` rhymes as ``key`` ``(group, class)`` at a rhyme
    position wanting ``tone``: the same class where the tone agrees with the key's (or is
    free), any class of the other tone in the same group where it does not (叶)."""
    group, kind = key
    if tone is None or level(tone) == level(kind):
        return (group, kind) in set(readings)
    return any(g == group and level(k) == level(tone) for g, k in readings)


@dataclass
class PatternCheck:
    """Which rules a text keeps (``checks``) and how many tone and rhyme positions hold."""

    checks: dict[str, bool]
    tones_held: int = 0
    tones_counted: int = 0
    rhymes_held: int = 0
    rhymes_counted: int = 0


def check_pattern(text: str, pattern: Pattern, tones: ToneTable, rhymes: RhymeBook,
                  acrostic: Optional[str] = None) -> PatternCheck:
    """The rules ``text`` keeps as a poem of ``pattern``: ``form`` (line lengths and punctuation),
    ``acrostic`` (if asked), ``tones`` (every 平/仄 position whose character has a known tone
    agrees), ``rhyme`` (every rhyme position rhymes with its group) and ``repetition`` (no
    character more than ``pattern.repeats`` times).  Tone and rhyme fail when the form does."""
    lines = pattern.split(text)
    checks = {"form": lines is not None}
    if acrostic is not None:
        checks["acrostic"] = lines is not None and "".join(line[0] for line in lines) == acrostic
    counts = Counter(c for c in text if is_han(c))
    checks["repetition"] = all(n <= pattern.repeats for n in counts.values())
    if lines is None:
        return PatternCheck({**checks, "rhyme": False, "tones": False})
    result = PatternCheck(checks)
    groups: dict[int, list[tuple[str, Optional[str]]]] = {}
    for position, slot in enumerate(pattern.slots):
        char = text[position]
        if slot.rhyme is not None:
            groups.setdefault(slot.rhyme, []).append((char, slot.tone))
        elif slot.tone is not None and tones.tone(char) is not None:
            result.tones_counted += 1
            result.tones_held += tones.tone(char) == slot.tone
    for members in groups.values():
        keys = {key for char, _ in members for key in rhymes.readings(char)}
        result.rhymes_counted += len(members)
        result.rhymes_held += max((sum(fits(rhymes.readings(c), key, tone) for c, tone in members)
                                   for key in keys), default=0)
    checks["tones"] = result.tones_held == result.tones_counted
    checks["rhyme"] = result.rhymes_held == result.rhymes_counted
    return result


def line_marks(text: str, pattern: Pattern, tones: ToneTable, rhymes: RhymeBook) -> list[dict]:
    """Per line of a poem of ``pattern``: its ``text`` with its punctuation, the ``tones`` of its
    characters (平, 仄, or · where the table does not decide) and, for a rhyming line, the
    ``rhyme`` readings of its last character (``下平十一尤 平``, ``3 仄``).  Empty for a text
    that does not have the pattern's shape."""
    lines = pattern.split(text)
    if lines is None:
        return []
    return [{"text": line + shape.end, "tones": "".join(tones.tone(c) or "·" for c in line),
             "rhyme": sorted(f"{group} {kind}" for group, kind in rhymes.readings(line[-1])) if shape.rhyme else []}
            for line, shape in zip(lines, pattern.lines)]


def place_keywords(pattern: Pattern, keywords: Sequence[str], tones: ToneTable,
                   taken: dict[int, str]) -> Optional[dict[int, str]]:
    """Text positions for every character of ``keywords``, or None if they do not all fit.

    Each keyword goes to the start of its own line (where the training keywords came from),
    or a little later, never onto a line's last character (a rhyme position in most lines)
    or a position already ``taken`` (an acrostic character) unless it holds that very character;
    each character's tone must agree with the position's where both are known.  Keywords are
    spread over the poem: keyword j of n looks first at the line j/n of the way in."""
    placed: dict[int, str] = {}
    used_lines: set[int] = set()
    count = len(pattern.lines)
    for number, word in enumerate(keywords):
        home = round(number * count / max(len(keywords), 1))
        order = sorted(range(count), key=lambda line: (abs(line - home), line))
        spot = next((spot for line in order if line not in used_lines
                     for spot in [_spot(pattern, line, word, tones, {**taken, **placed})] if spot is not None), None)
        if spot is None:
            return None
        used_lines.add(pattern.slots[spot].line)
        placed.update({spot + i: char for i, char in enumerate(word)})
    return placed


def _spot(pattern: Pattern, line: int, word: str, tones: ToneTable, taken: dict[int, str]) -> Optional[int]:
    start = pattern.start(line)
    for offset in range(pattern.lines[line].length - len(word)):
        positions = range(start + offset, start + offset + len(word))
        if all(taken.get(p, c) == c and agrees(pattern.slots[p].tone, tones.tone(c))
               for p, c in zip(positions, word)):
            return start + offset
    return None


def agrees(wanted: Optional[str], have: Optional[str]) -> bool:
    """Whether a character of tone ``have`` may stand where ``wanted`` is asked (None: unknown or either)."""
    return wanted is None or have is None or wanted == have
