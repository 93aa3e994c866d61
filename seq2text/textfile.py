"""Reading files strictly and within bounds: invalid UTF-8 and malformed JSON are reported by
file and line, and no file (``/dev/zero``, a named pipe, a huge table) can take the memory or
hang the program.

Text is read line by line with a cap on each line and on the whole, so a pipe or process
substitution (``-i <(zcat x.gz)``) works while ``/dev/zero`` stops at its first megabyte.
Files that must be files (a recipe, a tokenizer, a JSON table) are read only when they are
regular files of a bounded size.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import IO, Any, Iterator

from seq2text.errors import Seq2TextError

MAX_LINE_BYTES = 2**20  # one input line: a sentence, a review, a corpus line
MAX_TEXT_BYTES = 2**30  # a whole text file read into memory
BOM = "\ufeff"


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file, without line endings.

    Raises a one-line :class:`Seq2TextError` naming the file, line and byte for invalid UTF-8,
    and for a line or file over the limits.
    """
    with open_input(path) as handle:
        return list(iter_lines(handle, str(path)))


def open_input(path: Path) -> IO[bytes]:
    """``path`` opened for reading bytes; one-line errors for a missing file, a folder, no
    permission."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise Seq2TextError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise Seq2TextError(f"{path}: is a folder, expected a text file") from None
    except OSError as err:
        raise Seq2TextError(f"{path}: cannot read it ({err.strerror or err})") from None


def iter_lines(handle: IO[bytes], where: str, max_line: int = MAX_LINE_BYTES,
               max_total: int = MAX_TEXT_BYTES) -> Iterator[str]:
    """The lines of ``handle`` decoded as UTF-8, without line endings, as they are read; a
    byte-order mark at the start (Windows editors write one) is not part of the first line."""
    total, number = 0, 0
    while True:
        raw = handle.readline(max_line + 1)
        if not raw:
            return
        number += 1
        total += len(raw)
        if len(raw) > max_line and not raw.endswith(b"\n"):
            raise Seq2TextError(f"{where}:{number}: line over {max_line // 2**20} MB; not a text file of lines?")
        if total > max_total:
            raise Seq2TextError(f"{where}: over {max_total // 2**20} MB of text, more than seq2text reads at once")
        line = decode_utf8(raw, where, number).removesuffix("\n").removesuffix("\r")
        yield line.removeprefix(BOM) if number == 1 else line


def read_regular(path: Path, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of ``path``, which must be a regular file (not a pipe or a device: they could
    hang or never end) of at most ``max_bytes``."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise Seq2TextError(f"{path}: no such file") from None
    except OSError as err:
        raise Seq2TextError(f"{path}: cannot read it ({err.strerror or err})") from None
    if stat.S_ISDIR(info.st_mode):
        raise Seq2TextError(f"{path}: is a folder, expected a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise Seq2TextError(f"{path}: not a regular file (a device or pipe), expected a {what}")
    if info.st_size > max_bytes:
        raise Seq2TextError(f"{path}: over {max_bytes:,} bytes, too large for a {what}")
    try:
        with open(path, "rb") as handle:
            return handle.read(max_bytes + 1)[:max_bytes]
    except OSError as err:
        raise Seq2TextError(f"{path}: cannot read it ({err.strerror or err})") from None


def decode_utf8(data: bytes, where: str, first_line: int = 1) -> str:
    """``data`` as UTF-8; the error names ``where``, the line (counting from ``first_line``),
    the byte and its column."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + first_line
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise Seq2TextError(f"{where}:{line}: invalid UTF-8 (byte 0x{data[err.start]:02x} at "
                            f"column {column})") from None


def read_json(path: Path, max_bytes: int = MAX_TEXT_BYTES) -> Any:
    """A JSON document in a regular file of at most ``max_bytes``; errors name the file and line."""
    path = Path(path)
    text = decode_utf8(read_regular(path, max_bytes, "JSON file"), str(path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise Seq2TextError(f"{path}:{err.lineno}: invalid JSON ({err.msg})") from None
    except RecursionError:
        raise Seq2TextError(f"{path}: JSON nested too deeply") from None


def read_jsonl(path: Path) -> list[tuple[int, Any]]:
    """``(line number, record)`` for every non-blank line of a JSON-lines file."""
    records = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as err:
            raise Seq2TextError(f"{path}:{number}: invalid JSON ({err.msg})") from None
    return records
