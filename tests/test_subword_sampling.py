"""Subword regularisation (``training.subword_sampling``) and training on from a translation model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import write_recipe
from seq2text.errors import Seq2TextError
from seq2text.models import build_model
from seq2text.prepare import prepare
from seq2text.recipe import load_recipe
from seq2text.training.checkpoint import save_checkpoint
from seq2text.training.feeds import PairFeed
from seq2text.training.warm_start import warm_start

SAMPLED = """\
name: sampled
data: {kind: parallel, train: multi30k/train, valid: multi30k/val, src_lang: de, tgt_lang: en,
       max_length: 30}
tokenizer: {vocab_size: 600}
model: {embed_size: 32, hidden_size: 64}
training: {batch_size: 50, epochs: 1, subword_sampling: 0.1%s}
"""


def test_each_batch_is_split_afresh_and_a_resumed_feed_draws_the_same(multi30k_slice: Path,
                                                                      tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, SAMPLED % ""), data_root=multi30k_slice)
    data = prepare(recipe, tmp_path / "vocab")
    feed = PairFeed(recipe, data)
    batch = feed.batches(0)[0]
    best = feed.data.splits["train"].dataset[batch]
    first, second = feed.collate(batch, torch.device("cpu")), feed.collate(batch, torch.device("cpu"))
    assert first.src.shape != second.src.shape or not torch.equal(first.src, second.src)
    assert first.target_tokens > sum(len(ids) + 1 for ids in best["tgt_ids"])  # dropped merges: more pieces
    # A split is another spelling of the same sentence: it decodes to the sentence itself.
    rows = [row[row != 0].tolist() for row in first.src]
    assert sorted(data.src.decode(ids) for ids in rows) == sorted(data.src.normalize(text) for text in best["src"])

    resumed = PairFeed(recipe, data)
    resumed.load_state_dict(feed.state_dict(), torch.device("cpu"))
    again = PairFeed(recipe, data)
    for _ in range(2):
        again.collate(batch, torch.device("cpu"))
    assert torch.equal(resumed.collate(batch, torch.device("cpu")).src, again.collate(batch, torch.device("cpu")).src)


def test_subword_sampling_needs_sentencepiece_pairs(multi30k_slice: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, SAMPLED.replace("{vocab_size: 600}", "{type: char}") % "")
    with pytest.raises(Seq2TextError, match="training.subword_sampling: needs a sentencepiece tokenizer"):
        load_recipe(recipe, data_root=multi30k_slice)
    recipe = write_recipe(tmp_path, SAMPLED.replace("{vocab_size: 600}", "{vocab_size: 600, training_pieces_only: true}")
                          % "", "kept.yaml")
    with pytest.raises(Seq2TextError, match="training.subword_sampling: sampled splits hold pieces"):
        load_recipe(recipe, data_root=multi30k_slice)


def test_a_translation_model_trains_on_from_one_with_the_same_tokenizers(multi30k_slice: Path,
                                                                        tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, SAMPLED % ""), data_root=multi30k_slice)
    data = prepare(recipe, tmp_path / "vocab")
    source = build_model(recipe, data.src.vocab_size, data.tgt.vocab_size)
    folder = save_checkpoint(tmp_path / "source", source, {}, recipe.to_yaml(), data.vocab_dir, pointer=False)
    model = build_model(recipe, data.src.vocab_size, data.tgt.vocab_size)
    assert "every weight copied (same tokenizers)" in warm_start(model, "translation", data.src, data.tgt, str(folder))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), source.state_dict().values()))

    other = load_recipe(write_recipe(tmp_path, SAMPLED.replace("600", "500") % "", "other.yaml"),
                        data_root=multi30k_slice)
    other_data = prepare(other, tmp_path / "other-vocab")
    with pytest.raises(Seq2TextError, match="its tokenizers differ from this recipe's"):
        warm_start(build_model(other, 500, 500), "translation", other_data.src, other_data.tgt, str(folder))
    with pytest.raises(Seq2TextError, match="is a translation model, this recipe trains a lm model"):
        warm_start(model, "lm", data.src, data.tgt, str(folder))
