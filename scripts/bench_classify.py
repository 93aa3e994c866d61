#!/usr/bin/env python3
"""Throughput of a classifier: reviews per second in batches and one at a time.

    python scripts/bench_classify.py [-m sentiment-zh] [--batch-size 64] [--single 300]

Classifies the recipe's held-out texts through ``Classifier.classify`` (tokenising included),
first all of them in batches of ``--batch-size``, then the first ``--single`` one call each,
as a web service answering one request at a time would; prints one JSON line.  Run it on a
quiet machine: a training run beside it halves the figures or worse.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seq2text import Classifier  # noqa: E402
from seq2text.data.corpora import load_corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--model", default="sentiment-zh")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--single", type=int, default=300, help="texts classified one call each [300]")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    classifier = Classifier.load(args.model, args.device)
    corpus = load_corpus(classifier.loaded.recipe)
    texts = corpus[corpus.held_out]["text"]
    classifier.classify(texts[:64])  # warm-up
    started = time.perf_counter()
    classifier.classify(texts, batch_size=args.batch_size)
    batched = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    for text in texts[:args.single]:
        classifier.classify(text)
    single = args.single / (time.perf_counter() - started)
    print(json.dumps({"model": args.model, "texts": len(texts), "batch_size": args.batch_size,
                      "batched_per_s": round(batched, 1), "single_per_s": round(single, 1),
                      "threads": torch.get_num_threads(), "device": args.device}))


if __name__ == "__main__":
    main()
