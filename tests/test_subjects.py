"""Poems on a subject: title cleaning, subject-labelled corpora, warm starts, the bundled poems
model with --title and --keywords, and the measures `seq2text evaluate` reports."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
import torch

from conftest import DATA, one_line_error, run, write_recipe
from seq2text import Generator
from seq2text.data.corpora import load_corpus
from seq2text.errors import Seq2TextError
from seq2text.scoring.perplexity import score_sequences
from seq2text.evaluation.subjects import SUBJECTS, SubjectReader, diversity
from seq2text.models import build_model
from seq2text.pretrained import load_pretrained
from seq2text.prepare import prepare
from seq2text.recipe import load_recipe
from seq2text.tokenizers import BOS
from seq2text.model_folder import latest_checkpoint
from seq2text.training.warm_start import warm_start
from seq2text.verse.subjects import clean_title, poem_keywords

TINY = """\
name: {name}
task: lm
data: {{kind: tang, train: tang, {extra} valid_fraction: 0.05, max_length: 120, subjects: true}}
tokenizer: {{type: char, simplified: true, min_freq: {min_freq}}}
model: {{cell: lstm, embed_size: 32, hidden_size: 48, decoder_layers: 1, dropout: 0.1, tied_embeddings: true}}
training: {{batch_size: 32, epochs: 1, metric: ppl, learning_rate: 0.005}}
"""


@pytest.fixture(scope="module")
def poems() -> Generator:
    return Generator.load("poems")


@pytest.fixture
def verse_slice(tmp_path: Path) -> Path:
    """One file of Tang poems (with their tone marks) and one of Song poems."""
    root = tmp_path / "data"
    (root / "tang" / "strains").mkdir(parents=True)
    (root / "song").mkdir()
    for name in ("poet.tang.0.json", "strains/poet.tang.0.json"):
        shutil.copy(DATA / "tang" / name, root / "tang" / name)
    shutil.copy(DATA / "song" / "poet.song.0.json", root / "song" / "poet.song.0.json")
    return root


def test_titles_lose_headings_numbers_and_notes() -> None:
    cases = {"相和歌辭 銅雀臺": "銅雀臺", "秋興八首 五": "秋興", "雜曲歌辭 長相思二首 一": "長相思",
             "和張元禮水仙花二首  其一": "和張元禮水仙花", "唐享昊天樂 第二": "唐享昊天樂",
             "送杜少府之任蜀州": "送杜少府之任蜀州",
             "奉和聖製從蓬萊向興慶閣道中留春雨中春望之作應制": "奉和聖製從蓬萊向興慶閣道",
             "題寺（一作僧院）": "題寺", "其三": ""}
    assert {title: clean_title(title) for title in cases} == cases
    keywords = poem_keywords("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。", 2, random.Random(1))
    assert len(keywords) == 2 and set(keywords) <= {"白日", "黄河", "欲穷", "更上"}


@pytest.mark.slow
def test_subject_corpus_and_warm_start_from_a_smaller_vocabulary(verse_slice: Path, tmp_path: Path) -> None:
    small = load_recipe(write_recipe(tmp_path, TINY.format(name="small", extra="", min_freq=3), "small.yaml"),
                        data_root=verse_slice)
    corpus = load_corpus(small)
    texts = corpus["train"]["text"]
    subjects = corpus["train"]["subject"]
    untitled = sum(not s for s in subjects) / len(subjects)
    assert 0.15 < untitled < 0.4 and sum("、" in s for s in subjects) > 0.05 * len(subjects)
    assert all(text.startswith(f"{s}|" if s else "") and text.count("|") == 1 + bool(s)
               for s, text in zip(subjects, texts))
    assert load_corpus(small)["train"]["subject"] == subjects  # the same poem, the same subject
    result = run("train", str(small.path), "--data-root", str(verse_slice), "--output-dir", str(tmp_path / "small"))
    assert result.returncode == 0, result.stderr[-2000:]
    source = latest_checkpoint(tmp_path / "small")

    larger = load_recipe(write_recipe(tmp_path, TINY.format(name="larger", extra="extra_poems: song,", min_freq=1),
                                      "larger.yaml"), data_root=verse_slice)
    data = prepare(larger, tmp_path / "vocab")
    model = build_model(larger, data.src.vocab_size, data.tgt.vocab_size)
    fresh = model.embedding.weight.detach().clone()
    line = warm_start(model, "lm", data.src, data.tgt, str(source))
    old = load_pretrained(source)
    shared = [token for token in data.tgt.tokens if token in old.tgt.index]
    assert f"{len(shared):,} of {data.tgt.vocab_size:,} vocabulary rows matched" in line
    assert len(shared) < data.tgt.vocab_size  # the Song poems and min_freq 1 bring new characters
    for token in (shared[5], shared[-1]):
        trained = old.model.embedding.weight[old.tgt.index[token]]
        assert torch.equal(model.embedding.weight[data.tgt.index[token]], trained)
    new = next(token for token in data.tgt.tokens if token not in old.tgt.index)
    assert torch.equal(model.embedding.weight[data.tgt.index[new]], fresh[data.tgt.index[new]])
    assert torch.equal(model.rnn.weight_hh_l0, old.model.rnn.weight_hh_l0)
    with pytest.raises(Seq2TextError, match="training.init_from: couplet: is a couplet model, this recipe trains"):
        warm_start(model, "lm", data.src, data.tgt, "couplet")


@pytest.mark.slow
def test_titled_poems_keep_every_rule(poems: Generator) -> None:
    for form, title in (("五言绝句", "送别"), ("七言绝句", "咏梅"), ("五言律诗", "边塞"), ("七言律诗", "秋夜")):
        written = poems.poems(form, count=3, title=title, seed=2)
        assert all(all(p.checks.values()) and p.subject == title for p in written), written
    again = poems.poems("七言律诗", count=3, title="秋夜", seed=2)
    assert [p.text for p in again] == [p.text for p in poems.poems("七言律诗", count=3, title="秋夜", seed=2)]
    assert [p.text for p in again] != [p.text for p in poems.poems("七言律诗", count=3, title="送别", seed=2)]
    both = poems.poems("七绝", count=2, title="黄鹤楼", keywords=["明月", "故乡"], acrostic="山高水长", prompt="山",
                       seed=4)
    assert all(all(p.checks.values()) and p.text[::8] == "山高水长" and p.subject == "黄鹤楼、明月、故乡" for p in both)
    beams = poems.poems("五绝", count=2, title="春日山居", beam_size=3)
    assert len(beams) == 2 and all(all(p.checks.values()) for p in beams)
    untitled = poems.poems("五绝", count=2, seed=4)
    assert all(all(p.checks.values()) and p.subject == "" for p in untitled)


def test_guidance_mixes_the_readings_with_and_without_the_subject(poems: Generator) -> None:
    from seq2text.decoding.guidance import Guided, GuidedState

    model, tokenizer = poems.loaded.model, poems.tokenizer
    last, titled = model.start([[BOS, *tokenizer.encode("黄鹤楼|七绝|")]] * 2)
    _, plain = model.start([[BOS, *tokenizer.encode("七绝|")]] * 2)
    conditioned, _, _ = model.step(last, titled)
    unconditioned, _, _ = model.step(last, plain)
    state = GuidedState(titled, plain)
    assert torch.allclose(Guided(model, 0.0).step(last, state)[0], conditioned, atol=1e-5)
    guided, after, _ = Guided(model, 2.0).step(last, state)
    assert torch.allclose(guided.exp().sum(-1), torch.ones(2), atol=1e-4)
    assert after.select(torch.tensor([1])).batch_size == 1
    # The characters the subject favours most gain further; what it disfavours loses.
    gain = conditioned[0] - unconditioned[0]
    most, least = gain.argmax(), gain.argmin()
    assert guided[0, most] > conditioned[0, most] and guided[0, least] < conditioned[0, least]
    # Sampling and beam search run on the mixed model, under every rule; 0 is the model as trained.
    strong = poems.poems("七绝", count=3, title="黄鹤楼", seed=5, guidance=3.0)
    off = poems.poems("七绝", count=3, title="黄鹤楼", seed=5, guidance=0.0)
    assert all(all(p.checks.values()) for p in strong + off) and [p.text for p in strong] != [p.text for p in off]
    assert all(all(p.checks.values()) for p in poems.poems("五律", count=2, title="送别", beam_size=3, guidance=2.0))
    untitled = poems.poems("五绝", count=2, seed=4, guidance=5.0)  # nothing to steer by: the plain model
    assert [p.text for p in untitled] == [p.text for p in poems.poems("五绝", count=2, seed=4, guidance=0.0)]
    with pytest.raises(Seq2TextError, match="guidance -1"):
        poems.poems("五绝", title="送别", guidance=-1.0)


def test_a_title_makes_held_out_poems_more_probable(poems: Generator) -> None:
    """Scoring only the poem (the title is read, not predicted): the real title helps."""
    tokenizer = poems.tokenizer
    texts = ["七绝|故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。",
             "五绝|床前明月光，疑是地上霜。举头望明月，低头思故乡。"]
    titles = ["黄鹤楼送孟浩然之广陵", "静夜思"]
    plain = [tokenizer.encode(text) for text in texts]
    titled = [tokenizer.encode(f"{title}|{text}") for title, text in zip(titles, texts)]
    unscored = [len(t) - len(p) for t, p in zip(titled, plain)]
    without = score_sequences(poems.loaded.model, plain, poems.loaded.device)
    with_title = score_sequences(poems.loaded.model, titled, poems.loaded.device, unscored=unscored)
    assert with_title.tokens == without.tokens == sum(len(p) + 1 for p in plain)
    assert with_title.perplexity < without.perplexity


@pytest.mark.slow
def test_generate_with_title_and_keywords_from_the_command_line() -> None:
    result = run("generate", "--title", "秋夜", "--form", "七言律诗", "--keywords", "明月，故乡", "--seed", "3",
                 "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    poem = json.loads(result.stdout)
    assert poem["subject"] == "秋夜、明月、故乡" and poem["form"] == "qiyan-lushi" and all(poem["checks"].values())
    plain = run("generate", "--title", "秋夜", "--form", "七言律诗", "--keywords", "明月,故乡", "--seed", "3")
    assert plain.returncode == 0 and plain.stdout.replace("\n", "") == poem["text"]


@pytest.mark.slow
@pytest.mark.parametrize("args, needles", [
    (["-m", "tang-poetry", "--title", "秋夜"], ["tang-poetry", "--title", "trained with subjects"]),
    (["--title", "autumn"], ["--title 'autumn'", "only Han characters"]),
    (["--keywords", ",,"], ["--keywords", "no keyword"]),
    (["--title", "秋" * 30], ["at most 24"]),
    (["--form", "couplet", "--first-line", "海阔凭鱼跃", "--title", "秋夜"], ["--title", "not couplets"]),
    (["-m", "shakespeare-char", "--title", "秋夜"], ["--title", "free text"]),
])
def test_bad_subjects_are_one_line_errors(args: list[str], needles: list[str]) -> None:
    one_line_error(run("generate", *args), *needles)


@pytest.mark.slow
def test_subject_reader_and_diversity_on_the_corpus(data_root: Path, tmp_path: Path) -> None:
    # Tang and Song, split as recipes/poems.yaml splits them: what `seq2text evaluate` reads.
    data = "data: {kind: tang, train: tang, extra_poems: song, valid_fraction: 0.02}\n"
    recipe = load_recipe(write_recipe(tmp_path, data), data_root=data_root)
    corpus = load_corpus(recipe)
    normalize = Generator.load("poems").tokenizer.normalize
    train, valid = corpus["train"], corpus["valid"]
    reader = SubjectReader(SUBJECTS, [normalize(clean_title(t)) for t in train["title"]], train["text"], normalize)
    assert all(len(rows) >= 30 for rows in reader.matched.values()), {s: len(r) for s, r in reader.matched.items()}
    accuracy, named = reader.accuracy([normalize(clean_title(t)) for t in valid["title"]], valid["text"])
    assert named > 50 and accuracy > 20.0  # chance is 5%
    assert reader.guess("塞上胡笳起，边城战马嘶。征人思故国，月冷铁衣寒。") == "边塞"
    from seq2text.generation.poems import Poem

    written = [Poem("白日依山尽，黄河入海流。白日依山尽，黄河入海流。", "wuyan-jueju", 0.0, 1, {})]
    rates = diversity(written, {"白日依山尽"})
    assert rates["distinct_lines"] == 50.0 and rates["repeated_lines"] == 2 and rates["copied_lines"] == 50.0
    assert rates["most_common_share"] == 50.0  # 白日依山尽 is 2 of the 4 lines
