"""Data safety and bounded input, through the real command line: a command never deletes what
it did not create, N inputs give N output lines, a recipe's name stays under runs/, and no file
(a device, a pipe, a damaged cache) can hang the program, take the memory or end in a
traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DATA, HANG, head, model_folder, one_line_error, run, write_recipe

LABELLED = """\
name: labels
task: classification
data: {{kind: labelled, train: {train}, valid: {train}}}
tokenizer: {{type: char}}
model: {{embed_size: 8, hidden_size: 8}}
training: {{metric: accuracy, epochs: 1}}
"""


@pytest.mark.slow
def test_outputs_never_delete_a_folder_the_program_did_not_create(tmp_path: Path) -> None:
    first, second = model_folder("sentiment-zh", tmp_path / "a"), model_folder("sentiment-zh", tmp_path / "b")
    mine = tmp_path / ".out.tmp"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's own file\n", encoding="utf-8")
    result = run("average", str(first), str(second), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "the user's own file\n"
    assert (tmp_path / "out" / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.tmp", "a", "b", "out"]  # no temporary left

    exported = tmp_path / "exported"
    (tmp_path / ".exported.tmp").mkdir()
    (tmp_path / ".exported.tmp" / "keep.txt").write_text("x", encoding="utf-8")
    result = run("export", "-m", "multi30k-de-en", "-o", str(exported))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".exported.tmp" / "keep.txt").is_file() and (exported / "step.onnx").is_file()


@pytest.mark.slow
def test_average_refuses_classifiers_with_other_labels(tmp_path: Path) -> None:
    first, second = model_folder("sentiment-zh", tmp_path / "a"), model_folder("sentiment-zh", tmp_path / "b")
    (second / "tokenizer" / "labels.json").write_text('["positive", "negative"]\n', encoding="utf-8")
    one_line_error(run("average", str(first), str(second), "-o", str(tmp_path / "out")), "its labels")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_current_folder_as_output_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "something.txt").write_text("x", encoding="utf-8")
    first, second = model_folder("sentiment-zh", tmp_path / "a"), model_folder("sentiment-zh", tmp_path / "b")
    one_line_error(run("average", str(first), str(second), "-o", ".", cwd=tmp_path), "choose a new output folder")
    one_line_error(run("export", "-o", ".", cwd=tmp_path), "choose a new output folder")


@pytest.mark.slow
def test_every_output_line_is_one_line() -> None:
    written = subprocess.run([sys.executable, "-c", "from seq2text.textio import Output\n"
                              "Output(None).write(['a\\nb', 'c\\rd', 'e\\u2028f'])"],
                             capture_output=True, text=True, timeout=HANG)
    assert written.stdout.splitlines() == ["a b", "c d", "e f"], written


@pytest.mark.slow
def test_labels_that_break_lines_are_refused_in_training_and_loading(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text('sentence,label\n"好的",0\n"不好","0\nEVIL"\n"很好",1\n', encoding="utf-8")
    recipe = write_recipe(tmp_path, LABELLED.format(train="train.csv"))
    one_line_error(run("prepare", str(recipe), "--data-root", str(data), "--output-dir", str(tmp_path / "run")),
                   "train.csv", "'0\\nEVIL'", "line break")

    folder = model_folder("sentiment-zh", tmp_path)
    (folder / "tokenizer" / "labels.json").write_text(json.dumps(["0", "bad\nlabel"]), encoding="utf-8")
    one_line_error(run("classify", "-m", str(folder), "好"), "labels.json", "line break")
    (folder / "tokenizer" / "labels.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    one_line_error(run("classify", "-m", str(folder), "好"), "labels.json", "nested too deeply")


@pytest.mark.slow
def test_labels_that_look_like_numbers_and_ragged_rows(tmp_path: Path) -> None:
    from seq2text.data.labels import label_names

    assert label_names(["²", "1", "--1"]) == ["--1", "1", "²"]
    assert label_names(["10", "2", "-1"]) == ["-1", "2", "10"]
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.tsv").write_text("sentence\tlabel\n好的\t1\textra\n不好\t0\n", encoding="utf-8")
    recipe = write_recipe(tmp_path, LABELLED.format(train="train.tsv"))
    one_line_error(run("prepare", str(recipe), "--data-root", str(data), "--output-dir", str(tmp_path / "run")),
                   "train.tsv", "more fields than the header")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["/tmp/elsewhere", "../../x", "''", "."])
def test_a_recipe_name_is_a_plain_folder_name(tmp_path: Path, name: str) -> None:
    recipe = write_recipe(tmp_path, f"name: {name}\ndata: {{kind: text, train: shakespeare/input.txt, "
                                    f"valid_fraction: 0.1}}\n")
    one_line_error(run("prepare", str(recipe), cwd=tmp_path), "name", "plain folder name")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_unsupported_devices_are_one_line() -> None:
    for args in (["translate", "Ein Hund."], ["classify", "好"], ["generate", "--form", "五言绝句"],
                 ["serve", "--port", "0"]):
        one_line_error(run(*args, "--device", "meta"), "--device", "not supported")
    from seq2text import Translator
    from seq2text.errors import Seq2TextError

    with pytest.raises(Seq2TextError, match="not supported"):
        Translator.load("multi30k-de-en", device="meta")


@pytest.mark.slow
def test_endless_and_special_files_are_refused_at_once(tmp_path: Path) -> None:
    started = time.perf_counter()
    one_line_error(run("translate", "-i", "/dev/zero"), "/dev/zero:1", "line over 1 MB")
    one_line_error(run("classify", "-i", "/dev/zero"), "/dev/zero:1", "line over 1 MB")
    one_line_error(run("evaluate", "-m", "multi30k-de-en", "--src", "/dev/zero", "--ref", "/dev/zero"),
                   "/dev/zero:1", "line over 1 MB")
    one_line_error(run("generate", "--rhyme-table", "/dev/zero"), "/dev/zero:1", "line over 1 MB")
    endless = subprocess.run([sys.executable, "-m", "seq2text", "translate"], stdin=open("/dev/zero", "rb"),
                             capture_output=True, text=True, timeout=HANG)
    one_line_error(endless, "<stdin>:1", "line over 1 MB")
    fifo = tmp_path / "recipe.yaml"
    os.mkfifo(fifo)
    one_line_error(run("prepare", str(fifo)), "not a regular file")
    folder = model_folder("multi30k-de-en", tmp_path)
    (folder / "tokenizer" / "spm.model").unlink()
    (folder / "tokenizer" / "spm.model").symlink_to("/dev/zero")
    one_line_error(run("translate", "-m", str(folder), "Ein Hund."), "spm.model", "not a regular file")
    assert time.perf_counter() - started < 240


@pytest.mark.slow
def test_control_characters_are_escaped_and_long_values_shortened() -> None:
    result = run("translate", "-m", "\x1b]0;pwned\x07", "Ein Hund.")
    one_line_error(result, "\\x1b]0;pwned\\x07")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    result = run("translate", "-m", "x" * 5000, "Ein Hund.")
    one_line_error(result, "…")
    assert len(result.stderr) < 600


@pytest.mark.slow
def test_training_bounds_are_checked_when_the_recipe_loads(tmp_path: Path) -> None:
    base = "data: {kind: text, train: shakespeare/input.txt, valid_fraction: 0.1}\n"
    for setting, needle in (("training: {learning_rate: 1e300}", "training.learning_rate"),
                            ("model: {init_range: 1e308}", "model.init_range")):
        one_line_error(run("prepare", str(write_recipe(tmp_path, base + setting + "\n"))), needle)


@pytest.mark.slow
def test_a_recipe_at_the_size_bounds_is_refused_before_training(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "shakespeare").mkdir(parents=True)
    (data / "shakespeare" / "input.txt").write_text(head(DATA / "shakespeare" / "input.txt", 400), encoding="utf-8")
    recipe = write_recipe(tmp_path, "task: lm\ndata: {kind: text, train: shakespeare/input.txt, "
                                    "valid_fraction: 0.1}\ntokenizer: {type: char}\n"
                                    "model: {hidden_size: 8192, embed_size: 8192, decoder_layers: 16}\n"
                                    "training: {metric: ppl}\n")
    started = time.perf_counter()
    result = run("train", str(recipe), "--data-root", str(data), "--output-dir", str(tmp_path / "run"))
    assert result.returncode == 2 and result.stderr.splitlines()[-1].startswith("error: "), result.stderr
    assert "parameters, over the 2,000,000,000" in result.stderr  # after preparing: the size needs the vocabulary
    assert time.perf_counter() - started < 120


@pytest.mark.slow
def test_a_damaged_token_cache_is_rebuilt(tmp_path: Path, multi30k_slice: Path, private_cache: Path) -> None:
    recipe = write_recipe(tmp_path, "data: {kind: parallel, train: multi30k/train, valid: multi30k/val, "
                                    "src_lang: de, tgt_lang: en}\ntokenizer: {vocab_size: 600}\n")
    args = ("prepare", str(recipe), "--data-root", str(multi30k_slice), "--output-dir", str(tmp_path / "run"))
    assert run(*args).returncode == 0
    for arrow in (private_cache / "encoded").glob("*.arrow"):
        arrow.write_bytes(arrow.read_bytes()[:100])
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert "train: 2000 of 2000 examples kept" in result.stderr


@pytest.mark.slow
def test_the_datasets_cache_follows_seq2text_cache(tmp_path: Path, private_cache: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.tsv").write_text(head(DATA / "sentiment" / "train.tsv", 50), encoding="utf-8")
    recipe = write_recipe(tmp_path, LABELLED.format(train="train.tsv"))
    home = tmp_path / "home"
    result = subprocess.run([sys.executable, "-m", "seq2text", "prepare", str(recipe), "--data-root", str(data),
                             "--output-dir", str(tmp_path / "run")], capture_output=True, text=True, timeout=HANG,
                            env={**os.environ, "HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert any((private_cache / "datasets").iterdir())
    assert not (home / ".cache" / "huggingface").exists()


@pytest.mark.slow
def test_progress_off_a_terminal_is_a_plain_line_now_and_then(tmp_path: Path) -> None:
    src = tmp_path / "test.de"
    src.write_text(head(DATA / "multi30k" / "test_2016_flickr.de", 3), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "seq2text", "evaluate", "-m", "multi30k-de-en", "--src", str(src),
                             "--ref", str(src), "--beam-size", "1"], capture_output=True, text=True, timeout=HANG,
                            env={**os.environ, "SEQ2TEXT_PROGRESS_EVERY": "0"})
    assert result.returncode == 0, result.stderr
    assert "greedy: 1/1 batch (100%)" in result.stderr and "\r" not in result.stderr


@pytest.mark.slow
def test_sigterm_stops_training_as_ctrl_c_does(tmp_path: Path, multi30k_slice: Path) -> None:
    recipe = write_recipe(tmp_path, "name: term\ndata: {kind: parallel, train: multi30k/train, valid: multi30k/val, "
                                    "src_lang: de, tgt_lang: en}\ntokenizer: {vocab_size: 600}\n"
                                    "model: {embed_size: 16, hidden_size: 32}\ntraining: {batch_size: 8, epochs: 50}\n")
    run_dir = tmp_path / "run"
    args = [sys.executable, "-m", "seq2text", "train", str(recipe), "--data-root", str(multi30k_slice),
            "--output-dir", str(run_dir)]

    def stop(process: subprocess.Popen, number: int) -> str:
        log = run_dir / "train.log"
        runs = log.read_text(encoding="utf-8").count("parameters") if log.exists() else 0
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not (log.exists() and
                                                   log.read_text(encoding="utf-8").count("parameters") > runs):
            time.sleep(0.5)
        time.sleep(3)  # into the first epoch
        process.send_signal(number)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 130, stderr
        return stderr

    # SIGINT restored to its default in the child: a shell starts background jobs with it ignored
    default_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    stderr = stop(subprocess.Popen(args, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint),
                  signal.SIGTERM)
    assert "interrupted at step" in stderr and not stderr.rstrip().endswith("\ninterrupted"), stderr
    first = stderr.split("interrupted at step ", 1)[1].split(": saved ", 1)[1].split(";", 1)[0]
    stderr = stop(subprocess.Popen([*args, "--resume"], stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint),
                  signal.SIGINT)
    assert stderr.count("interrupted") == 1, stderr
    checkpoints = sorted((run_dir / "checkpoints").glob("step-*"))
    # the first stop's checkpoint is kept beside the second's: `seq2text average step-*` works
    assert Path(first) in checkpoints and len(checkpoints) >= 2, (first, checkpoints, stderr)
    assert run("average", *map(str, checkpoints), "-o", str(tmp_path / "avg")).returncode == 0


def test_an_atomic_replace_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    from seq2text.atomic import write_text_atomic

    private = tmp_path / "private.txt"
    private.write_text("old")
    private.chmod(0o600)
    write_text_atomic(private, "new")
    assert private.read_text() == "new" and private.stat().st_mode & 0o777 == 0o600
    fresh = tmp_path / "fresh.txt"
    write_text_atomic(fresh, "new")
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_training_refuses_a_folder_that_is_not_a_run(tmp_path: Path, data_root: Path) -> None:
    from seq2text.errors import Seq2TextError
    from seq2text.recipe import load_recipe
    from seq2text.training.trainer import train

    recipe = load_recipe(write_recipe(tmp_path, "data: {kind: parallel, train: multi30k/train, valid: multi30k/val, "
                                                "src_lang: de, tgt_lang: en}\n"), data_root=data_root)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "history.json").write_text("[my notes]")
    with pytest.raises(Seq2TextError, match="not empty and not a run to resume.*history.json"):
        train(recipe, folder)
    assert (folder / "history.json").read_text() == "[my notes]"


def test_output_fields_carry_no_control_characters(tmp_path: Path) -> None:
    """A model may write a tab, an escape or a line break: each stays inside its field."""
    from seq2text.textio import Output

    out = Output(tmp_path / "out.txt")
    out.write([("a\tb\x1b[31m", "-1.0000"), "c\x1b]0;x\x07d\ne", ("", "x\x85y")])
    out.close()
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").split("\n") == \
        ["a b [31m\t-1.0000", "c ]0;x d e", "\tx y", ""]
