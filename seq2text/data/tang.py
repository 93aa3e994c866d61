"""The Complete Tang Poems: cleaning editorial marks, tone marks, forms and 上句/下句 pairs.

The corpus is a folder of ``poet.tang.N.json`` files (``{"id", "title", "author",
"paragraphs"}``) with ``strains/poet.tang.N.json`` beside it giving, per paragraph, each
character's tone (平/仄, ○ either, ？ unknown).  Cleaning follows the data README:

- notes in （…） and 〖…〗 are removed; ``[x]`` (uncertain reading) keeps ``x``;
- 《》「」『』〈〉 quote marks are removed, their contents kept;
- a paragraph that still is not verse (other symbols, or prose clauses longer than
  ``MAX_CLAUSE`` characters) is dropped as commentary;
- a poem with lost (□, ●) or composed ({…}) characters is dropped whole.

A poem keeps its tone marks only if none of its paragraphs had to be cleaned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from seq2text.textfile import read_json
from seq2text.errors import Seq2TextError
from seq2text.verse.forms import CLAUSE_END, PUNCTUATION, is_han, poem_form

NOTE = re.compile(r"（[^（）]*）|〖[^〖〗]*〗")
UNCERTAIN = re.compile(r"\[(.)\]")
QUOTES = re.compile("[《》「」『』〈〉]")
LOST = re.compile(r"[□●{}]")
MAX_CLAUSE = 12


@dataclass
class CleaningReport:
    """What cleaning removed from the corpus, for the user to see."""

    poems: int = 0
    kept: int = 0
    dropped_lost_characters: int = 0
    dropped_empty: int = 0
    commentary_paragraphs: int = 0
    cleaned_paragraphs: int = 0
    without_tones: int = 0

    def lines(self) -> list[str]:
        return [f"{self.poems} poems read, {self.kept} kept",
                f"{self.dropped_lost_characters} dropped for lost or composed characters (□ ● {{…}})",
                f"{self.dropped_empty} dropped with no verse left",
                f"{self.commentary_paragraphs} commentary paragraphs dropped, "
                f"{self.cleaned_paragraphs} paragraphs cleaned of notes",
                f"{self.without_tones} poems kept without tone marks"]


def clean_paragraph(paragraph: str) -> Optional[str]:
    """The verse in one paragraph, or None if it is commentary."""
    text = paragraph
    while True:  # notes can nest: （〖1〗…）
        stripped = NOTE.sub("", text)
        if stripped == text:
            break
        text = stripped
    text = QUOTES.sub("", UNCERTAIN.sub(r"\1", text)).strip()
    if not text or not all(is_han(c) or c in PUNCTUATION for c in text):
        return None
    if any(len(clause) > MAX_CLAUSE for clause in CLAUSE_END.split(text)):
        return None
    return text


def read_tang(folder: Path, report: CleaningReport) -> Iterator[dict]:
    """Clean poems of ``folder`` as ``{"id", "title", "author", "text", "form", "tones"}``.

    The folder holds ``poet.<dynasty>.N.json`` files: the Tang poems (``poet.tang.N.json``) or
    the Song poems (``poet.song.N.json``), which share the schema but have no tone marks.
    ``tones`` is a string as long as ``text`` (平, 仄, ○, ？ and the same punctuation), or ``""``.
    """
    files = sorted((p for p in folder.glob("poet.*.*.json") if p.name.split(".")[2].isdigit()),
                   key=lambda p: (p.name.split(".")[1], int(p.name.split(".")[2])))
    if not files:
        raise Seq2TextError(f"{folder}: no poet.<dynasty>.N.json files (is this the tang or song folder?)")
    for path in files:
        poems = read_json(path)
        strains_path = folder / "strains" / path.name
        strains = read_json(strains_path) if strains_path.exists() else [None] * len(poems)
        if not isinstance(poems, list) or len(strains) != len(poems):
            raise Seq2TextError(f"{path}: expected a list of poems matching {strains_path}")
        for number, (poem, tones) in enumerate(zip(poems, strains)):
            try:
                record = _clean_poem(poem, tones, report)
            except (KeyError, TypeError) as err:
                raise Seq2TextError(f"{path}: poem {number}: missing or malformed field {err}") from None
            if record is not None:
                yield record


def _clean_poem(poem: dict, tones: Optional[dict], report: CleaningReport) -> Optional[dict]:
    report.poems += 1
    paragraphs = poem["paragraphs"]
    if any(LOST.search(p) for p in paragraphs):
        report.dropped_lost_characters += 1
        return None
    if tones is not None and tones.get("id") != poem["id"]:
        tones = None
    strains = tones["strains"] if tones else [None] * len(paragraphs)
    kept, kept_tones = [], []
    for paragraph, strain in zip(paragraphs, strains):
        clean = clean_paragraph(paragraph)
        if clean is None:
            report.commentary_paragraphs += 1
            continue
        if clean != paragraph:
            report.cleaned_paragraphs += 1
        kept.append(clean)
        aligned = clean == paragraph and strain is not None and len(strain) == len(clean)
        kept_tones.append(strain if aligned else None)
    if not kept:
        report.dropped_empty += 1
        return None
    text = "".join(kept)
    has_tones = len(kept_tones) == len(strains) and all(t is not None for t in kept_tones)
    report.kept += 1
    report.without_tones += not has_tones
    return {"id": poem["id"], "title": poem.get("title") or "", "author": poem.get("author") or "",
            "text": text, "form": poem_form(text), "tones": "".join(kept_tones) if has_tones else ""}


def couplet_pairs(text: str, form: str) -> Iterator[tuple[str, str, bool]]:
    """``(上句, 下句, middle)`` for each "上句，下句。" sentence of a poem.

    ``middle`` marks the 颔联 and 颈联 (second and third couplets) of regulated verse (律诗),
    which the rules require to be strictly parallel.
    """
    sentences = re.findall(f"[^{PUNCTUATION}]+，[^{PUNCTUATION}]+[。？！]", text)
    for index, sentence in enumerate(sentences):
        first, second = sentence[:-1].split("，")
        if len(first) == len(second):
            yield first, second, form.endswith("lushi") and index in (1, 2)
