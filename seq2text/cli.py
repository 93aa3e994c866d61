"""The ``seq2text`` command line.

Errors in the user's input (:class:`~seq2text.errors.Seq2TextError`) are printed as one line
on stderr with exit code 2; ``--help`` on every command says what it does and what it reads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from seq2text import __version__
from seq2text.errors import Seq2TextError

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
    """Train the model a recipe describes: a translation model or a language model (task: lm).

    Validates and checkpoints every training.validate_every steps (default: each epoch) into
    OUTPUT_DIR/checkpoints; --resume continues from the latest checkpoint exactly.
    """
    from seq2text.recipe import load_recipe
    from seq2text.training.trainer import train as run_training

    run_training(load_recipe(recipe, overrides, data_root), output_dir, resume, device)


@main.command()
@click.argument("text", nargs=-1)
@click.option("-m", "--model", default="multi30k-de-en", show_default=True,
              help="Bundled model name (see `seq2text models`) or a trained model folder.")
@click.option("-i", "--input", "input_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read sentences from FILE, one per line (default: TEXT arguments, else stdin).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write translations to FILE, line for line (default: stdout).")
@click.option("--beam-size", type=click.IntRange(min=1), help="Beam width [default: the model's, 5].")
@click.option("--greedy", is_flag=True, help="Greedy search (same as --beam-size 1).")
@click.option("--nbest", type=click.IntRange(min=1), default=1, show_default=True,
              help="Print the N best hypotheses per sentence, one per line as TEXT<tab>SCORE.")
@click.option("--length-penalty", type=click.FloatRange(min=0.0),
              help="GNMT length penalty alpha [default: the model's, 1.0]; 0 ranks by raw log-probability.")
@click.option("--coverage-penalty", type=click.FloatRange(min=0.0), default=0.0, show_default=True,
              help="GNMT coverage penalty beta (0 = off).")
@click.option("--no-repeat-ngram", type=click.IntRange(min=0), default=0, show_default=True,
              help="Never repeat an n-gram of this size in an output (0 = off).")
@click.option("--max-length", type=click.IntRange(min=1),
              help="Longest output in pieces [default: 2 x source + 10].")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Sentences decoded together.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default="fp32", show_default=True,
              help="bf16: faster matrix products on CPUs with bf16 support and on GPUs.")
@click.option("--attention-plot", type=click.Path(file_okay=False, path_type=Path),
              help="Write an attention heat-map per sentence to DIR/<line>.png.")
def translate(text: tuple[str, ...], model: str, input_file: Path | None, output: Path | None,
              beam_size: int | None, greedy: bool, nbest: int, length_penalty: float | None,
              coverage_penalty: float, no_repeat_ngram: int, max_length: int | None, batch_size: int,
              device: str, precision: str, attention_plot: Path | None) -> None:
    """Translate TEXT arguments, or the lines of -i FILE, or stdin, with a trained or bundled model.

    One output line per input line (an empty line gives an empty line); with --nbest N, N lines
    per input.  Sources over 250 pieces are cut there, with a warning on stderr.

    \b
    Examples:
      seq2text translate "Ein Hund läuft durch den Schnee."
      seq2text translate -i test.de -o test.en --beam-size 10 --length-penalty 1.5
      cat test.de | seq2text translate -m runs/multi30k_de_en/averaged --greedy
    """
    from seq2text.plots import plot_attention
    from seq2text.textio import Output, input_chunks
    from seq2text.translator import Translator

    translator = Translator.load(model, device, precision)
    beam_size = 1 if greedy else (beam_size or translator.beam_size)
    if nbest > beam_size:
        raise Seq2TextError(f"--nbest {nbest} needs --beam-size of at least {nbest}")
    out = Output(output)
    for chunk in input_chunks(text, input_file, batch_size):
        results = translator.search([line.text for line in chunk], beam_size=beam_size, nbest=nbest,
                                    length_penalty=length_penalty, coverage_penalty=coverage_penalty,
                                    no_repeat_ngram=no_repeat_ngram, max_length=max_length,
                                    batch_size=batch_size)
        for line, result in zip(chunk, results):
            if result.truncated:
                click.echo(f"warning: {translator.truncation_note(line.label, result)}", err=True)
            if attention_plot is not None and line.text.strip():
                weights = translator.attention(line.text, result.hypotheses[0])
                plot_attention(weights.source, weights.target, weights.weights,
                               attention_plot / f"{line.number:04d}.png")
        out.write([f"{h.text}\t{h.score:.4f}" if nbest > 1 else h.text
                   for result in results for h in result.hypotheses])
    out.close()


@main.command()
@click.option("-m", "--model", help="Bundled model name (see `seq2text models`) or a trained model folder "
                                    "[default: tang-poetry, for couplets: couplet].")
@click.option("--form", help="wuyan-jueju, qiyan-jueju, wuyan-lushi, qiyan-lushi, free (or 五言绝句, 七言绝句, "
                           "五言律诗, 七言律诗), or couplet [default: qiyan-jueju; couplet with --first-line].")
@click.option("--acrostic", help="藏头诗: the first character of each line (4 or 8 characters).")
@click.option("--prompt", help="The poem's first characters, continued by the model.")
@click.option("--first-line", help="Couplet: the 上联 to answer [default: one 上联 per line of stdin].")
@click.option("--rhyme/--no-rhyme", default=True, show_default=True,
              help="Even lines end in one level-tone rhyme group (regulated forms).")
@click.option("--tones/--no-tones", default=True, show_default=True,
              help="The 平仄 rules of regulated verse.")
@click.option("--rhyme-table", type=click.Path(dir_okay=False, path_type=Path),
              help="The 平水韵 table [default: rhyme/pingshuiyun.txt under the data root if there, "
                   "else modern readings].")
@click.option("--temperature", type=click.FloatRange(min=0.0, min_open=True), default=0.8, show_default=True)
@click.option("--top-k", type=click.IntRange(min=0), default=0, show_default=True, help="0 = no limit.")
@click.option("--top-p", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.9, show_default=True)
@click.option("--seed", type=int, help="Same seed, same poems [default: random, printed with --format jsonl].")
@click.option("--beam-size", type=click.IntRange(min=1),
              help="Beam search under the same rules; 1 samples [default: poems 1, couplets 5].")
@click.option("-n", "--nbest", "count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Number of poems, or of 下联 per 上联 (one per line as TEXT<tab>LOG-PROB).")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text",
              show_default=True, help="text: the poems, a blank line between (couplets: one 下联 per "
                                      "line); jsonl: one JSON object per poem or 下联 with its rule checks.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
def generate(model: str | None, form: str | None, acrostic: str | None, prompt: str | None, first_line: str | None,
             rhyme: bool, tones: bool, rhyme_table: Path | None, temperature: float, top_k: int, top_p: float,
             seed: int | None, beam_size: int | None, count: int, output_format: str, device: str) -> None:
    """Write classical poems, or with --form couplet the 下联 of each 上联.

    Poems are sampled (or found by --beam-size N) under the rules of the form.  A 下联 has the
    上联's length and punctuation, mirrors its repeated characters, never repeats its character
    at the same position and ends on a level tone.  A 上联 the model cannot answer (empty, only
    punctuation, over 50 characters, Latin letters) gets a message on stderr
    and an empty output line; the others are answered, and the exit code is then 1.

    \b
    Examples:
      seq2text generate --form 七言绝句
      seq2text generate --form 五言绝句 --acrostic 春夏秋冬 --seed 7
      seq2text generate --form qiyan-lushi --prompt 明月 -n 3 --format jsonl
      seq2text generate --form couplet --first-line 海阔凭鱼跃 -n 3
      seq2text generate --form couplet < first_lines.txt > second_lines.txt
    """
    from seq2text.generator import Generator

    if form == "couplet" or first_line is not None:
        if form not in (None, "couplet"):
            raise Seq2TextError(f"--first-line answers a couplet; it does not go with --form {form}")
        if acrostic or prompt:
            raise Seq2TextError("--acrostic and --prompt are for poems, not couplets")
        generator = Generator.load(model or "couplet", device)
        sys.exit(_couplets(generator, first_line, count, beam_size or 5, temperature, top_k, top_p, seed,
                           output_format))
    generator = Generator.load(model or "tang-poetry", device, rhyme_table)
    poems = generator.poems(form or "qiyan-jueju", count, acrostic, prompt, rhyme, tones, temperature, top_k, top_p,
                            seed, beam_size or 1)
    for number, poem in enumerate(poems):
        if output_format == "jsonl":
            click.echo(json.dumps({"text": poem.text, "form": poem.form, "seed": poem.seed,
                                   "log_prob": round(poem.log_prob, 3), "checks": poem.checks}, ensure_ascii=False))
        else:
            click.echo(("\n" if number else "") + "\n".join(poem.lines()))


def _couplets(generator, first_line: str | None, count: int, beam_size: int, temperature: float, top_k: int,
              top_p: float, seed: int | None, output_format: str) -> int:
    """Answer ``--first-line`` or every stdin line; the exit code (1 if some lines had to be skipped)."""
    from seq2text.textio import Output, input_chunks

    out, skipped = Output(None), 0
    for chunk in input_chunks([first_line] if first_line is not None else [], None, 64):
        problems = [generator.first_line_problem(line.text) for line in chunk]
        if first_line is not None and problems[0]:
            raise Seq2TextError(f"--first-line {first_line!r}: {problems[0]}")
        good = [line for line, problem in zip(chunk, problems) if not problem]
        answers = dict(zip((line.number for line in good),
                           generator.couplets([line.text for line in good], count, beam_size, temperature,
                                              top_k, top_p, seed)))
        for line, problem in zip(chunk, problems):
            if problem:
                skipped += 1
                click.echo(f"{line.label}: {problem}", err=True)
                out.write([json.dumps({"first": line.text, "error": problem}, ensure_ascii=False)
                           if output_format == "jsonl" else ""])
            elif output_format == "jsonl":
                out.write([json.dumps({"first": c.first, "second": c.second, "log_prob": round(c.log_prob, 3),
                                       "checks": c.checks}, ensure_ascii=False) for c in answers[line.number]])
            else:
                out.write([f"{c.second}\t{c.log_prob:.3f}" if count > 1 else c.second for c in answers[line.number]])
    return 1 if skipped else 0


@main.command()
@click.option("-m", "--model", required=True, help="Bundled model name or trained model folder.")
@click.option("--src", type=click.Path(dir_okay=False, path_type=Path),
              help="Source lines (translation, couplets) [default: the recipe's held-out split].")
@click.option("--ref", type=click.Path(dir_okay=False, path_type=Path), help="Reference lines, one per --src line.")
@click.option("--text", type=click.Path(dir_okay=False, path_type=Path),
              help="Text for a language model's perplexity [default: the recipe's held-out split].")
@click.option("--beam-size", type=click.IntRange(min=1), default=5, show_default=True,
              help="Beam scored beside greedy search (1: greedy only).")
@click.option("--bootstrap", type=click.IntRange(min=0), default=0, show_default=True,
              help="Resamples for 95% confidence intervals, as sacrebleu --confidence-n (0 = off).")
@click.option("--poems", type=click.IntRange(min=0), default=200, show_default=True,
              help="Tang models: poems generated per form for the verse rule rates (0 = skip).")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path),
              help="Write report.md, report.html (self-contained), metrics.json and the plots to DIR.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or cuda:N.")
def evaluate(model: str, src: Path | None, ref: Path | None, text: Path | None, beam_size: int, bootstrap: int,
             poems: int, report: Path | None, device: str) -> None:
    """Score a model: BLEU/chrF/TER, perplexity, verse rule rates.

    Translation and couplet models: greedy and beam outputs against references (couplets with
    characters as tokens), through sacrebleu, whose signatures are printed.  Language models:
    perplexity and, for characters, bits per character.  Tang poetry models: the rule rates of
    generated poems.  A human-readable summary goes to stderr, one JSON line to stdout.

    \b
    Examples:
      seq2text evaluate -m multi30k-de-en --bootstrap 1000
      seq2text evaluate -m runs/multi30k_de_en/averaged --src test.de --ref test.en
      seq2text evaluate -m tang-poetry --report reports/tang-poetry
    """
    from seq2text.evaluation import evaluate as run_evaluation
    from seq2text.evaluation.report import write_report

    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
    evaluation = run_evaluation(model, src, ref, text, beam_size, bootstrap, poems, report, device)
    click.echo(f"{evaluation.title}", err=True)
    for section in evaluation.sections:
        if section.title in ("Scores", "Perplexity", "Couplet rules", "Generated poems: rule rates"):
            for row in [section.header, *section.rows]:
                click.echo("  " + "\t".join(str(v) for v in row), err=True)
    for metric, signature in evaluation.summary.get("signatures", {}).items():
        click.echo(f"  {metric} signature: {signature}", err=True)
    if report is not None:
        write_report(report, evaluation)
        click.echo(f"report: {report / 'report.html'}", err=True)
    click.echo(json.dumps(evaluation.summary, ensure_ascii=False))


@main.command()
def models() -> None:
    """List the models bundled with the package: name, task, size and description."""
    from seq2text.pretrained import bundled_models

    for card in bundled_models():
        click.echo(f"{card['name']}\t{card['task']}\t{card['size_mb']:.1f} MB\t{card['description']}")


if __name__ == "__main__":
    main()
