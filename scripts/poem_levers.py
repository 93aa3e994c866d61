#!/usr/bin/env python3
"""What each lever of poem writing buys: poems on the 20 subjects of `seq2text evaluate`, written
with one setting at a time, and the figures of its subject section for each.

    python scripts/poem_levers.py                          # poems, 2 per subject, the settings below
    python scripts/poem_levers.py --per-subject 4 --set candidates=16 --set subject_weight=0

Each setting is a line: ``name`` and the `Generator.poems` options it changes from the defaults.
Figures: on subject (the corpus reader), rules kept, distinct lines, copied lines, doubled lines
(a character twice in a row), the most common opening word's share, the mean log-probability of
the rhyme characters under the model alone and the share of them under -8 nats, forced
(seq2text/evaluation/endings.py), poems per second;
the last row gives the held-out poems' own figures.  Run it on a quiet machine: it prints speed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seq2text.evaluation.endings import summary  # noqa: E402
from seq2text.evaluation.subjects import (FORMS, corpus_reader, diversity, regulated_endings,  # noqa: E402
                                          subject_poems)
from seq2text.generator import Generator, Poem  # noqa: E402
from seq2text.verse.forms import LABEL_END  # noqa: E402
from seq2text.verse.subjects import clean_title  # noqa: E402

SETTINGS = {
    "one candidate (before)": {"candidates": 1},
    "4 candidates": {"candidates": 4, "subject_weight": 0.0},
    "8 candidates, score alone": {"subject_weight": 0.0},
    "8 candidates, subject weight 1": {"subject_weight": 1.0},
    "16 candidates, subject weight 1": {"candidates": 16, "subject_weight": 1.0},
    "8 candidates, subject weight 3 (default)": {},
}


def _value(text: str) -> bool | float | int:
    return {"true": True, "false": False}.get(text.lower()) if text.lower() in ("true", "false") else \
        int(text) if text.isdigit() else float(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--model", default="poems")
    parser.add_argument("--per-subject", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="measure only this setting (repeatable, combined into one)")
    args = parser.parse_args()
    generator = Generator.load(args.model)
    settings = SETTINGS
    if args.set:
        settings = {" ".join(args.set): {k: _value(v) for k, v in (item.split("=", 1) for item in args.set)}}
    reader, _, _, corpus_lines, held_out = corpus_reader(generator)
    print("| setting | on subject % | rules kept % | distinct lines % | copied lines % | doubled lines % | "
          "most common opening % | rhyme log-prob (% under -8) | poems/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, options in settings.items():
        started = time.perf_counter()
        written = subject_poems(generator, "title", args.per_subject, args.seed, **options)
        seconds = time.perf_counter() - started
        poems = [poem for _, poem in written]
        rates = diversity(poems, corpus_lines)
        endings = regulated_endings(generator.loaded, [(s, p.form, p.text) for s, p in written])
        on_subject = 100 * sum(reader.guess(p.text) == s for s, p in written) / len(written)
        kept = 100 * sum(all(p.checks.values()) for p in poems) / len(poems)
        print(f"| {name} | {on_subject:.1f} | {kept:.1f} | {rates['distinct_lines']} | {rates['copied_lines']} | "
              f"{rates['doubled_lines']} | {rates['opening_share']} ({rates['most_common_opening']}) | "
              f"{_endings(endings)} | {len(poems) / seconds:.2f} |", flush=True)
    normalize = generator.tokenizer.normalize
    human = [(normalize(clean_title(t)), f, normalize(x.rsplit(LABEL_END, 1)[-1]))
             for t, f, x in zip(held_out["title"], held_out["form"], held_out["text"]) if f in FORMS]
    endings = regulated_endings(generator.loaded, human)
    rates = diversity([Poem(x, f, 0.0, None, {}) for _, f, x in human], set())
    print(f"| held-out poems ({len(human)}) | | | {rates['distinct_lines']} | | {rates['doubled_lines']} | "
          f"{rates['opening_share']} ({rates['most_common_opening']}) | {_endings(endings)} | |")


def _endings(values: list[float]) -> str:
    found = summary(values)
    return f"{found['rhyme_log_prob']} ({found['forced_rhymes']}%)"


if __name__ == "__main__":
    main()
