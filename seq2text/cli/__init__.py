"""The ``seq2text`` command line: :mod:`seq2text.cli.app` holds the group and how errors end,
:mod:`seq2text.cli.options` the shared options, and one module per group of commands.

Errors in the user's input (:class:`~seq2text.errors.Seq2TextError`) are printed as one line
on stderr with exit code 2; ``--help`` on every command says what it does and what it reads.
Each command imports what it needs when it runs, so that ``seq2text --help`` starts at once.
"""

from seq2text.cli import evaluate, generate, lines, serve, training  # noqa: F401 (each adds its commands to main)
from seq2text.cli.app import main

__all__ = ["main"]
