"""Where commands read their input lines (arguments, a file or stdin) and write their output.

Input comes in chunks so that a long stdin stream is translated batch by batch (line by line
when a person types at a terminal); every line keeps its name and number for messages.
Output to a file is written atomically when the command ends; to stdout it is flushed per
chunk, so pipes see results as they come.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence, TypeVar

from seq2text.atomic import write_text_atomic
from seq2text.data.textfile import decode_utf8, read_lines


T = TypeVar("T")


def progress(items: Iterable[T], desc: str, unit: str = "batch", total: Optional[int] = None) -> Iterable[T]:
    """``items`` with a progress bar on stderr when a person watches it (a terminal), or when
    ``SEQ2TEXT_PROGRESS=1`` asks for one (in logs, say); plain ``items`` otherwise."""
    from tqdm import tqdm

    shown = sys.stderr.isatty() or os.environ.get("SEQ2TEXT_PROGRESS") == "1"
    return tqdm(items, desc=desc, unit=unit, total=total, leave=False, disable=not shown, file=sys.stderr)


@dataclass
class Line:
    """One input line: ``where`` it came from (file name, ``<stdin>`` or ``argument``), its
    1-based ``number`` and its ``text`` (no line ending)."""

    where: str
    number: int
    text: str

    @property
    def label(self) -> str:
        return f"{self.where}:{self.number}"


def input_chunks(texts: Sequence[str], path: Optional[Path], size: int) -> Iterator[list[Line]]:
    """Lines from ``texts`` (each argument one line), else the file at ``path``, else stdin."""
    if texts:
        lines = [Line("argument", n, text) for n, text in enumerate(texts, start=1)]
    elif path is not None:
        lines = [Line(str(path), n, text) for n, text in enumerate(read_lines(path), start=1)]
    else:
        yield from _stdin_chunks(1 if sys.stdin.isatty() else size)
        return
    for start in range(0, len(lines), size):
        yield lines[start:start + size]


def _stdin_chunks(size: int) -> Iterator[list[Line]]:
    chunk: list[Line] = []
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        text = decode_utf8(raw, "<stdin>", number).removesuffix("\n").removesuffix("\r")
        chunk.append(Line("<stdin>", number, text))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Output:
    """Collects output lines for ``path`` (written atomically by :meth:`close`) or prints them."""

    def __init__(self, path: Optional[Path]):
        self.path, self.lines = path, []

    def write(self, lines: Sequence[str]) -> None:
        if self.path is None:
            sys.stdout.write("".join(line + "\n" for line in lines))
            sys.stdout.flush()
        else:
            self.lines.extend(lines)

    def close(self) -> None:
        if self.path is not None:
            write_text_atomic(self.path, "".join(line + "\n" for line in self.lines))
