"""``seq2text evaluate``: scores and reports."""

from __future__ import annotations

import json
from pathlib import Path

import click

from seq2text.cli.app import main
from seq2text.cli.options import MAX_BOOTSTRAP, device_option
from seq2text.generation.requests import MAX_BEAM, MAX_COUNT


@main.command()
@click.option("-m", "--model", required=True, help="Bundled model name or trained model folder.")
@click.option("--src", type=click.Path(dir_okay=False, path_type=Path),
              help="Source lines (translation, couplets) [default: the recipe's held-out split].")
@click.option("--ref", type=click.Path(dir_okay=False, path_type=Path), help="Reference lines, one per --src line.")
@click.option("--text", type=click.Path(dir_okay=False, path_type=Path),
              help="Text for a language model's perplexity, for a classifier a labelled TSV/CSV with "
                   "the recipe's columns, for a tagger a CoNLL-U file [default: the recipe's held-out split].")
@click.option("--beam-size", type=click.IntRange(1, MAX_BEAM), default=5, show_default=True,
              help="Beam scored beside greedy search (1: greedy only).")
@click.option("--bootstrap", type=click.IntRange(0, MAX_BOOTSTRAP), default=0, show_default=True,
              help="Resamples for 95% confidence intervals, as sacrebleu --confidence-n (0 = off).")
@click.option("--poems", type=click.IntRange(0, MAX_COUNT), default=200, show_default=True,
              help="Poetry models: poems generated per form for the verse rule rates, and in each "
                   "setting of the on-subject rates, spread over their 20 subjects (0 = skip).")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path),
              help="Write report.md, report.html (self-contained), metrics.json and the plots to DIR.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), envvar="SEQ2TEXT_DATA",
              help="Folder the recipe's data paths are relative to, for its held-out split "
                   "[env SEQ2TEXT_DATA; default: ../shared/data].")
@device_option
def evaluate(model: str, src: Path | None, ref: Path | None, text: Path | None, beam_size: int, bootstrap: int,
             poems: int, report: Path | None, data_root: Path | None, device: str) -> None:
    """Score a model: BLEU/chrF/TER, perplexity, verse rule rates.

    Translation and couplet models: greedy and beam outputs against references (couplets with
    characters as tokens), through sacrebleu, whose signatures are printed.  Language models:
    perplexity and, for characters, bits per character.  Poetry models: the rule rates of
    generated poems, held-out perplexity with and without titles, and how often poems written on
    20 subjects stay on them, with their diversity.  Classifiers: accuracy, macro-F1, per-label
    precision and recall, the confusion matrix.  Taggers: token accuracy, also on words unseen
    in training, on the held-out test split and the dev split; per-tag precision, recall and
    F1, the confusion matrix, the worst-tagged sentences.  A human-readable summary goes to
    stderr, one JSON line to stdout.

    \b
    Examples:
      seq2text evaluate -m multi30k-de-en --bootstrap 1000
      seq2text evaluate -m runs/multi30k_de_en/averaged --src test.de --ref test.en
      seq2text evaluate -m poems --report reports/poems
      seq2text evaluate -m sentiment-zh --report reports/sentiment-zh
      seq2text evaluate -m pos-en --text my-treebank.conllu
    """
    from seq2text.evaluation import evaluate as run_evaluation
    from seq2text.evaluation.report import write_report

    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
    evaluation = run_evaluation(model, src, ref, text, beam_size, bootstrap, poems, report, device, data_root)
    click.echo(f"{evaluation.title}", err=True)
    for section in evaluation.sections:
        if section.title in ("Scores", "Perplexity", "Couplet rules", "Generated poems: rule rates", "Per label",
                             "Per tag"):
            for row in [section.header, *section.rows]:
                click.echo("  " + "\t".join(str(v) for v in row), err=True)
    for metric, signature in evaluation.summary.get("signatures", {}).items():
        click.echo(f"  {metric} signature: {signature}", err=True)
    if report is not None:
        write_report(report, evaluation)
        click.echo(f"report: {report / 'report.html'}", err=True)
    click.echo(json.dumps(evaluation.summary, ensure_ascii=False))
