#!/usr/bin/env python3
"""Learn the tables a verse model reads beside its weights (what ``Generator`` reads):

- ``tones.json``, the character tone table, from the tone marks of the training poems;
- ``tunes.json``, for a model trained on ci (``data.ci``): the tunes with at least 50 ci in the
  corpus and a pattern in ``cipu/cipai.jsonl``, each with the form most of its ci follow
  (:func:`seq2text.verse.tunes.choose_forms`).

    python scripts/learn_tones.py runs/tang_poetry/averaged
    python scripts/learn_tones.py runs/couplet/averaged
    python scripts/learn_tones.py runs/ci/checkpoints/step-0002241

Only the training split of the poems is read (the recipe's 2% hold-out stays unseen), all of
it even where the model read a share (``data.poems_fraction``); characters are mapped as the
model's tokenizer maps them (traditional to simplified).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seq2text.data.corpora import load_corpus  # noqa: E402
from seq2text.verse.forms import unlabelled  # noqa: E402
from seq2text.errors import Seq2TextError  # noqa: E402
from seq2text.pretrained import load_pretrained  # noqa: E402
from seq2text.verse.tones import ToneTable  # noqa: E402
from seq2text.atomic import write_text_atomic  # noqa: E402
from seq2text.data.ci import read_ci  # noqa: E402
from seq2text.data.tang import CleaningReport  # noqa: E402
from seq2text.model_folder import TUNES_FILE  # noqa: E402
from seq2text.verse.tunes import MIN_CI, PATTERNS, TuneBook, choose_forms, save_choices  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a trained Tang poetry or couplet model folder")
    args = parser.parse_args()
    try:
        loaded = load_pretrained(args.model)
        recipe, tokenizer = loaded.recipe, loaded.src
        if recipe.data.kind == "verse_pairs":  # a couplet model: the poems its pairs come from
            recipe = recipe.model_copy(update={"data": recipe.data.model_copy(update={"kind": "tang"})})
        if recipe.data.kind != "tang":
            raise Seq2TextError(f"{args.model}: not trained on the Tang poems (data.kind {recipe.data.kind})")
        ci = recipe.data.ci
        poems_only = recipe.data.model_copy(update={"poems_fraction": 1.0, "ci": None, "extra_poems": None})
        train = load_corpus(recipe.model_copy(update={"data": poems_only}))["train"]
        if ci:
            choices = _tunes(recipe)
    except Seq2TextError as err:
        sys.exit(f"error: {err}")
    if ci:
        path = loaded.folder.weights / TUNES_FILE
        write_text_atomic(path, save_choices(choices))
        print(f"{path}: {len(choices)} tunes with at least {MIN_CI} ci")
    poems = ((text, tones) for text, tones in zip(train["text"], train["tones"]) if tones)
    # The corpus text carries the form label; the marks cover only the poem after it.
    table = ToneTable.learn(((unlabelled(text), tones) for text, tones in poems), tokenizer.normalize)
    path = loaded.folder.weights / "tones.json"
    table.save(path)
    fixed = sum(table.tone(char) is not None for char in table.counts)
    print(f"{path}: {len(table.counts)} characters, {fixed} with a fixed tone")


def _tunes(recipe) -> list:
    """The tunes of the recipe's ci, read from its data root."""
    book = TuneBook.read(recipe.data_path(PATTERNS))
    report = CleaningReport()
    return choose_forms(book, ((ci["form"], ci["text"]) for ci in read_ci(recipe.data_path(recipe.data.ci), book,
                                                                          report)))


if __name__ == "__main__":
    main()
