"""Subjects of poems: what a poem is about, as the title-conditioned language model reads it.

A subject is a short title (``秋夜``, ``送别``, ``黄鹤楼``) or a few keywords (``明月、故乡``),
or both (``秋夜、明月``).  The model reads it before the form label: ``秋夜|七律|...``.

Training takes the subjects from the corpus titles, cleaned by :func:`clean_title`:

- notes in （…）, 〔…〕 and 〖…〗 go, ``[x]`` keeps ``x``; other non-Han characters go;
- the Tang titles' section headings (``相和歌辭 銅雀臺``) and sequence numbers (``秋興八首 五``,
  ``其二``) are dropped: of the space-separated parts, the last one that is not a number is kept;
- a trailing count of poems (``二首``, ``十二首``) goes;
- the rest is cut to ``MAX_TITLE`` characters: long occasions (送杜少府之任蜀州) keep their
  start, which names the occasion and the person.

Keywords (:func:`poem_keywords`) are the first two characters of some lines of the poem itself:
in five- and seven-character lines that is the first word (the 2+3 and 2+2+3 rhythms), so
training on them teaches the model to use the words it is given.
"""

from __future__ import annotations

import random
import re

from seq2text.verse.forms import is_han, verse_lines

MAX_TITLE = 12
MAX_SUBJECT = 24  # characters a user's title and keywords may add up to
# How much the subject's pull is strengthened at generation (seq2text.decoding.guidance;
# 0: off): on-subject rates rose with it in a sweep, 0 -> 1 -> 2 -> 3 -> 5 (see the README).
GUIDANCE = 3.0
# Lines drawn for each line of a regulated poem or ci, and the weight of the subject in choosing
# among them (seq2text.generation.lines; the README has the sweep).
CANDIDATES, SUBJECT_WEIGHT = 8, 3.0
SEPARATOR = "、"
NUMERALS = "一二三四五六七八九十百千零〇○两"
NOTES = re.compile(r"（[^（）]*）|〔[^〔〕]*〕|〖[^〖〗]*〗|\([^()]*\)")
COUNT = re.compile(f"[{NUMERALS}]+首$")
NUMBERING = re.compile(f"^(其|第)?[{NUMERALS}]+(首)?$")


def clean_title(title: str) -> str:
    """The subject a corpus title gives (see the module docstring); ``""`` if nothing is left."""
    text = NOTES.sub("", re.sub(r"\[(.)\]", r"\1", title))
    parts = [part for part in re.split(r"\s+", text) if part and not NUMBERING.match(part)]
    if not parts:
        return ""
    kept = COUNT.sub("", "".join(c for c in parts[-1] if is_han(c)))
    return kept[:MAX_TITLE]


def poem_keywords(text: str, count: int, rng: random.Random) -> list[str]:
    """``count`` distinct keywords of a poem: the first two characters of randomly chosen lines."""
    words = list(dict.fromkeys(line[:2] for line in verse_lines(text) if len(line) >= 4 and
                               all(is_han(c) for c in line[:2])))
    return rng.sample(words, min(count, len(words)))


def subject(title: str = "", keywords: tuple[str, ...] | list[str] = ()) -> str:
    """What the model reads for a title and keywords: ``秋夜、明月、故乡`` (``""`` for neither)."""
    return SEPARATOR.join(part for part in (title, *keywords) if part)
