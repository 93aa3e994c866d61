"""The one exception type users see.

Anything raised as :class:`Seq2TextError` is a problem with the user's input (a recipe, a data
file, a command-line value).  The CLI prints its message on one line and exits with code 2;
every other exception is a bug and keeps its traceback.
"""


class Seq2TextError(Exception):
    """A user-facing error; ``str(err)`` is the whole one-line message."""
