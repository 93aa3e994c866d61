"""Tagging (N vs N): CoNLL-U treebanks read with no sentence lost, the CRF against brute force,
padding invariance, a tagger trained on a slice of the English Web Treebank through the command
line, `seq2text tag` in every format and its errors, evaluate and the HTTP endpoint, and the
bundled pos-en and pos-lzh."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import torch

from conftest import DATA, one_line_error, render_in_chromium, run, write_recipe
from seq2text.data.conllu import Reading, read_treebank
from seq2text.data.corpora import load_corpus
from seq2text.errors import Seq2TextError
from seq2text.models import build_model
from seq2text.models.crf import CRF
from seq2text.recipe import load_recipe
from seq2text.scoring.tags import tag_batch
from seq2text.tagger import Tagger
from seq2text.tokenizers import CharTokenizer, WordTokenizer

EWT = DATA / "ud" / "en_ewt"
KYOTO = DATA / "ud" / "lzh_kyoto"

RECIPE = """\
name: {name}
task: tagging
seed: 5
data: {{kind: conllu, train: ud/en_ewt/train.conllu, valid: ud/en_ewt/dev.conllu, test_fraction: 0.1}}
tokenizer: {{type: word, split: treebank}}
model: {{cell: lstm, embed_size: 32, char_size: 16, char_embed_size: 16, encoder_size: 32, encoder_layers: 1,
        crf: {crf}}}
training: {{batch_size: 32, epochs: 2, learning_rate: 5e-3, metric: accuracy, word_dropout: 0.25}}
"""


def sentences_of(path: Path, count: int) -> str:
    """The first ``count`` sentences of a real CoNLL-U file, as text."""
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    return "\n\n".join(blocks[:count]) + "\n\n"


@pytest.fixture(scope="module")
def ewt_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with the first 800 training and 200 dev sentences of the English Web Treebank."""
    root = tmp_path_factory.mktemp("ewt") / "data"
    (root / "ud" / "en_ewt").mkdir(parents=True)
    for split, count in (("train", 800), ("dev", 200)):
        (root / "ud" / "en_ewt" / f"{split}.conllu").write_text(sentences_of(EWT / f"{split}.conllu", count),
                                                               encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def trained(ewt_slice: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small tagger (with a CRF) trained for two epochs on the slice, through the command line."""
    folder = tmp_path_factory.mktemp("tagger")
    recipe = write_recipe(folder, RECIPE.format(name="tiny", crf="true"))
    result = run("train", str(recipe), "--data-root", str(ewt_slice), "--output-dir", str(folder / "run"))
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stderr
    return folder / "run"


def test_every_sentence_and_word_of_a_treebank_is_read() -> None:
    text = sentences_of(EWT / "train.conllu", 400)
    lines = text.splitlines()
    ids = [line.split("\t")[0] for line in lines if line and not line.startswith("#")]
    ranges = [i for i in ids if "-" in i]
    words = [i for i in ids if i.isdigit()]
    assert ranges, "the slice should hold multiword tokens"
    sentences = read_treebank(Path("slice.conllu"), text=text)
    assert len(sentences) == sum(line.startswith("# sent_id") for line in lines) == 400
    assert sum(len(s.words) for s in sentences) == len(words)
    assert sentences[0].sent_id.startswith("weblog-") and None not in sentences[0].tags
    surface = read_treebank(Path("slice.conllu"), Reading(multiword_tokens="surface"), text=text)
    merged = sum(len(s.words) for s in surface)
    covered = sum(int(r.split("-")[1]) - int(r.split("-")[0]) + 1 for r in ranges)
    assert merged == len(words) - covered + len(ranges)
    joined = [tag for s in surface for word, tag in zip(s.words, s.tags) if word.lower() == "don't"]
    assert joined and set(joined) == {"AUX+PART"}
    kyoto = read_treebank(KYOTO / "dev.conllu")
    assert len(kyoto) == 1124 and sum(len(s.words) for s in kyoto) == 5702


@pytest.mark.slow  # reads the whole training file
def test_empty_nodes_are_read_only_when_asked() -> None:
    text = (EWT / "train.conllu").read_text(encoding="utf-8")
    empty = sum(1 for line in text.splitlines() if line[:1].isdigit() and "." in line.split("\t")[0])
    plain = read_treebank(Path("train.conllu"), text=text)
    with_empty = read_treebank(Path("train.conllu"), Reading(empty_nodes=True), text=text)
    assert empty == 37 and sum(map(len, (s.words for s in with_empty))) - sum(len(s.words) for s in plain) == 37


@pytest.mark.parametrize("damage, needle", [
    (lambda lines: lines[:4] + ["\t".join(lines[4].split("\t")[:9])] + lines[5:], ":5: expected 10 tab-separated"),
    (lambda lines: lines[:4] + ["x" + lines[4]] + lines[5:], "not a CoNLL-U sentence"),
])
def test_a_damaged_treebank_is_named_by_file_and_line(damage, needle: str, tmp_path: Path) -> None:
    lines = sentences_of(EWT / "dev.conllu", 3).split("\n")
    path = tmp_path / "bad.conllu"
    path.write_text("\n".join(damage(lines)), encoding="utf-8")
    with pytest.raises(Seq2TextError, match=f"bad.conllu.*{needle[:12]}"):
        read_treebank(path)


@pytest.mark.slow  # reads the whole training file, twice
def test_the_held_out_test_split_is_fixed_and_apart_from_training(tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, RECIPE.format(name="split", crf="false")), data_root=DATA)
    corpus = load_corpus(recipe)
    train, test = set(corpus["train"]["sent_id"]), set(corpus["test"]["sent_id"])
    assert not train & test and len(train) + len(test) == 12544
    assert 0.08 < len(test) / 12544 < 0.12
    assert set(load_corpus(recipe)["test"]["sent_id"]) == test


def test_raw_text_is_split_as_the_treebanks_are() -> None:
    english = WordTokenizer(["x"], split="treebank")
    assert english.words('I can\'t believe it\'s "done".') == ["I", "ca", "n't", "believe", "it", "'s", '"', "done",
                                                             '"', "."]
    chinese = WordTokenizer.from_words(["子曰", "學", "而"], split="characters")
    assert chinese.words("子曰 學而時習之") == ["子曰", "學", "而", "時", "習", "之"]


def brute_force(crf: CRF, emissions: torch.Tensor) -> tuple[list[int], torch.Tensor, torch.Tensor]:
    """The best path, log Z and the tag marginals of one sentence ``(S, T)`` by enumerating
    every path."""
    length, tags = emissions.shape
    paths = list(itertools.product(range(tags), repeat=length))
    scores = torch.stack([crf.path_score(emissions[None], torch.tensor([path]), torch.ones(1, length, dtype=torch.bool))[0]
                          for path in paths])
    probabilities = (scores - scores.logsumexp(0)).exp()
    marginals = torch.zeros(length, tags)
    for path, p in zip(paths, probabilities):
        marginals[torch.arange(length), torch.tensor(path)] += p
    return list(paths[int(scores.argmax())]), scores.logsumexp(0), marginals


def test_viterbi_and_marginals_match_brute_force() -> None:
    torch.manual_seed(0)
    crf = CRF(4)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    emissions = torch.randn(2, 5, 4)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    paths = crf.viterbi(emissions, mask)
    partition = crf.log_partition(emissions, mask)
    marginals = crf.marginals(emissions, mask)
    for row, length in enumerate((5, 3)):
        best, log_z, expected = brute_force(crf, emissions[row, :length])
        assert paths[row] == best
        assert torch.allclose(partition[row], log_z, atol=1e-5)
        assert torch.allclose(marginals[row, :length], expected, atol=1e-5)
    tags = torch.tensor([paths[0], paths[1] + [0, 0]])
    assert torch.allclose(crf.negative_log_likelihood(emissions, tags, mask),
                          (partition - crf.path_score(emissions, tags, mask)).sum())


@pytest.mark.parametrize("crf, char_size", [(False, 16), (True, 16), (False, 0)])
def test_padding_never_changes_a_tag(crf: bool, char_size: int, tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, RECIPE.format(name="pad", crf=str(crf).lower())), data_root=DATA,
                         overrides=[f"model.char_size={char_size}"])
    sentences = [s.words for s in read_treebank(EWT / "dev.conllu")[:12]]
    words = WordTokenizer.from_words(w for s in sentences[1:] for w in s)
    characters = CharTokenizer.train(w for s in sentences for w in s)
    torch.manual_seed(1)
    model = build_model(recipe, words.vocab_size, characters.vocab_size, 17).eval()

    def tags_of(batch_sentences: list[list[str]]) -> tuple[list[list[int]], torch.Tensor]:
        batch = tag_batch([words.encode_words(s) for s in batch_sentences], batch_sentences, characters)
        scores = model(batch.words, batch.spellings, batch.spelled)
        return model.decode(scores, batch.mask)

    alone_tags, alone_p = tags_of(sentences[:1])
    batch_tags, batch_p = tags_of(sorted(sentences, key=len))
    row = sorted(sentences, key=len).index(sentences[0])
    assert batch_tags[row] == alone_tags[0]
    assert torch.allclose(batch_p[row, :len(sentences[0])], alone_p[0], atol=1e-5)


@pytest.mark.slow
def test_a_trained_tagger_tags_in_every_format(trained: Path, tmp_path: Path) -> None:
    from seq2text.tagger import Tagger

    tagger = Tagger.load(trained)
    sentence = tagger.tag("The dog didn't bark.")
    assert sentence.words == ["The", "dog", "did", "n't", "bark", "."]
    assert sentence.tags[0] == "DET" and sentence.tags[-1] == "PUNCT"
    assert all(abs(sum(d.values()) - 1) < 1e-3 for d in sentence.distributions)

    pairs = run("tag", "-m", str(trained), "The dog didn't bark.", "", "Dogs bark")
    assert pairs.returncode == 0, pairs.stderr
    assert pairs.stdout.splitlines() == [str(sentence), "", str(tagger.tag("Dogs bark"))]
    tsv = run("tag", "-m", str(trained), "--format", "tsv", "--pretokenized", stdin="a b\nc\n")
    assert tsv.stdout.split("\n")[:5] == [f"a\t{tagger.tag('a b', True).tags[0]}", tsv.stdout.split("\n")[1], "",
                                          f"c\t{tagger.tag('c').tags[0]}", ""]
    jsonl = run("tag", "-m", str(trained), "--format", "jsonl", "Dogs bark")
    words = json.loads(jsonl.stdout)["words"]
    assert [w["word"] for w in words] == ["Dogs", "bark"] and len(words[0]["tags"]) == len(tagger.tags)


@pytest.mark.slow
def test_conllu_output_changes_the_upos_column_only(trained: Path, tmp_path: Path) -> None:
    source = tmp_path / "dev.conllu"
    source.write_text(sentences_of(EWT / "dev.conllu", 150), encoding="utf-8")
    result = run("tag", "-m", str(trained), "--format", "conllu", "-i", str(source), "-o", str(tmp_path / "out.conllu"))
    assert result.returncode == 0, result.stderr
    before = source.read_text(encoding="utf-8").split("\n")
    after = (tmp_path / "out.conllu").read_text(encoding="utf-8").split("\n")
    assert len(before) == len(after)
    changed = 0
    for old, new in zip(before, after):
        old_fields, new_fields = old.split("\t"), new.split("\t")
        assert len(old_fields) == len(new_fields)
        if len(old_fields) == 10 and old_fields[0].isdigit():
            changed += old_fields[3] != new_fields[3]
            old_fields[3] = new_fields[3]
        assert old_fields == new_fields
    assert changed, "a two-epoch tagger gets some tags wrong"
    ranges = [line for line in after if line.count("\t") == 9 and "-" in line.split("\t")[0]]
    assert ranges and all(line.split("\t")[3] == "_" for line in ranges)


@pytest.mark.slow
@pytest.mark.parametrize("args, needles", [
    (["--format", "conllu", "a sentence"], ["--format conllu", "not TEXT arguments"]),
    (["-i", "missing.txt"], ["missing.txt"]),
    (["-m", "sentiment-zh", "a sentence"], ["not a tagging model", "classification"]),
    (["--format", "conllu", "-i", "bad.conllu"], ["bad.conllu:2", "expected 10 tab-separated columns"]),
])
def test_tag_errors_are_one_line(args: list[str], needles: list[str], trained: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.conllu").write_text("# sent_id = 1\n1\tword\t_\n", encoding="utf-8")
    model = [] if "-m" in args else ["-m", str(trained)]
    one_line_error(run("tag", *model, *args, cwd=tmp_path), *needles)


@pytest.mark.slow
def test_evaluate_reports_a_tagger(trained: Path, ewt_slice: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from conftest import HANG

    env = {**os.environ, "SEQ2TEXT_DATA": str(ewt_slice)}
    result = subprocess.run([sys.executable, "-m", "seq2text", "evaluate", "-m", str(trained), "--report",
                             str(tmp_path / "report")], capture_output=True, text=True, env=env, timeout=HANG)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["data"] == "test split" and {"test", "dev"} <= set(summary)
    assert 50 < summary["test"]["accuracy"] <= 100 and summary["test"]["unknown_words"] > 0
    assert summary["test"]["unknown_accuracy"] < summary["test"]["accuracy"]
    assert set(summary["tags"]) <= {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART",
                                    "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "The worst-tagged sentences" in page and "Confusion matrix" in page and "unknown" in page
    rendered = render_in_chromium(tmp_path / "report" / "report.html", tmp_path)
    assert rendered["tables"] >= 3 and not rendered["wider"]  # a wide confusion table scrolls in its box
    given = tmp_path / "given.conllu"
    given.write_text(sentences_of(EWT / "dev.conllu", 50), encoding="utf-8")
    on_file = subprocess.run([sys.executable, "-m", "seq2text", "evaluate", "-m", str(trained), "--text", str(given)],
                             capture_output=True, text=True, env=env, timeout=HANG)
    assert json.loads(on_file.stdout)["file"]["sentences"] == 50, on_file.stderr


@pytest.mark.slow
def test_the_tag_endpoint(trained: Path) -> None:
    from fastapi.testclient import TestClient

    from seq2text.server.app import create_app
    from seq2text.server.served import serve_models

    with TestClient(create_app(serve_models([str(trained)])), base_url="http://localhost") as client:
        answer = client.post("/v1/tag", json={"texts": ["The dog didn't bark.", "Dogs bark"], "top": 2})
        assert answer.status_code == 200, answer.text
        first = answer.json()["sentences"][0]["words"]
        assert [w["word"] for w in first] == ["The", "dog", "did", "n't", "bark", "."]
        assert len(first[0]["tags"]) == 2 and first[0]["tag"] in first[0]["tags"]
        assert client.post("/v1/tag", json={"texts": ["  "]}).status_code == 422
        assert client.post("/v1/tag", json={"texts": ["a"], "pretokenized": "yes"}).status_code == 422


def test_tagging_recipes_are_checked(tmp_path: Path) -> None:
    with pytest.raises(Seq2TextError, match="data.kind: task: tagging reads data.kind: conllu"):
        load_recipe(write_recipe(tmp_path, RECIPE.format(name="x", crf="false").replace("kind: conllu", "kind: text")
                                 .replace(", test_fraction: 0.1", "")), data_root=DATA)
    with pytest.raises(Seq2TextError, match="test_fraction: holds out training sentences"):
        load_recipe(write_recipe(tmp_path, RECIPE.format(name="x", crf="false")), data_root=DATA,
                    overrides=["data.test=ud/en_ewt/dev.conllu"])
    with pytest.raises(Seq2TextError, match="tokenizer.type"):
        load_recipe(write_recipe(tmp_path, RECIPE.format(name="x", crf="false")), data_root=DATA,
                    overrides=["tokenizer.type=char", "tokenizer.split=spaces"])
    with pytest.raises(Seq2TextError, match="data.kind: conllu data is read by task: tagging"):
        load_recipe(write_recipe(tmp_path, RECIPE.format(name="x", crf="false")), data_root=DATA,
                    overrides=["task=lm", "training.metric=ppl"])


@pytest.mark.slow
def test_a_resumed_tagger_ends_at_the_same_weights(ewt_slice: Path, tmp_path: Path) -> None:
    """Word dropout draws from the saved RNG: one epoch and a resume equal two straight epochs."""
    from safetensors.torch import load_file

    recipe = write_recipe(tmp_path, RECIPE.format(name="again", crf="false"))
    straight = run("train", str(recipe), "--data-root", str(ewt_slice), "--output-dir", str(tmp_path / "straight"))
    half = run("train", str(recipe), "--data-root", str(ewt_slice), "--output-dir", str(tmp_path / "broken"),
               "--set", "training.epochs=1")
    resumed = run("train", str(recipe), "--data-root", str(ewt_slice), "--output-dir", str(tmp_path / "broken"),
                  "--resume", "--set", "training.epochs=2")
    assert straight.returncode == half.returncode == resumed.returncode == 0, resumed.stderr[-1000:]
    assert "resumed from" in resumed.stderr
    a, b = (load_file(str(sorted((tmp_path / run_ / "checkpoints").glob("step-*"))[-1] / "model.safetensors"))
            for run_ in ("straight", "broken"))
    assert a.keys() == b.keys() and all(torch.equal(a[name], b[name]) for name in a)


@pytest.mark.slow
@pytest.mark.parametrize("model, treebank, floor", [("pos-en", EWT, 93.0), ("pos-lzh", KYOTO, 88.0)])
def test_the_bundled_taggers_tag_the_dev_split(model: str, treebank: Path, floor: float) -> None:
    """The bundled models, offline: accuracy on the first 300 dev sentences (gold words)."""
    from seq2text.tagger import Tagger

    sentences = read_treebank(treebank / "dev.conllu")[:300]
    found = Tagger.load(model).tag_words([s.words for s in sentences])
    pairs = [(gold, tag) for s, f in zip(sentences, found) for gold, tag in zip(s.tags, f.tags)]
    assert 100.0 * sum(gold == tag for gold, tag in pairs) / len(pairs) >= floor


@pytest.mark.slow
def test_the_bundled_english_tagger_splits_raw_text() -> None:
    result = run("tag", "I can't believe it's not butter.")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["I/PRON", "ca/AUX", "n't/PART", "believe/VERB"]
    lzh = run("tag", "-m", "pos-lzh", "--format", "jsonl", "學而時習之")
    words = json.loads(lzh.stdout)["words"]
    assert [w["word"] for w in words] == list("學而時習之") and words[1]["tag"] == "CCONJ"


@pytest.mark.slow
def test_a_sentence_over_the_training_limit_is_tagged_whole() -> None:
    from seq2text.tagger import MAX_WORDS, Tagger

    tagger = Tagger.load("pos-en")
    words = ("the dog barked and " * 150).split()  # 600 words: over data.max_length (250)
    assert len(tagger.tag_words([words])[0].tags) == 600
    with pytest.raises(Seq2TextError, match="over the 100,000 a sentence may have"):
        tagger.tag_words([["a"] * (MAX_WORDS + 1)])


def test_pos_lzh_reads_simplified_input_as_traditional() -> None:
    """The Kyoto treebank is traditional: simplified input is converted, words come back as given."""
    import opencc

    tagger = Tagger.load("pos-lzh")
    assert tagger.script == "traditional" and Tagger.load("pos-en").script is None
    sentences = [" ".join(s.words) for s in read_treebank(KYOTO / "dev.conllu", tagger.reading)[:40]]
    traditional = [s.replace(" ", "") for s in sentences]
    simplified = [opencc.OpenCC("t2s").convert(s) for s in traditional]
    assert sum(a != b for a, b in zip(traditional, simplified)) > 10
    found_t, found_s = tagger.tag(traditional), tagger.tag(simplified)
    pairs = [(a, b) for t, s in zip(found_t, found_s) for a, b in zip(t.tags, s.tags)]
    assert sum(a == b for a, b in pairs) / len(pairs) > 0.95  # s2t guesses where one simplified form has two
    assert ["".join(s.words) for s in found_s] == simplified
    assert str(tagger.tag("学而时习之")) == "学/VERB 而/CCONJ 时/NOUN 习/VERB 之/PRON"


def _conllu(*rows: str) -> str:
    return "".join(("\t".join(row.split("|")) if row else "") + "\n" for row in rows)


WORD = "{}|{}|_|{}|_|_|_|_|_|_"


def test_broken_conllu_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "x.conllu"
    good = read_treebank(path, text="\ufeff" + _conllu(WORD.format(1, "I", "PRON"), WORD.format(2, "swim", "VERB"), ""))
    assert good[0].words == ["I", "swim"]  # a byte-order mark is not part of the first ID
    broken = {"ID '' is not a word ID": ("\t" * 9, ""),
              "word ID 1 where 2 comes next": (WORD.format(1, "x", "X"), ""),
              "an empty FORM": (WORD.format(2, "", "X"), ""),
              "range 1-2 does not span": ("1-2|xy|_|_|_|_|_|_|_|_", WORD.format(2, "y", "X"), "")}
    for message, rows in broken.items():
        with pytest.raises(Seq2TextError, match=f"x.conllu:2: {message}"):
            read_treebank(path, text=_conllu(WORD.format(1, "I", "PRON"), *rows))
    untagged = read_treebank(path, text=_conllu(WORD.format(1, "I", "_"), ""))
    assert untagged[0].tags == [None]  # UPOS "_" is no tag, not a tag named "_"


@pytest.mark.slow
def test_tagging_input_without_sentences_or_with_a_bom(tmp_path: Path) -> None:
    empty = tmp_path / "empty.conllu"
    empty.write_text("")
    one_line_error(run("evaluate", "-m", "pos-en", "--text", str(empty)), "no tagged sentence to score")
    text = tmp_path / "bom.txt"
    text.write_bytes("\ufeffI swim.\n".encode())
    assert run("tag", "-i", str(text)).stdout == "I/PRON swim/VERB ./PUNCT\n"
    untagged = tmp_path / "train.conllu"
    untagged.write_text(_conllu(WORD.format(1, "I", "_"), WORD.format(2, "swim", "_"), ""), encoding="utf-8")
    recipe = write_recipe(tmp_path, f"task: tagging\ndata: {{kind: conllu, train: {untagged}, valid: {untagged}}}\n"
                                    "tokenizer: {type: word}\ntraining: {metric: accuracy}\n")
    one_line_error(run("prepare", str(recipe), "--output-dir", str(tmp_path / "run")), "no tagged word to learn from")
