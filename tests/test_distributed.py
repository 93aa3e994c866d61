"""DistributedDataParallel: two CPU processes (gloo, torchrun) end where one process with the
same global batch ends."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

import torch
from safetensors.torch import load_file

from conftest import write_recipe
from seq2text.model_folder import latest_checkpoint

RECIPE = """\
name: ddp
data: {kind: parallel, train: multi30k/train, valid: multi30k/val, src_lang: de, tgt_lang: en,
       max_length: 28}
tokenizer: {vocab_size: 600}
model: {embed_size: 32, hidden_size: 64, dropout: 0.0}
training: {batch_size: 25, epochs: 1}
decoding: {max_length: 30}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_with_the_same_global_batch(
        multi30k_slice: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, RECIPE)
    common = ["-m", "seq2text", "train", str(recipe), "--data-root", str(multi30k_slice)]
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_addr", "127.0.0.1", "--master_port", str(free_port()), *common,
                          "--output-dir", str(tmp_path / "two")], capture_output=True, text=True)
    assert two.returncode == 0, two.stderr[-3000:]
    one = subprocess.run([sys.executable, *common, "--output-dir", str(tmp_path / "one"),
                          "--set", "training.batch_size=50"], capture_output=True, text=True)
    assert one.returncode == 0, one.stderr[-3000:]

    logs = [(tmp_path / run / "train.log").read_text() for run in ("two", "one")]
    assert logs[0].count("epoch 1 step") == logs[1].count("epoch 1 step") == 1  # one validation, logged once
    a = load_file(str(latest_checkpoint(tmp_path / "two") / "model.safetensors"))
    b = load_file(str(latest_checkpoint(tmp_path / "one") / "model.safetensors"))
    assert latest_checkpoint(tmp_path / "two").name == latest_checkpoint(tmp_path / "one").name
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[name], b[name], atol=1e-5) for name in a)
