"""The generation core on tiny in-repo fixtures, no corpus and no trained model: patterns,
checks, the rules that constrain decoding, line-by-line writing, requests and the poem writer.

A toy tone table and rhyme book over a few dozen characters stand in for the learned ones; a
language model with random (seeded) weights stands in for a trained one: the rules, not the
model, must make every poem keep its form.
"""

from __future__ import annotations

import pytest
import torch

from seq2text.errors import Seq2TextError
from seq2text.generation.lines import LineSearch, write_lines
from seq2text.generation.poems import PoemWriter
from seq2text.generation.requests import PoemRequest, Sampling
from seq2text.models.lm import RNNLM
from seq2text.recipe import ModelConfig
from seq2text.tokenizers import BOS, CharTokenizer
from seq2text.verse.constraints import PatternRules
from seq2text.verse.forms import FORMS
from seq2text.verse.patterns import ANY_TONE, check_pattern, regulated_pattern
from seq2text.verse.rhymes import RhymeTable
from seq2text.verse.rules import check_poem
from seq2text.verse.tones import PING, ZE, ToneTable

LEVEL = "春花天云江楼秋人烟船"  # level tone (none of them a rhyme below)
OBLIQUE = "月雨水树夜酒远客去落"  # oblique tone
RHYME_A = "东风空中红"  # 上平一东 (level)
RHYME_B = "山关闲间还"  # 上平十五删 (level)
MARKS = "，。"
TONES = ToneTable({**{c: (9, 0) for c in LEVEL + RHYME_A + RHYME_B}, **{c: (0, 9) for c in OBLIQUE}})
RHYMES = RhymeTable({**{c: {"上平一东"} for c in RHYME_A}, **{c: {"上平十五删"} for c in RHYME_B}}, "toy")
TOKENIZER = CharTokenizer(list(dict.fromkeys(LEVEL + OBLIQUE + RHYME_A + RHYME_B + MARKS)))
JUEJU = FORMS["wuyan-jueju"]


def poem_of(pattern, rhymes: str = RHYME_A) -> str:
    """A text of ``pattern``: each position's tone from the toy sets, rhyme positions from ``rhymes``."""
    text, used, drawn = "", iter(rhymes), {LEVEL: iter(LEVEL * 2), OBLIQUE: iter(OBLIQUE * 2)}
    for line in pattern.lines:
        for place, tone in enumerate(line.tones):
            if place == line.length - 1 and line.rhyme:
                text += next(used)
            else:
                text += next(drawn[OBLIQUE if tone == ZE else LEVEL])
        text += line.end
    return text


def test_a_regulated_pattern_keeps_the_key_positions_and_rhymes_the_even_lines() -> None:
    for first in (PING, ZE):
        pattern = regulated_pattern(JUEJU, first)
        lines = [line.tones for line in pattern.lines]
        assert lines[0][1] == first
        assert [line.rhyme for line in pattern.lines] == [False, True, False, True]
        assert [line.end for line in pattern.lines] == list("，。，。")
        for a, b in ((0, 1), (2, 3)):  # 对: the second characters of a couplet differ
            assert lines[a][1] != lines[b][1]
        assert lines[1][1] == lines[2][1]  # 粘: the next couplet starts as the last ended
        assert all(t in (PING, ZE, ANY_TONE) for line in lines for t in line)


def test_the_check_names_the_rule_a_text_breaks() -> None:
    pattern = regulated_pattern(JUEJU, PING)
    good = poem_of(pattern)
    assert check_pattern(good, pattern, TONES, RHYMES).checks == \
        {"form": True, "repetition": True, "tones": True, "rhyme": True}
    rhyme_at = pattern.start(2) - 2  # the last character of line 2
    other_group = good[:rhyme_at] + "山" + good[rhyme_at + 1:]
    assert check_pattern(other_group, pattern, TONES, RHYMES).checks["rhyme"] is False
    tone_at = next(p for p, slot in enumerate(pattern.slots) if slot.tone == PING and slot.rhyme is None)
    wrong_tone = good[:tone_at] + "月" + good[tone_at + 1:]
    assert check_pattern(wrong_tone, pattern, TONES, RHYMES).checks["tones"] is False
    assert check_pattern(good[:-2] + "。", pattern, TONES, RHYMES).checks["form"] is False
    assert check_poem(good, JUEJU, TONES, RHYMES)["form"]


def test_the_rules_allow_only_what_keeps_the_pattern() -> None:
    pattern = regulated_pattern(JUEJU, PING)
    rules = PatternRules(TOKENIZER, TONES, RHYMES, [pattern], [{}])
    good = poem_of(pattern)
    allowed = lambda text: {TOKENIZER.tokens[i] for i in rules.allowed(pattern, {}, text).nonzero().flatten()}  # noqa: E731
    assert allowed(good[:5]) == {"，"}  # a line's end: its mark only
    second_rhyme = pattern.start(4) - 2
    assert allowed(good[:second_rhyme]) <= set(RHYME_A) - {good[pattern.start(2) - 2]}  # rhymes, not the same one
    tone_at = next(p for p, slot in enumerate(pattern.slots) if slot.tone == ZE and slot.rhyme is None)
    assert allowed(good[:tone_at]) <= set(OBLIQUE)
    fixed = PatternRules(TOKENIZER, TONES, RHYMES, [pattern], [{0: "秋"}])
    assert {TOKENIZER.tokens[i] for i in fixed.allowed(pattern, {0: "秋"}, "").nonzero().flatten()} == {"秋"}


def tiny_model(seed: int = 0) -> RNNLM:
    torch.manual_seed(seed)
    return RNNLM(ModelConfig(cell="gru", embed_size=16, hidden_size=16, decoder_layers=1, dropout=0.0),
                 TOKENIZER.vocab_size).eval()


def test_lines_written_under_the_rules_keep_the_pattern_and_their_seeds() -> None:
    model, pattern = tiny_model(), regulated_pattern(JUEJU, ZE)
    search = LineSearch(candidates=4)

    def write(seeds: list[int]) -> list[str]:
        rows = len(seeds) * search.candidates
        last, state = model.start([[BOS]] * rows)
        rules = PatternRules(TOKENIZER, TONES, RHYMES, [pattern] * len(seeds), [{}] * len(seeds))
        ends = {pattern.start(line) - 1 for line in range(1, len(pattern.lines) + 1)}
        lines = write_lines(model, state, None, last, torch.zeros(rows, 0, dtype=torch.long), rules, pattern.length,
                            ends, [torch.Generator().manual_seed(s) for s in seeds], search)
        return [TOKENIZER.decode(lines.tokens[i * search.candidates]) for i in range(len(seeds))]

    together = write([1, 2, 3])
    assert all(check_pattern(text, pattern, TONES, RHYMES).checks == {"form": True, "repetition": True,
                                                                       "tones": True, "rhyme": True}
               for text in together), together
    assert write([2]) == [together[1]]  # a poem written alone is the one it is in a batch
    assert len(set(together)) > 1


def test_requests_check_their_fields_and_give_seeds() -> None:
    assert Sampling(seed=5).seeds(3) == [5, 6, 7]
    assert len(set(Sampling().seeds(1) + Sampling().seeds(1))) == 2  # no seed: a random one each time
    assert PoemRequest(guidance=2.0).guidance_for("秋夜") == 2.0 and PoemRequest(guidance=2.0).guidance_for("") == 0
    for fields, message in (({"count": 0}, "count 0"), ({"beam_size": 1000}, "beam_size 1000: at most 256"),
                            ({"top_p": 0.0}, "top_p"), ({"seed": -1}, "seed -1"), ({"count": True}, "count True")):
        with pytest.raises(Seq2TextError, match=message):
            PoemRequest(**fields)


def test_the_writer_keeps_the_form_and_a_poem_carries_its_pattern() -> None:
    writer = PoemWriter(tiny_model(), TOKENIZER, TONES, RHYMES)
    poems = writer.poems(PoemRequest(form="五言绝句", count=2, seed=7, candidates=4))
    assert [p.seed for p in poems] == [7, 8]
    for poem in poems:
        assert poem.checks == {"form": True, "repetition": True, "rhyme": True, "tones": True}, poem.text
        assert poem.pattern is not None and poem.pattern.split(poem.text) is not None
    again = writer.poems(PoemRequest(form="五言绝句", seed=8, candidates=4))[0]
    assert again.text == poems[1].text  # each poem's seed writes it alone
    revised = writer.revise(poems[0], 3, PoemRequest(form="五言绝句", count=3, seed=1, candidates=4))
    start, end = poems[0].pattern.start(2), poems[0].pattern.start(3)
    for poem in revised:
        assert poem.text[:start] == poems[0].text[:start] and poem.text[end:] == poems[0].text[end:]
        assert poem.text[start:end] != poems[0].text[start:end] and poem.checks["rhyme"] and poem.checks["tones"]


def test_the_http_bodies_are_the_library_requests() -> None:
    """The server's bodies of poems, couplets and text are built from the library's requests:
    the same fields (under the API's names), defaults, meanings and the API's bounds."""
    import dataclasses

    from seq2text.generation import requests
    from seq2text.server import schemas

    for library, body in ((requests.PoemRequest, schemas.PoemRequest), (requests.CoupletRequest, schemas.CoupletRequest),
                          (requests.TextRequest, schemas.TextRequest)):
        properties = body.model_json_schema()["properties"]
        for spec in dataclasses.fields(library):
            name = spec.metadata["api"] or spec.name
            assert (name in properties) == spec.metadata["offered"], name
            if name in properties:
                assert properties[name].get("description") == spec.metadata["meaning"]
        assert properties["n"]["maximum"] == requests.SERVED_COUNT
    asked = schemas.PoemRequest.model_validate({"form": "七绝", "n": 2, "keywords": ["明月"], "seed": 3}).request()
    assert asked == requests.PoemRequest(form="七绝", count=2, keywords=("明月",), seed=3)
