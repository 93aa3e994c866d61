"""Bucketed batching on Multi30k: budgets hold, nothing is lost, order is seeded, shards split."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from conftest import write_recipe
from seq2text.data.batching import BucketBatcher, collate_pairs, padding_overhead
from seq2text.data.corpora import load_corpus
from seq2text.data.encode import encode_split
from seq2text.prepare import example_lengths
from seq2text.recipe import load_recipe
from seq2text.tokenizers import BOS, EOS, PAD, train_tokenizer


@pytest.fixture(scope="module")
def multi30k(tmp_path_factory: pytest.TempPathFactory):
    """Multi30k train tokenised with a joint 4k BPE: (lengths, encoded split)."""
    from conftest import DATA

    folder = tmp_path_factory.mktemp("recipe")
    recipe = load_recipe(write_recipe(folder, """\
data: {kind: parallel, train: multi30k/train, src_lang: de, tgt_lang: en}
tokenizer: {vocab_size: 4000}
"""), data_root=DATA)
    corpus = load_corpus(recipe)
    tokenizer = train_tokenizer(recipe.tokenizer, corpus.texts())
    split = encode_split(corpus, "train", 100, tokenizer)
    return example_lengths(split), split


def test_every_batch_within_token_budget_and_every_example_once(multi30k) -> None:
    lengths, _ = multi30k
    batcher = BucketBatcher(lengths, batch_tokens=4096, seed=7)
    batches = batcher.batches(epoch=0)
    assert all(len(b) * lengths[b].max() <= 4096 for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    overhead = padding_overhead(batches, lengths)
    print(f"padding overhead at batch_tokens=4096: {overhead:.1%} over {len(batches)} batches")
    assert overhead < 0.10
    unsorted = padding_overhead(BucketBatcher(lengths, batch_tokens=4096, pool=1, seed=7).batches(0), lengths)
    assert overhead < unsorted / 3  # bucketing is what keeps padding low


def test_sentence_count_and_both_limits(multi30k) -> None:
    lengths, _ = multi30k
    by_count = BucketBatcher(lengths, batch_size=64, seed=1).batches(0)
    assert max(map(len, by_count)) == 64 and sum(map(len, by_count)) == len(lengths)
    both = BucketBatcher(lengths, batch_size=100, batch_tokens=2000, seed=1).batches(0)
    assert all(len(b) <= 100 and len(b) * lengths[b].max() <= 2000 for b in both)


def test_seeded_order_and_epochs(multi30k) -> None:
    lengths, _ = multi30k
    first = BucketBatcher(lengths, batch_tokens=4096, seed=3).batches(epoch=2)
    assert first == BucketBatcher(lengths, batch_tokens=4096, seed=3).batches(epoch=2)
    assert first != BucketBatcher(lengths, batch_tokens=4096, seed=3).batches(epoch=3)
    assert first != BucketBatcher(lengths, batch_tokens=4096, seed=4).batches(epoch=2)
    ordered = BucketBatcher(lengths, batch_size=64, shuffle=False).batches(0)
    assert ordered == BucketBatcher(lengths, batch_size=64, shuffle=False).batches(5)


def test_shards_split_the_global_batches_of_a_bigger_single_process(multi30k) -> None:
    lengths, _ = multi30k
    single = BucketBatcher(lengths, batch_size=96, batch_tokens=6000, seed=5).batches(epoch=1)
    shards = [BucketBatcher(lengths, batch_size=32, batch_tokens=2000, seed=5, rank=r, world_size=3)
              .batches(1) for r in range(3)]
    merged = BucketBatcher(lengths, batch_size=32, batch_tokens=2000, seed=5, world_size=3).all_batches(1)
    assert len({len(s) for s in shards}) == 1 and len(shards[0]) == len(merged)
    for step, whole in enumerate(merged):
        parts = [shard[step] for shard in shards]
        assert all(parts) and sorted(i for part in parts for i in part) == sorted(whole)
    # The global batches are the single process's, except that a batch with fewer examples than
    # ranks (the end of a pool) joins the batch before it.
    assert len(single) - len(merged) < 0.01 * len(single)
    assert sum(b in merged for b in single) >= len(single) - 2 * (len(single) - len(merged))
    with pytest.raises(ValueError):
        BucketBatcher(lengths, batch_size=8, rank=3, world_size=3)


def test_collate_pads_and_masks(multi30k) -> None:
    _, split = multi30k
    rows = split.dataset.select(range(5))
    batch = collate_pairs(rows["src_ids"], rows["tgt_ids"])
    longest_src = max(map(len, rows["src_ids"]))
    assert batch.src.shape == (5, longest_src) and batch.src.dtype == torch.long
    assert batch.src_mask.sum(1).tolist() == [len(s) for s in rows["src_ids"]]
    assert (batch.src[~batch.src_mask] == PAD).all()
    assert (batch.tgt_in[:, 0] == BOS).all()
    for row, ids in enumerate(rows["tgt_ids"]):
        assert batch.tgt_out[row, :len(ids) + 1].tolist() == ids + [EOS]
        assert batch.tgt_in[row, 1:len(ids) + 1].tolist() == ids
    assert batch.target_tokens == sum(len(t) + 1 for t in rows["tgt_ids"])
    assert np.array_equal(example_lengths(split)[:5, 1], batch.tgt_mask.sum(1).numpy())
