"""Training a small translation model on a Multi30k slice: checkpoints, kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import write_recipe
from seq2text.errors import Seq2TextError
from seq2text.models import Seq2Seq
from seq2text.recipe import load_recipe
from seq2text.model_folder import latest_checkpoint, load_weights
from seq2text.training.checkpoint import TrainerState
from seq2text.training.trainer import MixedPrecision, native_bf16

TINY = """\
name: tiny
data: {kind: parallel, train: multi30k/train, valid: multi30k/val, src_lang: de, tgt_lang: en,
       max_length: 30}
tokenizer: {vocab_size: 600}
model: {embed_size: 32, hidden_size: 64, dropout: 0.2}
training: {batch_size: 50, epochs: 2, validate_every: 15, keep_checkpoints: 2, average_checkpoints: 2,
           schedule: exponential, lr_decay: 0.5, warmup_steps: 5}
decoding: {max_length: 30}
"""


def train_command(recipe: Path, data_root: Path, output: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "seq2text", "train", str(recipe), "--data-root", str(data_root),
            "--output-dir", str(output), *extra]


def final_weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(latest_checkpoint(run) / "model.safetensors"))


@pytest.mark.slow
def test_train_writes_checkpoints_and_learns(multi30k_slice: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, TINY)
    run = tmp_path / "run"
    result = subprocess.run(train_command(recipe, multi30k_slice, run), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    history = json.loads((run / "history.json").read_text())
    checkpoint = latest_checkpoint(run)
    assert checkpoint.name == f"step-{history[-1]['step']:07d}" and history[-1]["epoch"] == 2
    for name in ("model.safetensors", "trainer.json", "trainer.safetensors", "recipe.yaml",
                 "tokenizer/tokenizer.json", "tokenizer/spm.model"):
        assert (checkpoint / name).is_file()
    assert len(list((run / "checkpoints").glob("step-*"))) <= 3  # 2 best + the latest
    assert len(history) >= 4  # every 15 steps and at each epoch's end
    first, last = history[0], history[-1]
    assert last["ppl"] < first["ppl"] and 0.0 <= last["bleu"] <= 100.0
    assert last["lr"] == pytest.approx(1e-3 * 0.5)  # the second epoch runs at half the rate
    assert (run / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "averaged the best 2 checkpoints" in result.stderr
    recipe_ = load_recipe(checkpoint / "recipe.yaml", data_root=multi30k_slice)
    load_weights(run / "averaged", Seq2Seq(recipe_.model, 600, 600))
    again = subprocess.run(train_command(recipe, multi30k_slice, run), capture_output=True, text=True)
    assert again.returncode == 2 and "already holds a run" in again.stderr


@pytest.mark.slow
def test_kill_and_resume_ends_at_the_same_weights(multi30k_slice: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, TINY)
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    assert subprocess.run(train_command(recipe, multi30k_slice, straight), capture_output=True).returncode == 0

    process = subprocess.Popen(train_command(recipe, multi30k_slice, broken), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    # Interrupt after the second checkpoint (step 30), mid-epoch, whatever the machine's speed.
    while process.poll() is None:
        checkpoint = latest_checkpoint(broken)
        if checkpoint is not None and checkpoint.name >= "step-0000030":
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be interrupted"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    resumed = subprocess.run(train_command(recipe, multi30k_slice, broken, "--resume"),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resumed from" in resumed.stderr
    a, b = final_weights(straight), final_weights(broken)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[name], b[name]) for name in a)


@pytest.mark.slow
def test_sigterm_mid_step_resumes_exactly(multi30k_slice: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM is taken at the end of the step under way: one that lands mid-step, after the
    forward pass has drawn its dropout masks, still leaves a checkpoint that resumes bit for bit."""
    from seq2text.errors import Stopped
    from seq2text.training import trainer

    recipe = load_recipe(write_recipe(tmp_path, TINY), data_root=multi30k_slice)
    trainer.train(recipe, tmp_path / "straight")
    step, steps = trainer.train_step, []

    def step_stopped_mid_way(model, optimizer, batch, config, rate, precision, process, loss_fn):
        steps.append(1)

        def loss_then_signal(*args):
            found = loss_fn(*args)
            if len(steps) == 18:  # mid-epoch, between validations
                os.kill(os.getpid(), signal.SIGTERM)
            return found
        return step(model, optimizer, batch, config, rate, precision, process, loss_then_signal)

    monkeypatch.setattr(trainer, "train_step", step_stopped_mid_way)
    with pytest.raises(Stopped):
        trainer.train(recipe, tmp_path / "broken")
    assert latest_checkpoint(tmp_path / "broken").name == "step-0000018"  # the step it was in, finished
    monkeypatch.setattr(trainer, "train_step", step)
    trainer.train(recipe, tmp_path / "broken", resume=True)
    a, b = final_weights(tmp_path / "straight"), final_weights(tmp_path / "broken")
    assert all(torch.equal(a[name], b[name]) for name in a)


def test_broken_or_foreign_checkpoints_give_one_line(multi30k_slice: Path, tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, TINY), data_root=multi30k_slice)
    model = Seq2Seq(recipe.model, 600, 600)
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\x80\x04\x95 pickle, not safetensors")
    with pytest.raises(Seq2TextError, match="not a readable safetensors file"):
        load_weights(folder, model)
    from safetensors.torch import save_file
    save_file({"encoder.rnn.weight_ih_l0": torch.zeros(3, 3)}, str(folder / "model.safetensors"))
    with pytest.raises(Seq2TextError, match="weights do not fit this model"):
        load_weights(folder, model)
    with pytest.raises(Seq2TextError, match="no such file"):
        load_weights(tmp_path / "nothing", model)


def test_schedules_and_early_stopping() -> None:
    from seq2text.recipe import TrainingConfig
    from seq2text.training.schedule import after_validation, learning_rate

    warm = TrainingConfig(learning_rate=1e-3, warmup_steps=10, schedule="exponential", lr_decay=0.5)
    assert learning_rate(warm, 5, 0, 1.0) == pytest.approx(5e-4)
    assert learning_rate(warm, 100, 2, 1.0) == pytest.approx(2.5e-4)
    late = TrainingConfig(learning_rate=20, schedule="exponential", lr_decay=0.5, decay_start=6)  # Zaremba-style
    assert [learning_rate(late, 1, epoch, 1.0) for epoch in (0, 4, 5, 7)] == [20, 20, 10, 2.5]
    plateau = TrainingConfig(schedule="plateau", lr_decay=0.1, patience=2, early_stopping=3)
    state, stops = TrainerState(), []
    for bleu in (10.0, 12.0, 11.0, 11.5, 9.0):
        state.history.append({"bleu": bleu, "ppl": 1.0})
        stops.append(after_validation(plateau, state))
    assert stops == [False, False, False, False, True]
    assert state.plateau_scale == pytest.approx(0.1)  # decayed once, after two bad validations
    by_ppl = TrainingConfig(metric="ppl", early_stopping=1)
    better = TrainerState(history=[{"bleu": 1, "ppl": 9.0}, {"bleu": 0, "ppl": 8.0}])
    worse = TrainerState(history=[{"bleu": 1, "ppl": 9.0}, {"bleu": 5, "ppl": 9.5}])
    assert after_validation(by_ppl, better) is False and after_validation(by_ppl, worse) is True


def test_bf16_trains_in_bf16_only_where_the_hardware_has_it() -> None:
    """Emulated bf16 is many times slower than fp32, so a CPU without AVX512-BF16 or AMX
    trains a bf16 recipe in fp32; elsewhere the matrix products run in bf16."""
    cpu = torch.device("cpu")
    precision = MixedPrecision("bf16", cpu)
    with precision.autocast:
        product = torch.randn(4, 8) @ torch.randn(8, 3)
    assert precision.fell_back is not native_bf16(cpu)
    assert product.dtype == (torch.bfloat16 if native_bf16(cpu) else torch.float32)
