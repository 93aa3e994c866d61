"""What a new user trips over: seeds that regenerate one poem, messages that quote the input as
given and name the model, forms by the name the user chose, capitalised words for a lowercased
model, `evaluate --text` that scores just the file, and report wording."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import one_line_error, run
from seq2text import Generator
from seq2text.evaluation.report import _marked, _shaded
from seq2text.evaluation.sections import count_of


def test_every_poem_of_a_batch_has_a_seed_that_writes_it_alone() -> None:
    generator = Generator.load("poems")
    batch = generator.poems("五言绝句", count=3, seed=10, title="秋夜")
    assert [poem.seed for poem in batch] == [10, 11, 12]
    for poem in batch:
        assert generator.poems("五言绝句", seed=poem.seed, title="秋夜")[0].text == poem.text
    passages = Generator.load("shakespeare-char").text("ROMEO:", 20, count=2, seed=5)
    assert [p.seed for p in passages] == [5, 6]
    assert Generator.load("shakespeare-char").text("ROMEO:", 20, seed=6)[0].text == passages[1].text


@pytest.mark.slow
def test_jsonl_seeds_regenerate_the_chosen_poem() -> None:
    batch = run("generate", "--form", "五言绝句", "-n", "3", "--seed", "4", "--format", "jsonl")
    assert batch.returncode == 0, batch.stderr
    chosen = json.loads(batch.stdout.splitlines()[2])
    alone = run("generate", "--form", "五言绝句", "--seed", str(chosen["seed"]), "--format", "jsonl")
    assert json.loads(alone.stdout)["text"] == chosen["text"]


@pytest.mark.slow
def test_messages_quote_the_input_as_given_and_name_the_model() -> None:
    one_line_error(run("generate", "--form", "couplet", "--first-line", "hello"),
                   "letters or digits that are not Chinese characters: 'hello'")
    one_line_error(run("generate", "--prompt", "ROMEO:"), "poetry model poems does not know", "shakespeare-char")
    one_line_error(run("generate", "--acrostic", "春夏"), "a 七言绝句 poem needs 4 characters")


def test_a_lowercased_vocabulary_reads_capitalised_words() -> None:
    tokenizer = Generator.load("ptb-word-lm").tokenizer
    assert tokenizer.encode("The Market fell N") == tokenizer.encode("the market fell N")
    assert 1 not in tokenizer.encode("The Market")  # no <unk>


@pytest.mark.slow
def test_evaluate_text_on_a_poem_model_scores_just_the_file(tmp_path: Path) -> None:
    poem = tmp_path / "poem.txt"
    poem.write_text("床前明月光，疑是地上霜。举头望明月，低头思故乡。\n", encoding="utf-8")
    started = time.perf_counter()
    result = run("evaluate", "-m", "poems", "--text", str(poem))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["lines"] == 1 and "verse" not in summary and "subjects" not in summary
    assert time.perf_counter() - started < 120  # was 3.5 minutes: poems on 20 subjects, the corpus read twice


def test_report_wording_and_markup() -> None:
    assert count_of(1, "poem") == "1 poem" and count_of(3, "poem") == "3 poems"
    assert _marked(list("(1)内存有*"), [0, 1, 0.5, 0.9, 0, 0, 0]) == "(<b>1</b><b>)</b><b>内</b>存有\\*"
    shaded = _shaded("gold 1", ["好", "书"], [1.0, 0.1])
    assert "color: #fff" in shaded.split("</span>")[0] and "color" not in shaded.split("</span>")[1]


@pytest.mark.slow
def test_options_where_users_reach_for_them(tmp_path: Path) -> None:
    """-i for couplets; a repeated -m refused where a command does not ensemble."""
    first_lines = tmp_path / "first.txt"
    first_lines.write_text("海阔凭鱼跃\n\n春风得意马蹄疾\n", encoding="utf-8")
    answered = run("generate", "--form", "couplet", "-i", str(first_lines), "--seed", "1")
    lines = answered.stdout.split("\n")
    assert answered.returncode == 1 and f"{first_lines}:2: empty" in answered.stderr  # the empty line is named
    assert len(lines[0]) == 5 and lines[1] == "" and len(lines[2]) == 7
    for command, text in (("classify", "好"), ("tag", "I swim.")):
        one_line_error(run(command, "-m", "sentiment-zh", "-m", "sentiment-zh", text), "given 2 times",
                       f"{command} uses one model")
