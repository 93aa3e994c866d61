#!/usr/bin/env python3
"""Training speed against JoeyNMT: the same steps on the same batches, medians of 3 runs.

    python scripts/bench_train.py [RECIPE] [--steps N] [--repeats 3] [--precision P ...] [--peer]
                                  [--set KEY=VALUE ...]

Default recipe: recipes/bench_joeynmt_gru.yaml (the JoeyNMT peer kit's model and pieces).  The
batches are the kit's: training sentences in random order, 64 at a time, pairs over 80 pieces
left out; both toolkits get the same ``--warmup + --steps`` batches (line numbers of the training
files) and time each step from the token lists to the updated weights.  Each repeat trains a
fresh model per ``--precision`` (fp32, bf16, fp16; default: fp32; bf16 is skipped on a CPU
without AVX512-BF16 or AMX, where it is emulated) and, with ``--peer``, runs
JoeyNMT 2.3 (the kit's venv, fp32) on the same batches.  Prints one line per run, then the
median and range of target pieces per second (no padding, no ``</s>``) and the ratios of the
medians.  Then the roofline: the warm-up steps are counted (``FlopCounterMode``: matrix-product
FLOPs, and the shape of every product), products of exactly those shapes are timed alone, and
each system's achieved FLOP rate (median pieces/s x FLOPs per piece) is printed as a share of
that rate (:mod:`seq2text.training.flops`).  Needs a quiet machine: the load average is checked
first.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peer import batch_plan, check_peer, joeynmt_steps, kit_pieces, median_spread, warn_if_loaded  # noqa: E402
from seq2text.data.batching import collate_pairs  # noqa: E402
from seq2text.textfile import read_lines  # noqa: E402
from seq2text.models import Seq2Seq  # noqa: E402
from seq2text.prepare import prepare  # noqa: E402
from seq2text.recipe import Recipe, load_recipe  # noqa: E402
from seq2text.training.flops import StepCount, count_step, gemm_seconds  # noqa: E402
from seq2text.training.trainer import MixedPrecision, make_optimizer, native_bf16, train_step  # noqa: E402


def ours(recipe: Recipe, batches: list[list[int]], warmup: int) -> dict:
    """Our training steps on ``batches`` (line numbers of the recipe's training files); the
    ``warmup`` steps are not timed but counted (:func:`count_step`): their FLOPs, target
    pieces and matrix-product shapes."""
    torch.manual_seed(recipe.seed)
    # Tokenizers kept between runs, one folder per tokenizer section (an edited recipe trains anew).
    key = hashlib.sha1(recipe.tokenizer.model_dump_json().encode()).hexdigest()[:10]
    data = prepare(recipe, Path(tempfile.gettempdir()) / f"bench-vocab-{recipe.name}-{key}", reuse=True)
    prefix = recipe.data_path(recipe.data.train)
    src = read_lines(Path(f"{prefix}.{recipe.data.src_lang}"))
    tgt = read_lines(Path(f"{prefix}.{recipe.data.tgt_lang}"))
    config = recipe.training
    model = Seq2Seq(recipe.model, data.src.vocab_size, data.tgt.vocab_size)
    optimizer = make_optimizer(model, config)
    precision = MixedPrecision(config.precision, torch.device("cpu"))
    model.train()
    seconds, pieces, counted, counted_pieces = 0.0, 0, StepCount(0), 0
    for index, lines in enumerate(batches):
        started = time.perf_counter()
        targets = [data.tgt.encode(tgt[k]) for k in lines]
        batch = collate_pairs([data.src.encode(src[k]) for k in lines], targets)
        if index < warmup:
            step = count_step(lambda: train_step(model, optimizer, batch, config, config.learning_rate, precision))
            counted = StepCount(counted.flops + step.flops, counted.gemms + step.gemms)
            counted_pieces += sum(map(len, targets))
            continue
        train_step(model, optimizer, batch, config, config.learning_rate, precision)
        seconds += time.perf_counter() - started
        pieces += sum(map(len, targets))
    return {"seconds": seconds, "pieces": pieces, "steps": len(batches) - warmup, "counted": counted,
            "flops_per_piece": counted.flops / counted_pieces}


def roofline(name: str, counted: StepCount, flops_per_piece: float, speeds: dict[str, list[float]],
             peer_flops_per_piece: float | None) -> None:
    """The roofline lines: the counted FLOPs, the rate products of the counted steps' own shapes
    reach alone, and the share of it each system achieves (median pieces/s x its FLOPs per piece)."""
    limit = counted.flops / gemm_seconds(counted.gemms)
    shares = counted.by_dtype()
    dtypes = ", ".join(f"{dtype} {flops / counted.flops:.1%}" for dtype, flops in shares.items())
    print(f"roofline {name}: {flops_per_piece / 1e6:.1f} MFLOP per target piece (FlopCounterMode over the warm-up "
          f"steps; products in {dtypes}); products of those steps' {len(counted.gemms)} shapes alone run at "
          f"{limit / 1e9:.1f} GFLOP/s here")
    achieved = statistics.median(speeds[name]) * flops_per_piece
    print(f"roofline {name}: achieves {achieved / 1e9:.1f} GFLOP/s, {achieved / limit:.0%} of that limit")
    if peer_flops_per_piece and "joeynmt fp32" in speeds:
        # JoeyNMT runs its padded positions too: its own count, and the useful work (ours per piece)
        peer_speed = statistics.median(speeds["joeynmt fp32"])
        executed, useful = peer_speed * peer_flops_per_piece, peer_speed * flops_per_piece
        print(f"roofline joeynmt fp32 (against {name}'s limit): {peer_flops_per_piece / 1e6:.1f} MFLOP per target "
              f"piece by its own count (padding included): {executed / 1e9:.1f} GFLOP/s, {executed / limit:.0%}; "
              f"useful work ({flops_per_piece / 1e6:.1f} MFLOP per piece): {useful / 1e9:.1f} GFLOP/s, "
              f"{useful / limit:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", nargs="?", type=Path, default=ROOT / "recipes" / "bench_joeynmt_gru.yaml")
    parser.add_argument("--steps", type=int, default=100, help="measured steps per run [100]")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured first steps [5]")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each system [3]")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--precision", action="append", choices=["fp32", "bf16", "fp16"],
                        help="training.precision to measure (repeatable) [fp32]")
    parser.add_argument("--peer", action="store_true", help="also run JoeyNMT 2.3 (../shared/peers) on the batches")
    args = parser.parse_args()
    if args.peer:
        check_peer()
    load = warn_if_loaded()
    precisions = args.precision or ["fp32"]
    if "bf16" in precisions and not native_bf16(torch.device("cpu")):
        # Emulated bf16 measured 31 target pieces/s against 741 in fp32 on an AVX2-only EPYC.
        print("# bf16 skipped: this CPU has no AVX512-BF16 or AMX, so PyTorch emulates bf16 "
              "matrix products, many times slower than fp32", file=sys.stderr)
        precisions = [p for p in precisions if p != "bf16"] or ["fp32"]
    recipes = {p: load_recipe(args.recipe, args.overrides + [f"training.precision={p}"]) for p in precisions}
    some = next(iter(recipes.values()))
    with tempfile.TemporaryDirectory(prefix="bench-pieces-") as work:
        pieces = kit_pieces(some.data_path(some.data.train).parent, Path(work))
        batches = batch_plan(pieces, args.warmup + args.steps, some.training.batch_size or 64, some.data.max_length)
        print(f"# {args.steps} steps (+{args.warmup} warm-up) of the same {len(batches)} batches of "
              f"{len(batches[0])} sentences, {torch.get_num_threads()} threads, load average {load:.2f}",
              file=sys.stderr)
        speeds: dict[str, list[float]] = {}
        counts: dict[str, tuple[StepCount, float]] = {}
        peer_rss, peer_flops = 0.0, None
        for repeat in range(1, args.repeats + 1):
            runs = {f"seq2text {p}": lambda r=r: ours(r, batches, args.warmup) for p, r in recipes.items()}
            if args.peer:
                runs["joeynmt fp32"] = lambda: joeynmt_steps(pieces, batches, args.warmup)
            for name, run in runs.items():
                result = run()
                speed = result["pieces"] / result["seconds"]
                speeds.setdefault(name, []).append(speed)
                peer_rss = max(peer_rss, result.get("peak_rss_mb", 0.0))
                if "counted" in result:
                    counts[name] = result["counted"], result["flops_per_piece"]
                else:  # JoeyNMT counts its own warm-up steps
                    peer_flops = result.get("flops_per_piece")
                print(f"run {repeat} {name}: {speed:.0f} target pieces/s ({result['steps']} steps in "
                      f"{result['seconds']:.1f} s)", flush=True)
    print(f"peak_rss_mb: seq2text {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
          + (f", joeynmt {peer_rss:.0f}" if args.peer else ""))
    for name, values in speeds.items():
        print(f"{name}: median {median_spread(values)} target pieces/s over {len(values)} runs")
    if args.peer:
        peer = statistics.median(speeds["joeynmt fp32"])
        for name, values in speeds.items():
            if name != "joeynmt fp32":
                print(f"ratio {name} / joeynmt fp32: {statistics.median(values) / peer:.2f}")
    for name, (counted, per_piece) in counts.items():
        roofline(name, counted, per_piece, speeds, peer_flops)
    after = os.getloadavg()[0]
    if after > load + 2.5:
        print(f"warning: the load average rose to {after:.2f} during the runs", file=sys.stderr)


if __name__ == "__main__":
    main()
