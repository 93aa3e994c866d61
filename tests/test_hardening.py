"""Hostile and broken input through the real command line: every case is one clear line and
exit code 2 (or correct behaviour), never a traceback, a hang or silently lost output."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import HANG, model_folder, one_line_error, run, write_recipe

BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
data: *i
"""
TEXT_RECIPE = "data: {kind: text, train: shakespeare/input.txt, valid_fraction: 0.1}\n"


@pytest.mark.slow
def test_recipe_bombs_and_absurd_sizes_are_refused_at_once(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = run("train", str(write_recipe(tmp_path, BOMB, "bomb.yaml")))
    one_line_error(result, "aliases (*name) are not allowed")
    assert time.perf_counter() - started < 60 and len(result.stderr) < 300
    for setting, needle in (("model: {hidden_size: true}", "model.hidden_size: Input should be a valid integer"),
                            ("model: {hidden_size: 100000000}", "less than or equal to 8192"),
                            ("model: {decoder_layers: 1000}", "model.decoder_layers"),
                            ("tokenizer: {vocab_size: 10000000000}", "tokenizer.vocab_size"),
                            ("training: {learning_rate: .nan}", "finite number")):
        one_line_error(run("prepare", str(write_recipe(tmp_path, TEXT_RECIPE + setting + "\n"))), needle)
    huge = "x" * 5000
    result = run("prepare", str(write_recipe(tmp_path, TEXT_RECIPE + f"model: {{cell: {huge}}}\n")))
    one_line_error(result, "model.cell", "characters)")
    assert len(result.stderr) < 400


def _set_nan(folder: Path) -> None:
    weights = load_file(str(folder / "model.safetensors"))
    name = next(iter(weights))
    weights[name] = torch.full_like(weights[name], float("nan"))
    save_file(weights, str(folder / "model.safetensors"))


@pytest.mark.slow
def test_nan_weights_are_refused_not_printed_as_nothing(tmp_path: Path) -> None:
    translation = model_folder("multi30k-de-en", tmp_path)
    _set_nan(translation)
    one_line_error(run("translate", "-m", str(translation), "Ein Hund.", "Eine Katze."), "NaN or infinite")
    couplet = model_folder("couplet-aligned", tmp_path)
    _set_nan(couplet)
    one_line_error(run("generate", "--form", "couplet", "-m", str(couplet), "--first-line", "海阔凭鱼跃"),
                   "NaN or infinite")


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"[]", b"{\"\xff\": [1, 2]}", b"{\"\\u5929\": [1]}", b"{\"ab\": [1, 2]}",
                                     b"[" * 100000, b"not json"])
def test_damaged_tones_file_is_one_line(tmp_path: Path, content: bytes) -> None:
    folder = model_folder("couplet-aligned", tmp_path)
    (folder / "tones.json").write_bytes(content)
    one_line_error(run("generate", "--form", "couplet", "-m", str(folder), "--first-line", "海阔凭鱼跃"),
                   "tones.json")


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"{}", b"[{\"step\": \"x\"}]", b"[1, 2]", b"[" * 100000, b"\xff"])
def test_damaged_history_file_is_one_line(tmp_path: Path, content: bytes) -> None:
    folder = model_folder("shakespeare-char", tmp_path)
    (folder / "history.json").write_bytes(content)
    text = tmp_path / "text.txt"
    text.write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n", encoding="utf-8")
    one_line_error(run("evaluate", "-m", str(folder), "--text", str(text), "--report", str(tmp_path / "report")),
                   "history.json")


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"[]", b"{\"type\": \"char\", \"tokens\": 5}",
                                     b"{\"type\": \"char\", \"tokens\": [\"a\", \"a\"]}", b"{\"type\": 3}",
                                     b"{" * 100000, b"\xff\xfe"])
def test_damaged_tokenizer_file_is_one_line(tmp_path: Path, content: bytes) -> None:
    folder = model_folder("shakespeare-char", tmp_path)
    (folder / "tokenizer" / "tokenizer.json").write_bytes(content)
    one_line_error(run("generate", "-m", str(folder), "--length", "5"), "tokenizer.json")


@pytest.mark.slow
def test_options_out_of_bounds_are_one_line() -> None:
    for args, needle in ((["generate", "--temperature", "nan"], "--temperature"),
                         (["generate", "--temperature", "inf"], "--temperature"),
                         (["generate", "--seed", str(2**64)], "--seed"),
                         (["translate", "--beam-size", "1000000", "x"], "--beam-size"),
                         (["evaluate", "-m", "multi30k-de-en", "--bootstrap", "100000000"], "--bootstrap"),
                         (["translate", "--batch-size", "10000000", "x"], "--batch-size"),
                         (["translate", "--no-such-option"], "No such option"),
                         (["no-such-command"], "No such command")):
        one_line_error(run(*args), needle)


@pytest.mark.slow
def test_input_file_and_text_arguments_together_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.de"
    source.write_text("Ein Hund.\n", encoding="utf-8")
    one_line_error(run("translate", "-i", str(source), "Eine Katze."), "not both")


@pytest.mark.slow
def test_arguments_that_are_not_utf8_are_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    for args in (["translate", b"Ein \xff Hund"], ["generate", "--form", "couplet", "--first-line", b"\xe6\xb5"]):
        result = subprocess.run([sys.executable, "-m", "seq2text", *args], capture_output=True, timeout=HANG)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(b"error: argument ") and result.stderr.count(b"\n") == 1, result.stderr
        assert b"not valid UTF-8" in result.stderr


@pytest.mark.slow
def test_empty_data_is_one_line(tmp_path: Path, multi30k_slice: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    one_line_error(run("evaluate", "-m", "multi30k-de-en", "--src", str(empty), "--ref", str(empty)), "no lines")
    recipe = write_recipe(tmp_path, """\
data: {kind: parallel, train: multi30k/train, valid: multi30k/val, src_lang: de, tgt_lang: en, max_length: 2}
tokenizer: {vocab_size: 600}
""")
    one_line_error(run("train", str(recipe), "--data-root", str(multi30k_slice), "--output-dir",
                       str(tmp_path / "run")), "data.max_length=2", "nothing is left to train on")


@pytest.mark.slow
def test_write_errors_are_one_line_and_devices_are_written_through(tmp_path: Path) -> None:
    one_line_error(run("translate", "Ein Hund.", "-o", "/proc/seq2text/out.txt"), "/proc/seq2text/out.txt")
    one_line_error(run("translate", "Ein Hund.", "-o", "/dev/full"), "/dev/full", "No space left")
    one_line_error(run("evaluate", "-m", "ptb-word-lm", "--text", "/dev/null"), "no text to score")
    text = tmp_path / "text.txt"
    text.write_text("the market is down\n", encoding="utf-8")
    one_line_error(run("evaluate", "-m", "ptb-word-lm", "--text", str(text), "--report", "/proc/report"),
                   "/proc/report")
    result = run("translate", "Ein Hund.", "-o", "/dev/stdout")
    assert result.returncode == 0 and result.stdout == "A dog.\n", result.stderr

    # A named pipe stays a pipe, and its reader gets the translation.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run("translate", "Ein Hund.", "-o", str(fifo))
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert received == [b"A dog.\n"] and stat.S_ISFIFO(fifo.stat().st_mode)

    # A symbolic link is followed: its target gets the output, the link stays.
    target, link = tmp_path / "target.txt", tmp_path / "link.txt"
    target.write_text("old\n", encoding="utf-8")
    link.symlink_to(target)
    assert run("translate", "Ein Hund.", "-o", str(link)).returncode == 0
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "A dog.\n"


@pytest.mark.slow
def test_a_bad_cache_folder_is_one_line(tmp_path: Path, multi30k_slice: Path) -> None:
    import subprocess
    import sys

    recipe = write_recipe(tmp_path, """\
data: {kind: parallel, train: multi30k/train, valid: multi30k/val, src_lang: de, tgt_lang: en}
tokenizer: {vocab_size: 600}
""")
    result = subprocess.run([sys.executable, "-m", "seq2text", "prepare", str(recipe), "--data-root",
                             str(multi30k_slice), "--output-dir", str(tmp_path / "run")], capture_output=True,
                            text=True, env={**os.environ, "SEQ2TEXT_CACHE": "/proc/seq2text-cache"}, timeout=HANG)
    one_line_error(result, "SEQ2TEXT_CACHE")


def test_notes_in_the_rhyme_table_do_not_make_a_rhyme() -> None:
    """With the 平水韵 notes read as notes, 人 and 深 share no group, so a poem ending them is
    not reported as rhyming (it was, through 参<人参>)."""
    from conftest import DATA
    from seq2text.verse.forms import get_form
    from seq2text.verse.rhymes import RhymeTable
    from seq2text.verse.rules import check_poem
    from seq2text.verse.tones import ToneTable

    rhymes = RhymeTable.pingshuiyun(DATA / "rhyme" / "pingshuiyun.txt")
    tones = ToneTable({})
    poem = "白日依山尽，黄河入海人。欲穷千里目，更上一层深。"
    assert check_poem(poem, get_form("wuyan-jueju"), tones, rhymes)["rhyme"] is False


@pytest.mark.slow
def test_a_model_folder_cannot_ask_for_terabytes(tmp_path: Path) -> None:
    import yaml

    folder = model_folder("shakespeare-char", tmp_path)
    recipe = yaml.safe_load((folder / "recipe.yaml").read_text(encoding="utf-8"))
    recipe["model"].update(hidden_size=8192, embed_size=8192, decoder_layers=16)
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    started = time.perf_counter()
    one_line_error(run("generate", "-m", str(folder), "--length", "5"), "parameters, over the")
    assert time.perf_counter() - started < 60


@pytest.mark.slow
def test_messages_say_what_is_wrong(tmp_path: Path) -> None:
    one_line_error(run("evaluate", "-m", "sentiment-zh", "--text", "/dev/zero"),
                   "/dev/zero: not a regular file", "--text names a labelled TSV or CSV file")
    folder = model_folder("sentiment-zh", tmp_path)
    (folder / "tokenizer" / "tokenizer.json").unlink()
    (folder / "tokenizer" / "tokenizer.json").symlink_to("/dev/zero")
    one_line_error(run("classify", "-m", str(folder), "好"), "tokenizer.json is not a regular file")
    recipe = write_recipe(tmp_path, f"data: {{kind: parallel, train: multi30k/train, valid: multi30k/val, "
                                    f"src_lang: de, tgt_lang: en, distilled: {tmp_path}}}\n")
    one_line_error(run("prepare", str(recipe), "--output-dir", str(tmp_path / "run")),
                   f"{tmp_path}: not a regular file", "data.distilled names the file")


@pytest.mark.slow
def test_a_model_too_large_for_memory_is_one_line(tmp_path: Path, multi30k_slice: Path) -> None:
    import resource

    recipe = write_recipe(tmp_path, "data: {kind: parallel, train: multi30k/val, valid: multi30k/val, src_lang: de, "
                                    "tgt_lang: en}\ntokenizer: {vocab_size: 500}\n"
                                    "model: {embed_size: 8192, hidden_size: 8192}\n")
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (6_000_000 * 1024,) * 2)  # noqa: E731 (ulimit -v)
    result = subprocess.run([sys.executable, "-m", "seq2text", "train", str(recipe), "--data-root", str(multi30k_slice),
                             "--output-dir", str(tmp_path / "run")], capture_output=True, text=True, preexec_fn=limit)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-1500:]
    assert result.stderr.splitlines()[-1].startswith("error: out of memory: ") and "batch_size" in result.stderr


@pytest.mark.slow
def test_the_ensemble_script_refuses_a_missing_or_wrong_model_in_one_line() -> None:
    script = str(Path(__file__).resolve().parents[1] / "scripts" / "ensemble_classify.py")
    for models, message in ((["nothere", "sentiment-zh"], "'nothere': neither a bundled model"),
                            (["sentiment-zh", "pos-en"], "pos-en: not a classification model")):
        result = subprocess.run([sys.executable, script, *models], capture_output=True, text=True)
        assert result.returncode == 1 and result.stderr == f"error: {result.stderr[7:]}" and \
            result.stderr.count("\n") == 1 and message in result.stderr, result.stderr[-1500:]
