#!/usr/bin/env python3
"""Training speed: train a recipe for a fixed number of steps and print one line of figures.

    python scripts/bench_train.py [RECIPE] [--steps N] [--set KEY=VALUE ...] [--precision P ...] [--peer]

Default recipe: recipes/bench_joeynmt_gru.yaml (the JoeyNMT peer kit's model, pieces and
batches).  Prints ``train_tgt_pieces_per_s=N peak_rss_mb=N epoch_s=N``: real target pieces per
second (no padding, no </s>), peak resident memory, and the epoch time extrapolated from the
measured steps, once per ``--precision`` (fp32, bf16, fp16; default: the recipe's).  With
``--peer`` it then runs the JoeyNMT kit in ../shared/peers on a training subset (same machine,
same run) and prints its line and the ratio of each of ours to it.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peer import run_joeynmt  # noqa: E402
from seq2text.data.batching import BucketBatcher, collate_pairs  # noqa: E402
from seq2text.models import Seq2Seq  # noqa: E402
from seq2text.prepare import example_lengths, prepare  # noqa: E402
from seq2text.recipe import load_recipe  # noqa: E402
from seq2text.training.trainer import MixedPrecision, make_optimizer, train_step  # noqa: E402


def bench(recipe_path: Path, steps: int, warmup: int, overrides: list[str]) -> dict[str, float]:
    recipe = load_recipe(recipe_path, overrides)
    torch.manual_seed(recipe.seed)
    data = prepare(recipe, Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-vocab-{recipe.name}")
    config = recipe.training
    model = Seq2Seq(recipe.model, data.src.vocab_size, data.tgt.vocab_size)
    optimizer = make_optimizer(model, config)
    precision = MixedPrecision(config.precision, torch.device("cpu"))
    batches = BucketBatcher(example_lengths(data.splits["train"]), config.batch_size, config.batch_tokens,
                            config.bucket_pool, recipe.seed).batches(0)
    dataset = data.splits["train"].dataset
    pieces, seconds = 0, 0.0
    for index, ids in enumerate(batches[:warmup + steps]):
        rows = dataset[ids]
        started = time.perf_counter()
        batch = collate_pairs(rows["src_ids"], rows["tgt_ids"])
        train_step(model, optimizer, batch, config, config.learning_rate, precision)
        if index >= warmup:
            seconds += time.perf_counter() - started
            pieces += sum(map(len, rows["tgt_ids"]))
    all_pieces = sum(map(len, dataset["tgt_ids"]))
    return {"train_tgt_pieces_per_s": pieces / seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "epoch_s": all_pieces / (pieces / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", nargs="?", type=Path, default=ROOT / "recipes" / "bench_joeynmt_gru.yaml")
    parser.add_argument("--steps", type=int, default=100, help="measured steps [100]")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured first steps [5]")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--precision", action="append", choices=["fp32", "bf16", "fp16"],
                        help="training.precision to measure (repeatable)")
    parser.add_argument("--peer", action="store_true", help="also run the JoeyNMT kit (../shared/peers)")
    parser.add_argument("--peer-subset", type=int, default=3200, help="JoeyNMT training pairs [3200]")
    args = parser.parse_args()
    results = {}
    for precision in args.precision or [None]:
        extra = [f"training.precision={precision}"] if precision else []
        results[precision] = bench(args.recipe, args.steps, args.warmup, args.overrides + extra)
        label = f"precision={precision} " if precision else ""
        print(label + " ".join(f"{key}={value:.0f}" for key, value in results[precision].items()), flush=True)
    if args.peer:
        peer = run_joeynmt(train_subset=args.peer_subset)
        print(f"joeynmt: train_tgt_pieces_per_s={peer['train_tgt_pieces_per_s']} "
              f"peak_rss_mb={peer['peak_rss_mb']} epoch1_train_s={peer['epoch1_train_s']} "
              f"(subset {args.peer_subset})")
        for precision, ours in results.items():
            ratio = ours["train_tgt_pieces_per_s"] / float(peer["train_tgt_pieces_per_s"])
            print(f"ratio seq2text{f' {precision}' if precision else ''}/joeynmt: {ratio:.2f}")


if __name__ == "__main__":
    main()
