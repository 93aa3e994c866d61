#!/usr/bin/env python3
"""Ship a trained model with the package: half-precision weights, recipe and card in
``seq2text/pretrained/NAME/``, its tokenizer in ``vocab/NAME/``.

    python scripts/bundle_model.py runs/multi30k_de_en/averaged multi30k-de-en \\
        --description "German to English, Multi30k (image captions)"

Learned tables beside the weights (``tones.json`` of a poetry model) are copied too, and the
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
from seq2text.model_folder import MODEL_FILE, TONES_FILE, TUNES_FILE, bundled_models, stored_names  # noqa: E402
from seq2text.pretrained import load_pretrained  # noqa: E402

LIMIT_MB = 16
LEARNED_TABLES = [TONES_FILE, TUNES_FILE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a trained model folder")
    parser.add_argument("name", help="bundled name, e.g. multi30k-de-en")
    parser.add_argument("--description", required=True)
    args = parser.parse_args()
    loaded = load_pretrained(args.model)
    recipe, model = loaded.recipe, loaded.model
    source = loaded.folder.weights  # a run folder means its averaged model or its latest checkpoint
    target = ROOT / "seq2text" / "pretrained" / args.name
    target.mkdir(parents=True, exist_ok=True)
    weights = model.state_dict()
    half = {name: weights[name].to(torch.float16).contiguous() for name in stored_names(weights)}
    with atomic_path(target / MODEL_FILE) as tmp:
        save_file(half, str(tmp), metadata={"format": "seq2text-1"})
    write_text_atomic(target / "recipe.yaml", (source / "recipe.yaml").read_text(encoding="utf-8"))
    for extra in LEARNED_TABLES:  # learned beside the weights, e.g. by scripts/learn_tones.py
        if (source / extra).is_file():
            write_text_atomic(target / extra, (source / extra).read_text(encoding="utf-8"))
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
