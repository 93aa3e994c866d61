#!/usr/bin/env python3
"""Perplexity of a trained language model on its recipe's splits (until `seq2text evaluate`).

    python scripts/perplexity.py runs/ptb_word_lm/checkpoints/step-N [--split test]

Reads the data the model's own ``recipe.yaml`` names (under ``--data-root``/``SEQ2TEXT_DATA``/
``../shared/data``) with the model's tokenizer, the way training validated: a text stream with
the state carried (``training.bptt``) or one sequence at a time.  Prints one JSON line per
split with the loss (nats per token), perplexity and, for characters, bits per
character.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seq2text.errors import Seq2TextError  # noqa: E402
from seq2text.pretrained import find_model, load_model  # noqa: E402
from seq2text.prepare import prepare  # noqa: E402
from seq2text.training.feeds import make_feed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a trained language model folder or bundled name")
    parser.add_argument("--split", action="append", help="valid, test (default: those present)")
    args = parser.parse_args()
    try:
        recipe, model, _, _ = load_model(args.model)
        if recipe.task != "lm":
            raise Seq2TextError(f"{args.model}: not a language model (task: {recipe.task})")
        data = prepare(recipe, find_model(args.model).tokenizer, reuse=True)
    except Seq2TextError as err:
        sys.exit(f"error: {err}")
    feed = make_feed(recipe, data)
    for split in args.split or [s for s in ("valid", "test") if s in data.splits]:
        scores = feed.validate(model, split, torch.device("cpu"))
        line = {"split": split, "loss": round(scores.loss, 4), "ppl": round(scores.perplexity, 2)}
        if recipe.tokenizer.type == "char":
            line["bits_per_char"] = round(scores.loss / math.log(2), 4)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
