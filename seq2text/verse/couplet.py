"""The rules a 下联 keeps towards its 上联, a checker, and the logit processor that keeps them.

- length: as many characters as the 上联;
- punctuation: the same mark at the same positions, and nowhere else;
- no copy: no position holds the 上联's character at that position;
- mirrored repetition: two positions hold the same character in the 下联 exactly when they do
  in the 上联;
- level ending: the last character is of the level tone (平), as a 下联 must end;
- opposed tones (平仄相对): at every rhythm point of a clause (its 2nd, 4th and 6th characters
  and its last) the 下联 has the tone opposite to the 上联's, wherever the tone table knows both.
  The very last character is the level ending's: it counts here only when the 上联 ends on an
  oblique tone, as a 上联 should.
"""

from __future__ import annotations

import re

from typing import Optional, Sequence

import torch

from seq2text.errors import shown
from seq2text.verse.forms import is_han
from seq2text.decoding.processors import relax
from seq2text.tokenizers import EOS
from seq2text.tokenizers.base import VocabTokenizer
from seq2text.verse.constraints import CharRules
from seq2text.verse.rules import opposite
from seq2text.verse.tones import PING, ZE, ToneTable

MAX_CHARS = 50
STAND_IN = "，"  # the model's reading of a punctuation mark it does not know
RULES = ("length", "punctuation", "no_copy", "mirrored", "level_ending", "opposed_tones")


def clean_first_line(line: str) -> str:
    """The 上联 as the model reads it: spaces between characters dropped."""
    return "".join(line.split())


def first_line_problem(line: str) -> Optional[str]:
    """Why ``line`` (cleaned) cannot be answered, or None."""
    if not line:
        return "empty line"
    if len(line) > MAX_CHARS:
        return f"{len(line)} characters; a 上联 has at most {MAX_CHARS}"
    foreign = re.findall(r"(?:(?!\s)[^\W_])+", "".join(c if not is_han(c) else " " for c in line))
    if foreign:
        return f"letters or digits that are not Chinese characters: {', '.join(map(shown, foreign[:5]))}"
    if not any(is_han(c) for c in line):
        return "no Chinese characters, only punctuation or symbols"
    return None  # characters the model does not know are read as <unk>


def as_read(line: str, tokenizer: VocabTokenizer) -> str:
    """The 上联 as the model reads it: marks it never saw become ， (the 下联 gets the 上联's own
    marks back, see :func:`with_marks_of`)."""
    if STAND_IN not in tokenizer.index:
        return line
    return "".join(STAND_IN if not is_han(c) and c not in tokenizer.index else c for c in line)


def with_marks_of(first: str, second: str) -> str:
    """``second`` with the punctuation of ``first`` at the same positions."""
    return "".join(a if not is_han(a) else b for a, b in zip(first, second)) + second[len(first):]


def _last_han(text: str) -> int:
    return max(i for i, c in enumerate(text) if is_han(c))


def rhythm_points(first: str) -> list[int]:
    """The rhythm points of ``first``: in every clause (run of Han characters) its 2nd, 4th and
    6th characters and its last."""
    points, start = [], None
    for i, char in enumerate(first + "，"):
        if is_han(char) and start is None:
            start = i
        elif not is_han(char) and start is not None:
            points += [p for p in range(start + 1, i, 2) if p - start < 6] + [i - 1]
            start = None
    return sorted(set(points))


def opposed_points(first: str, tones: ToneTable) -> dict[int, str]:
    """``position -> tone the 下联 needs there`` for the rhythm points of ``first`` whose tone is
    known; the last character only when ``first`` ends oblique (the level ending decides it)."""
    last = _last_han(first) if any(is_han(c) for c in first) else -1
    needs = {}
    for point in rhythm_points(first):
        tone = tones.tone(first[point])
        if tone is not None and (point != last or tone == ZE):
            needs[point] = opposite(tone)
    return needs


def tone_agreement(first: str, second: str, tones: ToneTable) -> tuple[int, int]:
    """``(opposed, counted)``: of the rhythm points where the tone table knows both characters,
    how many have opposite tones (the 平仄相对 rate of a couplet)."""
    opposed = counted = 0
    for point, need in opposed_points(first, tones).items():
        have = tones.tone(second[point]) if point < len(second) else None
        if have is not None:
            counted += 1
            opposed += have == need
    return opposed, counted


def check_couplet(first: str, second: str, tones: ToneTable) -> dict[str, bool]:
    """Which of :data:`RULES` ``second`` keeps as the answer to ``first``."""
    same_length = len(first) == len(second)
    pairs = list(zip(first, second))
    han = [i for i, (a, _) in enumerate(pairs) if is_han(a)]
    return {
        "length": same_length,
        "punctuation": same_length and all((a == b) if not is_han(a) else is_han(b) for a, b in pairs),
        "no_copy": all(a != b for a, b in pairs if is_han(a)),
        "mirrored": same_length and all((first[i] == first[j]) == (second[i] == second[j])
                                        for i in han for j in han if i < j),
        "level_ending": any(is_han(c) for c in second) and tones.tone(second[_last_han(second)]) == PING,
        "opposed_tones": same_length and len(set(tone_agreement(first, second, tones))) == 1,
    }


class CoupletRules(CharRules):
    """Logit processor: row ``r`` writes the 下联 of ``first_lines[sentences[r]]`` under every rule.

    Where a 上联 character recurs, the 下联 repeats what it wrote at the first occurrence; a
    new 上联 character gets a Han character not yet used (and not the 上联's own).  The last
    character, and the earlier ones it must repeat, are level-toned; at the rhythm points the
    tone is the 上联's opposite (decided at a character's first occurrence, for all its
    repeats).  Should the rules leave nothing (a tiny vocabulary), the opposed tones give way
    first, then the level ending, then the no-reuse rule.
    """

    def __init__(self, tokenizer: VocabTokenizer, tones: ToneTable, first_lines: Sequence[str],
                 opposed_tones: bool = True):
        super().__init__(tokenizer)
        self.first_lines = list(first_lines)
        tone_of = [tones.tone(t) if len(t) == 1 else None for t in self.chars]
        self.tone_mask = {tone: self.han & torch.tensor([t == tone for t in tone_of]) for tone in (PING, ZE)}
        self.level = self.tone_mask[PING]
        self.needs = [opposed_points(first, tones) if opposed_tones else {} for first in self.first_lines]

    def row_allowed(self, sentence: int, written: str) -> torch.Tensor:
        return self.allowed(self.first_lines[sentence], written, self.needs[sentence])

    def allowed(self, first: str, text: str, needs: dict[int, str]) -> torch.Tensor:
        """Which tokens may follow ``text`` in the answer to ``first`` ``(V,)``, ``needs`` the
        tones :func:`opposed_points` asks for."""
        only = torch.zeros(len(self.chars), dtype=torch.bool)
        position = len(text)
        if position >= len(first):
            only[EOS] = True
            return only
        char = first[position]
        earlier = first.find(char)
        if not is_han(char):
            only[self.index[char]] = True
            return only
        if earlier < position:
            only[self.index[text[earlier]]] = True
            return only
        last = _last_han(first)
        rules = [~self._ids(set(text) | {char})]  # strongest first, the weakest give way first
        if char == first[last]:
            rules.append(self.level)
        wanted = {needs[p] for p, c in enumerate(first) if c == char and p in needs}
        if len(wanted) == 1:
            rules.append(self.tone_mask[wanted.pop()])
        return relax(self.han, rules)
