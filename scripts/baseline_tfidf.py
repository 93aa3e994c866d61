#!/usr/bin/env python3
"""The linear baseline for a classification recipe: character n-gram TF-IDF and a linear SVM.

    python scripts/baseline_tfidf.py recipes/sentiment_zh.yaml [--ngrams 1 3] [-C 0.5]

Reads the recipe's training and held-out splits exactly as `seq2text train` does (the same
loader, the same dropped rows), fits scikit-learn's TfidfVectorizer (characters, sublinear
term frequencies) and LinearSVC on the training split, and prints accuracy and macro-F1 on the
held-out split as one JSON line, scored by the same code as `seq2text evaluate`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from seq2text.data.corpora import load_corpus  # noqa: E402
from seq2text.data.labels import label_names  # noqa: E402
from seq2text.scoring.labels import ClassScores, confusion  # noqa: E402
from seq2text.recipe import load_recipe  # noqa: E402


def baseline(recipe_path: Path, ngrams: tuple[int, int] = (1, 3), c: float = 0.5,
             data_root: str | None = None) -> dict:
    recipe = load_recipe(recipe_path, data_root=data_root)
    corpus = load_corpus(recipe)
    train, held_out = corpus["train"], corpus[corpus.held_out]
    labels = label_names(train["label"])
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=ngrams, sublinear_tf=True, min_df=2)
    classifier = LinearSVC(C=c).fit(vectorizer.fit_transform(train["text"]), train["label"])
    predicted = classifier.predict(vectorizer.transform(held_out["text"]))
    index = {label: i for i, label in enumerate(labels)}
    scores = ClassScores(confusion([index[g] for g in held_out["label"]], [index[p] for p in predicted], len(labels)))
    return {"model": f"char {ngrams[0]}-{ngrams[1]}-gram TF-IDF + linear SVM (C={c})", "data": corpus.held_out,
            "examples": len(held_out), "accuracy": round(scores.accuracy, 2), "macro_f1": round(scores.macro_f1, 2),
            "features": len(vectorizer.vocabulary_), "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", type=Path)
    parser.add_argument("--ngrams", type=int, nargs=2, default=(1, 3), metavar=("MIN", "MAX"))
    parser.add_argument("-C", type=float, default=0.5, help="the SVM's inverse regularisation [0.5]")
    parser.add_argument("--data-root", help="the data root [../shared/data]")
    args = parser.parse_args()
    print(json.dumps(baseline(args.recipe, tuple(args.ngrams), args.C, args.data_root), ensure_ascii=False))


if __name__ == "__main__":
    main()
