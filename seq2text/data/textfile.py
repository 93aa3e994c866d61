"""Reading corpus files strictly: invalid UTF-8 and malformed JSON are reported by file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from seq2text.errors import Seq2TextError


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file, without line endings.

    Raises a one-line :class:`Seq2TextError` naming the file, line and byte for invalid UTF-8.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Seq2TextError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise Seq2TextError(f"{path}: is a folder, expected a text file") from None
    text = decode_utf8(data, str(path))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


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


def read_json(path: Path, max_bytes: Optional[int] = None) -> Any:
    """A JSON document (of at most ``max_bytes``); errors name the file and line."""
    path = Path(path)
    if max_bytes is not None and path.is_file() and path.stat().st_size > max_bytes:
        raise Seq2TextError(f"{path}: over {max_bytes:,} bytes, too large for what it should hold")
    text = "\n".join(read_lines(path))
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
