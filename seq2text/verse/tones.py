"""Level (平) and oblique (仄) tones of characters, learned from the tone marks of the Tang poems.

The marks give every character of a poem as 平, 仄, ○ (either reading) or ？ (unknown).  A
character's tone is 平 or 仄 when at least :data:`CONFIDENT` of its marks agree; characters read
both ways (看, 思, 过 ...) have no fixed tone.  The table is small (one entry per character) and
ships with a poetry model as ``tones.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from seq2text.atomic import write_text_atomic
from seq2text.errors import Seq2TextError

PING, ZE = "平", "仄"
CONFIDENT = 0.8


class ToneTable:
    def __init__(self, counts: dict[str, tuple[int, int]]):
        self.counts = counts

    @classmethod
    def learn(cls, poems: Iterable[tuple[str, str]], normalize: Callable[[str], str] = str) -> "ToneTable":
        """From ``(text, tones)`` pairs of equal length; ``normalize`` maps a text to the form
        the model uses (e.g. traditional to simplified; pairs whose length it changes are skipped)."""
        ping, ze = Counter(), Counter()
        for text, tones in poems:
            text = normalize(text)
            if len(text) != len(tones):
                continue
            for char, tone in zip(text, tones):
                if tone == PING:
                    ping[char] += 1
                elif tone == ZE:
                    ze[char] += 1
        return cls({char: (ping[char], ze[char]) for char in ping.keys() | ze.keys()})

    def tone(self, char: str) -> Optional[str]:
        """平 or 仄, or None for characters read both ways or never seen with a mark."""
        ping, ze = self.counts.get(char, (0, 0))
        if ping + ze == 0:
            return None
        share = ping / (ping + ze)
        return PING if share >= CONFIDENT else ZE if share <= 1 - CONFIDENT else None

    def save(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(self.counts, ensure_ascii=False, sort_keys=True))

    @classmethod
    def from_json(cls, data: Any, where: Path) -> "ToneTable":
        """The table saved by :meth:`save` and read back as ``data``; a one-line error naming
        ``where`` if it is not a mapping of single characters to two counts."""
        if not isinstance(data, dict):
            raise Seq2TextError(f"{where}: expected a JSON object of character -> [level, oblique] counts")
        counts = {}
        for char, pair in data.items():
            if len(char) != 1 or not isinstance(pair, list) or len(pair) != 2 or not all(
                    type(n) is int and n >= 0 for n in pair):
                raise Seq2TextError(f"{where}: entry {char[:10]!r}: expected one character -> "
                                    f"[level, oblique] counts, got {str(pair)[:40]}")
            counts[char] = (pair[0], pair[1])
        return cls(counts)
