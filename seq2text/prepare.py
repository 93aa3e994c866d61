"""``seq2text prepare``: read a recipe's corpus, train its tokenizers, tokenise every split.

The tokenizers go to the run folder, ``runs/<recipe name>/tokenizer/`` (see
:func:`seq2text.tokenizers.save_tokenizers`), where training finds them; the repository's
``vocab/`` holds only the bundled models' tokenizers.  The token ids are cached by
``datasets`` so training starts without tokenising again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seq2text.data.batching import BucketBatcher, padding_overhead
from seq2text.data.corpora import Corpus, load_corpus
from seq2text.data.encode import EncodedSplit, encode_split
from seq2text.data.labels import LABELS_FILE, label_names, load_labels, save_labels
from seq2text.decoding.shortlist import save_shortlist, target_tokens
from seq2text.errors import Seq2TextError
from seq2text.recipe import Recipe
from seq2text.tasks import task_of
from seq2text.tokenizers import (CharTokenizer, Tokenizer, WordTokenizer, has_tokenizers, load_tokenizers,
                                 save_tokenizers, train_tokenizer)


@dataclass
class Prepared:
    """What ``prepare`` produced, with timings and a human-readable report."""

    src: Tokenizer
    tgt: Tokenizer
    splits: dict[str, EncodedSplit]
    vocab_dir: Path
    report: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # classification: the label names, in output order


def train_tokenizers(recipe: Recipe, corpus: Corpus) -> tuple[Tokenizer, Tokenizer]:
    """One joint tokenizer, or one per side when ``tokenizer.joint`` is false for pairs."""
    train = corpus["train"]
    if "words" in train.column_names:  # tagging: the treebank's words, and the characters that spell them
        words = [word for sentence in train["words"] for word in sentence]
        config = recipe.tokenizer
        return (WordTokenizer.from_words(words, config.min_freq, config.split),
                CharTokenizer.train(words, simplified=config.simplified))
    only_seen = recipe.tokenizer.training_pieces_only
    if "src" in train.column_names and not recipe.tokenizer.joint:
        src, tgt = (train_tokenizer(recipe.tokenizer, train[side]) for side in ("src", "tgt"))
        if only_seen:
            return src.restricted(train["src"]), tgt.restricted(train["tgt"])
        return src, tgt
    tokenizer = train_tokenizer(recipe.tokenizer, corpus.texts("train"))
    if only_seen:
        tokenizer = tokenizer.restricted(corpus.texts("train"))
    return tokenizer, tokenizer


def example_lengths(split: EncodedSplit) -> np.ndarray:
    """Per-example lengths as the model sees them: source, and target + one of bos/eos (tagged
    sentences: their words)."""
    data = split.dataset
    if "tag_ids" in data.column_names:
        return np.array([[len(ids)] for ids in data["ids"]])
    if "src_ids" in data.column_names:
        return np.array([[len(s), len(t) + 1] for s, t in zip(data["src_ids"], data["tgt_ids"])])
    return np.array([[len(ids) + 1] for ids in data["ids"]])


def prepare(recipe: Recipe, vocab_dir: Path, reuse: bool = False) -> Prepared:
    """Run the whole preparation for ``recipe``, the tokenizers saved in ``vocab_dir``; returns
    what was built and a report.

    With ``reuse``, tokenizers already saved in ``vocab_dir`` are loaded instead of retrained.
    """
    started = time.perf_counter()
    corpus = load_corpus(recipe)
    report = [f"read {', '.join(f'{s}: {len(d)}' for s, d in corpus.splits.items())} examples "
              f"in {time.perf_counter() - started:.1f}s", *corpus.report]

    started = time.perf_counter()
    if reuse and has_tokenizers(vocab_dir):
        src, tgt = load_tokenizers(vocab_dir)
        report.append(f"loaded the tokenizers in {vocab_dir}")
    else:
        src, tgt = train_tokenizers(recipe, corpus)
        save_tokenizers(src, tgt, vocab_dir)
        sides = ("words", "characters") if "words" in corpus["train"].column_names else ("source", "target")
        sizes = f"{src.vocab_size}" if src is tgt else f"{src.vocab_size} ({sides[0]}), {tgt.vocab_size} ({sides[1]})"
        made = "read" if recipe.tokenizer.model_file else "trained"
        report.append(f"{made} {recipe.tokenizer.type} tokenizer{'s' if src is not tgt else ''} "
                      f"({sizes} tokens) in {time.perf_counter() - started:.1f}s -> {vocab_dir}")

    labels = []
    task = task_of(recipe)
    if task.labels:
        labels = load_labels(vocab_dir) if reuse and (vocab_dir / LABELS_FILE).is_file() else \
            label_names(corpus.labels("train"), f"{recipe.data_path(recipe.data.train)} (data.train)",
                        list((recipe.data.label_names or {}).values()))
        if not labels:
            what = "tagged word" if "tags" in corpus["train"].column_names else "labelled row"
            raise Seq2TextError(f"{recipe.path}: data.train: no {what} to learn from (the file is empty, or every "
                                f"label is missing); a {task.name} model needs two labels or more")
        if len(labels) < 2:
            raise Seq2TextError(f"{recipe.path}: data.train: only one label ({', '.join(labels)}); a {task.name} "
                                f"model needs two or more")
        save_labels(labels, vocab_dir)
        report.append(f"{len(labels)} labels: {', '.join(labels)}")
    splits = {}
    for name in corpus.splits:
        splits[name] = encode_split(corpus, name, recipe.data.max_length, src, tgt, labels)
        report.append(splits[name].report(name, recipe.data.max_length))
        if not len(splits[name].dataset):
            raise Seq2TextError(f"{recipe.path}: data.max_length={recipe.data.max_length}: all "
                                f"{splits[name].total} {name} examples are longer (or the split is empty); "
                                f"nothing is left to {'train on' if name == 'train' else 'score'}")

    if task.shortlist:
        shortlist = target_tokens(splits["train"].dataset["tgt_ids"])
        save_shortlist(shortlist, vocab_dir)
        report.append(f"shortlist: {len(shortlist)} of the {tgt.vocab_size} target tokens occur in the training "
                      f"targets (translate --shortlist scores only those)")
    training = recipe.training
    lengths = example_lengths(splits["train"])
    batches = BucketBatcher(lengths, training.batch_size, training.batch_tokens, training.bucket_pool,
                            recipe.seed).batches(0)
    limits = " and ".join(f"{k}={v}" for k, v in (("batch_size", training.batch_size),
                                                   ("batch_tokens", training.batch_tokens)) if v)
    report.append(f"train: {len(batches)} batches with {limits}; padding overhead "
                  f"{padding_overhead(batches, lengths):.1%} (padded / real tokens)")
    return Prepared(src, tgt, splits, vocab_dir, report, labels)
