#!/usr/bin/env python3
"""Decoding speed and quality: translate Multi30k test_2016_flickr greedy and with beam 5.

    python scripts/bench_decode.py [MODEL] [--batch-size 64] [--alpha A] [--precision bf16] [--peer]

MODEL is a bundled name or a trained model folder (default: the bundled multi30k-de-en).  Prints
one line ``greedy_sent_per_s=N beam5_sent_per_s=N bleu_greedy=X bleu_beam5=Y``: whole
sentences per second through ``Translator.search`` (tokenising and detokenising included,
after one untimed warm-up batch) and cased sacreBLEU against the references.  With ``--peer``
it then runs the JoeyNMT kit in ../shared/peers (one epoch on all of Multi30k, then its batched
greedy and beam-5 search, 64 sentences a batch), prints its figures and our ratios.  Compare on
a model of the kit's size: ``seq2text train recipes/bench_joeynmt_gru.yaml`` first, then
``python scripts/bench_decode.py runs/bench_joeynmt_gru/averaged --alpha 0 --peer``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import sacrebleu
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peer import run_joeynmt  # noqa: E402
from seq2text.data.textfile import read_lines  # noqa: E402
from seq2text.errors import Seq2TextError  # noqa: E402
from seq2text.pretrained import load_pretrained  # noqa: E402
from seq2text.translator import Translator  # noqa: E402


def measure(translator: Translator, sources: list[str], references: list[str], beam_size: int,
            batch_size: int, alpha: float | None) -> tuple[float, float]:
    """``(sentences per second, BLEU)`` for one search setting."""
    translator.search(sources[:batch_size], beam_size=beam_size, length_penalty=alpha)  # warm-up
    started = time.perf_counter()
    results = translator.search(sources, beam_size=beam_size, length_penalty=alpha, batch_size=batch_size)
    seconds = time.perf_counter() - started
    hypotheses = [result.hypotheses[0].text for result in results]
    return len(sources) / seconds, sacrebleu.corpus_bleu(hypotheses, [references]).score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="multi30k-de-en")
    parser.add_argument("--batch-size", type=int, default=64, help="sentences per batch [64]")
    parser.add_argument("--alpha", type=float, help="length penalty for beam 5 [the model's]")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="[fp32]")
    parser.add_argument("--peer", action="store_true", help="also run the JoeyNMT kit (../shared/peers)")
    args = parser.parse_args()
    try:
        loaded = load_pretrained(args.model)
        recipe = loaded.recipe
        translator = Translator.load(loaded, precision=args.precision)
        prefix = recipe.data_path(recipe.data.test)
        sources = read_lines(Path(f"{prefix}.{recipe.data.src_lang}"))
        references = read_lines(Path(f"{prefix}.{recipe.data.tgt_lang}"))
    except Seq2TextError as err:
        sys.exit(f"error: {err}")
    print(f"# {args.model}: {len(sources)} sentences of {prefix.name}, batches of {args.batch_size}, "
          f"{torch.get_num_threads()} threads, {args.precision}", file=sys.stderr)
    greedy_speed, greedy_bleu = measure(translator, sources, references, 1, args.batch_size, args.alpha)
    beam_speed, beam_bleu = measure(translator, sources, references, 5, args.batch_size, args.alpha)
    print(f"greedy_sent_per_s={greedy_speed:.1f} beam5_sent_per_s={beam_speed:.1f} "
          f"bleu_greedy={greedy_bleu:.2f} bleu_beam5={beam_bleu:.2f}", flush=True)
    if args.peer:
        peer = run_joeynmt(epochs=1)
        print(f"joeynmt: greedy_sent_per_s={peer['e1_greedy_sent_per_s']} "
              f"beam5_sent_per_s={peer['e1_beam5_sent_per_s']} bleu_greedy={peer['e1_bleu_greedy']} "
              f"bleu_beam5={peer['e1_bleu_beam5']} (after 1 epoch)")
        print(f"ratio seq2text/joeynmt: greedy {greedy_speed / float(peer['e1_greedy_sent_per_s']):.2f} "
              f"beam5 {beam_speed / float(peer['e1_beam5_sent_per_s']):.2f}")


if __name__ == "__main__":
    main()
