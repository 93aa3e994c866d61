"""``seq2text evaluate`` for classifiers: accuracy, macro-F1, per-label precision and recall,
the confusion matrix, the most confident mistakes and the attention over held-out texts (the
scores themselves are :mod:`seq2text.scoring.labels`)."""

from __future__ import annotations

import time

from seq2text.classifier import Classifier
from seq2text.data.corpora import load_corpus
from seq2text.data.labels import label_ids
from seq2text.errors import Seq2TextError, option
from seq2text.evaluation.sections import Evaluation, Scoring, Section, count_of, learning_curves
from seq2text.plots import plot_confusion
from seq2text.scoring.labels import ClassScores, confusion

MISTAKES = 10  # the most confident mistakes shown
SHADED = 8  # held-out texts shown with their attention weights


def evaluate_classification(loaded, scoring: Scoring):
    """Accuracy, macro-F1, per-label precision and recall, the confusion matrix, the most
    confident mistakes and (attention pooling) texts shaded by their weights, on the recipe's
    held-out split or on the labelled TSV/CSV file ``scoring.text`` (the recipe's columns)."""


    recipe, labels, labelled, figures = loaded.recipe, loaded.labels, scoring.text, scoring.figures
    if labelled is not None:
        if not labelled.is_file():
            what = "not a regular file (a device, a pipe or a folder)" if labelled.exists() else "no such file"
            raise Seq2TextError(f"{labelled}: {what}; {option('text')} names a labelled TSV or CSV file")
        data = recipe.data.model_copy(update={"train": str(labelled.resolve()), "valid": None, "test": None})
        corpus, split = load_corpus(recipe.model_copy(update={"data": data})), "train"
        where = str(labelled)
    else:
        corpus = load_corpus(recipe, held_out_only=True)
        split, where = corpus.held_out, f"{corpus.held_out} split"
    texts, gold_names = corpus[split]["text"], corpus[split]["label"]
    gold = label_ids(gold_names, labels, where)
    started = time.perf_counter()
    found = Classifier(loaded).classify(texts)
    per_second = len(texts) / (time.perf_counter() - started)
    predicted = [labels.index(prediction.label) for prediction in found]
    scores = ClassScores(confusion(gold, predicted, len(labels)))
    per_label = {label: {"precision": round(p, 2), "recall": round(r, 2), "f1": round(f, 2), "support": support}
                 for label, p, r, f, support in zip(labels, scores.precision(), scores.recall(), scores.f1(),
                                                   scores.matrix.sum(1).tolist())}
    summary = {"model": loaded.name, "task": loaded.task, "data": where, "examples": len(texts),
               "accuracy": round(scores.accuracy, 2), "macro_f1": round(scores.macro_f1, 2), "labels": per_label,
               "confusion": scores.matrix.tolist(), "texts_per_s": round(per_second, 1)}
    evaluation = Evaluation(summary, [], f"{loaded.name}: text classification on the {where}", language="zh")
    evaluation.add(Section("Scores", f"{count_of(len(texts), 'text')} ({where}), each read up to its first "
                           f"{recipe.data.max_length} tokens; macro-F1 is the unweighted mean of the labels' F1; "
                           f"{per_second:.0f} texts/s (tokenising included) in batches of 64 on {loaded.device}.",
                           ["accuracy %", "macro-F1 %"], [[f"{scores.accuracy:.2f}", f"{scores.macro_f1:.2f}"]]))
    figure = None
    if figures is not None:
        figure = figures / "confusion.png"
        plot_confusion(labels, scores.matrix, figure)
    evaluation.add(Section("Per label", "Precision and recall in percent; support: the texts with that gold label.",
                           ["label", "precision %", "recall %", "F1 %", "support"],
                           [[label, *values.values()] for label, values in per_label.items()]))
    evaluation.add(Section("Confusion matrix", "Rows: gold label; columns: predicted label.",
                           ["gold \\ predicted", *labels],
                           [[label, *row] for label, row in zip(labels, scores.matrix.tolist())],
                           [figure] if figure else []))
    wrong = sorted((i for i in range(len(texts)) if predicted[i] != gold[i]),
                   key=lambda i: -found[i].probability)[:MISTAKES]
    evaluation.add(Section("The most confident mistakes", "", ["text", "gold", "predicted", "probability"],
                           [[texts[i], gold_names[i], found[i].label, f"{found[i].probability:.3f}"]
                            for i in wrong]))
    if recipe.model.pooling == "attention":
        shown = [i for i in range(len(texts)) if len(found[i].tokens) <= 60][:SHADED]
        evaluation.add(Section(
            "What the attention read", "Texts shaded by the attention weight of each token (the darkest: the "
            "largest weight in that text; in report.md the three largest are in bold), with the gold and the "
            "predicted label.", shaded=[(f"gold {gold_names[i]}, predicted {found[i].label}",
                                         found[i].tokens, found[i].attention) for i in shown]))
    evaluation.add(learning_curves(loaded.history, figures))
    return evaluation
