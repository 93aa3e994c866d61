"""Where commands read their input lines (arguments, a file or stdin) and write their output.

Input comes in chunks so that a long stdin stream is translated batch by batch (line by line
when a person types at a terminal); every line keeps its name and number for messages.
Output to a file is written atomically when the command ends; to stdout it is flushed per
chunk, so pipes see results as they come.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Optional, Sequence, Union

from seq2text.atomic import write_text_atomic
from seq2text.textfile import iter_lines, open_input


@dataclass
class Line:
    """One input line: ``where`` it came from (file name, ``<stdin>`` or ``argument``), its
    1-based ``number`` and its ``text`` (no line ending)."""

    where: str
    number: int
    text: str

    @property
    def label(self) -> str:
        """``file:3``, ``<stdin>:3``, or ``argument 3`` (the third TEXT argument)."""
        return f"argument {self.number}" if self.where == "argument" else f"{self.where}:{self.number}"


def input_chunks(texts: Sequence[str], path: Optional[Path], size: int) -> Iterator[list[Line]]:
    """Lines from ``texts`` (each argument one line), else the file at ``path``, else stdin,
    read as they are needed (a line over :data:`~seq2text.textfile.MAX_LINE_BYTES` is an
    error: ``/dev/zero`` is not a text)."""
    if texts:
        lines = [Line("argument", n, text) for n, text in enumerate(texts, start=1)]
        for start in range(0, len(lines), size):
            yield lines[start:start + size]
    elif path is not None:
        with open_input(path) as handle:
            yield from _chunks(handle, str(path), size)
    else:
        yield from _chunks(sys.stdin.buffer, "<stdin>", 1 if sys.stdin.isatty() else size)


def _chunks(handle: IO[bytes], where: str, size: int) -> Iterator[list[Line]]:
    chunk: list[Line] = []
    for number, text in enumerate(iter_lines(handle, where, max_total=2**62), start=1):
        chunk.append(Line(where, number, text))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Control characters (tab, escape, C1) and everything str.splitlines() breaks at: a field holding
# one would read as two fields or two lines, or drive the terminal.
CONTROLS = str.maketrans({char: " " for char in [*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)),
                                                 "\u2028", "\u2029"]})
Row = Union[str, Sequence[str]]


def one_line(text: str) -> str:
    """``text`` with every control character and line break turned into a space (a model may
    write them)."""
    return text.translate(CONTROLS)


def row_line(row: Row) -> str:
    """One output line: a field, or fields joined by tabs, each made :func:`one_line`."""
    return one_line(row) if isinstance(row, str) else "\t".join(one_line(field) for field in row)


class Output:
    """Collects output lines for ``path`` (written atomically by :meth:`close`) or prints them;
    each line stays one line, so that N inputs give N outputs, whatever a model writes."""

    def __init__(self, path: Optional[Path]):
        self.path, self.lines = path, []

    def write(self, rows: Sequence[Row]) -> None:
        """Lines of one field (a string) or of several (a tuple, written tab-separated)."""
        lines = [row_line(row) for row in rows]
        if self.path is None:
            sys.stdout.write("".join(line + "\n" for line in lines))
            sys.stdout.flush()
        else:
            self.lines.extend(lines)

    def close(self) -> None:
        if self.path is not None:
            write_text_atomic(self.path, "".join(line + "\n" for line in self.lines))
