"""The seq2text command as a user runs it: help, prepare, and one-line errors with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest


from conftest import SLICE_RECIPE, run, write_recipe
from seq2text.tokenizers import load_tokenizers


@pytest.mark.slow
def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("prepare", "train", "translate", "generate", "evaluate", "models"):
        assert f"  {command} " in result.stdout
    for command, option in (("prepare", "--set"), ("train", "--resume"), ("translate", "--beam-size"),
                            ("generate", "--acrostic"), ("evaluate", "--report")):
        assert option in run(command, "--help").stdout


@pytest.mark.slow
def test_prepare_trains_and_saves_the_tokenizer(multi30k_slice: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, SLICE_RECIPE)
    result = run("prepare", str(recipe), "--data-root", str(multi30k_slice),
                 "--set", "tokenizer.model_type=unigram", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "trained sentencepiece tokenizer (1000 tokens)" in result.stderr
    assert "padding overhead" in result.stderr and "longer than max_length=40" in result.stderr
    src, tgt = load_tokenizers(tmp_path / "runs" / "slice" / "tokenizer")  # the run's, where train looks
    assert not (tmp_path / "vocab").exists()  # vocab/ holds only the bundled models' tokenizers
    assert src is tgt and src.vocab_size == 1000
    assert src.sp.decode(src.sp.encode("Ein Hund läuft.")) == "Ein Hund läuft."


@pytest.mark.slow
def test_bad_input_is_one_line_and_exit_code_2(multi30k_slice: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, SLICE_RECIPE + "model: {hiden_size: 512}\n", "x.yaml")
    result = run("prepare", str(recipe), "--data-root", str(multi30k_slice))
    assert result.returncode == 2
    assert result.stderr == f"error: {recipe}: model.hiden_size: unknown setting (did you mean hidden_size?)\n"

    (multi30k_slice / "multi30k" / "val.en").write_bytes(b"ok\n\xff\xfe broken\n")
    result = run("prepare", str(write_recipe(tmp_path, SLICE_RECIPE)), "--data-root", str(multi30k_slice))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "val.en:2: invalid UTF-8 (byte 0xff at column 1)" in result.stderr

    result = run("prepare", str(write_recipe(tmp_path, SLICE_RECIPE)), "--data-root", str(tmp_path / "empty"))
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    assert "SEQ2TEXT_DATA" in result.stderr
