"""CoNLL-U treebanks (Universal Dependencies): sentences of words and tags, read and written.

A sentence is ``#`` comment lines, one line per word with ten tab-separated columns, and a
blank line.  The ``conllu`` package parses each sentence; this module adds what a tagger needs
around it:

- which lines are words (:class:`Reading`): integer IDs always; a multiword token's range line
  (``3-4``, ``don't`` = ``do`` + ``n't``) either gives way to its words or stands for them, its
  tag their tags joined by ``+``; empty nodes (``8.1``) are read only when asked for;
- errors that name the file and line (the package itself is lenient: a line of two columns
  parses);
- writing tags back: the UPOS (or XPOS) column of each word line is replaced, and every other
  byte of the input is kept, so that ``tag --format conllu`` changes one column only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import conllu
from conllu.exceptions import ParseException

from seq2text.textfile import BOM, read_lines
from seq2text.errors import Seq2TextError

COLUMNS = 10
TAG_COLUMNS = {"upos": 3, "xpos": 4}  # 0-based index of the column in a word line
JOIN = "+"  # joins the tags of a multiword token's words


@dataclass(frozen=True)
class Reading:
    """How a treebank is read: the tag column, multiword tokens (``words`` or ``surface``),
    and whether empty nodes are words (the recipe's ``data`` settings of the same names)."""

    tag_column: str = "upos"
    multiword_tokens: str = "words"
    empty_nodes: bool = False

    @classmethod
    def of(cls, data) -> "Reading":
        """How a recipe's ``data`` section reads its treebanks."""
        return cls(data.tag_column, data.multiword_tokens, data.empty_nodes)


@dataclass
class Sentence:
    """One sentence: its ``words`` and their ``tags`` (None where the column is ``_``), the
    ``sent_id`` (or ``FILE:LINE`` of its first line), the input ``lines`` as read (no line
    ends) and, for each word, the indices of the lines it tags."""

    words: list[str]
    tags: list[Optional[str]]
    sent_id: str
    line: int
    lines: list[str] = field(default_factory=list)
    tagged_lines: list[list[int]] = field(default_factory=list)

    def with_tags(self, tags: list[str], column: str = "upos") -> list[str]:
        """The sentence's lines with ``tags`` (one per word) in ``column``; a word that stands
        for several lines (a multiword token read as one) gives each its part of the tag."""
        lines = list(self.lines)
        index = TAG_COLUMNS[column]
        for tag, targets in zip(tags, self.tagged_lines):
            parts = tag.split(JOIN) if len(targets) > 1 else [tag]
            if len(parts) != len(targets):
                parts = [tag] * len(targets)
            for target, part in zip(targets, parts):
                fields = lines[target].split("\t")
                fields[index] = part
                lines[target] = "\t".join(fields)
        return lines


def read_treebank(path: Path, reading: Reading = Reading(), text: Optional[str] = None) -> list[Sentence]:
    """Every sentence of the CoNLL-U file ``path`` (or of ``text``, named ``path``); one-line
    errors name the file and line."""
    if text is None:
        text = "\n".join(read_lines(path))
    return [_sentence(block, start, path, reading) for block, start in _blocks(text.removeprefix(BOM))]


def _blocks(text: str) -> Iterator[tuple[list[str], int]]:
    """Each sentence's lines and the number of its first line (blank lines separate them)."""
    block, start = [], 1
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip(" "):  # a line of empty fields (tabs) is a broken word line, not a blank one
            if not block:
                start = number
            block.append(line)
        elif block:
            yield block, start
            block = []
    if block:
        yield block, start


def _sentence(lines: list[str], start: int, path: Path, reading: Reading) -> Sentence:
    token_lines = [i for i, line in enumerate(lines) if not line.startswith("#")]
    for i in token_lines:
        found = lines[i].count("\t") + 1
        if found != COLUMNS:
            raise Seq2TextError(f"{path}:{start + i}: expected {COLUMNS} tab-separated columns, found {found}")
    try:
        tokens = conllu.parse_token_and_metadata("\n".join(lines))
    except ParseException as err:
        raise Seq2TextError(f"{path}:{start}: not a CoNLL-U sentence ({str(err)[:120]})") from None
    if not token_lines:
        raise Seq2TextError(f"{path}:{start}: a sentence with comments and no words")
    _check_ids(lines, token_lines, start, path)
    words, tags, tagged = [], [], []
    covered: set[int] = set()
    for token, i in zip(tokens, token_lines):
        ident = token["id"]
        tag = token[reading.tag_column]
        tag = None if tag == "_" else tag  # no tag (the package keeps UPOS "_" as a string)
        if isinstance(ident, int):
            if ident in covered:
                continue
            words.append(token["form"]), tags.append(tag), tagged.append([i])
        elif ident[1] == "-" and reading.multiword_tokens == "surface":
            parts = [(t, j) for t, j in zip(tokens, token_lines) if isinstance(t["id"], int)
                     and ident[0] <= t["id"] <= ident[2]]
            covered.update(range(ident[0], ident[2] + 1))
            part_tags = [t[reading.tag_column] for t, _ in parts]
            words.append(token["form"])
            tags.append(None if None in part_tags else JOIN.join(part_tags))
            tagged.append([j for _, j in parts])
        elif ident[1] == "." and reading.empty_nodes:
            words.append(token["form"]), tags.append(tag), tagged.append([i])
    sent_id = str(tokens.metadata.get("sent_id") or f"{path.name}:{start}")
    return Sentence(words, tags, sent_id, start, lines, tagged)


WORD_ID = re.compile(r"[1-9][0-9]*")
RANGE_ID = re.compile(r"([1-9][0-9]*)-([1-9][0-9]*)")
EMPTY_ID = re.compile(r"(0|[1-9][0-9]*)\.[1-9][0-9]*")


def _check_ids(lines: list[str], token_lines: list[int], start: int, path: Path) -> None:
    """The sentence's IDs count 1, 2, 3 ... in order; ranges (``3-4``) come before the words
    they span and do not overlap; every word and range has a FORM.  The package takes all of
    these as given, so a broken sentence would be tagged wrong, or lose words, in silence."""
    expected, spanned = 1, 0
    for i in token_lines:
        ident, form = lines[i].split("	")[:2]
        where = f"{path}:{start + i}"
        if WORD_ID.fullmatch(ident):
            if int(ident) != expected:
                raise Seq2TextError(f"{where}: word ID {ident} where {expected} comes next (a duplicate or a gap)")
            expected += 1
        elif RANGE_ID.fullmatch(ident):
            first, last = map(int, RANGE_ID.fullmatch(ident).groups())
            if first != expected or last <= first or first <= spanned:
                raise Seq2TextError(f"{where}: range {ident} does not span the next words ({expected} on) or "
                                    f"overlaps another")
            spanned = last
        elif not EMPTY_ID.fullmatch(ident):
            raise Seq2TextError(f"{where}: ID {ident!r} is not a word ID (1), a range (1-2) or an empty node (1.1)")
        if not form.strip():
            raise Seq2TextError(f"{where}: an empty FORM (a word is at least one character; _ for an underscore)")
    if spanned >= expected:
        raise Seq2TextError(f"{path}:{start}: a range spans past the sentence's last word ({expected - 1})")


def treebank_text(sentences: list[Sentence], tags: list[list[str]], column: str = "upos") -> str:
    """The CoNLL-U text of ``sentences`` with ``tags`` written in ``column``."""
    return "".join("\n".join(sentence.with_tags(found, column)) + "\n\n" for sentence, found in zip(sentences, tags))
