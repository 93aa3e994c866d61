"""Greedy and beam search on a small model trained briefly on real Multi30k pairs."""

from __future__ import annotations


import pytest
import torch

from conftest import write_multi30k_slice, write_recipe
from seq2text.data.batching import BucketBatcher, collate_pairs
from seq2text.decoding import NoRepeatNGram, beam_search, greedy_search, length_penalty, restrict, sample
from seq2text.models import Seq2Seq
from seq2text.prepare import example_lengths, prepare
from seq2text.recipe import load_recipe
from seq2text.tokenizers import EOS
from seq2text.training.trainer import MixedPrecision, make_optimizer, train_step

RECIPE = """\
name: decode
data: {kind: parallel, train: multi30k/train, valid: multi30k/val, src_lang: de, tgt_lang: en,
       max_length: 40}
tokenizer: {vocab_size: 500}
model: {embed_size: 32, hidden_size: 64, dropout: 0.0}
training: {batch_size: 64}
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """A model after two epochs on 2,000 Multi30k pairs, and a padded batch of 24 val sentences."""
    folder = tmp_path_factory.mktemp("decode")
    write_multi30k_slice(folder, train_lines=2000, val_lines=24)
    recipe = load_recipe(write_recipe(folder, RECIPE), data_root=folder / "data")
    torch.manual_seed(0)
    data = prepare(recipe, folder / "vocab")
    model = Seq2Seq(recipe.model, data.src.vocab_size, data.tgt.vocab_size)
    optimizer = make_optimizer(model, recipe.training)
    train = data.splits["train"].dataset
    batches = BucketBatcher(example_lengths(data.splits["train"]), batch_size=64, seed=0).batches(0)
    for _ in range(2):
        for ids in batches:
            rows = train[ids]
            train_step(model, optimizer, collate_pairs(rows["src_ids"], rows["tgt_ids"]),
                       recipe.training, 3e-3, MixedPrecision("fp32", torch.device("cpu")))
    rows = data.splits["valid"].dataset[:]
    return model.eval(), collate_pairs(rows["src_ids"], rows["tgt_ids"])


def model_score(model: Seq2Seq, src: torch.Tensor, mask: torch.Tensor, tokens: list[int]) -> float:
    """Log-probability of ``tokens`` + ``</s>`` for one source row."""
    state = model.encode(src[None], mask[None])
    previous, total = torch.tensor([2]), 0.0
    with torch.no_grad():
        for token in [*tokens, EOS]:
            log_probs, state, _ = model.step(previous, state)
            total += log_probs[0, token].item()
            previous = torch.tensor([token])
    return total


@pytest.mark.slow
def test_beam_of_one_is_greedy(trained) -> None:
    model, batch = trained
    greedy = [h.tokens for h in greedy_search(model, model.encode(batch.src, batch.src_mask), 30)]
    beam = beam_search(model, model.encode(batch.src, batch.src_mask), beam_size=1, max_length=30, alpha=0.0)
    assert [best[0].tokens for best in beam] == greedy
    assert any(len(tokens) > 3 for tokens in greedy)  # the model says something


@pytest.mark.slow
def test_beam_never_scores_worse_than_greedy(trained) -> None:
    model, batch = trained
    greedy = [h.tokens for h in greedy_search(model, model.encode(batch.src, batch.src_mask), 30)]
    beam = beam_search(model, model.encode(batch.src, batch.src_mask), beam_size=5, max_length=30, alpha=0.0)
    for row, (tokens, best) in enumerate(zip(greedy, beam)):
        assert best[0].log_prob == pytest.approx(model_score(model, batch.src[row], batch.src_mask[row],
                                                             best[0].tokens), abs=1e-4)
        if len(tokens) < 30:  # greedy ended by itself: a complete hypothesis the beam could find
            assert best[0].log_prob >= model_score(model, batch.src[row], batch.src_mask[row], tokens) - 1e-4


@pytest.mark.slow
def test_nbest_lists_are_sorted_distinct_and_batching_does_not_matter(trained) -> None:
    model, batch = trained
    batched = beam_search(model, model.encode(batch.src, batch.src_mask), beam_size=4, max_length=30, nbest=4)
    for row, hypotheses in enumerate(batched):
        assert len(hypotheses) == 4
        scores = [h.score for h in hypotheses]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(h.tokens) for h in hypotheses}) == 4
        for h in hypotheses:
            assert h.score == pytest.approx(h.log_prob / length_penalty(len(h.tokens) + 1, 1.0))
        length = int(batch.src_mask[row].sum())
        alone = beam_search(model, model.encode(batch.src[row:row + 1, :length], batch.src_mask[row:row + 1, :length]),
                            beam_size=4, max_length=30, nbest=4)[0]
        assert [h.tokens for h in alone] == [h.tokens for h in hypotheses]


@pytest.mark.slow
def test_early_stop_ends_each_search_at_its_first_best_ending(trained) -> None:
    """With alpha 0 the exact search already stops there (a live beam's log-probability only
    falls), so early stopping changes nothing; with a length penalty it may only end sooner."""
    model, batch = trained
    for alpha in (0.0, 1.0):
        exact = beam_search(model, model.encode(batch.src, batch.src_mask), beam_size=4, max_length=30, alpha=alpha)
        early = beam_search(model, model.encode(batch.src, batch.src_mask), beam_size=4, max_length=30, alpha=alpha,
                            early=True)
        if alpha == 0.0:
            assert [h[0].tokens for h in early] == [h[0].tokens for h in exact]
        assert all(len(e[0].tokens) <= max(len(h.tokens) for h in x) for e, x in zip(early, exact))
        assert all(e[0].log_prob == pytest.approx(model_score(model, batch.src[row], batch.src_mask[row],
                                                              e[0].tokens), abs=1e-4)
                   for row, e in enumerate(early))


@pytest.mark.slow
def test_max_length_per_sentence_is_respected(trained) -> None:
    model, batch = trained
    limits = torch.arange(batch.src.size(0)) % 4
    found = beam_search(model, model.encode(batch.src, batch.src_mask), 3, limits)
    for limit, hypotheses in zip(limits.tolist(), found):
        assert len(hypotheses[0].tokens) <= limit


@pytest.mark.slow
def test_sampling_is_seeded_and_top_1_sampling_is_greedy(trained) -> None:
    model, batch = trained

    def draw(seed: int, **options) -> list:
        state = model.encode(batch.src, batch.src_mask)
        return sample(model, state, 30, generator=torch.Generator().manual_seed(seed), **options)

    greedy = greedy_search(model, model.encode(batch.src, batch.src_mask), 30)
    assert [h.tokens for h in draw(1, top_k=1)] == [h.tokens for h in greedy]
    first, again, other = (draw(seed, temperature=1.3, top_p=0.95) for seed in (7, 7, 8))
    assert [h.tokens for h in first] == [h.tokens for h in again] != [h.tokens for h in other]
    for row in range(3):
        tokens = first[row].tokens
        if len(tokens) < 30:
            assert first[row].log_prob == pytest.approx(
                model_score(model, batch.src[row], batch.src_mask[row], tokens), abs=1e-4)


def test_restrict_keeps_the_top_k_and_the_nucleus() -> None:
    logits = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()

    def kept(**options) -> list[bool]:
        return torch.isfinite(restrict(logits, **options))[0].tolist()

    assert kept(top_k=2) == [True, True, False, False]
    assert kept(top_p=0.3) == [True, False, False, False]
    assert kept(top_p=0.8) == [True, True, False, False]
    assert kept(top_p=0.81) == [True, True, True, False]
    assert kept(top_k=2, top_p=0.9) == [True, True, False, False]


def test_no_repeat_ngram_forbids_completing_a_seen_ngram() -> None:
    prefixes = torch.tensor([[5, 6, 7, 5, 6], [5, 6, 7, 8, 9]])

    def banned(size: int) -> list[list[int]]:
        out = NoRepeatNGram(size)(torch.zeros(2, 10), prefixes, torch.arange(2))
        return [torch.isinf(row).nonzero().flatten().tolist() for row in out]

    assert banned(3) == [[7], []]
    assert banned(2) == [[7], []]
    assert banned(1) == [[5, 6, 7], [5, 6, 7, 8, 9]]
