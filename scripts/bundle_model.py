#!/usr/bin/env python3
"""Ship a trained model with the package: half-precision weights, recipe and card in
``seq2text/pretrained/NAME/``, its tokenizer in ``vocab/NAME/``.

    python scripts/bundle_model.py runs/multi30k_de_en/averaged multi30k-de-en \\
        --description "German to English, Multi30k (image captions)"

Learned tables beside the weights (``tones.json`` of a poetry model) are copied too; a poetry
model gets the rhyme books cut to its characters and the patterns of its tunes from the data
root (``rhymes.json``, ``patterns.json``: it writes by them without the data); and the
run's validation history (``history.json``: the learning curves of ``seq2text evaluate --report``).  Half
precision halves the file (the limit is 16 MB per model); weights are loaded back into
float32, so search runs as before.  Check BLEU of the bundled copy with scripts/bench_decode.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seq2text.atomic import atomic_path, write_text_atomic  # noqa: E402
from seq2text.model_folder import MODEL_FILE, TABLE_FILES, bundled_models, stored_names  # noqa: E402
from seq2text.pretrained import Pretrained, load_pretrained  # noqa: E402
from seq2text.tasks import writes_poems  # noqa: E402
from seq2text.verse.books import book_tables  # noqa: E402

LIMIT_MB = 16


def write_books(loaded: Pretrained, target: Path) -> None:
    """The rhyme books and tune patterns of a poetry model, from its recipe's data root."""
    if writes_poems(loaded.recipe):
        for name, table in book_tables(loaded.recipe, loaded.src.tokens, loaded.tunes).items():
            write_text_atomic(target / name, json.dumps(table, ensure_ascii=False, indent=0) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a trained model folder")
    parser.add_argument("name", help="bundled name, e.g. multi30k-de-en")
    parser.add_argument("--description")
    parser.add_argument("--books-only", action="store_true",
                        help="only (re)write the rhyme books and tune patterns of the model NAME bundled already")
    args = parser.parse_args()
    loaded = load_pretrained(args.model)
    if args.books_only:
        write_books(loaded, ROOT / "seq2text" / "pretrained" / args.name)
        return
    if not args.description:
        parser.error("--description is required")
    recipe, model = loaded.recipe, loaded.model
    source = loaded.folder.weights  # a run folder means its averaged model or its latest checkpoint
    target = ROOT / "seq2text" / "pretrained" / args.name
    target.mkdir(parents=True, exist_ok=True)
    weights = model.state_dict()
    half = {name: weights[name].to(torch.float16).contiguous() for name in stored_names(weights)}
    with atomic_path(target / MODEL_FILE) as tmp:
        save_file(half, str(tmp), metadata={"format": "seq2text-1"})
    write_text_atomic(target / "recipe.yaml", (source / "recipe.yaml").read_text(encoding="utf-8"))
    for extra in TABLE_FILES:  # learned beside the weights, e.g. by scripts/learn_tones.py
        if (source / extra).is_file():
            write_text_atomic(target / extra, (source / extra).read_text(encoding="utf-8"))
    write_books(loaded, target)
    history = loaded.folder.history_path
    if history is not None:
        write_text_atomic(target / "history.json", history.read_text(encoding="utf-8"))
    card = {"task": recipe.task, "description": args.description, "recipe": f"recipes/{recipe.name}.yaml",
            "source_language": recipe.data.src_lang, "target_language": recipe.data.tgt_lang,
            "weights": "float16", "seed": recipe.seed, "epochs": recipe.training.epochs}
    write_text_atomic(target / "card.json", json.dumps(card, ensure_ascii=False, indent=1) + "\n")
    vocab = ROOT / "vocab" / args.name
    shutil.rmtree(vocab, ignore_errors=True)
    shutil.copytree(loaded.folder.tokenizer, vocab)
    size = next(card["size_mb"] for card in bundled_models() if card["name"] == args.name)
    print(f"{args.name}: {size:.1f} MB in {target.relative_to(ROOT)} and {vocab.relative_to(ROOT)}")
    if size > LIMIT_MB:
        sys.exit(f"error: {args.name} is {size:.1f} MB, over the {LIMIT_MB} MB limit")


if __name__ == "__main__":
    main()
