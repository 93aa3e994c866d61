"""The ``seq2text`` group: how every command's errors end (one line on stderr, exit code 2;
Ctrl-C 130), and the lines it prints on stderr."""

from __future__ import annotations

import sys
from typing import Any

import click

from seq2text import __version__
from seq2text.errors import Seq2TextError, Stopped, message_line, shown

INTERRUPTED = 130  # the shell's code for a process ended by Ctrl-C (128 + SIGINT)


class Seq2TextGroup(click.Group):
    """A click group whose every error is one line on stderr: ``error: ...`` with exit code 2
    for bad input (:class:`Seq2TextError`, usage errors, unreadable or unwritable files), and
    ``interrupted`` with exit code 130 for Ctrl-C."""

    def main(self, args: Any = None, **kwargs: Any) -> Any:
        args = sys.argv[1:] if args is None else list(args)
        try:
            _check_arguments(args)
            return super().main(args, standalone_mode=False, **kwargs)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.exceptions.NoArgsIsHelpError as err:  # a bare `seq2text`: the help, as --help gives it
            click.echo(err.ctx.get_help())
            sys.exit(0)
        except click.ClickException as err:  # usage errors: one line, not click's three
            print_error(err.format_message())
            sys.exit(2 if isinstance(err, click.UsageError) else err.exit_code)
        except Seq2TextError as err:
            print_error(err.for_cli())
            sys.exit(2)
        except (click.Abort, KeyboardInterrupt, _Interrupted) as err:
            if not isinstance(getattr(err, "interrupt", None), Stopped):  # Stopped: the command said what it saved
                click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED)
        except (MemoryError, RuntimeError) as err:
            if not _out_of_memory(err):
                raise  # a bug: its traceback
            print_error(f"out of memory: {str(err).strip().splitlines()[0] if str(err).strip() else 'MemoryError'} "
                   f"(a smaller model, training.batch_size or --batch-size needs less)")
            sys.exit(2)
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly
            sys.stderr.close()
            sys.exit(1)
        except OSError as err:
            print_error(_osprint_error(err))
            sys.exit(2)


    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as err:  # past click, which would print a blank line and lose its kind
            raise _Interrupted(err) from None


class _Interrupted(Exception):
    """Ctrl-C or SIGTERM on its way out of a command (``interrupt``: the KeyboardInterrupt)."""

    def __init__(self, interrupt: KeyboardInterrupt):
        super().__init__("interrupted")
        self.interrupt = interrupt


def _out_of_memory(err: BaseException) -> bool:
    """Whether ``err`` says an allocation failed (Python's, PyTorch's CPU or GPU allocator)."""
    text = str(err)
    return isinstance(err, MemoryError) or "DefaultCPUAllocator: can't allocate memory" in text \
        or "out of memory" in text.lower()


def print_error(message: str) -> None:
    """``error: MESSAGE`` as one line, whatever the message quotes (line ends, escape sequences
    and other control characters written as ``\\n``, ``\\x1b``...)."""
    click.echo("error: " + message_line(message), err=True)


def print_warning(message: str) -> None:
    """``warning: MESSAGE`` as one harmless line on stderr."""
    click.echo("warning: " + message_line(message), err=True)


def _check_arguments(args: list[str]) -> None:
    """Refuse command-line arguments that are not UTF-8 (Python hands them over as lone
    surrogates, which no tokenizer can read)."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as err:
            byte = ord(arg[err.start]) - 0xDC00 if 0xDC80 <= ord(arg[err.start]) <= 0xDCFF else None
            what = f"byte 0x{byte:02x}" if byte is not None else f"character U+{ord(arg[err.start]):04X}"
            readable = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise Seq2TextError(f"argument {shown(readable)}: not valid UTF-8 ({what} at position "
                                f"{err.start + 1})") from None


def _osprint_error(err: OSError) -> str:
    """``path: reason`` for an operating-system error (a write to a full disk, a read-only folder...)."""
    where = err.filename if err.filename is not None else "output"
    return f"{where}: {err.strerror or err}"


@click.group(cls=Seq2TextGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seq2text")
def main() -> None:
    """Recurrent sequence models: translation, poems, couplets, free text, classification and tagging.

    The bundled models work at once: `seq2text translate "Ein Hund."`, `seq2text generate
    --form 七言绝句`, `seq2text generate --form couplet --first-line 海阔凭鱼跃`, `seq2text tag
    "I can't swim."`.  Your own: `seq2text train RECIPE`, then `-m runs/NAME` with translate,
    generate, classify, tag or evaluate.
    Errors are one line on stderr with exit code 2; Ctrl-C exits with 130.
    """
