"""The tunes of the ci (词牌) and their patterns (词谱): what a ci of a tune must look like.

A pattern (one form, 体, of a tune) is a list of lines (clauses), each with its length, the
tone at each position (平 level, 仄 oblique, 中 either), whether it ends on a rhyme, which rhyme
it belongs to (numbered 1, 2, ... in order of first use, so the number changes where the rhyme
changes), and the punctuation after it.  ``cipu/cipai.jsonl`` of the data root gives 2,521
forms of 817 tunes from 钦定词谱 and 龙榆生《唐宋词格律》 (see the data README).

A tune has several forms; the one ci are written to here is the form most of the corpus's ci of
that tune follow, line by line (:func:`choose_forms`).  A trained ci model keeps that choice as
``tunes.json`` (tune name, source and variant) and, when it is bundled, the patterns of those
forms as ``patterns.json``, so that it writes without the data root.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from seq2text.textfile import read_lines
from seq2text.errors import Seq2TextError
from seq2text.verse.forms import CLAUSE_END
from seq2text.verse.patterns import ANY_TONE, Pattern, PatternLine

PATTERNS = "cipu/cipai.jsonl"
MIN_CI = 50  # a tune is written when the corpus has at least this many ci of it
NAME_SEPARATOR = "・"
SUFFIXES = ("令", "慢", "近")  # the corpus names some tunes twice: 望江南・忆江南


class TuneBook:
    """Every pattern of ``cipai.jsonl``, by tune name and alias."""

    def __init__(self, patterns: list[Pattern], names: dict[str, str], path: Path):
        self.patterns, self.names, self.path = patterns, names, path

    @classmethod
    def read(cls, path: Path) -> "TuneBook":
        """The patterns of ``path``; a one-line error naming the file and line if one is malformed."""
        if not Path(path).is_file():
            raise Seq2TextError(f"{path}: the tune patterns (词谱) are not there; ci need {PATTERNS} of the "
                                f"data root (set SEQ2TEXT_DATA to the folder that holds cipu/)")
        records = []
        for number, text in enumerate(read_lines(Path(path)), 1):
            if text.strip():
                try:
                    records.append((f"{path}:{number}", json.loads(text)))
                except ValueError as err:
                    raise Seq2TextError(f"{path}:{number}: not a tune pattern (not JSON: {err})") from None
        return cls._of(records, Path(path))

    @classmethod
    def from_json(cls, data: object, path: Path) -> "TuneBook":
        """The book a model folder keeps (``patterns.json``: a list of :meth:`to_json` records)."""
        if not isinstance(data, list):
            raise Seq2TextError(f"{path}: expected a JSON list of tune patterns")
        return cls._of([(f"{path}: pattern {number}", record) for number, record in enumerate(data, 1)], path)

    @classmethod
    def _of(cls, records: list[tuple[str, object]], path: Path) -> "TuneBook":
        patterns, names = [], {}
        for where, record in records:
            try:
                lines = tuple(PatternLine(int(line["length"]), line["tones"], bool(line["rhyme"]),
                                          line["rhyme_group"], line["end"]) for line in record["lines"])
                pattern = Pattern(record["name"], lines, record["source"], int(record["variant"]),
                                  record.get("description") or "")
                aliases = list(record.get("aliases") or ())
            except (ValueError, KeyError, TypeError, AttributeError) as err:
                raise Seq2TextError(f"{where}: not a tune pattern ({type(err).__name__}: {err})") from None
            if any(not isinstance(line.tones, str) or len(line.tones) != line.length
                   or set(line.tones) - {"平", "仄", ANY_TONE} for line in lines):
                raise Seq2TextError(f"{where}: a line's tones do not match its length or hold marks "
                                    f"other than 平 仄 中")
            patterns.append(pattern)
            for name in (pattern.name, *aliases):
                names.setdefault(name, pattern.name)
        return cls(patterns, names, path)

    def to_json(self, choices: list["TuneChoice"]) -> list[dict]:
        """The records of the forms ``choices`` name, with their tunes' other names: what a model
        folder keeps as ``patterns.json``."""
        records = []
        for choice in choices:
            pattern = self.pattern(choice.book_tune, choice.source, choice.variant)
            aliases = sorted(alias for alias, name in self.names.items()
                             if name == pattern.name and alias != pattern.name)
            records.append({"name": pattern.name, "aliases": aliases, "source": pattern.source,
                            "variant": pattern.variant, "description": pattern.description,
                            "lines": [line.__dict__ for line in pattern.lines]})
        return records

    def tune_of(self, rhythmic: str) -> Optional[str]:
        """The book's name of the tune a corpus ci names (``望江南・忆江南``: either name), or None."""
        for name in [rhythmic, *rhythmic.split(NAME_SEPARATOR)]:
            if name in self.names:
                return self.names[name]
        return None

    def forms_of(self, tune: str) -> list[Pattern]:
        return [p for p in self.patterns if p.name == tune]

    def pattern(self, tune: str, source: str, variant: int) -> Pattern:
        for pattern in self.forms_of(tune):
            if pattern.key == (source, variant):
                return pattern
        raise Seq2TextError(f"{self.path}: no form {source} {variant} of the tune {tune} (is this the data "
                            f"the model was trained with?)")


def clause_lengths(text: str) -> tuple[int, ...]:
    """The lengths of a ci's clauses (split after ，。、？！；)."""
    return tuple(len(clause) for clause in CLAUSE_END.split(text) if clause)


@dataclass(frozen=True)
class TuneChoice:
    """The form ci of ``tune`` are written to, and how many corpus ci there are (and follow it)."""

    tune: str  # the name users write (the corpus's)
    book_tune: str  # the book's heading of the form (浪淘沙令 for the corpus's 浪淘沙)
    source: str
    variant: int
    ci: int
    following: int


def fits(lengths: tuple[int, ...], form: tuple[int, ...]) -> bool:
    """True when a ci of clause ``lengths`` has the characters of ``form`` and breaks its lines
    where the form does, or at a subset or superset of those places (八声甘州's 3 + 5 where the
    book has one line of 8)."""
    if sum(lengths) != sum(form):
        return False
    breaks, book = _breaks(lengths), _breaks(form)
    return breaks <= book or book <= breaks


def _breaks(lengths: tuple[int, ...]) -> set[int]:
    ends, total = set(), 0
    for length in lengths:
        total += length
        ends.add(total)
    return ends


def choose_forms(book: TuneBook, ci: Iterable[tuple[str, str]], min_ci: int = MIN_CI) -> list[TuneChoice]:
    """For every tune with at least ``min_ci`` of the ``(rhythmic, text)`` ci and a pattern, the
    form most of them follow (:func:`fits`; ties: exact line lengths, then 钦定词谱, then the
    lower variant); most common tune first.

    The corpus names a tune as the Song poets did, which is sometimes the book's name of its
    longer form: its 浪淘沙 are the book's 浪淘沙令, so forms of ``name`` + 令/慢/近 compete too."""
    by_name: dict[str, Counter] = {}
    for rhythmic, text in ci:
        name = book.tune_of(rhythmic)
        if name is not None:
            by_name.setdefault(name, Counter())[clause_lengths(text)] += 1
    choices = []
    for name, lengths in by_name.items():
        total = sum(lengths.values())
        forms = [p for tune in (name, *(name + s for s in SUFFIXES)) if tune in book.names.values()
                 for p in book.forms_of(tune)]
        if total < min_ci or not forms:
            continue

        def following(form: Pattern) -> tuple[int, int]:
            return (sum(n for shape, n in lengths.items() if fits(shape, form.lengths)), lengths[form.lengths])

        best = min(forms, key=lambda p: (tuple(-n for n in following(p)), p.source != "钦定词谱", p.variant))
        choices.append(TuneChoice(name, best.name, best.source, best.variant, total, following(best)[0]))
    return sorted(choices, key=lambda c: (-c.ci, c.tune))


def save_choices(choices: list[TuneChoice]) -> str:
    """``tunes.json`` text for a model folder."""
    return json.dumps([c.__dict__ for c in choices], ensure_ascii=False, indent=1)


def load_choices(data: object, where: Path) -> list[TuneChoice]:
    if not isinstance(data, list):
        raise Seq2TextError(f"{where}: expected a JSON list of tunes")
    try:
        return [TuneChoice(str(d["tune"]), str(d["book_tune"]), str(d["source"]), int(d["variant"]), int(d["ci"]),
                           int(d["following"]))
                for d in data]
    except (KeyError, TypeError, ValueError) as err:
        raise Seq2TextError(f"{where}: a tune entry is malformed ({err})") from None


def describe(pattern: Pattern) -> str:
    """``浣溪沙 (钦定词谱 1): 7。7。7。7，7。7。``: a pattern's lines."""
    shape = "".join(f"{line.length}{line.end}" for line in pattern.lines)
    return f"{pattern.name} ({pattern.source} {pattern.variant}): {shape}"




class Tunes:
    """The tunes a ci model writes: its ``choices`` (``tunes.json``), their patterns from
    ``book`` and the rhyme book of the ci, ``rhymes``."""

    def __init__(self, choices: list[TuneChoice], book: TuneBook, rhymes):
        self.choices, self.book, self.rhymes = choices, book, rhymes
        self.by_name = {choice.tune: choice for choice in choices}

    def find(self, name: str) -> Optional[TuneChoice]:
        """The tune called ``name`` (or one of its other names), or None."""
        if name in self.by_name:
            return self.by_name[name]
        book_name = self.book.tune_of(name)
        return next((c for c in self.choices if book_name in (c.tune, c.book_tune)), None) if book_name else None

    def pattern(self, choice: TuneChoice) -> Pattern:
        found = self.book.pattern(choice.book_tune, choice.source, choice.variant)
        return Pattern(choice.tune, found.lines, found.source, found.variant, found.description)
