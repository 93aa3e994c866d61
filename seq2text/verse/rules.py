"""The rules of regulated verse (近体诗) and a checker that reports which a poem keeps.

Tones (平仄), for lines of 5 or 7 characters:

- 二四六分明: the 2nd, 4th (and 6th) characters alternate in tone within a line;
- 对: the 2nd character of a couplet's second line has the opposite tone of its first line's;
- 粘: the 2nd character of a couplet's first line has the tone of the previous line's;
- even lines end on a level tone (they rhyme), odd lines after the first on an oblique tone.

Rhyme: the even lines end on different characters of one level-tone rhyme group.
"""

from __future__ import annotations

from typing import Optional, Sequence

from seq2text.verse.forms import is_han
from seq2text.verse.forms import Form
from seq2text.verse.rhymes import RhymeTable
from seq2text.verse.tones import PING, ZE, ToneTable


def opposite(tone: Optional[str]) -> Optional[str]:
    return None if tone is None else PING if tone == ZE else ZE


def key_places(form: Form) -> list[int]:
    """0-based places whose tones are fixed by the rules: the 2nd, 4th (and 6th) characters."""
    return list(range(1, form.chars - 1, 2))


def required_tone(form: Form, line: int, place: int, tone_at) -> Optional[str]:
    """The tone the rules ask for at ``(line, place)`` (0-based), given ``tone_at(line, place)``
    for the characters already written; None where any tone will do."""
    if place == form.chars - 1:
        return PING if line % 2 == 1 else ZE if line > 0 else None
    if place not in key_places(form):
        return None
    if place == 1:
        if line == 0:
            return None  # the first key character chooses the pattern
        previous = tone_at(line - 1, 1)
        return opposite(previous) if line % 2 == 1 else previous
    first = tone_at(line, 1)
    return first if key_places(form).index(place) % 2 == 0 else opposite(first)


def rhyme_groups(chars: Sequence[str], rhymes: RhymeTable) -> set[str]:
    """The level-tone groups all ``chars`` share."""
    groups = None
    for char in chars:
        groups = rhymes.groups(char) if groups is None else groups & rhymes.groups(char)
    return groups or set()


def lines_of(text: str, form: Form) -> Optional[list[str]]:
    """The lines of ``text`` if it has exactly the shape of ``form``, else None."""
    if len(text) != form.length:
        return None
    lines = [text[i:i + form.chars + 1] for i in range(0, form.length, form.chars + 1)]
    for number, line in enumerate(lines):
        if line[-1] != form.mark(number) or not all(is_han(c) for c in line[:-1]):
            return None
    return [line[:-1] for line in lines]


def check_poem(text: str, form: Form, tones: ToneTable, rhymes: RhymeTable,
               acrostic: Optional[str] = None) -> dict[str, bool]:
    """Which rules ``text`` keeps: ``form``, ``acrostic`` (if asked), ``rhyme``, ``tones`` and
    ``repetition`` (no character three times or more).  Rhyme and tones fail when the form does.

    Characters without a fixed tone (read both ways, or never marked) satisfy either tone.
    """
    lines = lines_of(text, form)
    result = {"form": lines is not None}
    if acrostic is not None:
        result["acrostic"] = lines is not None and "".join(line[0] for line in lines) == acrostic
    chars = [c for c in text if is_han(c)]
    result["repetition"] = all(chars.count(c) < 3 for c in set(chars))
    if lines is None:
        return {**result, "rhyme": False, "tones": False}
    ends = [line[-1] for line in lines[1::2]]
    result["rhyme"] = len(set(ends)) == len(ends) and bool(rhyme_groups(ends, rhymes))

    def tone_at(line: int, place: int) -> Optional[str]:
        return tones.tone(lines[line][place])

    result["tones"] = all(
        need is None or have is None or need == have
        for line in range(form.lines) for place in range(form.chars)
        for need, have in [(required_tone(form, line, place, tone_at), tone_at(line, place))])
    return result
