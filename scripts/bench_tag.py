#!/usr/bin/env python3
"""Throughput of a tagger: sentences per second in batches and one at a time, against what
the CPU allows.

    python scripts/bench_tag.py [-m pos-en] [--batch-size 64] [--single 300]

Tags the recipe's held-out sentences (its words, as the treebank splits them) through
``Tagger.tag_words``, first all of them in batches of ``--batch-size``, then the first
``--single`` one call each, as a web service answering one request at a time would.  It counts
the network's floating-point operations per word from its shapes (the recurrent layers and the
character BiLSTM; the output layer is under 1%), and times matrix products of the recurrent
layer's own shapes: the input projection of a whole batch and one time step of the batch, the
two kinds of GEMM an LSTM runs.  Prints one JSON line, with the CPU's vector extensions.  Run
it on a quiet machine: a training run beside it halves the figures or worse.
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

from seq2text import Tagger  # noqa: E402
from seq2text.data.corpora import load_corpus  # noqa: E402


def lstm_flops(layer: torch.nn.LSTM) -> int:
    """Multiply-adds x 2 of one step of every layer and direction of ``layer``."""
    total = 0
    for name, weight in layer.named_parameters():
        if name.startswith("weight_"):
            total += 2 * weight.numel()
    return total


def gemm_rate(rows: int, inner: int, columns: int, repeats: int = 200) -> float:
    """GFLOP/s of ``(rows, inner) @ (inner, columns)`` in float32."""
    a, b = torch.randn(rows, inner), torch.randn(inner, columns)
    for _ in range(10):
        a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * rows * inner * columns * repeats / (time.perf_counter() - started) / 1e9


def cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "fma")
    return [flag for flag in wanted if f" {flag}" in text]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--model", default="pos-en")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--single", type=int, default=300, help="sentences tagged one call each [300]")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    tagger = Tagger.load(args.model, args.device)
    corpus = load_corpus(tagger.loaded.recipe)
    sentences = corpus[corpus.held_out]["words"]
    words = sum(map(len, sentences))
    tagger.tag_words(sentences[:64])  # warm-up
    started = time.perf_counter()
    tagger.tag_words(sentences, batch_size=args.batch_size)
    batched = time.perf_counter() - started
    started = time.perf_counter()
    for sentence in sentences[:args.single]:
        tagger.tag_words([sentence])
    single = args.single / (time.perf_counter() - started)

    network = tagger.model
    per_word = lstm_flops(network.encoder.rnn) + 2 * network.output.weight.numel()
    characters = sum(len(word) for sentence in sentences for word in sentence) / words
    if network.features.char_size:
        per_word += characters * lstm_flops(network.features.speller)  # an upper bound: each distinct word once
    achieved = per_word * words / batched / 1e9
    layer = network.encoder.rnn
    gates, inputs = 4 * layer.hidden_size, layer.input_size
    length = round(words / len(sentences))
    rates = {"input_projection": round(gemm_rate(args.batch_size * length, inputs, gates), 1),
             "recurrent_step": round(gemm_rate(args.batch_size, layer.hidden_size, gates), 1)}
    print(json.dumps({
        "model": args.model, "sentences": len(sentences), "words": words, "batch_size": args.batch_size,
        "batched_sentences_per_s": round(len(sentences) / batched, 1), "batched_words_per_s": round(words / batched),
        "single_sentences_per_s": round(single, 1), "mflop_per_word": round(per_word / 1e6, 2),
        "achieved_gflop_s": round(achieved, 2), "gemm_gflop_s": rates,
        "share_of_best_gemm_rate": round(achieved / max(rates.values()), 3),
        "threads": torch.get_num_threads(), "device": args.device, "cpu_flags": cpu_flags()}))


if __name__ == "__main__":
    main()
