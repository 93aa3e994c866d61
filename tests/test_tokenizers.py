"""Tokenizers on every corpus: exact round trip, the shared special ids, save and load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DATA, ROOT, head, write_recipe
from seq2text.data.tang import CleaningReport, read_tang
from seq2text.errors import Seq2TextError
from seq2text.prepare import prepare
from seq2text.recipe import TokenizerConfig, load_recipe
from seq2text.tokenizers import (BOS, EOS, PAD, SEP, SPECIALS, UNK, CharTokenizer, SentencePieceTokenizer,
                                 WordTokenizer, load_tokenizer, load_tokenizers, save_tokenizers,
                                 train_tokenizer)


def lines(path: Path, count: int) -> list[str]:
    return [line for line in head(path, count).splitlines() if line.strip()]


def tang_poems(data_root: Path, count: int = 3000) -> list[str]:
    poems = read_tang(data_root / "tang", CleaningReport())
    return [next(poems)["text"] for _ in range(count)]


def assert_round_trip(tokenizer, texts: list[str]) -> None:
    for text in texts:
        assert tokenizer.decode(tokenizer.encode(text)) == tokenizer.normalize(text), text


@pytest.mark.parametrize("model_type", ["bpe", "unigram"])
@pytest.mark.parametrize("lang", ["de", "en", "fr", "cs"])
def test_sentencepiece_round_trip_on_multi30k(data_root: Path, lang: str, model_type: str) -> None:
    train = lines(data_root / "multi30k" / f"train.{lang}", 3000)
    tokenizer = train_tokenizer(TokenizerConfig(model_type=model_type, vocab_size=1000), train)
    assert tokenizer.vocab_size == 1000
    # Unseen sentences and unseen scripts round-trip too, through byte fallback.
    unseen = lines(data_root / "multi30k" / f"test_2016_flickr.{lang}", 1000)
    assert_round_trip(tokenizer, train + unseen + ["Ein Hund 🐕 läuft – 海阔凭鱼跃"])
    assert UNK not in tokenizer.encode("海阔凭鱼跃 🐕")
    assert tokenizer.normalize("  Two   dogs ") == "Two dogs"


@pytest.mark.slow
def test_char_round_trip_on_tang_and_couplets(data_root: Path) -> None:
    poems = tang_poems(data_root)
    tokenizer = CharTokenizer.train(poems, simplified=True)
    assert_round_trip(tokenizer, poems)
    assert tokenizer.normalize("舉頭望明月，低頭思故鄉。") == "举头望明月，低头思故乡。"
    assert tokenizer.pieces("床前明月光，") == list("床前明月光，")
    pairs = [json.loads(line) for line in lines(data_root / "couplet" / "classical_pairs.jsonl", 2250)]
    texts = [p[side] for p in pairs for side in ("first", "second")]
    assert_round_trip(CharTokenizer.train(texts), texts)


@pytest.mark.slow
def test_char_round_trip_on_shakespeare_keeps_spaces(data_root: Path) -> None:
    text = head(data_root / "shakespeare" / "input.txt", 2000)
    tokenizer = CharTokenizer.train([text])
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert tokenizer.vocab_size == len(set(text)) + len(SPECIALS)


@pytest.mark.slow
def test_word_round_trip_on_ptb_maps_its_unk(data_root: Path) -> None:
    train = lines(data_root / "ptb" / "ptb.train.txt", 42068)
    tokenizer = WordTokenizer.train(train)
    # PTB's 10k words count its <unk> and the sentence end, which are our <unk> and </s>.
    assert tokenizer.vocab_size == 10000 - 2 + len(SPECIALS)
    assert_round_trip(tokenizer, train + lines(data_root / "ptb" / "ptb.test.txt", 3761))
    assert tokenizer.encode("the <unk> cat")[1] == UNK
    assert tokenizer.normalize(" a  b ") == "a b"


@pytest.mark.parametrize("kind", ["sentencepiece", "char", "word"])
def test_specials_and_save_load(data_root: Path, tmp_path: Path, kind: str) -> None:
    texts = lines(data_root / "multi30k" / "train.en", 2000)
    tokenizer = train_tokenizer(TokenizerConfig(type=kind, vocab_size=800), texts)
    if kind == "sentencepiece":
        assert [tokenizer.sp.id_to_piece(i) for i in range(len(SPECIALS))] == list(SPECIALS)
    else:
        assert tokenizer.tokens[:len(SPECIALS)] == list(SPECIALS)
    ids = tokenizer.encode(texts[0])
    assert tokenizer.decode([BOS, *ids, SEP, EOS, PAD, PAD]) == tokenizer.decode(ids)
    loaded = load_tokenizer(tokenizer.save(tmp_path / kind))
    assert type(loaded) is type(tokenizer) and loaded.vocab_size == tokenizer.vocab_size
    assert [loaded.encode(t) for t in texts[:200]] == [tokenizer.encode(t) for t in texts[:200]]
    assert loaded.fingerprint() == tokenizer.fingerprint()


@pytest.mark.slow
def test_joint_and_separate_tokenizers_save_and_load(data_root: Path, tmp_path: Path) -> None:
    de = lines(data_root / "multi30k" / "train.de", 500)
    en = lines(data_root / "multi30k" / "train.en", 500)
    joint = CharTokenizer.train(de + en)
    src, tgt = load_tokenizers(save_tokenizers(joint, joint, tmp_path / "joint"))
    assert src is tgt and src.tokens == joint.tokens
    src, tgt = load_tokenizers(save_tokenizers(CharTokenizer.train(de), CharTokenizer.train(en),
                                               tmp_path / "separate"))
    assert src is not tgt and "ü" in src.tokens and "ü" not in tgt.tokens


def test_training_pieces_only_keeps_the_pieces_of_each_side(data_root: Path, tmp_path: Path) -> None:
    """The JoeyNMT kit's joint SentencePiece model, cut to the pieces of each side of Multi30k's
    training text: the English side keeps about half, and an unseen piece reads as <unk>."""
    kit = SentencePieceTokenizer((DATA / ".." / "peers" / "joeynmt" / "spm_deen_8k.model").read_bytes())
    de = lines(data_root / "multi30k" / "train.de", 29000)
    en = lines(data_root / "multi30k" / "train.en", 29000)
    src, tgt = kit.restricted(de), kit.restricted(en)
    assert 3000 < tgt.vocab_size < 5000 < src.vocab_size < kit.vocab_size
    assert_round_trip(tgt, en[:2000])
    assert [tgt.decode([i]) for i in tgt.encode("A dog")] == [kit.decode([i]) for i in kit.encode("A dog")]
    german_only = next(piece for piece in kit.pieces(" ".join(de[:200])) if tgt.encode(piece.replace("\u2581", " "))
                       == [UNK])
    assert UNK in tgt.encode(german_only.replace("\u2581", " ")) and UNK not in kit.encode(german_only)
    src_again, tgt_again = load_tokenizers(save_tokenizers(src, tgt, tmp_path / "kept"))
    assert (src_again.vocab_size, tgt_again.vocab_size) == (src.vocab_size, tgt.vocab_size)
    assert tgt_again.encode(en[5]) == tgt.encode(en[5]) and tgt_again.fingerprint() != kit.fingerprint()
    (tmp_path / "kept" / "tgt" / "tokenizer.json").write_text(json.dumps(
        {**json.loads((tmp_path / "kept" / "tgt" / "tokenizer.json").read_text()), "kept": [9, 3]}))
    with pytest.raises(Seq2TextError, match="kept: expected increasing SentencePiece ids"):
        load_tokenizer(tmp_path / "kept" / "tgt")


def test_prepare_keeps_the_training_pieces_of_each_side(multi30k_slice: Path, tmp_path: Path) -> None:
    kit = (DATA / ".." / "peers" / "joeynmt" / "spm_deen_8k.model").resolve()
    recipe = load_recipe(write_recipe(tmp_path, f"""\
name: kept
data: {{kind: parallel, train: multi30k/train, valid: multi30k/val, src_lang: de, tgt_lang: en}}
tokenizer: {{model_file: {kit}, joint: false, training_pieces_only: true}}
"""), data_root=multi30k_slice)
    data = prepare(recipe, tmp_path / "vocab")
    train = data.splits["train"].dataset
    assert data.src.vocab_size < 8002 and data.tgt.vocab_size < data.src.vocab_size
    assert UNK not in {i for ids in train["tgt_ids"] for i in ids}  # every training piece kept
    assert {i for ids in train["tgt_ids"] for i in ids} | set(range(5)) == set(range(data.tgt.vocab_size))
    with pytest.raises(Seq2TextError, match="tokenizer.training_pieces_only: only for sentencepiece"):
        load_recipe(write_recipe(tmp_path, "name: x\ndata: {kind: parallel, train: multi30k/train, src_lang: de, "
                                 "tgt_lang: en}\ntokenizer: {type: char, training_pieces_only: true}\n", "char.yaml"),
                    data_root=multi30k_slice)


@pytest.mark.slow
def test_broken_tokenizer_files_give_one_line(data_root: Path, tmp_path: Path) -> None:
    tokenizer = SentencePieceTokenizer.train(lines(data_root / "multi30k" / "train.en", 1000), 500)
    folder = tokenizer.save(tmp_path / "spm")
    (folder / "spm.model").write_bytes((folder / "spm.model").read_bytes()[:100])
    with pytest.raises(Seq2TextError, match="not a valid tokenizer file .*checksum"):
        load_tokenizer(folder)
    with pytest.raises(Seq2TextError, match="missing"):
        load_tokenizer(tmp_path / "nothing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "tokenizer.json").write_text('{"type": "morse"}')
    with pytest.raises(Seq2TextError, match="unknown tokenizer type 'morse'"):
        load_tokenizer(tmp_path / "bad")


@pytest.mark.slow
def test_sentencepiece_vocabulary_too_large_is_a_clear_error(data_root: Path) -> None:
    with pytest.raises(Seq2TextError, match="tokenizer.vocab_size: .*too high"):
        SentencePieceTokenizer.train(lines(data_root / "multi30k" / "train.en", 50), 8000)


@pytest.mark.slow
def test_lone_surrogates_and_literal_specials(data_root: Path) -> None:
    subwords = load_tokenizers(ROOT / "vocab" / "multi30k-de-en")[0]
    broken = "Ein \ud800 Hund \udcff."
    assert subwords.decode(subwords.encode(broken)) == subwords.normalize(broken) == "Ein Hund ."  # NFKC drops U+FFFD
    chars = load_tokenizers(ROOT / "vocab" / "tang-poetry")[0]  # OpenCC traditional -> simplified
    assert chars.normalize("風\ud800") == "风\ufffd" and len(chars.encode("風\ud800")) == 2
    words = WordTokenizer.train(["the cat sat"])
    text = "the <s> cat </s> sat <pad> <sep> <unk>"
    assert words.decode(words.encode(text)) == "the <unk> cat <unk> sat <unk> <unk> <unk>"  # none dropped
