"""Language models: perplexity on held-out text, and for Tang poetry models the verse rates.

The text is the recipe's test split (else its validation split) or the lines of ``--text``,
read the way training validated: one stream with the state carried (``training.bptt``) or
one sequence per line.  Every line's ``</s>`` counts as a token.
"""

from __future__ import annotations

import math

from seq2text.data.corpora import load_corpus
from seq2text.textfile import read_lines
from seq2text.errors import Seq2TextError
from seq2text.evaluation.ci import ci_rates
from seq2text.evaluation.sections import Evaluation, Scoring, Section, count_of, learning_curves
from seq2text.evaluation.subjects import corpus_reader, subject_rates, title_perplexities
from seq2text.evaluation.verse import verse_rates
from seq2text.generator import Generator
from seq2text.pretrained import Pretrained
from seq2text.scoring.perplexity import score_sequences, score_stream
from seq2text.verse.forms import unlabelled, verse_lines


def evaluate_lm(loaded: Pretrained, scoring: Scoring) -> Evaluation:
    recipe, tokenizer, name = loaded.recipe, loaded.src, loaded.name
    text, poems, figures = scoring.text, scoring.poems, scoring.figures
    verse = recipe.data.kind == "tang" and poems > 0 and text is None  # --text: the file's perplexity alone
    corpus = load_corpus(recipe, held_out_only=not verse) if text is None or verse else None  # read once: held-out and training poems
    if text is not None:
        lines, where = [line for line in read_lines(text) if line.strip()], str(text)
    else:
        lines, where = corpus[corpus.held_out]["text"], f"{corpus.held_out} split"
    if not lines:
        raise Seq2TextError(f"{where}: no text to score (every line is empty)")
    ids = [tokenizer.encode(line) for line in lines]
    if recipe.training.bptt:
        scores = score_stream(loaded.model, ids, loaded.device, recipe.training.bptt, progress=True)
    else:
        scores = score_sequences(loaded.model, ids, loaded.device, progress=True)
    summary = {"model": name, "task": loaded.task, "data": where, "lines": len(lines), "tokens": scores.tokens,
               "loss": round(scores.loss, 4), "ppl": round(scores.perplexity, 2)}
    if recipe.tokenizer.type == "char":
        summary["bits_per_char"] = round(scores.loss / math.log(2), 4)
    unit = "character" if recipe.tokenizer.type == "char" else "token"
    evaluation = Evaluation(summary, [Section(
        "Perplexity", f"Per-{unit} perplexity over {count_of(scores.tokens, 'token')} of "
        f"{count_of(len(lines), 'line')} ({where}); "
        "every line end counts as a token.", ["loss (nats)", "perplexity", "bits per character"],
        [[f"{scores.loss:.4f}", f"{scores.perplexity:.2f}", summary.get("bits_per_char", "")]])],
        f"{name}: language model on the {where}", language="zh" if recipe.data.kind == "tang" else "en")
    evaluation.add(learning_curves(loaded.history, figures))
    if verse:
        generator = Generator(loaded)
        if recipe.data.ci:
            summary["ci"] = _ci(generator, corpus, evaluation, max(1, poems // 20))
            return evaluation

        rates, sections = verse_rates(generator, corpus["train"]["text"], poems)
        summary["verse"] = rates
        for section in sections:
            evaluation.add(section)
        summary["subjects"] = _subjects(generator, corpus, evaluation, max(1, poems // 20))
    return evaluation


def _subjects(generator, corpus, evaluation: Evaluation, per_subject: int) -> dict:
    """The sections of :mod:`seq2text.evaluation.subjects` (``per_subject`` poems on each of its
    20 subjects), and their figures for the summary."""
    perplexities, section = title_perplexities(generator.loaded, corpus[corpus.held_out])
    evaluation.add(section)
    reader, accuracy, named, corpus_lines, held_out = corpus_reader(generator, corpus)
    rates, section = subject_rates(generator, reader, corpus_lines, per_subject, held_out)
    section.text += (f" The reader assigns {accuracy}% of the {named} held-out corpus poems whose titles name one "
                     f"of the subjects to it.")
    evaluation.add(section)
    return {"perplexity": perplexities, "reader_accuracy": accuracy, "reader_poems": named, "poems": rates}


def _ci(generator, corpus, evaluation: Evaluation, per_tune: int) -> dict:
    """The sections of :mod:`seq2text.evaluation.ci` (``per_tune`` ci on each common tune)."""
    normalize, ci = generator.tokenizer.normalize, generator.loaded.recipe.data.ci
    reader, accuracy, named, corpus_lines, _ = corpus_reader(generator)
    corpus_lines |= {line for split in (corpus["train"], corpus[corpus.held_out])
                     for text, name in zip(split["text"], split["corpus"]) if name == ci
                     for line in verse_lines(normalize(unlabelled(text)))}
    held_out = corpus[corpus.held_out]
    human = [(form, unlabelled(text)) for text, form, name in zip(held_out["text"], held_out["form"], held_out["corpus"])
             if name == ci]
    rates, sections = ci_rates(generator, reader, corpus_lines, human, per_tune)
    sections[0].text += f" The subject reader assigns {accuracy}% of {named} held-out titled poems to their subject."
    for section in sections:
        evaluation.add(section)
    return rates
