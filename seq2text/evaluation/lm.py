"""Language models: perplexity on held-out text, and for Tang poetry models the verse rates.

The text is the recipe's test split (else its validation split) or the lines of ``--text``,
read the way training validated: one stream with the state carried (``training.bptt``) or
one sequence per line.  Every line's ``</s>`` counts as a token.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import torch

from seq2text.data.corpora import load_corpus
from seq2text.data.textfile import read_lines
from seq2text.evaluation.sections import Evaluation, Section, learning_curves
from seq2text.pretrained import find_model, load_model
from seq2text.training.feeds import SequenceFeed, StreamFeed


def evaluate_lm(model: str, text: Optional[Path], poems: int, figures: Optional[Path], device: str) -> Evaluation:
    folder = find_model(model)
    recipe, network, tokenizer, _ = load_model(model, device)
    verse = recipe.data.kind == "tang" and poems > 0
    corpus = load_corpus(recipe) if text is None or verse else None  # read once: held-out and training poems
    if text is not None:
        lines, where = [line for line in read_lines(text) if line.strip()], str(text)
    else:
        lines, where = corpus[corpus.held_out]["text"], f"{corpus.held_out} split"
    ids = [tokenizer.encode(line) for line in lines]
    if recipe.training.bptt:
        scores = StreamFeed.score(network, ids, torch.device(device), recipe.training.bptt)
    else:
        scores = SequenceFeed.score(network, ids, torch.device(device))
    summary = {"model": model, "task": "lm", "data": where, "lines": len(lines), "tokens": scores.tokens,
               "loss": round(scores.loss, 4), "ppl": round(scores.perplexity, 2)}
    if recipe.tokenizer.type == "char":
        summary["bits_per_char"] = round(scores.loss / math.log(2), 4)
    unit = "character" if recipe.tokenizer.type == "char" else "token"
    evaluation = Evaluation(summary, [Section(
        "Perplexity", f"Per-{unit} perplexity over {scores.tokens} tokens of {len(lines)} lines ({where}); "
        "every line end counts as a token.", ["loss (nats)", "perplexity", "bits per character"],
        [[f"{scores.loss:.4f}", f"{scores.perplexity:.2f}", summary.get("bits_per_char", "")]])],
        f"{model}: language model on the {where}")
    evaluation.add(learning_curves(folder.weights, figures))
    if verse:
        from seq2text.evaluation.verse import verse_rates
        from seq2text.generator import Generator

        rates, sections = verse_rates(Generator.load(model, device), corpus["train"]["text"], poems)
        summary["verse"] = rates
        for section in sections:
            evaluation.add(section)
    return evaluation

