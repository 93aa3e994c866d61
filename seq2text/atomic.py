"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Only regular files are replaced: a symbolic link is followed (its target is replaced), and
anything else that exists at the path (``/dev/null``, ``/dev/stdout``, a named pipe) is written
through in place, so ``-o /dev/stdout`` prints and ``-o /dev/null`` stays a device.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes 0600, and some writers (safetensors) recreate the file: once it is
        # written, give it the mode of the file it replaces (a 0600 file stays private), else
        # the usual one.
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a new, empty temporary folder beside ``path``; on success it replaces ``path``.

    The temporary folder has a fresh name (``tempfile.mkdtemp``), so nothing the user keeps
    beside ``path`` is ever deleted: only that folder, and the old ``path`` once it has been
    replaced.  On an exception the temporary folder is removed and ``path`` is left as it was.
    """
    path = Path(os.path.realpath(path))  # "." and "x/.." name their folder, not an empty name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old)  # replaces the empty folder mkdtemp made
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (in place if it is not a regular file)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (in place if it is not a regular file).

    An :class:`OSError` names ``path``, not the temporary file."""
    target = Path(os.path.realpath(path))
    try:
        if str(path).startswith(IN_PLACE) or (target.exists() and not target.is_file()):
            with open(path, "wb") as handle:  # a device, pipe or descriptor: nothing to rename over
                handle.write(data)
                handle.flush()
            return
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None


# Paths that name a descriptor or device, written through even when they resolve to a file.
IN_PLACE = ("/dev/", "/proc/self/fd/")
