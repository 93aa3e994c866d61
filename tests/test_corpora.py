"""Corpus loaders on the real corpora, the token-id cache, and every kind of bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import DATA, SLICE_RECIPE, write_recipe
from seq2text.data.corpora import load_corpus
from seq2text.data.encode import encode_split
from seq2text.data.tang import clean_paragraph
from seq2text.verse.forms import poem_form
from seq2text.errors import Seq2TextError
from seq2text.recipe import load_recipe
from seq2text.tokenizers import CharTokenizer, WordTokenizer


def recipe_for(folder: Path, text: str, data_root: Path):
    return load_recipe(write_recipe(folder, text), data_root=data_root)


def test_parallel_multi30k_any_language_pair(data_root: Path, tmp_path: Path) -> None:
    corpus = load_corpus(recipe_for(tmp_path, """\
data: {kind: parallel, train: multi30k/train, valid: multi30k/val, test: multi30k/test_2016_flickr,
       src_lang: fr, tgt_lang: cs}
""", data_root))
    assert {name: len(split) for name, split in corpus.splits.items()} == \
        {"train": 29000, "valid": 1014, "test": 1000}
    first = corpus["train"][0]
    assert first["src"].startswith("Deux jeunes hommes blancs") and first["tgt"].startswith("Dva mladí")
    assert len(corpus.texts("valid")) == 2 * 1014


@pytest.mark.slow
def test_tang_poems_cleaned_with_forms_tones_and_held_out_split(data_root: Path, tmp_path: Path) -> None:
    corpus = load_corpus(recipe_for(tmp_path, "data: {kind: tang, train: tang, valid_fraction: 0.02}\n",
                                    data_root))
    train, valid = corpus["train"], corpus["valid"]
    assert 0.015 < len(valid) / (len(train) + len(valid)) < 0.025
    assert not set(train["id"][:5000]) & set(valid["id"])
    texts = train["text"]
    assert not any(mark in text for text in texts for mark in "（）〖〗□{}[]《》「」●")
    forms = set(train["form"])
    assert forms == {"wuyan-jueju", "qiyan-jueju", "wuyan-lushi", "qiyan-lushi", "free"}
    with_tones = [(t, tones) for t, tones in zip(texts, train["tones"]) if tones]
    assert len(with_tones) > 0.8 * len(texts)
    assert all(len(t) == len(tones) and set(tones) <= set("平仄○？，。？！；：、")
               for t, tones in with_tones[:5000])
    assert any("commentary paragraphs dropped" in line for line in corpus.report)


def test_tang_cleaning_rules() -> None:
    assert clean_paragraph("闌風長雨（一作「東風細雨」）秋紛紛，四海（一作「萬里」）八荒同一雲。") == \
        "闌風長雨秋紛紛，四海八荒同一雲。"
    assert clean_paragraph("[爽]節在重九，物華新雨餘。") == "爽節在重九，物華新雨餘。"
    assert clean_paragraph("童子解吟《長恨曲》，胡兒能唱《琵琶篇》。") == "童子解吟長恨曲，胡兒能唱琵琶篇。"
    assert clean_paragraph("依余所知，最早的是一○七七年陝西咸甯縣臥龍寺的石刻本。") is None
    assert poem_form("床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。") == "wuyan-jueju"
    assert poem_form("床前明月光，疑是地上霜。舉頭望明月。") == "free"


@pytest.mark.slow
def test_verse_pairs_mark_middle_couplets(data_root: Path, tmp_path: Path) -> None:
    corpus = load_corpus(recipe_for(tmp_path, "data: {kind: verse_pairs, train: tang}\n", data_root))
    pairs = corpus["train"]
    assert 200_000 < len(pairs) < 260_000
    middle = sum(pairs["parallel"])
    assert 40_000 < middle < 48_000  # "about 44k strictly parallel pairs" (data README)
    assert all(len(s) == len(t) for s, t in zip(pairs["src"][:10000], pairs["tgt"][:10000]))


@pytest.mark.slow
def test_verse_pairs_with_extra_couplets_weighted(data_root: Path, tmp_path: Path) -> None:
    corpus = load_corpus(recipe_for(tmp_path, """\
data: {kind: verse_pairs, train: tang, extra_pairs: couplet/classical_pairs.jsonl, valid_fraction: 0.02,
       parallel_repeat: 2}
""", data_root))
    train, valid = corpus["train"], corpus["valid"]
    once = len(train) - sum(train["parallel"]) // 2  # every parallel pair appears twice
    assert sum(train["parallel"]) % 2 == 0 and 200_000 < once < 260_000
    extra = {(s, t) for s, t, p in zip(valid["src"], valid["tgt"], valid["parallel"]) if p and "，" in s}
    assert extra and all(len(s) == len(t) for s, t in extra)  # held-out classical pairs (only they hold ，)
    assert not {(s, t) for s, t in zip(train["src"], train["tgt"])} & extra
    assert any("1 pairs whose sides differ" in line for line in corpus.report)


def test_couplet_jsonl_and_text_corpora(data_root: Path, tmp_path: Path) -> None:
    couplets = load_corpus(recipe_for(
        tmp_path, "data: {kind: couplet, train: couplet/classical_pairs.jsonl}\n", data_root))
    assert len(couplets["train"]) == 2250 and couplets["train"][0] == {"src": "云", "tgt": "雨"}
    ptb = load_corpus(recipe_for(tmp_path, """\
data: {kind: text, train: ptb/ptb.train.txt, valid: ptb/ptb.valid.txt, test: ptb/ptb.test.txt}
""", data_root))
    assert [len(ptb[s]) for s in ("train", "valid", "test")] == [42068, 3370, 3761]
    words = sum(len(line.split()) for line in ptb["train"]["text"])
    assert words == 887521  # 929k tokens minus one sentence end per line
    shakespeare = load_corpus(recipe_for(
        tmp_path, "data: {kind: text, train: shakespeare/input.txt, valid_fraction: 0.1}\n", data_root))
    chars = {s: sum(map(len, shakespeare[s]["text"])) for s in ("train", "valid")}
    assert 0.095 < chars["valid"] / (chars["train"] + chars["valid"]) < 0.105
    assert shakespeare["train"][0]["text"] == "First Citizen:"


@pytest.mark.slow
def test_tokenisation_is_cached_and_too_long_examples_are_counted(
        multi30k_slice: Path, tmp_path: Path, private_cache: Path) -> None:
    recipe = recipe_for(tmp_path, SLICE_RECIPE, multi30k_slice)
    corpus = load_corpus(recipe)
    tokenizer = CharTokenizer.train(corpus.texts())
    first = encode_split(corpus, "train", 60, tokenizer)
    assert first.total == 2000 and first.too_long > 0
    assert len(first.dataset) + first.too_long == 2000
    assert all(len(s) <= 60 and len(t) <= 60 for s, t in zip(first.dataset["src_ids"], first.dataset["tgt_ids"]))
    assert "filtered out" in first.report("train", 60)
    assert first.cache_file.is_file() and private_cache in first.cache_file.parents
    stamp = first.cache_file.stat().st_mtime_ns

    again = encode_split(load_corpus(recipe), "train", 60, tokenizer)
    assert again.cache_file == first.cache_file and again.cache_file.stat().st_mtime_ns == stamp
    assert again.dataset["src_ids"] == first.dataset["src_ids"]
    other = encode_split(corpus, "train", 60, WordTokenizer.train(corpus.texts()))
    assert other.cache_file != first.cache_file


# --- bad input: one line naming what is wrong, never a traceback -------------------------------

def test_invalid_utf8_names_file_and_line(multi30k_slice: Path, tmp_path: Path) -> None:
    path = multi30k_slice / "multi30k" / "train.en"
    lines = path.read_bytes().split(b"\n")
    lines[41] = b"A man in a caf\xe9 reads."  # Latin-1, not UTF-8
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(Seq2TextError) as caught:
        load_corpus(recipe_for(tmp_path, SLICE_RECIPE, multi30k_slice))
    assert str(caught.value) == f"{path}:42: invalid UTF-8 (byte 0xe9 at column 15)"


def test_parallel_files_of_different_lengths(multi30k_slice: Path, tmp_path: Path) -> None:
    path = multi30k_slice / "multi30k" / "train.en"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:1990]))
    with pytest.raises(Seq2TextError, match=r"train.de has 2000 lines but .*train.en has 1990"):
        load_corpus(recipe_for(tmp_path, SLICE_RECIPE, multi30k_slice))


def test_empty_lines_are_dropped_and_counted(multi30k_slice: Path, tmp_path: Path) -> None:
    path = multi30k_slice / "multi30k" / "train.de"
    lines = path.read_text().splitlines()
    lines[3], lines[10] = "", "   \t "
    path.write_text("\n".join(lines) + "\n")
    corpus = load_corpus(recipe_for(tmp_path, SLICE_RECIPE, multi30k_slice))
    assert len(corpus["train"]) == 1998
    assert corpus.report == ["multi30k/train.de/.en: dropped 2 empty or whitespace-only pairs (lines 4, 11)"]


def test_missing_or_malformed_files(data_root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "data"
    (bad / "tang").mkdir(parents=True)
    with pytest.raises(Seq2TextError, match=r"no poet\.<dynasty>\.N\.json files"):
        load_corpus(recipe_for(tmp_path, "data: {kind: tang, train: tang}\n", bad))
    (bad / "tang" / "poet.tang.0.json").write_text('[{"id": "x", "paragraphs": ["a"]')
    with pytest.raises(Seq2TextError, match=r"poet.tang.0.json:1: invalid JSON"):
        load_corpus(recipe_for(tmp_path, "data: {kind: tang, train: tang}\n", bad))
    (bad / "pairs.jsonl").write_text('{"first": "云", "second": "雨"}\n{"first": 3}\n')
    with pytest.raises(Seq2TextError, match=r"pairs.jsonl:2: expected"):
        load_corpus(recipe_for(tmp_path, "data: {kind: couplet, train: pairs.jsonl}\n", bad))


def test_song_poems_join_the_tang_poems(tmp_path: Path) -> None:
    """``data.extra_poems: song`` reads the Song poems (same schema, no tone marks) beside the Tang."""
    root = tmp_path / "data"
    for dynasty, number in (("tang", 0), ("song", 0), ("song", 1000)):
        (root / dynasty).mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / dynasty / f"poet.{dynasty}.{number}.json", root / dynasty)
    (root / "tang" / "strains").mkdir()
    shutil.copy(DATA / "tang" / "strains" / "poet.tang.0.json", root / "tang" / "strains")
    tang = load_corpus(recipe_for(tmp_path, "data: {kind: tang, train: tang, valid_fraction: 0.1}\n", root))
    both = load_corpus(recipe_for(tmp_path, "data: {kind: tang, train: tang, extra_poems: song, "
                                            "valid_fraction: 0.1}\n", root))
    song_count = sum(len(json.loads((root / "song" / f"poet.song.{n}.json").read_text(encoding="utf-8")))
                     for n in (0, 1000))
    added = len(both["train"]) + len(both["valid"]) - len(tang["train"]) - len(tang["valid"])
    assert 0.8 * song_count < added <= song_count  # some are dropped for lost characters
    assert set(tang["train"]["id"]) < set(both["train"]["id"])
    song_ids = set(both["train"]["id"]) - set(tang["train"]["id"])
    assert all(tones == "" for i, tones in zip(both["train"]["id"], both["train"]["tones"]) if i in song_ids)
    assert any(line.startswith("song: ") for line in both.report)
    assert tang.fingerprints["train"] != both.fingerprints["train"]
