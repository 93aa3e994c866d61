"""``seq2text translate``, ``classify`` and ``tag``: commands that answer input line by line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from seq2text.cli.app import main, print_error, print_warning
from seq2text.cli.options import MAX_BATCH, MAX_OUTPUT, FiniteFloat, answered, device_option, line_options, plot_title
from seq2text.errors import Seq2TextError
from seq2text.generation.requests import MAX_BEAM, MAX_COUNT, TranslationRequest


@main.command()
@line_options("multi30k-de-en", "sentences", "Write translations to FILE, line for line (default: stdout).",
              ensembles=True)
@click.option("--beam-size", type=click.IntRange(1, MAX_BEAM), help="Beam width [default: the model's, 5].")
@click.option("--greedy", is_flag=True, help="Greedy search (same as --beam-size 1).")
@click.option("--nbest", type=click.IntRange(1, MAX_BEAM), default=1, show_default=True,
              help="Print the N best hypotheses per sentence, one per line as TEXT<tab>SCORE.")
@click.option("--length-penalty", type=FiniteFloat(0.0, 100.0, min_open=False),
              help="GNMT length penalty alpha [default: the model's, 1.0]; 0 ranks by raw log-probability.")
@click.option("--coverage-penalty", type=FiniteFloat(0.0, 100.0, min_open=False), default=0.0, show_default=True,
              help="GNMT coverage penalty beta (0 = off).")
@click.option("--no-repeat-ngram", type=click.IntRange(0, 100), default=0, show_default=True,
              help="Never repeat an n-gram of this size in an output (0 = off).")
@click.option("--max-length", type=click.IntRange(1, MAX_OUTPUT),
              help="Longest output in pieces; never more than 2 x source + 10 [default: the model's "
                   "decoding.max_length, 100].")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=64, show_default=True,
              help="Sentences decoded together.")
@device_option
@click.option("--precision", type=click.Choice(["fp32", "bf16", "int8"]), default="fp32", show_default=True,
              help="bf16: faster matrix products on CPUs with bf16 support and on GPUs; int8: the linear layers "
                   "quantized to int8 (CPU).")
@click.option("--shortlist", is_flag=True,
              help="Score only the target pieces of the model's training data (its tokenizer folder's "
                   "shortlist.json): beam search about 1.2x faster, a few outputs change.")
@click.option("--attention-plot", type=click.Path(file_okay=False, path_type=Path),
              help="Write an attention heat-map per sentence to DIR/<line>.png.")
def translate(text: tuple[str, ...], model: tuple[str, ...], input_file: Path | None, output: Path | None,
              beam_size: int | None, greedy: bool, nbest: int, length_penalty: float | None,
              coverage_penalty: float, no_repeat_ngram: int, max_length: int | None, batch_size: int,
              device: str, precision: str, shortlist: bool, attention_plot: Path | None) -> None:
    """Translate TEXT arguments, or the lines of -i FILE, or stdin, with a trained or bundled model.

    One output line per input line (an empty line gives an empty line); with --nbest N, N lines
    per input.  Sources over 250 pieces are cut there, with a warning on stderr.

    \b
    Examples:
      seq2text translate "Ein Hund läuft durch den Schnee."
      seq2text translate -i test.de -o test.en --beam-size 10 --length-penalty 1.5
      cat test.de | seq2text translate -m runs/multi30k_de_en/averaged --greedy
      seq2text translate -i test.de -m runs/seed1/averaged -m runs/seed2/averaged   # ensemble
    """
    from seq2text.plots import plot_attention
    from seq2text.textio import Output, input_chunks
    from seq2text.translator import Translator

    if text and input_file is not None:
        raise Seq2TextError(f"-i {input_file}: give TEXT arguments or -i FILE, not both")
    translator = Translator.load(model, device, precision, shortlist)
    beam_size = 1 if greedy else (beam_size or translator.beam_size)
    TranslationRequest(beam_size=beam_size, nbest=nbest)  # --nbest at most --beam-size, checked before any work
    out = Output(output)
    for chunk in input_chunks(text, input_file, batch_size):
        results = translator.search([line.text for line in chunk], beam_size=beam_size, nbest=nbest,
                                    length_penalty=length_penalty, coverage_penalty=coverage_penalty,
                                    no_repeat_ngram=no_repeat_ngram, max_length=max_length,
                                    batch_size=batch_size)
        for line, result in zip(chunk, results):
            if result.truncated:
                print_warning(translator.truncation_note(line.label, result))
            if attention_plot is not None and line.text.strip():
                weights = translator.attention(line.text, result.hypotheses[0])
                plot_attention(weights.source, weights.target, weights.weights,
                               attention_plot / f"{line.number:04d}.png", plot_title(line.label, line.text))
        out.write([(h.text, f"{h.score:.4f}") if nbest > 1 else h.text
                   for result in results for h in result.hypotheses])
    out.close()


@main.command()
@line_options("sentiment-zh", "texts", "Write the labels to FILE, line for line (default: stdout).")
@click.option("--top-k", type=click.IntRange(1, MAX_COUNT), default=1, show_default=True,
              help="Labels per text, most probable first (text: LABEL<TAB>PROBABILITY pairs on one line).")
@click.option("--format", "output_format", type=click.Choice(["text", "jsonl"]), default="text", show_default=True,
              help="text: LABEL<TAB>PROBABILITY per line; jsonl: every label's probability.")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=64, show_default=True,
              help="Texts per batch.")
@device_option
def classify(text: tuple[str, ...], model: str, input_file: Path | None, output: Path | None, top_k: int,
             output_format: str, batch_size: int, device: str) -> None:
    """Label TEXT arguments, or the lines of -i FILE, or stdin, with a classification model.

    One output line per input line: LABEL<TAB>PROBABILITY (the most probable label).  An empty
    line gets an empty output line and a message on stderr, and the exit code is then 1.
    Texts longer than the model's data.max_length tokens are judged by their start, with a
    warning on stderr.

    \b
    Examples:
      seq2text classify "质量很好，非常满意" "太差了，再也不买了"
      seq2text classify -i reviews.txt --format jsonl
      seq2text classify -m runs/sentiment_zh --top-k 2 < reviews.txt
    """
    from seq2text.classifier import Classifier
    from seq2text.textio import Output, input_chunks

    if text and input_file is not None:
        raise Seq2TextError(f"-i {input_file}: give TEXT arguments or -i FILE, not both")
    classifier = Classifier.load(model, device)
    out, unanswered = Output(output), False
    for chunk in input_chunks(text, input_file, batch_size):
        rows = []
        for line, found in zip(chunk, answered(chunk, lambda texts: classifier.classify(texts, batch_size))):
            if found is None:
                print_error(f"{line.label}: empty, nothing to classify")
                unanswered = True
                rows.append("")
                continue
            if found.truncated:
                print_warning(f"{line.label}: {found.truncated} tokens, classified by the first "
                              f"{classifier.max_length}")
            if output_format == "jsonl":
                rows.append(json.dumps(found.to_dict(), ensure_ascii=False))
            else:
                rows.append(tuple(field for label, probability in found.top(top_k)
                                  for field in (label, f"{probability:.4f}")))
        out.write(rows)
    out.close()
    sys.exit(1 if unanswered else 0)


@main.command()
@line_options("pos-en", "sentences", "Write the tagged sentences to FILE (default: stdout).")
@click.option("--format", "output_format", type=click.Choice(["pairs", "tsv", "conllu", "jsonl"]), default="pairs",
              show_default=True,
              help="pairs: word/TAG pairs, a line per sentence; tsv: word<TAB>TAG, a line per word, a blank line "
                   "after each sentence; conllu: read CoNLL-U (-i FILE or stdin) and fill its tag column, every "
                   "other column kept; jsonl: each word with every tag's probability.")
@click.option("--pretokenized", is_flag=True,
              help="The words of each line are what spaces separate (default: split as the model's treebank is).")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH), default=64, show_default=True,
              help="Sentences per batch.")
@device_option
def tag(text: tuple[str, ...], model: str, input_file: Path | None, output: Path | None, output_format: str,
        pretokenized: bool, batch_size: int, device: str) -> None:
    """Tag every word of TEXT arguments, or of the lines of -i FILE, or of stdin (a sentence a line).

    English is split as the UD English Web Treebank is (contractions and punctuation apart:
    "can't" is ca + n't); Classical Chinese a character a word, with the longer words the model
    learned kept whole.  Each sentence is tagged whole, however long.  An empty line gets an
    empty output line.  The bundled models tag universal parts of speech (UPOS): pos-en for
    English, pos-lzh for Classical Chinese.

    \b
    Examples:
      seq2text tag "I can't believe it's not butter."
      seq2text tag -m pos-lzh 學而時習之
      seq2text tag --pretokenized --format tsv < sentences.txt
      seq2text tag --format conllu -i test.conllu -o tagged.conllu
    """
    from seq2text.tagger import Tagger
    from seq2text.textio import Output, input_chunks

    if text and input_file is not None:
        raise Seq2TextError(f"-i {input_file}: give TEXT arguments or -i FILE, not both")
    tagger = Tagger.load(model, device)
    out = Output(output)
    if output_format == "conllu":
        if text:
            raise Seq2TextError("--format conllu: reads CoNLL-U from -i FILE or stdin, not TEXT arguments")
        _tag_treebank(tagger, input_file, out, batch_size)
        out.close()
        return
    for chunk in input_chunks(text, input_file, batch_size):
        rows = []
        for sentence in answered(chunk, lambda texts: tagger.tag(texts, pretokenized, batch_size)):
            if output_format == "jsonl":
                rows.append(json.dumps(sentence.to_dict(top=len(tagger.tags)) if sentence else {"words": []},
                                       ensure_ascii=False))
            elif output_format == "tsv":
                rows += [(word, tag) for word, tag in sentence.pairs()] if sentence else []
                rows.append("")
            else:
                rows.append(str(sentence) if sentence else "")
        out.write(rows)
    out.close()


def _tag_treebank(tagger, input_file: Path | None, out, batch_size: int) -> None:
    """Fill the tag column of CoNLL-U input with ``tagger``'s tags, the rest kept as it was."""
    from seq2text.data.conllu import read_treebank, treebank_text
    from seq2text.textfile import iter_lines, read_lines

    where = Path(str(input_file) if input_file is not None else "<stdin>")
    lines = read_lines(input_file) if input_file is not None else list(iter_lines(sys.stdin.buffer, "<stdin>"))
    sentences = read_treebank(where, tagger.reading, text="\n".join(lines))
    wordless = [sentence.line for sentence in sentences if not sentence.words]
    if wordless:
        raise Seq2TextError(f"{where}:{wordless[0]}: a sentence with no word to tag")
    found = tagger.tag_words([sentence.words for sentence in sentences], batch_size)
    text = treebank_text(sentences, [sentence.tags for sentence in found], tagger.reading.tag_column)
    out.write([tuple(line.split("\t")) for line in text.split("\n")[:-1]])  # the columns stay columns
