#!/usr/bin/env python3
"""Decoding speed and quality: translate Multi30k test_2016_flickr greedy and with beam 5.

    python scripts/bench_decode.py [MODEL] [--batch-size 64] [--alpha A] [--precision bf16|int8]
                                   [--repeats 3] [--shortlist] [--early-stop] [--peer]

MODEL is a bundled name, a trained model folder or a folder of ``seq2text export`` (run by ONNX
Runtime; default: the bundled multi30k-de-en).  Each
repeat decodes all the sentences greedy and with beam 5: whole sentences per second through
``Translator.search`` (tokenising and detokenising included, after one untimed warm-up batch);
and output pieces (of the best hypotheses) per second, then the median and range over the
repeats and cased sacreBLEU against the references.  Pieces per second is the fairer ratio
when the two models write outputs of different lengths.  With
``--peer`` each repeat also decodes the same sentences with JoeyNMT 2.3 (the kit in
../shared/peers, its model after ``--peer-epochs`` epochs on all of Multi30k, trained on the
first call and kept in ~/.cache/seq2text-peers; batches of 64; JoeyNMT's own timer, which
leaves out loading),
and the ratios of the medians are printed.  Compare on a model of the kit's size:
``seq2text train recipes/bench_joeynmt_gru.yaml`` (one epoch) first, then
``python scripts/bench_decode.py runs/bench_joeynmt_gru/checkpoints/step-0000454 --alpha 0 --peer``.
``--shortlist`` scores only the target pieces of the training data, as JoeyNMT's vocabulary
(built from the training pieces) does; ``--precision int8`` quantizes the linear layers
(:mod:`seq2text.decoding.quantized`); ``--early-stop`` ends a sentence's beam search when its
best candidate ends, as JoeyNMT's does.
Needs a quiet machine: the load average is checked first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import sacrebleu
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peer import check_peer, joeynmt_decode, joeynmt_model, median_spread, warn_if_loaded  # noqa: E402
from seq2text.textfile import read_lines  # noqa: E402
from seq2text.errors import Seq2TextError  # noqa: E402
from seq2text.model_folder import is_exported  # noqa: E402
from seq2text.pretrained import load_pretrained  # noqa: E402
from seq2text.recipe import load_recipe  # noqa: E402
from seq2text.translator import Translator  # noqa: E402

SEARCHES = {"greedy": 1, "beam5": 5}


def measure(translator: Translator, sources: list[str], beam_size: int, batch_size: int,
            alpha: float | None, early_stop: bool) -> tuple[float, int, list[str]]:
    """``(seconds, output pieces, best hypotheses)`` for one search setting."""
    options = {"beam_size": beam_size, "length_penalty": alpha, "early_stop": early_stop}
    translator.search(sources[:batch_size], **options)  # warm-up
    started = time.perf_counter()
    results = translator.search(sources, batch_size=batch_size, **options)
    seconds = time.perf_counter() - started
    best = [result.hypotheses[0] for result in results]
    return seconds, sum(len(h.tokens) for h in best), [h.text for h in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="multi30k-de-en")
    parser.add_argument("--batch-size", type=int, default=64, help="sentences per batch [64]")
    parser.add_argument("--alpha", type=float, help="length penalty for beam 5 [the model's]")
    parser.add_argument("--precision", choices=["fp32", "bf16", "int8"], default="fp32", help="[fp32]")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each search [3]")
    parser.add_argument("--shortlist", action="store_true",
                        help="score only the target pieces of the training data (the model's shortlist.json)")
    parser.add_argument("--early-stop", action="store_true", help="end a beam search when its best candidate ends")
    parser.add_argument("--peer", action="store_true", help="also run JoeyNMT 2.3 (../shared/peers)")
    parser.add_argument("--peer-epochs", type=int, default=1,
                        help="JoeyNMT's model after this many epochs (trained on first use and kept) [1]")
    args = parser.parse_args()
    if args.peer:
        check_peer()
    try:
        if is_exported(args.model):  # seq2text export's folder: ONNX Runtime
            recipe = load_recipe(Path(args.model) / "recipe.yaml", check_files=False)
            translator = Translator.load(args.model)
        else:
            loaded = load_pretrained(args.model)
            recipe = loaded.recipe
            translator = Translator.load(loaded, precision=args.precision, shortlist=args.shortlist)
        prefix = recipe.data_path(recipe.data.test)
        sources = read_lines(Path(f"{prefix}.{recipe.data.src_lang}"))
        references = read_lines(Path(f"{prefix}.{recipe.data.tgt_lang}"))
    except Seq2TextError as err:
        sys.exit(f"error: {err}")
    load = warn_if_loaded()
    checkpoint = joeynmt_model(args.peer_epochs) if args.peer else None
    print(f"# {args.model}: {len(sources)} sentences of {prefix.name}, batches of {args.batch_size}, "
          f"{torch.get_num_threads()} threads, {args.precision}"
          f"{', shortlist' if args.shortlist else ''}{', early stop' if args.early_stop else ''}, "
          f"load average {load:.2f}", file=sys.stderr)
    speeds: dict[str, list[tuple[float, float]]] = {}  # (sentences/s, output pieces/s) per run
    bleu: dict[str, float] = {}
    for repeat in range(1, args.repeats + 1):
        for search, beam_size in SEARCHES.items():
            seconds, pieces, hypotheses = measure(translator, sources, beam_size, args.batch_size, args.alpha,
                                                 args.early_stop)
            runs = {"seq2text": (seconds, pieces)}
            bleu[f"seq2text {search}"] = sacrebleu.corpus_bleu(hypotheses, [references]).score
            if checkpoint is not None:
                seconds, pieces, bleu[f"joeynmt {search}"] = joeynmt_decode(checkpoint, beam_size)
                runs["joeynmt"] = (seconds, pieces)
            for system, (seconds, pieces) in runs.items():
                speeds.setdefault(f"{system} {search}", []).append((len(sources) / seconds, pieces / seconds))
                print(f"run {repeat} {system} {search}: {len(sources) / seconds:.1f} sentences/s, "
                      f"{pieces / seconds:.0f} output pieces/s", flush=True)
    for name, values in speeds.items():
        print(f"{name}: median {median_spread([v[0] for v in values], 1)} sentences/s, "
              f"{median_spread([v[1] for v in values])} output pieces/s over {len(values)} runs")
    print(" ".join(f"bleu {name}={value:.2f}" for name, value in bleu.items()))
    if checkpoint is not None:
        for search in SEARCHES:
            ours, peer = speeds[f"seq2text {search}"], speeds[f"joeynmt {search}"]
            ratios = [statistics.median(v[k] for v in ours) / statistics.median(v[k] for v in peer) for k in (0, 1)]
            print(f"ratio seq2text / joeynmt {search}: {ratios[0]:.2f} in sentences/s, {ratios[1]:.2f} in output "
                  f"pieces/s")


if __name__ == "__main__":
    main()
