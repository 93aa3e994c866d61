#!/usr/bin/env python3
"""Write ``shortlist.json`` (the target tokens of the training data) beside a translation
model's tokenizers, for a model prepared before ``seq2text prepare`` wrote it.

    python scripts/write_shortlist.py MODEL [--data-root DIR]

MODEL is a bundled name (its tokenizer folder in the repository's ``vocab/``) or a trained
model folder; its recipe's training data are read and tokenised again, as ``prepare`` does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seq2text.errors import Seq2TextError  # noqa: E402
from seq2text.prepare import prepare  # noqa: E402
from seq2text.model_folder import find_model  # noqa: E402
from seq2text.recipe import load_recipe  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--data-root", type=Path, help="where the recipe's data paths start [../shared/data]")
    args = parser.parse_args()
    try:
        folder = find_model(args.model)
        recipe = load_recipe(folder.weights / "recipe.yaml", data_root=args.data_root)
        if recipe.task != "translation":
            raise Seq2TextError(f"{args.model}: a {recipe.task} model; only translation models have a shortlist")
        prepared = prepare(recipe, folder.tokenizer, reuse=True)
    except Seq2TextError as err:
        sys.exit(f"error: {err}")
    print(next(line for line in prepared.report if line.startswith("shortlist")), f"-> {folder.tokenizer}")


if __name__ == "__main__":
    main()
