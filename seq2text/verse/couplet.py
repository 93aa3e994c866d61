"""The rules a 下联 keeps towards its 上联, a checker, and the logit processor that keeps them.

- length: as many characters as the 上联;
- punctuation: the same mark at the same positions, and nowhere else;
- no copy: no position holds the 上联's character at that position;
- mirrored repetition: two positions hold the same character in the 下联 exactly when they do
  in the 上联;
- level ending: the last character is of the level tone (平), as a 下联 must end.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from seq2text.verse.forms import is_han
from seq2text.decoding.processors import relax
from seq2text.tokenizers import EOS
from seq2text.tokenizers.base import VocabTokenizer
from seq2text.verse.constraints import CharRules
from seq2text.verse.tones import PING, ToneTable

MAX_CHARS = 50
STAND_IN = "，"  # the model's reading of a punctuation mark it does not know
RULES = ("length", "punctuation", "no_copy", "mirrored", "level_ending")


def clean_first_line(line: str) -> str:
    """The 上联 as the model reads it: spaces between characters dropped."""
    return "".join(line.split())


def first_line_problem(line: str) -> Optional[str]:
    """Why ``line`` (cleaned) cannot be answered, or None."""
    if not line:
        return "empty line"
    if len(line) > MAX_CHARS:
        return f"{len(line)} characters; a 上联 has at most {MAX_CHARS}"
    foreign = sorted({c for c in line if not is_han(c) and c.isalnum()})
    if foreign:
        return f"letters or digits that are not Chinese characters: {''.join(foreign)}"
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
    }


class CoupletRules(CharRules):
    """Logit processor: row ``r`` writes the 下联 of ``first_lines[sentences[r]]`` under every rule.

    Where a 上联 character recurs, the 下联 repeats what it wrote at the first occurrence; a
    new 上联 character gets a Han character not yet used (and not the 上联's own).  The last
    character, and the earlier ones it must repeat, are level-toned.  Should the rules leave
    nothing (a tiny vocabulary), the tone rule gives way, then the no-reuse rule.
    """

    def __init__(self, tokenizer: VocabTokenizer, tones: ToneTable, first_lines: Sequence[str]):
        super().__init__(tokenizer)
        self.first_lines = list(first_lines)
        self.level = self.han & torch.tensor([len(t) == 1 and tones.tone(t) == PING for t in self.chars])

    def row_allowed(self, sentence: int, written: str) -> torch.Tensor:
        return self.allowed(self.first_lines[sentence], written)

    def allowed(self, first: str, text: str) -> torch.Tensor:
        """Which tokens may follow ``text`` in the answer to ``first`` ``(V,)``."""
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
        rules = [~self._ids(set(text) | {char})]
        if char == first[last]:
            rules.append(self.level)  # weakest last: dropped first when nothing is left
        return relax(self.han, rules)
