"""Verse rules on real Tang poems, and constrained decoding that keeps them whatever the model."""

from __future__ import annotations


import pytest
import torch

from conftest import DATA
from seq2text.data.tang import CleaningReport, read_tang
from seq2text.decoding import beam_search, sample
from seq2text.models import RNNLM
from seq2text.recipe import ModelConfig, TokenizerConfig
from seq2text.tokenizers import BOS, train_tokenizer
from seq2text.verse.constraints import PatternRules
from seq2text.verse.forms import get_form
from seq2text.verse.patterns import regulated_pattern
from seq2text.verse.rhymes import RhymeTable
from seq2text.verse.rules import check_poem
from seq2text.verse.tones import PING, ZE, ToneTable


@pytest.fixture(scope="module")
def tang(tmp_path_factory: pytest.TempPathFactory):
    """Poems of a slice of the real corpus, a char tokenizer, their tone table, the 平水韵 table."""
    folder = tmp_path_factory.mktemp("tang")
    (folder / "strains").mkdir()
    poems = []
    for number in (0, 1000, 2000, 3000, 4000):
        for name in (f"poet.tang.{number}.json", f"strains/poet.tang.{number}.json"):
            (folder / name).write_bytes((DATA / "tang" / name).read_bytes())
    poems = list(read_tang(folder, CleaningReport()))
    tokenizer = train_tokenizer(TokenizerConfig(type="char", simplified=True), (p["text"] for p in poems))
    tones = ToneTable.learn(((p["text"], p["tones"]) for p in poems if p["tones"]), tokenizer.normalize)
    rhymes = RhymeTable.pingshuiyun(DATA / "rhyme" / "pingshuiyun.txt")
    return poems, tokenizer, tones, rhymes


def test_tables_know_common_characters(tang) -> None:
    _, _, tones, rhymes = tang
    assert [tones.tone(c) for c in "天山月日"] == [PING, PING, ZE, ZE]
    assert "下平十一尤" in rhymes.groups("楼") and "下平十一尤" in rhymes.groups("流")
    assert rhymes.groups("月") == set()  # an entering-tone character rhymes in no level group
    modern = RhymeTable.modern("楼流东")
    assert modern.groups("楼") == modern.groups("流") and modern.groups("东") != modern.groups("楼")


def test_checker_on_a_famous_quatrain_and_on_the_corpus(tang) -> None:
    poems, tokenizer, tones, rhymes = tang
    form = get_form("五言绝句")
    checks = check_poem("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。", form, tones, rhymes, acrostic="白黄欲更")
    assert checks == {"form": True, "acrostic": True, "repetition": True, "rhyme": True, "tones": True}
    assert not check_poem("白日依山尽，黄河入海流。欲穷千里目，更上一层月。", form, tones, rhymes)["rhyme"]
    assert not check_poem("白日依山尽，黄河入海流。", form, tones, rhymes)["form"]
    # The poets themselves: about half of their regulated poems keep every tone rule.
    regulated = [(tokenizer.normalize(p["text"]), get_form(p["form"])) for p in poems if p["form"] != "free"]
    kept = [check_poem(text, form, tones, rhymes)["tones"] for text, form in regulated]
    assert len(regulated) > 500 and 0.2 < sum(kept) / len(kept) < 0.8


@pytest.mark.parametrize("form_name", ["wuyan-jueju", "qiyan-jueju", "wuyan-lushi", "qiyan-lushi"])
def test_constrained_decoding_keeps_every_rule_even_for_an_untrained_model(tang, form_name: str) -> None:
    _, tokenizer, tones, rhymes = tang
    form = get_form(form_name)
    torch.manual_seed(0)
    model = RNNLM(ModelConfig(cell="gru", embed_size=16, hidden_size=16, decoder_layers=1), tokenizer.vocab_size)
    acrostic = "明夏秋冬" if form.lines == 4 else "明二三四五六七八"
    for prompt in ("", "明月"):
        acrostics = [acrostic if i % 2 else None for i in range(8)]
        patterns = [regulated_pattern(form, ZE if prompt or i % 3 else PING) for i in range(8)]
        fixed = [{**{p.start(line): c for line, c in enumerate(a or "")}, **dict(enumerate(prompt))}
                 for p, a in zip(patterns, acrostics)]
        rules = PatternRules(tokenizer, tones, rhymes, patterns, fixed)
        last, state = model.start([[BOS, *tokenizer.encode(form.label)]] * 8)
        found = sample(model, state, form.length, generator=torch.Generator().manual_seed(1), processors=[rules],
                       start=last)
        for hypothesis, wanted in zip(found, acrostics):
            text = tokenizer.decode(hypothesis.tokens)
            checks = check_poem(text, form, tones, rhymes, wanted)
            assert text.startswith(prompt) and all(checks.values()), (text, checks)

    last, state = model.start([[BOS, *tokenizer.encode(form.label)]])
    pattern = regulated_pattern(form, PING)
    rules = PatternRules(tokenizer, tones, rhymes, [pattern], [{pattern.start(i): c for i, c in enumerate(acrostic)}])
    best = beam_search(model, state, 4, form.length, alpha=0.0, nbest=2, start=last, processors=[rules])[0]
    for hypothesis in best:
        assert all(check_poem(tokenizer.decode(hypothesis.tokens), form, tones, rhymes, acrostic).values())


def test_angle_bracket_notes_are_not_rhyme_characters() -> None:
    """``参<人参>`` puts 参 in 侵, not 人; ``了<明了>`` puts 了 in 萧, not 明 (the data README)."""
    rhymes = RhymeTable.pingshuiyun(DATA / "rhyme" / "pingshuiyun.txt")
    assert "下平十二侵" in rhymes.groups("参") and "下平十二侵" in rhymes.groups("深")
    assert not rhymes.groups("人") & rhymes.groups("深")
    assert "下平二萧" in rhymes.groups("了") and not rhymes.groups("明") & rhymes.groups("了")
    assert not any(c in "<>[]," for c in rhymes.members)
