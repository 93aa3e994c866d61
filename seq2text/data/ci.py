"""The Song lyrics (宋词): ``ci.song.N.json`` files of ``{"author", "paragraphs", "rhythmic"}``.

Paragraphs are cleaned as the poems are (:func:`seq2text.data.tang.clean_paragraph`); a ci with
lost or composed characters is dropped whole.  Each ci is labelled with its tune (词牌) as the
book of patterns names it where the book knows the corpus's name (``望江南・忆江南`` →
忆江南, see :meth:`seq2text.verse.tunes.TuneBook.tune_of`), else with the corpus's first name.
The corpus has no ids: a ci's ``id`` is a hash of its author and text, stable across runs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator, Optional

from seq2text.data.tang import LOST, CleaningReport, clean_paragraph
from seq2text.textfile import read_json
from seq2text.errors import Seq2TextError
from seq2text.verse.tunes import NAME_SEPARATOR, TuneBook


def ci_files(folder: Path) -> list[Path]:
    files = sorted((p for p in folder.glob("ci.song.*.json")), key=lambda p: p.name)
    if not files:
        raise Seq2TextError(f"{folder}: no ci.song.N.json files (is this the ci folder?)")
    return files


def read_ci(folder: Path, book: Optional[TuneBook], report: CleaningReport) -> Iterator[dict]:
    """Clean ci of ``folder`` as ``{"id", "title", "author", "text", "form", "tones"}``: ``form``
    is the tune's name, ``title`` and ``tones`` are empty (the corpus has neither)."""
    for path in ci_files(folder):
        records = read_json(path)
        if not isinstance(records, list):
            raise Seq2TextError(f"{path}: expected a list of ci")
        for number, record in enumerate(records):
            try:
                paragraphs, rhythmic, author = record["paragraphs"], record["rhythmic"], record.get("author") or ""
            except (KeyError, TypeError) as err:
                raise Seq2TextError(f"{path}: ci {number}: missing or malformed field {err}") from None
            report.poems += 1
            if any(LOST.search(p) for p in paragraphs):
                report.dropped_lost_characters += 1
                continue
            kept = [clean for clean in map(clean_paragraph, paragraphs) if clean is not None]
            report.commentary_paragraphs += len(paragraphs) - len(kept)
            text = "".join(kept)
            tune = (book.tune_of(rhythmic) if book else None) or rhythmic.split(NAME_SEPARATOR)[0]
            if not text or not tune:
                report.dropped_empty += 1
                continue
            report.kept += 1
            key = hashlib.sha1(f"{author}|{text}".encode("utf-8")).hexdigest()[:16]
            yield {"id": f"ci.{key}", "title": "", "author": author, "text": text, "form": tune, "tones": ""}
