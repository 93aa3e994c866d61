"""A training run as a new user lives with it: its log, its folder as ``-m``, resuming with the
saved recipe, Ctrl-C, checkpoints between validations, divergence and damaged resume state."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import one_line_error, run, write_recipe
from seq2text.errors import Seq2TextError
from seq2text.model_folder import latest_checkpoint
from test_training import TINY, train_command


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """``(recipe, data root, run folder)`` of one tiny run trained with a ``--set``."""
    from conftest import write_multi30k_slice

    root = tmp_path_factory.mktemp("runs")
    data = write_multi30k_slice(root)
    recipe = write_recipe(root, TINY)
    folder = root / "run"
    result = subprocess.run(train_command(recipe, data, folder, "--set", "model.hidden_size=48"),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return recipe, data, folder


@pytest.mark.slow
def test_train_log_reads_like_a_log(trained) -> None:
    _, _, folder = trained
    log = (folder / "train.log").read_text(encoding="utf-8")
    lines = log.splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ", line) for line in lines)
    assert re.search(r"Seq2Seq with [\d,]+ parameters on cpu", log)
    assert re.search(r"epoch 1 step 15: valid loss [\d.]+, ppl [\d.]+, BLEU [\d.]+, train loss [\d.]+, lr", log)
    assert "  sample: " in log and " => " in log and "done in " in log
    assert not re.search(r"\d\.\d{7,}", log)  # no 15-digit numbers
    history = json.loads((folder / "history.json").read_text(encoding="utf-8"))
    assert history[0]["epoch"] == 1 and history[-1]["epoch"] == 2
    assert all(h["train_loss"] > 0 for h in history)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    from seq2text.plots import learning_curves_figure

    loss_panel = learning_curves_figure(history).axes[0]
    assert [line.get_label() for line in loss_panel.get_lines()] == ["validation", "training"]


@pytest.mark.slow
def test_run_folder_and_latest_pointer_work_as_models(trained) -> None:
    from seq2text import Translator

    _, _, folder = trained
    for model in (folder, folder / "checkpoints" / "latest"):
        result = run("translate", "-m", str(model), "--greedy", "Ein Hund läuft.")
        assert result.returncode == 0 and result.stdout.strip(), result.stderr
    translator = Translator.load(folder)
    assert translator.model is Translator.load(folder / "averaged").model  # loaded once, cached
    assert isinstance(translator.translate("Ein Hund."), str)  # a string is one sentence
    assert len(translator.translate(["Ein Hund.", "Eine Katze."])) == 2


@pytest.mark.slow
def test_resume_uses_the_saved_recipe(trained, tmp_path: Path) -> None:
    recipe, data, folder = trained
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    earliest = min(copy.glob("checkpoints/step-*"))  # a kept one: the others were pruned
    (copy / "checkpoints" / "latest").write_text(f"{earliest.name}\n")
    refused = subprocess.run(train_command(recipe, data, copy, "--resume", "--set", "model.hidden_size=64"),
                             capture_output=True, text=True)
    one_line_error(refused, "--set model.hidden_size: cannot change on --resume")
    resumed = subprocess.run(train_command(recipe, data, copy, "--resume", "--set", "training.epochs=3"),
                             capture_output=True, text=True)  # without the run's own --set hidden_size
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming with the recipe saved in" in resumed.stderr
    assert "--set training.epochs=3 applied" in resumed.stderr
    assert json.loads((copy / "history.json").read_text(encoding="utf-8"))[-1]["epoch"] == 3


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(trained, tmp_path: Path) -> None:
    recipe, data, _ = trained
    folder = tmp_path / "interrupted"
    # Twenty epochs: far longer than it takes to interrupt, however loaded the machine.  SIGINT is
    # restored to its default in the child: a shell starts background jobs with it ignored.
    process = subprocess.Popen(train_command(recipe, data, folder, "--set", "training.checkpoint_every=4",
                                             "--set", "training.epochs=20"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while process.poll() is None and latest_checkpoint(folder) is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-3000:]
    assert "checkpoint at step 4 ->" in stderr  # training.checkpoint_every
    said = re.search(r"interrupted at step (\d+): saved (\S+); continue with `seq2text train .* --resume", stderr)
    assert said, stderr[-3000:]
    assert latest_checkpoint(folder).name == f"step-{int(said.group(1)):07d}"
    resumed = subprocess.run(train_command(recipe, data, folder, "--resume", "--set", "training.epochs=2"),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]


@pytest.mark.slow
def test_a_diverging_run_stops_with_its_last_good_checkpoint(trained, tmp_path: Path) -> None:
    recipe, data, _ = trained
    folder = tmp_path / "diverged"
    result = subprocess.run(train_command(recipe, data, folder, "--set", "training.optimizer=sgd",
                                          "--set", "training.learning_rate=1e38", "--set", "training.clip_grad_norm=0"),
                            capture_output=True, text=True)
    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: step ") and "the training loss is inf" in last and "training stopped" in last
    for checkpoint in folder.glob("checkpoints/step-*"):
        weights = load_file(str(checkpoint / "model.safetensors"))
        assert all(bool(torch.isfinite(t).all()) for t in weights.values())


def _damage(kind: str, checkpoint: Path) -> None:
    state_file, tensors_file = checkpoint / "trainer.json", checkpoint / "trainer.safetensors"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    fields = dict(state["__dict__"])
    if kind == "list":
        state_file.write_text("[]")
    elif kind == "deep":
        state_file.write_text("[" * 100000 + "]" * 100000)
    elif kind == "utf8":
        state_file.write_bytes(b'{"\xff": 1}')
    elif kind == "string step":
        state["__dict__"] = [[k, "ten" if k == "step" else v] for k, v in state["__dict__"]]
        state_file.write_text(json.dumps(state))
    elif kind == "rng":
        state["__dict__"] = [[k, ["not a tensor"] if k == "rng" else v] for k, v in state["__dict__"]]
        state_file.write_text(json.dumps(state))
    elif kind == "optimizer shape":
        tensors = load_file(str(tensors_file))
        name = next(k for k in tensors if k.startswith("state.optimizer.state.") and k.endswith("exp_avg"))
        tensors[name] = torch.zeros(3, 3)
        save_file(tensors, str(tensors_file))
    assert fields  # the state really was a flattened mapping before the damage


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["list", "deep", "utf8", "string step", "rng", "optimizer shape",
                                  "latest not utf8", "latest a folder"])
def test_damaged_resume_state_is_one_line(trained, tmp_path: Path, kind: str) -> None:
    from seq2text.training.trainer import resume_recipe, train

    _, data, folder = trained
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    pointer = copy / "checkpoints" / "latest"
    if kind == "latest not utf8":
        pointer.write_bytes(b"step-\xff\n")
    elif kind == "latest a folder":
        pointer.unlink()
        pointer.mkdir()
    else:
        _damage(kind, latest_checkpoint(copy))
    with pytest.raises(Seq2TextError) as caught:
        recipe, notes = resume_recipe(copy, [], data)
        train(recipe, copy, resume=True, notes=notes)
    assert "\n" not in str(caught.value) and ("latest" in str(caught.value) or "trainer" in str(caught.value))


def test_attention_heat_map_has_a_colour_bar_and_a_title() -> None:
    from seq2text.plots import attention_figure

    weights = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    figure = attention_figure(["a", "b", "c"], ["x", "</s>"], weights, "line 1: a b c")
    assert len(figure.axes) == 2  # the map and its colour bar
    image = figure.axes[0].images[0]
    assert image.get_cmap().name == "viridis" and image.get_clim() == (0.0, pytest.approx(0.8))
    assert "line 1: a b c" in [text.get_text() for text in figure.texts]
    assert sys.modules["matplotlib"].get_backend().lower() == "agg"
