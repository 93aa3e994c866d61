"""Bundled models on a machine that has little or none of the data: evaluate reads only the
held-out split, and poetry models carry their rhyme books and tune patterns; and what copies of
a model (average, export) must keep and must not delete."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, ROOT, head
from seq2text.evaluation import evaluate
from seq2text.model_folder import bundled_models

ALL_BUNDLED = [card["name"] for card in bundled_models()]


def seq2text(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seq2text", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def held_out_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with the held-out files of the bundled models, sliced, and none of their
    training files where the held-out split is a file of its own; the poetry and treebank
    models, whose held-out split is cut from the training data, get one file or a slice of it."""
    root = tmp_path_factory.mktemp("held-out")
    slices = {"multi30k/test_2016_flickr.de": 60, "multi30k/test_2016_flickr.en": 60, "sentiment/valid.tsv": 120,
              "ptb/ptb.test.txt": 120, "ud/en_ewt/train.conllu": 3000, "ud/lzh_kyoto/train.conllu": 3000,
              "ud/en_ewt/dev.conllu": 1000, "ud/lzh_kyoto/dev.conllu": 1000,
              "shakespeare/input.txt": 3000}
    for name, lines in slices.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        text = head(DATA / name, lines)
        if name.endswith(".conllu"):  # whole sentences
            text = text[:text.rindex("\n\n") + 2]
        (root / name).write_text(text, encoding="utf-8")
    for name in ("tang/poet.tang.0.json", "tang/strains/poet.tang.0.json", "song/poet.song.0.json",
                 "ci/ci.song.0.json", "couplet/classical_pairs.jsonl", "cipu/cipai.jsonl", "cipu/rhymes.tsv",
                 "rhyme/pingshuiyun.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(DATA / name)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("model", ALL_BUNDLED)
def test_every_bundled_model_evaluates_on_its_held_out_data(model: str, held_out_root: Path) -> None:
    summary = evaluate(model, beam_size=1, poems=0, data_root=held_out_root).summary  # in process: one start
    assert summary["model"] == model and summary.get("lines", summary.get("sentences", 1)) > 0
    assert json.loads(json.dumps(summary)) == summary


@pytest.mark.slow
def test_evaluate_takes_the_data_root_from_the_command_line(held_out_root: Path) -> None:
    result = seq2text("evaluate", "-m", "sentiment-zh", "--data-root", str(held_out_root))
    assert result.returncode == 0 and json.loads(result.stdout)["examples"] == 119, result.stderr[-1500:]


def test_every_bundled_model_was_counted() -> None:
    assert {"multi30k-de-en", "poems", "ci", "couplet", "sentiment-zh", "pos-en", "pos-lzh"} <= set(ALL_BUNDLED)


@pytest.mark.slow
def test_an_installed_copy_writes_ci_and_poems_by_the_old_rhyme_books(tmp_path: Path) -> None:
    """A plain install, run away from the repository and without the data: 浣溪沙 rhyme by the
    词林正韵 and a 七言绝句 by the 平水韵 the model folders carry (not by modern readings)."""
    installed = tmp_path / "installed"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                              str(installed), str(ROOT)], capture_output=True, text=True, cwd=tmp_path)
    assert install.returncode == 0, install.stderr[-1500:]
    script = ("from seq2text import Generator\n"
              "ci = Generator.load('ci')\n"
              "print(ci.tunes.rhymes.source, ci.rhymes.source)\n"
              "print(ci.poems('浣溪沙', title='春日', seed=1)[0].checks)\n"
              "poems = Generator.load('poems')\n"
              "print(poems.rhymes.source)\n"
              "print(poems.poems('七言绝句', title='秋夜', seed=1)[0].checks)\n")
    env = {**os.environ, "SEQ2TEXT_DATA": str(tmp_path / "no-data"), "PYTHONPATH": str(installed)}
    result = subprocess.run([sys.executable, "-c", "import seq2text; print(seq2text.__file__)\n" + script],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-1500:]
    where, *lines = result.stdout.splitlines()
    assert where.startswith(str(installed)), where  # the installed copy, not the repository
    assert "词林正韵" in lines[0] and "平水韵" in lines[0] and str(installed) in lines[0], lines
    assert "'rhyme': True" in lines[1] and "'form': True" in lines[1], lines
    assert "平水韵" in lines[2] and "'rhyme': True" in lines[3], lines


def test_average_keeps_every_table_and_refuses_a_folder_of_other_files(tmp_path: Path) -> None:
    target = tmp_path / "avg"
    assert seq2text("average", "ci", "ci", "-o", str(target)).returncode == 0
    bundled = ROOT / "seq2text" / "pretrained" / "ci"
    for table in ("tones.json", "tunes.json", "rhymes.json", "patterns.json"):
        assert (target / table).read_bytes() == (bundled / table).read_bytes(), table
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    (folder / "sub").mkdir()
    refused = seq2text("average", "ci", "ci", "-o", str(folder))
    assert refused.returncode == 2 and "notes.txt" in refused.stderr and "--force" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and (folder / "notes.txt").read_text() == "keep me"
    assert seq2text("average", "ci", "ci", "-o", str(target)).returncode == 0  # a model folder is replaced
    forced = seq2text("average", "ci", "ci", "-o", str(folder), "--force")
    assert forced.returncode == 0 and not (folder / "notes.txt").exists()
    written = seq2text("generate", "-m", str(target), "--form", "浣溪沙", "--seed", "1",
                       env={"SEQ2TEXT_DATA": str(tmp_path / "no-data")})
    assert written.returncode == 0 and written.stdout.strip(), written.stderr


@pytest.mark.slow
def test_export_refuses_a_folder_of_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    refused = seq2text("export", "-m", "multi30k-de-en", "-o", str(folder))
    assert refused.returncode == 2 and "notes.txt" in refused.stderr
    assert (folder / "notes.txt").read_text() == "keep me"
