"""``seq2text prepare``, ``train``, ``average`` and ``export``: making and copying model folders."""

from __future__ import annotations

from pathlib import Path

import click

from seq2text.cli.app import main
from seq2text.cli.options import device_option, recipe_options


@main.command()
@recipe_options
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="The run folder; the tokenizers go to OUTPUT_DIR/tokenizer, where `seq2text train` "
                   "finds them [default: runs/<recipe name>].")
def prepare(recipe: Path, overrides: tuple[str, ...], data_root: str | None, output_dir: Path | None) -> None:
    """Read the recipe's corpus, train its tokenizers and cache the token ids.

    Prints what was read, dropped (empty lines, lines over data.max_length tokens), the
    vocabulary size, the tokenizer training time and the padding overhead of the batches.
    Running it first is optional: `seq2text train` prepares what is missing.
    """
    from seq2text.model_folder import TOKENIZER_DIR
    from seq2text.prepare import prepare as run_prepare
    from seq2text.recipe import load_recipe
    from seq2text.training.trainer import run_folder

    loaded = load_recipe(recipe, overrides, data_root)
    for line in run_prepare(loaded, run_folder(loaded.name, output_dir) / TOKENIZER_DIR).report:
        click.echo(line, err=True)


@main.command()
@recipe_options
@click.option("--resume", is_flag=True,
              help="Continue from the last checkpoint in the output folder, with the recipe saved in it "
                   "(--set may then change only training.epochs, the learning rate and the like).")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Checkpoints, logs and plots [default: runs/<recipe name>].")
@device_option
def train(recipe: Path, overrides: tuple[str, ...], data_root: str | None, resume: bool,
          output_dir: Path | None, device: str) -> None:
    """Train the model a recipe describes (task: translation, couplet, lm, classification or tagging).

    Validates and checkpoints every training.validate_every steps (default: each epoch) into
    OUTPUT_DIR/checkpoints, and every training.checkpoint_every steps without validating;
    --resume continues from the latest checkpoint exactly.  Ctrl-C saves a checkpoint first
    (exit code 130).  OUTPUT_DIR/train.log keeps the whole story, with sample outputs.
    """
    from seq2text.recipe import load_recipe
    from seq2text.training.trainer import resume_recipe, run_folder, train as run_training

    if resume:
        name = load_recipe(recipe, (), data_root, check_files=False).name
        loaded, notes = resume_recipe(run_folder(name, output_dir), list(overrides), data_root)
        loaded.path = recipe
    else:
        loaded, notes = load_recipe(recipe, overrides, data_root), []
    run_training(loaded, output_dir, resume, device, notes)


@main.command()
@click.argument("checkpoints", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The model folder to write (created, or replaced if it holds only a model folder's files).")
@click.option("--force", is_flag=True, help="Replace OUTPUT even if it holds other files (they are deleted).")
def average(checkpoints: tuple[str, ...], output: Path, force: bool) -> None:
    """Average the weights of two or more CHECKPOINTS of one model into a new model folder.

    CHECKPOINTS are model folders (runs/NAME/checkpoints/step-N, an averaged folder, a bundled
    name) with the same recipe model section and tokenizers; the output keeps the first one's
    recipe and tokenizers and works with -m like any model folder.  Averaging the last or best
    checkpoints of one run usually gains a little BLEU or perplexity over the best alone.

    \b
    Example:
      seq2text average runs/multi30k_de_en/checkpoints/step-00* -o runs/multi30k_de_en/avg3
      seq2text evaluate -m runs/multi30k_de_en/avg3
    """
    from seq2text.training.averaging import average_models

    target = average_models(list(checkpoints), output, force)
    click.echo(f"averaged {len(checkpoints)} models -> {target}", err=True)


@main.command()
@click.option("-m", "--model", default="multi30k-de-en", show_default=True,
              help="Bundled name or trained model folder (a translation model with attention).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The folder to write (a new one, or one export wrote before).")
@click.option("--int8", is_flag=True, help="Quantize the weights of the matrix products to int8.")
@click.option("--force", is_flag=True, help="Replace OUTPUT even if it holds other files (they are deleted).")
def export(model: str, output: Path, int8: bool, force: bool) -> None:
    """Export a translation model to ONNX (encoder and one decoder step) for ONNX Runtime.

    The folder holds encoder.onnx, step.onnx, recipe.yaml and tokenizer/; `translate -m
    FOLDER` and `Translator.load(FOLDER)` run it on the CPU (the search stays in Python).
    With --int8 the weights of the matrix products are int8 (ONNX Runtime's dynamic
    quantization): faster on CPUs, BLEU within a few tenths.  Needs `pip install
    'seq2text[onnx]'`.

    \b
    Example:
      seq2text export -m multi30k-de-en -o exported/de-en-int8 --int8
      seq2text translate -m exported/de-en-int8 "Ein Hund läuft durch den Schnee."
    """
    from seq2text.export import export_onnx
    from seq2text.pretrained import load_pretrained

    target = export_onnx(load_pretrained(model), output, int8, force)
    click.echo(f"exported {model}{' (int8)' if int8 else ''} -> {target}", err=True)
