"""`seq2text generate` and the Generator API with the bundled Tang model, as users run them."""

from __future__ import annotations

import json

import pytest

from conftest import run
from seq2text import Generator


@pytest.fixture(scope="module")
def generator() -> Generator:
    return Generator.load("tang-poetry")


@pytest.mark.slow
def test_acrostic_quatrain_from_the_command_line() -> None:
    result = run("generate", "--form", "五言绝句", "--acrostic", "春夏秋冬", "--format", "jsonl", "--seed", "3")
    assert result.returncode == 0, result.stderr
    poem = json.loads(result.stdout)
    assert poem["form"] == "wuyan-jueju" and poem["seed"] == 3
    assert all(poem["checks"].values()), poem
    text = poem["text"]
    assert [text[i] for i in range(0, 24, 6)] == list("春夏秋冬") and text[5::6] == "，。，。"
    plain = run("generate", "--form", "五言绝句", "--acrostic", "春夏秋冬", "--seed", "3")
    assert plain.returncode == 0 and plain.stdout.replace("\n", "") == text


@pytest.mark.slow
def test_forms_prompts_seeds_and_beam_search(generator: Generator) -> None:
    for form, length in (("wuyan-jueju", 24), ("qiyan-jueju", 32), ("五言律诗", 48), ("七言律诗", 64)):
        poems = generator.poems(form, count=3, seed=5)
        assert all(len(p.text) == length and all(p.checks.values()) for p in poems), poems
    first, again, other = (generator.poems("七绝", count=2, prompt="明月", seed=s) for s in (11, 11, 12))
    assert [p.text for p in first] == [p.text for p in again] != [p.text for p in other]
    assert all(p.text.startswith("明月") for p in first)
    beams = generator.poems("qiyan-jueju", count=2, beam_size=4, acrostic="山高水长")
    assert len(beams) == 2 and all(all(p.checks.values()) for p in beams)
    free = generator.poems("free", prompt="春风", seed=1)[0]
    assert free.text.startswith("春风") and free.checks == {}


@pytest.mark.slow
@pytest.mark.parametrize("args, message", [
    (["--acrostic", "春夏秋"], "--acrostic '春夏秋': a 七言绝句 poem needs 4 characters"),
    (["--form", "sonnet"], "--form 'sonnet': unknown form"),
    (["--prompt", "ROMEO:"], "--prompt '⟦R⟧⟦O⟧⟦M⟧⟦E⟧⟦O⟧⟦:⟧': the poetry model poems does not know the characters marked "
                             "⟦ ⟧ (for English text use a model of English, such as shakespeare-char)"),
    (["--acrostic", "春夏秋😀"], "--acrostic '春夏秋⟦😀⟧': the poetry model poems does not know the characters"),
    (["--form", "五言绝句", "--prompt", "白日依山尽。"], "character 6 (。) does not fit"),
])
def test_bad_requests_are_one_line_and_exit_code_2(args: list[str], message: str) -> None:
    result = run("generate", *args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


@pytest.mark.slow
def test_free_text_from_the_other_language_models() -> None:
    result = run("generate", "-m", "shakespeare-char", "--prompt", "ROMEO:", "--length", "80", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ROMEO:") and len(result.stdout) > 60
    assert "\n" in result.stdout.strip() and "<unk>" not in result.stdout  # runs on across lines
    assert run("generate", "-m", "shakespeare-char", "--prompt", "ROMEO:", "--length", "80",
               "--seed", "1").stdout == result.stdout
    words = Generator.load("ptb-word-lm").text("the market", length=20, count=2, seed=3, temperature=0.7)
    assert len(words) == 2 and all(p.text.startswith("the market") for p in words)
    assert [p.seed for p in words] == [3, 4]  # each passage has the seed that writes it alone
    assert all(len(p.text.split()) >= 10 for p in words) and words[0].text != words[1].text
    refused = run("generate", "-m", "shakespeare-char", "--form", "五绝")
    assert refused.returncode == 2 and "need a poetry model" in refused.stderr, refused.stderr
    unknown = run("generate", "-m", "shakespeare-char", "--prompt", "秋风")
    assert unknown.returncode == 2 and "'⟦秋⟧⟦风⟧': the model shakespeare-char does not know" in unknown.stderr


def test_revise_checks_its_own_arguments_with_its_own_names() -> None:
    from seq2text import Generator
    from seq2text.errors import Seq2TextError

    generator = Generator.load("poems")
    poem = generator.poems("七言绝句", seed=1)[0]
    for options, message in ((dict(line=1.5), "line 1.5: not a line number"), (dict(line="1"), "line '1'"),
                             (dict(line=True), "line True"), (dict(line=1, n=10**9), "n 1000000000: at most 64"),
                             (dict(line=1, n=0), "n 0: not a count")):
        with pytest.raises(Seq2TextError, match=message) as raised:
            generator.revise(poem, **options)
        assert "--" not in str(raised.value)  # the library's names, not the command line's
    with pytest.raises(Seq2TextError, match="poem: a Poem or its text, not NoneType"):
        generator.revise(None, 1)
    with pytest.raises(Seq2TextError, match="count 100000: at most 10,000"):
        generator.poems("七言绝句", count=100_000)
