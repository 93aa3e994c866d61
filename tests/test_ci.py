"""Ci (宋词) by tune: the tune patterns against real ci, the rules of generated ci, planned lines,
keywords, seeds, and revising a poem line by line."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import DATA
from seq2text import Generator
from seq2text.data.ci import read_ci
from seq2text.data.tang import CleaningReport
from seq2text.generation.lines import LineSearch, write_lines
from seq2text.models import RNNLM
from seq2text.recipe import ModelConfig, TokenizerConfig
from seq2text.tokenizers import BOS, train_tokenizer
from seq2text.verse.constraints import PatternRules
from seq2text.verse.forms import labelled
from seq2text.verse.patterns import check_pattern
from seq2text.verse.rhymes import CilinTable
from seq2text.verse.tones import PING, ToneTable
from seq2text.verse.tunes import MIN_CI, TuneBook, Tunes, choose_forms

ROOT = Path(__file__).resolve().parents[1]
TOP_TUNES = 10


@pytest.fixture(scope="module")
def book() -> TuneBook:
    return TuneBook.read(DATA / "cipu" / "cipai.jsonl")


@pytest.fixture(scope="module")
def cilin() -> CilinTable:
    return CilinTable.read(DATA / "cipu" / "rhymes.tsv")


@pytest.fixture(scope="module")
def corpus(book: TuneBook) -> list[dict]:
    return list(read_ci(DATA / "ci", book, CleaningReport()))


@pytest.fixture(scope="module")
def tunes(book: TuneBook, cilin: CilinTable, corpus: list[dict]) -> Tunes:
    return Tunes(choose_forms(book, ((ci["form"], ci["text"]) for ci in corpus)), book, cilin)


@pytest.fixture(scope="module")
def ci_model() -> Generator:
    return Generator.load("ci")


def test_the_tunes_are_those_with_enough_ci_and_a_pattern(tunes: Tunes, corpus: list[dict]) -> None:
    names = [choice.tune for choice in tunes.choices]
    assert len(names) >= 60 and names[:4] == ["浣溪沙", "水调歌头", "鹧鸪天", "菩萨蛮"]
    assert all(choice.ci >= MIN_CI and choice.following <= choice.ci for choice in tunes.choices)
    # the corpus's 浪淘沙 is the Song double form the book calls 浪淘沙令; 望江南 is 忆江南
    assert tunes.find("浪淘沙").book_tune == "浪淘沙令" and tunes.find("望江南").tune == "忆江南"
    assert tunes.pattern(tunes.find("浣溪沙")).lengths == (7, 7, 7, 7, 7, 7)
    assert tunes.pattern(tunes.find("浪淘沙")).lengths == (5, 4, 7, 7, 4, 5, 4, 7, 7, 4)


def test_real_ci_of_the_common_tunes_pass_the_checker_and_broken_ones_fail(tunes: Tunes, corpus: list[dict]) -> None:
    tones = ToneTable.from_json(json.loads((ROOT / "seq2text/pretrained/ci/tones.json").read_text()), Path("t"))
    for choice in tunes.choices[:TOP_TUNES]:
        pattern = tunes.pattern(choice)
        real = next(ci["text"] for ci in corpus if ci["form"] == choice.tune and
                    all(check_pattern(ci["text"], pattern, tones, tunes.rhymes).checks.values()))
        lines = pattern.split(real)
        # a line one character short breaks the form
        assert not check_pattern(real[1:], pattern, tones, tunes.rhymes).checks["form"]
        # a rhyme position given a character of no reading in its group breaks the rhyme
        rhyme_at = next(p for p, slot in enumerate(pattern.slots) if slot.rhyme is not None)
        group = {key[0] for key in tunes.rhymes.readings(real[rhyme_at])}
        other = next(c for c in "的东江天花人心时月日" if not {g for g, _ in tunes.rhymes.readings(c)} & group)
        broken = real[:rhyme_at] + other + real[rhyme_at + 1:]
        assert not check_pattern(broken, pattern, tones, tunes.rhymes).checks["rhyme"], (choice.tune, broken)
        # a 平 position given a 仄 character breaks the tones
        level_at = next(p for p, slot in enumerate(pattern.slots) if slot.tone == PING and slot.rhyme is None)
        broken = real[:level_at] + "月" + real[level_at + 1:]
        assert not check_pattern(broken, pattern, tones, tunes.rhymes).checks["tones"], (choice.tune, broken)
        assert lines is not None and len(lines) == len(pattern.lines)


def test_an_untrained_model_under_the_rules_keeps_every_tune(tunes: Tunes) -> None:
    """The rules alone make any model write every tune's pattern: lengths, punctuation, tones,
    rhymes (including rhyme changes and 叶 lines) and acrostics."""
    texts = [ci["text"] for ci in read_ci(DATA / "ci", None, CleaningReport()) if random.Random(ci["id"]).random() < 0.1]
    tokenizer = train_tokenizer(TokenizerConfig(type="char"), texts)
    tones = ToneTable.from_json(json.loads((ROOT / "seq2text/pretrained/ci/tones.json").read_text()), Path("t"))
    torch.manual_seed(0)
    model = RNNLM(ModelConfig(cell="gru", embed_size=16, hidden_size=16, decoder_layers=1), tokenizer.vocab_size)
    for choice in tunes.choices[:TOP_TUNES] + [tunes.find("西江月"), tunes.find("菩萨蛮")]:
        pattern = tunes.pattern(choice)
        acrostic = {pattern.start(line): "春" for line in range(0, len(pattern.lines), 3)}
        rules = PatternRules(tokenizer, tones, tunes.rhymes, [pattern, pattern], [{}, acrostic])
        last, state = model.start([[BOS, *tokenizer.encode(labelled("", choice.tune))]] * 4)
        ends = {pattern.start(line) - 1 for line in range(1, len(pattern.lines) + 1)}
        written = write_lines(model, state, None, last, torch.zeros(4, 0, dtype=torch.long), rules, pattern.length,
                              ends, [torch.Generator().manual_seed(s) for s in (1, 2)], LineSearch(candidates=2))
        plain, fixed = (tokenizer.decode(tokens) for tokens in written.tokens[::2])
        checks = check_pattern(plain, pattern, tones, tunes.rhymes).checks
        assert all(checks.values()), (choice.tune, plain, checks)
        # the acrostic's characters stand where asked; the tones of those positions and the
        # repetition limit are the user's to break, the lines and rhymes are not
        checks = check_pattern(fixed, pattern, tones, tunes.rhymes).checks
        assert checks["form"] and checks["rhyme"] and all(fixed[p] == c for p, c in acrostic.items()), fixed


@pytest.mark.slow
def test_generated_ci_keep_every_rule_across_seeds_and_tunes(ci_model: Generator) -> None:
    for tune in ["浣溪沙", "水调歌头", "西江月", "菩萨蛮", "满江红", "浪淘沙"]:
        for poem in ci_model.ci(tune, count=3, title="春日", seed=5):
            assert all(poem.checks.values()), (tune, poem.text, poem.checks)
            assert poem.form == tune and poem.subject == "春日"


def test_keywords_appear_and_seeds_differ_by_subject() -> None:
    poems = Generator.load("poems")
    for form in ["五言绝句", "七言律诗"]:
        for poem in poems.poems(form, count=3, keywords=["明月", "故乡"], seed=2):
            assert "明月" in poem.text and "故乡" in poem.text and all(poem.checks.values()), poem.text
    written = {title: poems.poems("五言律诗", title=title, seed=1)[0].text for title in ["思乡", "边塞", "登高"]}
    lines = [set(text.replace("。", "，").split("，")[:-1]) for text in written.values()]
    assert not (lines[0] & lines[1]) and not (lines[1] & lines[2]) and not (lines[0] & lines[2]), written
    # poem i of a batch is the poem its own seed writes alone
    assert poems.poems("七绝", count=3, title="秋夜", seed=7)[2].text == poems.poems("七绝", title="秋夜", seed=9)[0].text


def test_no_variant_characters_in_a_simplified_model() -> None:
    poems = Generator.load("poems")
    writable = poems._poet.writable
    assert not writable[poems.tokenizer.index["鴈"]] and writable[poems.tokenizer.index["雁"]]
    assert writable[poems.tokenizer.index["乾"]]  # 乾坤 keeps it in simplified text


def test_revision_keeps_every_other_line_byte_for_byte() -> None:
    poems = Generator.load("poems")
    poem = poems.poems("七言律诗", title="秋夜", seed=3)[0]
    lines = poem.text.replace("。", "，").split("，")[:-1]
    revised = poems.revise(poem, line=3, n=4, seed=1)
    assert 1 <= len(revised) <= 4 and len({r.text for r in revised}) == len(revised)
    for version in revised:
        new = version.text.replace("。", "，").split("，")[:-1]
        assert [a == b for a, b in zip(lines, new)] == [True, True, False, True, True, True, True, True]
        assert len(version.text) == len(poem.text) and all(version.checks.values()), version.text
    text = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
    for version in poems.revise(text, line=4, n=3, seed=2):
        assert version.text.startswith("白日依山尽，黄河入海流。欲穷千里目，") and version.text[-6:] != "更上一层楼。"
        assert version.checks["rhyme"] and all(version.checks.values())


@pytest.mark.slow
def test_a_ci_is_revised_under_its_tune(ci_model: Generator) -> None:
    poem = ci_model.ci("西江月", title="秋思", seed=4)[0]
    for line in (2, 4):
        for version in ci_model.revise(poem, line=line, n=3, seed=1):
            old, new = poem.text.split("。"), version.text.split("。")
            assert all(version.checks.values()) and len(version.text) == len(poem.text)
            changed = [i for i, (a, b) in enumerate(zip(poem.text, version.text)) if a != b]
            start = ci_model.tunes.pattern(ci_model.tunes.find("西江月")).start(line - 1)
            assert changed and all(start <= i < start + 6 for i in changed), (old, new)


def test_the_command_line_lists_tunes_and_writes_ci() -> None:
    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "seq2text", "generate", *arguments], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    listed = run("--list-forms")
    assert listed.returncode == 0 and "浣溪沙\t" in listed.stdout and "七言律诗" in listed.stdout
    written = run("--form", "浣溪沙", "--title", "春日", "--seed", "1", "--format", "jsonl")
    poem = json.loads(written.stdout)
    assert written.returncode == 0 and poem["form"] == "浣溪沙" and all(poem["checks"].values())
    unknown = run("--form", "不存在调")
    assert unknown.returncode != 0 and unknown.stderr.count("\n") == 1 and "--form" in unknown.stderr
    wrong = run("--form", "浣溪沙", "--keywords", "明月,故乡,春风,秋雨,江南,塞北,青山")
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr


@pytest.mark.slow
def test_evaluate_reports_ci_per_tune(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "seq2text", "evaluate", "-m", "ci", "--poems", "20", "--report",
                             str(tmp_path / "report")], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr
    ci = json.loads(result.stdout)["ci"]
    assert len(ci["tunes"]) == 20 and ci["all"]["ci"] == 20  # one ci on each of the 20 most common tunes
    assert ci["all"]["form"] == 100.0 and ci["all"]["tone_positions"] >= 95 and ci["all"]["rhyme_positions"] >= 95
    assert ci["human"]["ci"] > 100 and -8 < ci["human"]["rhyme_log_prob"] < -2
    assert "Ci by tune" in (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
