"""The one exception type users see, and how its messages are shown.

Anything raised as :class:`Seq2TextError` is a problem with the user's input (a recipe, a data
file, a command-line value, a request).  The CLI prints its message on one line and exits with
code 2, the server answers it as JSON; every other exception is a bug and keeps its traceback.
What a user gave is quoted with :func:`shown`, and whole messages pass :func:`message_line`, so
no escape sequence reaches a terminal and no value fills a screen.
"""

import re
import unicodedata
from typing import Callable


class Seq2TextError(Exception):
    """A user-facing error; ``str(err)`` is the whole one-line message.

    A message names the options at fault with :func:`option` placeholders, so that each front
    end names them its own way: ``str(err)`` as the Python API's keywords (``title``,
    ``count``), :meth:`for_cli` as command-line flags (``--title``, ``-n``), :meth:`for_api` as
    the JSON fields of the HTTP API (``title``, ``n``)."""

    def __str__(self) -> str:
        return _render(super().__str__(), {})

    def for_cli(self) -> str:
        return _render(super().__str__(), CLI_NAMES)

    def for_api(self) -> str:
        return _render(super().__str__(), API_NAMES)


def option(name: str) -> str:
    """A placeholder for the request option ``name`` (a keyword of the Python API) in a message."""
    return f"\x00{name}\x00"


# Where a front end calls an option otherwise than "--" + its name with dashes (CLI) or its name (API).
CLI_NAMES = {"count": "-n", "first_lines": "--first-line"}
API_NAMES = {"count": "n", "first_lines": "first"}


def _render(message: str, names: dict[str, str]) -> str:
    def name(match: re.Match) -> str:
        option_name = match.group(1)
        default = "--" + option_name.replace("_", "-") if names is CLI_NAMES else option_name
        return names.get(option_name, default)

    return re.sub("\x00(\\w+)\x00", name, message)


MAX_SHOWN = 100  # characters of a user's value quoted in a message
MAX_RUN = 200  # characters of a path or other unbroken run in a message


def printable(text: str) -> str:
    """``text`` with every control character (line breaks, escape sequences, the terminal's
    bell) written as a Python escape (``\\x1b``), so that a message stays one harmless line."""
    return "".join(repr(char)[1:-1] if _is_control(char) else char for char in text)


def message_line(message: str) -> str:
    """A message as it is shown: one line of printable text, in which any run of over
    :data:`MAX_RUN` non-blank characters (a path or value the user gave) is shortened in the
    middle, so that a path keeps its file name."""
    return re.sub(r"\S{%d,}" % (MAX_RUN + 1), lambda run: run.group()[:60] + "…" + run.group()[-(MAX_RUN - 61):],
                  printable(message))


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """A user's ``value`` quoted for a message as they gave it: control characters escaped,
    and shortened with ``…`` past ``limit`` characters."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return "'" + printable(text).replace("'", "\\'") + "'"


def marked(text: str, known: Callable[[str], bool], limit: int = MAX_SHOWN) -> str:
    """``text`` quoted as the user gave it (:func:`shown`), each character ``known`` refuses in
    ``⟦ ⟧``: ``'⟦h⟧⟦e⟧⟦l⟧⟦l⟧⟦o⟧ 世界'``."""
    return shown("".join(c if known(c) else f"⟦{c}⟧" for c in text), limit)


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char not in "\u200d\u200c"


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM, after the command has said on stderr what it saved (the CLI then adds
    nothing and exits with 130)."""
