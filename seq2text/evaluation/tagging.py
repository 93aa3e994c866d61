"""``seq2text evaluate`` for taggers: token accuracy, accuracy on words unseen in training,
per-tag precision, recall and F1, the confusion matrix and the worst-tagged sentences, on the
recipe's held-out split (and its dev split beside it) or on a given CoNLL-U file."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

from seq2text.data.corpora import load_corpus
from seq2text.data.labels import label_ids
from seq2text.errors import Seq2TextError
from seq2text.evaluation.sections import Evaluation, Scoring, Section, count_of, learning_curves
from seq2text.plots import plot_confusion
from seq2text.scoring.labels import ClassScores, confusion
from seq2text.tagger import Tagger

WORST = 10  # the sentences with the most mistakes shown


@dataclass
class SplitScores:
    """The tags found for one split's sentences, and how they compare with the gold tags."""
    words: list[list[str]]
    gold: list[list[int]]
    found: list  # TaggedSentence per sentence
    tags: list[str]
    words_per_s: float

    @cached_property
    def scores(self) -> ClassScores:
        predicted = [self.tags.index(tag) for sentence in self.found for tag in sentence.tags]
        return ClassScores(confusion([tag for tags in self.gold for tag in tags], predicted, len(self.tags)))

    @cached_property
    def unknown(self) -> tuple[int, int]:
        """Words unseen in training: how many, and how many of them got the gold tag."""
        pairs = [(self.tags[gold] == tag) for sentence, tags in zip(self.found, self.gold)
                 for gold, tag, known in zip(tags, sentence.tags, sentence.known) if not known]
        return len(pairs), sum(pairs)

    def row(self, name: str) -> list:
        unknown, right = self.unknown
        return [name, len(self.words), sum(map(len, self.words)), f"{self.scores.accuracy:.2f}",
                f"{100.0 * right / unknown:.2f}" if unknown else "-", unknown, f"{self.scores.macro_f1:.2f}"]


def score_split(tagger, words: list[list[str]], tags: list[list[str]], where: str) -> SplitScores:
    """Tag the sentences ``words`` and compare with their gold ``tags`` (tags the model does not
    know are an error naming ``where``)."""
    gold = [label_ids(sentence, tagger.tags, where) for sentence in tags]
    started = time.perf_counter()
    found = tagger.tag_words(words)
    per_second = sum(map(len, words)) / (time.perf_counter() - started)
    return SplitScores(words, gold, found, tagger.tags, per_second)


def evaluate_tagging(loaded, scoring: Scoring) -> Evaluation:
    """The scores of the held-out split (and dev) or of the CoNLL-U file ``scoring.text``."""
    recipe, tagger = loaded.recipe, Tagger(loaded)
    # (summary key, corpus split, name in the report); the first is the one scored in detail
    if scoring.text is not None:
        data = recipe.data.model_copy(update={"train": str(scoring.text.resolve()), "valid": None, "test": None,
                                              "test_fraction": 0.0})
        corpus = load_corpus(recipe.model_copy(update={"data": data}))
        splits = [("file", "train", str(scoring.text))]
    else:
        corpus = load_corpus(recipe, held_out_only=True)
        splits = [("test", "test", "test split"), ("dev", "valid", "dev split")] if corpus.held_out == "test" \
            else [("dev", "valid", "dev split")]
    for _, split, name in splits:
        if not len(corpus[split]):
            raise Seq2TextError(f"{name}: no tagged sentence to score (the file is empty, or no sentence has every "
                                f"word's {recipe.data.tag_column})")
    scored = {key: (name, score_split(tagger, corpus[split]["words"], corpus[split]["tags"], name))
              for key, split, name in splits}
    main_name, main = next(iter(scored.values()))
    scores, tags = main.scores, tagger.tags
    per_tag = {tag: {"precision": round(p, 2), "recall": round(r, 2), "f1": round(f, 2), "support": support}
               for tag, p, r, f, support in zip(tags, scores.precision(), scores.recall(), scores.f1(),
                                               scores.matrix.sum(1).tolist())}
    summary = {"model": loaded.name, "task": loaded.task, "data": main_name, "tag_column": recipe.data.tag_column,
               **{key: _split_summary(found) for key, (_, found) in scored.items()},
               "tags": per_tag, "confusion": scores.matrix.tolist(), "words_per_s": round(main.words_per_s, 1)}
    evaluation = Evaluation(summary, [], f"{loaded.name}: {recipe.data.tag_column.upper()} tagging on the {main_name}")
    evaluation.add(Section(
        "Scores", f"Token accuracy with the treebank's own words (gold tokenization); unknown: words not in the "
        f"training vocabulary, tagged from their spelling and context; macro-F1: the unweighted mean of the tags' "
        f"F1.  {main.words_per_s:.0f} words/s in batches of 64 on {loaded.device}.",
        ["split", "sentences", "words", "accuracy %", "unknown-word accuracy %", "unknown words", "macro-F1 %"],
        [found.row(name) for name, found in scored.values()]))
    evaluation.add(Section("Per tag", f"On the {main_name}: precision and recall in percent; support: the words "
                           f"with that gold tag.", ["tag", "precision %", "recall %", "F1 %", "support"],
                           [[tag, *values.values()] for tag, values in per_tag.items()]))
    figure = None
    if scoring.figures is not None:
        figure = scoring.figures / "confusion.png"
        plot_confusion(tags, scores.matrix, figure)
    evaluation.add(Section("Confusion matrix", "Rows: gold tag; columns: predicted tag.", ["gold \\ predicted", *tags],
                           [[tag, *row] for tag, row in zip(tags, scores.matrix.tolist())],
                           [figure] if figure else []))
    evaluation.add(_worst(main))
    evaluation.add(learning_curves(loaded.history, scoring.figures))
    return evaluation


def _split_summary(found: SplitScores) -> dict:
    unknown, right = found.unknown
    return {"sentences": len(found.words), "words": sum(map(len, found.words)),
            "accuracy": round(found.scores.accuracy, 2), "unknown_words": unknown,
            "unknown_accuracy": round(100.0 * right / unknown, 2) if unknown else None,
            "macro_f1": round(found.scores.macro_f1, 2)}


def _worst(found: SplitScores) -> Section:
    """The sentences with the most mistakes, each word as ``word/TAG`` and a mistake as
    ``word/FOUND*GOLD*``."""
    mistakes = [sum(found.tags[g] != t for g, t in zip(gold, sentence.tags))
                for gold, sentence in zip(found.gold, found.found)]
    worst = sorted((i for i, count in enumerate(mistakes) if count), key=lambda i: (-mistakes[i], i))[:WORST]
    rows = [[" ".join(f"{word}/{tag}" + ("" if found.tags[gold] == tag else f"*{found.tags[gold]}*")
                      for word, tag, gold in zip(found.words[i], found.found[i].tags, found.gold[i])),
             mistakes[i], len(found.words[i])] for i in worst]
    return Section("The worst-tagged sentences", f"{count_of(len(worst), 'sentence')} with the most mistakes; a "
                   f"mistake reads word/FOUND*GOLD*.", ["sentence", "mistakes", "words"], rows)
