"""Options and argument types shared by the commands, and the bounds of the options whose
size is memory (the requests' own are in :mod:`seq2text.generation.requests`)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, TypeVar, get_type_hints

import click

from seq2text.device import resolve_device
from seq2text.errors import Seq2TextError
from seq2text.textio import Line

MAX_BATCH, MAX_OUTPUT, MAX_BOOTSTRAP = 4096, 100_000, 100_000
Answer = TypeVar("Answer")


class FiniteFloat(click.ParamType):
    """A finite number in ``(minimum, maximum]`` (NaN and infinities refused)."""

    name = "number"

    def __init__(self, minimum: float, maximum: float = float("inf"), min_open: bool = True):
        self.minimum, self.maximum, self.min_open = minimum, maximum, min_open

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        low_ok = number > self.minimum if self.min_open else number >= self.minimum
        if not (math.isfinite(number) and low_ok and number <= self.maximum):
            bound = ">" if self.min_open else ">="
            limit = f" and <= {self.maximum:g}" if math.isfinite(self.maximum) else ""
            self.fail(f"{value} is not a finite number {bound} {self.minimum:g}{limit}", param, ctx)
        return number


SEED = click.IntRange(0, 2**63 - 1)  # poem i of a batch has seed + i: still a 64-bit seed


class Device(click.ParamType):
    """A device this machine has: cpu, cuda, cuda:N or mps (checked before any work starts)."""

    name = "device"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        try:
            return str(resolve_device(value))
        except Seq2TextError as err:
            self.fail(str(err).removeprefix("device "), param, ctx)


def device_option(command: Callable) -> Callable:
    return click.option("--device", type=Device(), default="cpu", show_default=True,
                        help="cpu, cuda, cuda:N or mps.")(command)


def recipe_options(command: Callable) -> Callable:
    """RECIPE argument plus ``--set`` and ``--data-root``, shared by recipe-driven commands."""
    command = click.option("--data-root", type=click.Path(file_okay=False), envvar="SEQ2TEXT_DATA",
                           help="Folder recipe data paths are relative to "
                                "[env SEQ2TEXT_DATA; default: ../shared/data].")(command)
    command = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                           help="Override a recipe setting, e.g. --set model.hidden_size=512 "
                                "(repeatable).")(command)
    return click.argument("recipe", type=click.Path(dir_okay=False, path_type=Path))(command)


def line_options(default_model: str, what: str, output_help: str, ensembles: bool = False) -> Callable:
    """TEXT arguments, ``-m``, ``-i`` and ``-o``: the options of commands that read ``what``
    one per line and answer each line (translate, classify); with ``ensembles``, ``-m`` may be
    repeated."""
    def decorate(command: Callable) -> Callable:
        command = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                               help=output_help)(command)
        command = click.option("-i", "--input", "input_file", type=click.Path(dir_okay=False, path_type=Path),
                               help=f"Read {what} from FILE, one per line (default: TEXT arguments, else "
                                    f"stdin).")(command)
        model_help = "Bundled model name (see `seq2text models`) or a trained model folder."
        if ensembles:
            model_help += (" Repeat it to decode with an ensemble of models that share their tokenizers "
                           "(the mean of their probabilities).")
        command = click.option("-m", "--model", default=(default_model,), multiple=True, show_default=True,
                               help=model_help, callback=None if ensembles else _one_model)(command)
        return click.argument("text", nargs=-1)(command)
    return decorate


def _one_model(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> str:
    """The one ``-m`` of a command that does not ensemble: a repeated one is refused, not dropped."""
    if len(value) > 1:
        raise click.BadParameter(f"given {len(value)} times; {ctx.info_name} uses one model "
                                 f"({', '.join(value)})", ctx, param)
    return value[0]


def plot_title(where: str, text: str, width: int = 60) -> str:
    """A plot title naming an input line: ``argument 1: Ein Hund ...``."""
    return f"{where}: {text if len(text) <= width else text[:width - 1] + '…'}"


def answered(chunk: Sequence[Line], answer: Callable[[list[str]], Iterable[Answer]],
             asked: Callable[[Line], bool] = lambda line: bool(line.text.strip())) -> list[Optional[Answer]]:
    """What ``answer`` gives for the lines of ``chunk`` it is ``asked`` (by default: the lines
    that are not empty), in one call, mapped back to their lines: None for the others."""
    lines = [line for line in chunk if asked(line)]
    found = dict(zip((line.number for line in lines), answer([line.text for line in lines]) if lines else []))
    return [found.get(line.number) for line in chunk]


def bounded(request: type, name: str) -> click.ParamType:
    """The command line's type for the field ``name`` of a library request: its bounds, as the
    request declares them (:func:`seq2text.generation.requests.about`)."""
    spec = next(f for f in dataclasses.fields(request) if f.name == name)
    low, high = spec.metadata["low"], spec.metadata["high"]
    if get_type_hints(request)[name] is float:
        return FiniteFloat(low, high, min_open=spec.metadata["open_low"])
    return click.IntRange(low, high)
