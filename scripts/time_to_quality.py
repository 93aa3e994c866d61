#!/usr/bin/env python3
"""Wall time to quality: score every checkpoint a translation run kept on its test split.

    python scripts/time_to_quality.py RUN_DIR [--target 35] [--beam-size 1]

Reads the validations of ``RUN_DIR/train.log`` (epoch, step, validation BLEU and the minutes
since the start of training, as the trainer logs them), translates the recipe's test split
with each checkpoint that is still there (greedy unless ``--beam-size``) and prints one line
per checkpoint, then the first time at which test BLEU reached ``--target``.  Keep every
checkpoint for the whole curve (``training.keep_checkpoints`` at least the number of
validations, as recipes/multi30k_de_en_fast.yaml does).  The minutes are the run's own, so
they count only if the machine was otherwise quiet while it trained.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import sacrebleu

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seq2text.textfile import read_lines  # noqa: E402
from seq2text.errors import Seq2TextError  # noqa: E402
from seq2text.pretrained import load_pretrained  # noqa: E402
from seq2text.translator import Translator  # noqa: E402

VALIDATION = re.compile(r"epoch (\d+) step (\d+): .*BLEU ([\d.]+).* (?:(\d+)h)?(\d+)m(\d+)s since the start\) "
                        r"-> (step-\d+)")


def validations(log: Path) -> list[tuple[int, float, float, str]]:
    """``(epoch, minutes since the start, validation BLEU, checkpoint name)`` per validation."""
    found = []
    for line in read_lines(log):
        match = VALIDATION.search(line)
        if match:
            epoch, _, bleu, hours, minutes, seconds, name = match.groups()
            elapsed = int(hours or 0) * 60 + int(minutes) + int(seconds) / 60
            found.append((int(epoch), elapsed, float(bleu), name))
    if not found:
        raise Seq2TextError(f"{log}: no validations with BLEU logged")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a translation run folder (runs/<name>)")
    parser.add_argument("--target", type=float, default=35.0, help="test BLEU to reach [35]")
    parser.add_argument("--beam-size", type=int, default=1, help="[1: greedy]")
    args = parser.parse_args()
    reached = None
    try:
        for epoch, minutes, valid_bleu, name in validations(args.run / "train.log"):
            folder = args.run / "checkpoints" / name
            if not folder.is_dir():
                print(f"epoch {epoch:3d} {minutes:6.1f} min  valid BLEU {valid_bleu:5.2f}  (checkpoint not kept)")
                continue
            loaded = load_pretrained(folder)
            recipe = loaded.recipe
            prefix = recipe.data_path(recipe.data.test)
            sources = read_lines(Path(f"{prefix}.{recipe.data.src_lang}"))
            references = read_lines(Path(f"{prefix}.{recipe.data.tgt_lang}"))
            outputs = Translator.load(loaded).translate(sources, beam_size=args.beam_size)
            bleu = sacrebleu.corpus_bleu(outputs, [references]).score
            print(f"epoch {epoch:3d} {minutes:6.1f} min  valid BLEU {valid_bleu:5.2f}  "
                  f"{prefix.name} BLEU {bleu:5.2f}", flush=True)
            if reached is None and bleu >= args.target:
                reached = minutes
    except Seq2TextError as err:
        sys.exit(f"error: {err}")
    search = "greedy" if args.beam_size == 1 else f"beam {args.beam_size}"
    print(f"{search} test BLEU {args.target:g} " + (f"first reached at {reached:.1f} min" if reached is not None
                                                    else "not reached by the checkpoints kept"))


if __name__ == "__main__":
    main()
