"""Progress for long work, one rule for every command: a live bar on a terminal, and off a
terminal (``nohup ... > log``, CI, a pipe) a plain line now and then.

A bar's carriage-return refreshes would fill a log with hundreds of kilobytes per epoch, and
no output at all leaves a person wondering for minutes whether anything is happening; so off
a terminal a line such as ``epoch 1/10: 120/454 batch (26%), loss=3.2`` is printed at most
every :data:`PLAIN_EVERY` seconds (``SEQ2TEXT_PROGRESS_EVERY`` changes it).
``SEQ2TEXT_PROGRESS=bar`` (or ``1``) forces the bar, ``=off`` silences both.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterable, Iterator, Optional, TypeVar

from tqdm import tqdm

T = TypeVar("T")
PLAIN_EVERY = 30.0  # seconds between plain progress lines off a terminal, by default


def progress(items: Iterable[T], desc: str, unit: str = "batch", total: Optional[int] = None) -> Iterator[T]:
    """``items``, counted on stderr as they are used (see the module's rule)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(total, desc, unit) as bar:
        for item in items:
            yield item
            bar.update(1)


def progress_bar(total: Optional[int], desc: str, unit: str = "batch", initial: int = 0,
                 shown: bool = True) -> Any:
    """A counter with ``update(n)``, ``set_postfix(**values)`` and ``close()`` (also a context
    manager): tqdm's bar on a terminal, :class:`PlainProgress` elsewhere; nothing is shown
    without ``shown`` (the other processes of a distributed run)."""
    if shown and _live_bar():
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=False, dynamic_ncols=True,
                    file=sys.stderr)
    quiet = os.environ.get("SEQ2TEXT_PROGRESS") == "off" or not shown
    return PlainProgress(total, desc, unit, initial, every=float("inf") if quiet else _plain_every())


def write_line(line: str) -> None:
    """``line`` on stderr, above a live bar if there is one."""
    if _live_bar():
        tqdm.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr, flush=True)


def _live_bar() -> bool:
    mode = os.environ.get("SEQ2TEXT_PROGRESS", "")
    return mode in ("bar", "1") or (mode != "off" and sys.stderr.isatty())


def _plain_every() -> float:
    try:
        return max(0.0, float(os.environ.get("SEQ2TEXT_PROGRESS_EVERY", PLAIN_EVERY)))
    except ValueError:
        return PLAIN_EVERY


class PlainProgress:
    """Progress as a plain line on stderr at most every ``every`` seconds (none for work that
    ends sooner)."""

    def __init__(self, total: Optional[int], desc: str, unit: str, initial: int = 0, every: float = PLAIN_EVERY):
        self.total, self.desc, self.unit, self.n, self.every = total, desc, unit, initial, every
        self.postfix: dict[str, str] = {}
        self.last = time.monotonic()

    def update(self, count: int = 1) -> None:
        self.n += count
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            print(self.line(), file=sys.stderr, flush=True)

    def set_postfix(self, **values: Any) -> None:
        self.postfix = {key: str(value) for key, value in values.items()}

    def line(self) -> str:
        done = f"{self.n}/{self.total} {self.unit} ({100 * self.n / self.total:.0f}%)" if self.total else \
            f"{self.n} {self.unit}"
        extra = "".join(f", {key}={value}" for key, value in self.postfix.items())
        return f"{self.desc}: {done}{extra}"

    def close(self) -> None:
        pass

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
