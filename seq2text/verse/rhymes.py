"""Rhyme books: which characters rhyme, for regulated verse and for the ci.

Both answer :meth:`readings`: the ``(group, tone class)`` pairs a character can rhyme as, where
the tone class is 平 (level), 仄 (rising and departing) or 入 (entering).  Two characters rhyme
when they share a reading.

- :class:`RhymeTable`, for regulated verse, which rhymes on level-tone groups only: the 上平 and
  下平 groups of the 平水韵 table ``pingshuiyun.txt`` (two lines per group, its name then its
  characters; ``X[word]`` and ``X<word>`` mark a reading of X, which the brackets only
  annotate), or, without the table, the modern final of each first- or second-tone reading
  (``ong``, ``ian`` ...).
- :class:`CilinTable`, for the ci: 词林正韵 (``cipu/rhymes.tsv``), 19 groups, in which 上 and
  去 rhyme together and 入 has groups of its own (15–19).

A bundled model carries both books, cut to its own characters, as ``rhymes.json`` (see
:func:`rhyme_books`), so that it rhymes as the poets did without the data root.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from seq2text.textfile import read_lines
from seq2text.errors import Seq2TextError

LEVEL_GROUPS = ("上平", "下平")
LEVEL, OBLIQUE, ENTERING = "平", "仄", "入"
CILIN_CLASSES = {"1": LEVEL, "2": OBLIQUE, "3": OBLIQUE, "4": ENTERING}  # rhymes.tsv's tone column
CILIN_TABLE = "cipu/rhymes.tsv"
# Modern finals that rhyme although spelled differently (the medial i/u/ü does not count).
SAME_RHYME = {"iu": "ou", "iou": "ou", "ui": "ei", "uei": "ei", "un": "en", "uen": "en", "in": "en", "vn": "en",
              "ing": "eng", "ie": "e", "ue": "e", "ve": "e", "uo": "o", "iong": "ong"}
RHYMES = {"a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "ong", "er"}
ANNOTATION = re.compile(r"\[[^\]]*\]|<[^>]*>")


def _by_group(members: dict[str, set], key) -> dict[str, str]:
    """``{group key: its characters}``, the compact JSON form of a character -> readings map."""
    groups: dict[str, str] = {}
    for char in sorted(members):
        for reading in sorted(members[char]):
            groups[key(reading)] = groups.get(key(reading), "") + char
    return dict(sorted(groups.items()))


def _groups_of(data: object, where: str) -> dict[str, str]:
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise Seq2TextError(f"{where}: expected a JSON object of rhyme groups and their characters")
    return data


class RhymeTable:
    """``groups(char)``: the level-tone rhyme groups a character belongs to (empty if none)."""

    def __init__(self, members: dict[str, set[str]], source: str):
        self.members, self.source = members, source

    def only(self, chars: Iterable[str]) -> "RhymeTable":
        """The table cut to ``chars`` (a model's characters)."""
        return RhymeTable({c: self.members[c] for c in chars if c in self.members}, self.source)

    def to_json(self) -> dict[str, str]:
        return _by_group(self.members, lambda group: group)

    @classmethod
    def from_json(cls, data: object, where: str) -> "RhymeTable":
        members: dict[str, set[str]] = {}
        for group, chars in _groups_of(data, where).items():
            for char in chars:
                members.setdefault(char, set()).add(group)
        return cls(members, f"平水韵 ({where})")

    def groups(self, char: str) -> set[str]:
        return self.members.get(char, set())

    def readings(self, char: str) -> set[tuple[str, str]]:
        return {(group, LEVEL) for group in self.groups(char)}

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
        from pypinyin import Style, pinyin  # noqa: PLC0415 (its tables load on import; few models need them)

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


class CilinTable:
    """词林正韵: ``readings(char)`` are ``(group, class)`` pairs, group ``"1"`` to ``"19"``."""

    def __init__(self, members: dict[str, set[tuple[str, str]]], source: str):
        self.members, self.source = members, source

    def readings(self, char: str) -> set[tuple[str, str]]:
        return self.members.get(char, set())

    def only(self, chars: Iterable[str]) -> "CilinTable":
        """The table cut to ``chars`` (a model's characters)."""
        return CilinTable({c: self.members[c] for c in chars if c in self.members}, self.source)

    def to_json(self) -> dict[str, str]:
        return _by_group(self.members, lambda reading: "/".join(reading))

    @classmethod
    def from_json(cls, data: object, where: str) -> "CilinTable":
        members: dict[str, set[tuple[str, str]]] = {}
        for key, chars in _groups_of(data, where).items():
            group, _, tone = key.partition("/")
            if not group.isdigit() or tone not in (LEVEL, OBLIQUE, ENTERING):
                raise Seq2TextError(f"{where}: {key!r} is not a 词林正韵 group (a number, /, and 平, 仄 or 入)")
            for char in chars:
                members.setdefault(char, set()).add((group, tone))
        return cls(members, f"词林正韵 ({where})")

    @classmethod
    def read(cls, path: Path) -> "CilinTable":
        """The table at ``path`` (``char tone pingshui cilin`` with a header); a one-line error
        naming the file and line if a row is malformed."""
        if not Path(path).is_file():
            raise Seq2TextError(f"{path}: the 词林正韵 table is not there; ci need {CILIN_TABLE} of the data root "
                                f"(set SEQ2TEXT_DATA to the folder that holds cipu/)")
        members: dict[str, set[tuple[str, str]]] = {}
        for number, line in enumerate(read_lines(Path(path)), 1):
            fields = line.rstrip("\n").split("\t")
            if number == 1 or not line.strip():
                continue
            if len(fields) != 4 or fields[1] not in CILIN_CLASSES or not fields[3].isdigit():
                raise Seq2TextError(f"{path}:{number}: expected char, tone (1-4), pingshui and cilin group, "
                                    f"tab-separated")
            members.setdefault(fields[0], set()).add((fields[3], CILIN_CLASSES[fields[1]]))
        return cls(members, f"词林正韵 ({path})")
