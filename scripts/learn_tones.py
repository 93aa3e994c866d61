#!/usr/bin/env python3
"""Learn the character tone table of a Tang poetry or couplet model from the tone marks of its
training poems and save it beside the weights as ``tones.json`` (what ``Generator`` reads).

    python scripts/learn_tones.py runs/tang_poetry/averaged
    python scripts/learn_tones.py runs/couplet/averaged

Only the training split of the poems is read (the recipe's 2% hold-out stays unseen);
characters are mapped as the model's tokenizer maps them (traditional to simplified).
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
        train = load_corpus(recipe)["train"]
    except Seq2TextError as err:
        sys.exit(f"error: {err}")
    poems = ((text, tones) for text, tones in zip(train["text"], train["tones"]) if tones)
    # The corpus text carries the form label; the marks cover only the poem after it.
    table = ToneTable.learn(((unlabelled(text), tones) for text, tones in poems), tokenizer.normalize)
    path = loaded.folder.weights / "tones.json"
    table.save(path)
    fixed = sum(table.tone(char) is not None for char in table.counts)
    print(f"{path}: {len(table.counts)} characters, {fixed} with a fixed tone")


if __name__ == "__main__":
    main()
