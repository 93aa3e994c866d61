"""The ``seq2text`` command line.

Errors in the user's input (:class:`~seq2text.errors.Seq2TextError`) are printed as one line
on stderr with exit code 2; ``--help`` on every command says what it does and what it reads.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

from seq2text import __version__
from seq2text.errors import Seq2TextError

FORMS = ["wuyan-jueju", "qiyan-jueju", "wuyan-lushi", "qiyan-lushi", "free", "couplet",
         "五言绝句", "七言绝句", "五言律诗", "七言律诗"]


class Seq2TextGroup(click.Group):
    """A click group that turns :class:`Seq2TextError` into ``error: ...`` and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Seq2TextError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)


def recipe_options(command: Callable) -> Callable:
    """RECIPE argument plus ``--set`` and ``--data-root``, shared by recipe-driven commands."""
    command = click.option("--data-root", type=click.Path(file_okay=False), envvar="SEQ2TEXT_DATA",
                           help="Folder recipe data paths are relative to "
                                "[env SEQ2TEXT_DATA; default: ../shared/data].")(command)
    command = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                           help="Override a recipe setting, e.g. --set model.hidden_size=512 "
                                "(repeatable).")(command)
    return click.argument("recipe", type=click.Path(dir_okay=False, path_type=Path))(command)


def not_yet(command: str, issue: str) -> None:
    """Stop a command that parses its options but cannot run yet."""
    raise Seq2TextError(f"seq2text {command} is not implemented yet ({issue}); "
                        f"so far 'seq2text prepare' and 'seq2text train' run")


@click.group(cls=Seq2TextGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seq2text")
def main() -> None:
    """Recurrent sequence models: translation, poems and couplets.

    Typical use: `seq2text prepare RECIPE` (tokenizers), `seq2text train RECIPE`,
    then `seq2text translate` / `seq2text generate` with the trained or a bundled model.
    """


@main.command()
@recipe_options
@click.option("--vocab-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to save the tokenizers [default: vocab/<recipe name>].")
def prepare(recipe: Path, overrides: tuple[str, ...], data_root: str | None,
            vocab_dir: Path | None) -> None:
    """Read the recipe's corpus, train its tokenizers and cache the token ids.

    Prints what was read, dropped (empty lines, lines over data.max_length tokens), the
    vocabulary size, the tokenizer training time and the padding overhead of the batches.
    """
    from seq2text.prepare import prepare as run_prepare
    from seq2text.recipe import load_recipe

    loaded = load_recipe(recipe, overrides, data_root)
    for line in run_prepare(loaded, vocab_dir).report:
        click.echo(line, err=True)


@main.command()
@recipe_options
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in the output folder.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Checkpoints, logs and plots [default: runs/<recipe name>].")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
def train(recipe: Path, overrides: tuple[str, ...], data_root: str | None, resume: bool,
          output_dir: Path | None, device: str) -> None:
    """Train the model a recipe describes (translation recipes so far).

    Validates and checkpoints every training.validate_every steps (default: each epoch) into
    OUTPUT_DIR/checkpoints; --resume continues from the latest checkpoint exactly.
    """
    from seq2text.recipe import load_recipe
    from seq2text.training.trainer import train as run_training

    run_training(load_recipe(recipe, overrides, data_root), output_dir, resume, device)


@main.command()
@click.argument("text", nargs=-1)
@click.option("-m", "--model", default="multi30k-de-en", show_default=True,
              help="Bundled model name or trained model folder.")
@click.option("-i", "--input", "input_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read sentences from FILE, one per line (default: TEXT arguments, else stdin).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write translations to FILE (default: stdout).")
@click.option("--beam-size", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--greedy", is_flag=True, help="Greedy search (same as --beam-size 1).")
@click.option("--nbest", type=click.IntRange(min=1), default=1, show_default=True,
              help="Print N hypotheses per sentence, tab-separated with their scores.")
@click.option("--length-penalty", type=float, default=1.0, show_default=True)
@click.option("--max-length", type=click.IntRange(min=1), help="Longest output in tokens.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option("--attention-plot", type=click.Path(file_okay=False, path_type=Path),
              help="Write an attention heat-map PNG per sentence to DIR.")
def translate(**options: Any) -> None:
    """Translate TEXT (or -i FILE, or stdin) with a trained or bundled model."""
    not_yet("translate", "see the issue on decoding")


@main.command()
@click.option("-m", "--model", help="Bundled model name or trained model folder.")
@click.option("--form", type=click.Choice(FORMS), default="qiyan-jueju", show_default=True,
              help="Poem form (Chinese names accepted) or couplet.")
@click.option("--acrostic", help="藏头诗: the first character of each line.")
@click.option("--prompt", help="Characters to continue from.")
@click.option("--first-line", help="Couplet: the 上联 to answer.")
@click.option("--rhyme/--no-rhyme", default=True, show_default=True)
@click.option("--tones/--no-tones", default=True, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0.0, min_open=True), default=1.0, show_default=True)
@click.option("--top-k", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--top-p", type=click.FloatRange(0.0, 1.0), default=1.0, show_default=True)
@click.option("--seed", type=int, help="Same seed, same poem.")
@click.option("--beam-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("-n", "count", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text",
              show_default=True)
def generate(**options: Any) -> None:
    """Write classical poems or the 下联 of a couplet."""
    not_yet("generate", "see the issues on poetry and couplets")


@main.command()
@click.option("-m", "--model", required=True, help="Bundled model name or trained model folder.")
@click.option("--src", type=click.Path(dir_okay=False, path_type=Path), help="Source sentences.")
@click.option("--ref", type=click.Path(dir_okay=False, path_type=Path), help="Reference sentences.")
@click.option("--text", type=click.Path(dir_okay=False, path_type=Path), help="Text for perplexity.")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path), help="Write a report to DIR.")
def evaluate(**options: Any) -> None:
    """Score a model: BLEU/chrF/TER, perplexity, verse rule rates."""
    not_yet("evaluate", "see the issue on evaluation")


@main.command()
def models() -> None:
    """List the models bundled with the package."""
    not_yet("models", "bundled models arrive with the decoding issue")


if __name__ == "__main__":
    main()
