"""The vocabulary shortlist: prepare writes the target tokens of the training data, and search
over them writes what a search over the whole vocabulary does (bundled de->en model): greedy
the same outputs, beam the same quality."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sacrebleu

from conftest import DATA, SLICE_RECIPE, model_folder, one_line_error, run, write_recipe
from seq2text import Translator
from seq2text.decoding.shortlist import SHORTLIST_FILE
from seq2text.prepare import prepare
from seq2text.recipe import load_recipe
from seq2text.tokenizers import EOS

BLEU_TOLERANCE = 0.5  # beam 5 on 200 test2016 sentences (1,000 sentences: 38.08 -> 38.00)


def test_prepare_writes_the_target_tokens_of_the_training_data(multi30k_slice: Path, tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, SLICE_RECIPE), data_root=multi30k_slice)
    prepared = prepare(recipe, tmp_path / "vocab")
    saved = json.loads((tmp_path / "vocab" / SHORTLIST_FILE).read_text(encoding="utf-8"))["ids"]
    english = (multi30k_slice / "multi30k" / "train.en").read_text(encoding="utf-8").splitlines()
    german = (multi30k_slice / "multi30k" / "train.de").read_text(encoding="utf-8").splitlines()
    pairs = [(prepared.src.encode(de), prepared.tgt.encode(en)) for de, en in zip(german, english)]
    seen = {EOS} | {i for _, ids in pairs for i in ids}
    short = {EOS} | {i for src, ids in pairs if max(len(src), len(ids)) < 30 for i in ids}
    # Those of the pairs trained on: all pairs within max_length (40), not the longer ones.
    assert saved == sorted(set(saved)) and short <= set(saved) <= seen
    # The joint vocabulary's German-only pieces are left out.
    assert {i for src, _ in pairs for i in src} - seen
    assert any(line.startswith("shortlist: ") for line in prepared.report)


@pytest.mark.slow
def test_search_over_the_shortlist_writes_what_the_whole_vocabulary_does() -> None:
    sources = (DATA / "multi30k" / "test_2016_flickr.de").read_text(encoding="utf-8").splitlines()[:200]
    references = (DATA / "multi30k" / "test_2016_flickr.en").read_text(encoding="utf-8").splitlines()[:200]
    full, short = Translator.load("multi30k-de-en"), Translator.load("multi30k-de-en", shortlist=True)
    assert short.model.model is full.model and short.model.ids.numel() < full.tgt.vocab_size
    expected, found = full.search(sources, beam_size=1), short.search(sources, beam_size=1)
    for a, b in zip(expected, found):
        assert a.hypotheses[0].tokens == b.hypotheses[0].tokens
        # Renormalised over fewer tokens, a log-probability can only rise.
        assert b.hypotheses[0].log_prob >= a.hypotheses[0].log_prob - 1e-4
    bleu = [sacrebleu.corpus_bleu(t.translate(sources, beam_size=5), [references]).score for t in (full, short)]
    assert abs(bleu[0] - bleu[1]) < BLEU_TOLERANCE, bleu


@pytest.mark.slow
@pytest.mark.parametrize("content", ['{"ids": [1, 2, 99999]}', '{"ids": []}', "[", '{"ids": [4, 5]}', None])
def test_a_missing_or_damaged_shortlist_is_one_line(tmp_path: Path, content: str | None) -> None:
    folder = model_folder("multi30k-de-en", tmp_path)
    path = folder / "tokenizer" / SHORTLIST_FILE
    if content is None:
        path.unlink()
    else:
        path.write_text(content, encoding="utf-8")
    one_line_error(run("translate", "-m", str(folder), "--shortlist", "Ein Hund."), str(path))
    result = run("translate", "-m", str(folder), "Ein Hund läuft.")  # without --shortlist: not read
    assert result.returncode == 0 and "dog" in result.stdout, result.stderr[-2000:]
