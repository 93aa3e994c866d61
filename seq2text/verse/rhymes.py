"""Rhyme groups of characters: the classical 平水韵 table, or modern readings from pypinyin.

Regulated verse rhymes on level-tone groups, so only those are kept: the 上平 and 下平 groups
of ``pingshuiyun.txt`` (two lines per group, its name then its characters; ``X[word]`` and
``X<word>`` mark a reading of X, which the brackets only annotate), or, without the table, the modern final of each
first- or second-tone reading (``ong``, ``ian`` ...).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from seq2text.data.textfile import read_lines
from seq2text.errors import Seq2TextError

LEVEL_GROUPS = ("上平", "下平")
# Modern finals that rhyme although spelled differently (the medial i/u/ü does not count).
SAME_RHYME = {"iu": "ou", "iou": "ou", "ui": "ei", "uei": "ei", "un": "en", "uen": "en", "in": "en", "vn": "en",
              "ing": "eng", "ie": "e", "ue": "e", "ve": "e", "uo": "o", "iong": "ong"}
RHYMES = {"a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "ong", "er"}
ANNOTATION = re.compile(r"\[[^\]]*\]|<[^>]*>")


class RhymeTable:
    """``groups(char)``: the level-tone rhyme groups a character belongs to (empty if none)."""

    def __init__(self, members: dict[str, set[str]], source: str):
        self.members, self.source = members, source

    def groups(self, char: str) -> set[str]:
        return self.members.get(char, set())

    @classmethod
    def pingshuiyun(cls, path: Path) -> "RhymeTable":
        lines = [line.strip() for line in read_lines(Path(path)) if line.strip()]
        if len(lines) % 2:
            raise Seq2TextError(f"{path}: expected pairs of lines (group name, characters)")
        members: dict[str, set[str]] = {}
        for name, chars in zip(lines[::2], lines[1::2]):
            if name.startswith(LEVEL_GROUPS):
                for char in ANNOTATION.sub("", chars):
                    members.setdefault(char, set()).add(name)
        if not members:
            raise Seq2TextError(f"{path}: no 上平/下平 groups found (is this the 平水韵 table?)")
        return cls(members, f"平水韵 ({path})")

    @classmethod
    def modern(cls, chars: Iterable[str]) -> "RhymeTable":
        from pypinyin import Style, pinyin

        members = {}
        for char in chars:
            readings = pinyin(char, style=Style.FINALS_TONE3, heteronym=True, errors="ignore")
            finals = {_rhyme(r[:-1]) for r in (readings[0] if readings else []) if r[-1:] in ("1", "2")}
            if finals:
                members[char] = finals
        return cls(members, "modern readings (pypinyin)")


def _rhyme(final: str) -> str:
    """The rhyming part of a modern final: ``iou`` and ``ou`` rhyme, so do ``ian`` and ``an``."""
    final = SAME_RHYME.get(final, final)
    if final[:1] in ("i", "u", "v") and final[1:] in RHYMES:
        return final[1:]
    return final
