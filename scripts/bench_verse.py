#!/usr/bin/env python3
"""Verse quality: generate poems of every regulated form and report how many keep each rule.

    python scripts/bench_verse.py [MODEL] [--poems 200] [--seed 1] [--samples 3]

MODEL is a bundled name or a trained Tang model folder (default: the bundled tang-poetry).  For
each of the four regulated forms it samples POEMS poems, half of them acrostics, with the
default settings of ``seq2text generate``, checks them (form, acrostic, rhyme in one 平水韵
level-tone group, 平仄 rules, no character three times) and counts lines copied verbatim from
the training poems.  Prints one line per form, an overall line, and a few samples.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seq2text.data.corpora import load_corpus  # noqa: E402
from seq2text.data.tang import unlabelled, verse_lines  # noqa: E402
from seq2text.errors import Seq2TextError  # noqa: E402
from seq2text.generator import Generator  # noqa: E402
from seq2text.pretrained import find_model  # noqa: E402

FORMS = ["wuyan-jueju", "qiyan-jueju", "wuyan-lushi", "qiyan-lushi"]
ACROSTICS = {4: ["春夏秋冬", "风花雪月", "山高水长", "明月清风"], 8: ["一年四季春夏秋冬", "江山如画风月无边"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="tang-poetry")
    parser.add_argument("--poems", type=int, default=200, help="poems per form [200]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=2, help="poems printed per form [2]")
    args = parser.parse_args()
    try:
        generator = Generator.load(args.model)
        recipe = find_model(args.model).recipe
        train = load_corpus(recipe)["train"]["text"]
    except Seq2TextError as err:
        sys.exit(f"error: {err}")
    normalize = generator.tokenizer.normalize
    seen = {line for text in train for line in verse_lines(normalize(unlabelled(text)))}
    print(f"# {args.model}: {args.poems} poems per form; rhymes from {generator.rhymes.source}", file=sys.stderr)
    totals: dict[str, list[int]] = {}
    for form in FORMS:
        started, poems = time.perf_counter(), []
        half = args.poems // 2
        poems += generator.poems(form, half, seed=args.seed)
        lines = 4 if "jueju" in form else 8
        for index, acrostic in enumerate(ACROSTICS[lines]):
            share = (args.poems - half) // len(ACROSTICS[lines]) + (index < (args.poems - half) % len(ACROSTICS[lines]))
            poems += generator.poems(form, share, acrostic=acrostic, seed=args.seed + index + 1)
        seconds = time.perf_counter() - started
        counts = {rule: [sum(p.checks[rule] for p in poems if rule in p.checks),
                         sum(rule in p.checks for p in poems)]
                  for rule in ("form", "acrostic", "rhyme", "tones", "repetition")}
        written = [line for p in poems for line in verse_lines(p.text)]
        counts["copied_lines"] = [sum(line in seen for line in written), len(written)]
        for rule, (good, total) in counts.items():
            totals.setdefault(rule, [0, 0])
            totals[rule][0] += good
            totals[rule][1] += total
        print(f"{form}: " + " ".join(f"{rule}={good / total:.1%}" for rule, (good, total) in counts.items())
              + f" poems_per_s={len(poems) / seconds:.1f}", flush=True)
        for poem in poems[:args.samples]:
            print(f"  {poem.text}", flush=True)
    print("all: " + " ".join(f"{rule}={good / total:.1%}" for rule, (good, total) in totals.items()))


if __name__ == "__main__":
    main()
