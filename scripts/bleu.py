#!/usr/bin/env python3
"""Cased sacreBLEU (13a, detokenised) of a trained model folder on its recipe's splits.

    python scripts/bleu.py runs/multi30k_de_en/averaged [--split test] [--beam-size 5 --alpha 1.0]

The model folder is a checkpoint (``runs/<name>/checkpoints/step-N`` or ``runs/<name>/averaged``):
its own ``recipe.yaml`` names the data (under ``--data-root``/``SEQ2TEXT_DATA``/``../shared/data``)
and its ``tokenizer/`` is used.  Prints one JSON line per split with BLEU, loss and perplexity;
greedy search by default.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seq2text.errors import Seq2TextError  # noqa: E402
from seq2text.prepare import prepare  # noqa: E402
from seq2text.pretrained import load_model  # noqa: E402
from seq2text.recipe import load_recipe  # noqa: E402
from seq2text.training.feeds import PairFeed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--split", action="append", help="valid, test (default: both)")
    parser.add_argument("--data-root")
    parser.add_argument("--beam-size", type=int, default=1, help="1 = greedy [1]")
    parser.add_argument("--alpha", type=float, default=1.0, help="GNMT length penalty [1.0]")
    args = parser.parse_args()
    try:
        recipe = load_recipe(args.model / "recipe.yaml", data_root=args.data_root)
        data = prepare(recipe, args.model / "tokenizer", reuse=True)
        _, model, _, _ = load_model(args.model)
    except Seq2TextError as err:
        sys.exit(f"error: {err}")
    for split in args.split or ["valid", "test"]:
        scores = PairFeed(recipe, data).validate(model, split, torch.device("cpu"), args.beam_size, args.alpha)
        kept = data.splits[split]
        print(json.dumps({"split": split, "beam_size": args.beam_size, "alpha": args.alpha,
                          "sentences": len(kept.dataset), "of": kept.total, **scores.as_dict()}), flush=True)


if __name__ == "__main__":
    main()
