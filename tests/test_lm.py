"""Language models on real slices: PTB as a stream (truncated BPTT), Tang poems one at a time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import DATA, head, write_recipe
from seq2text.decoding import greedy_search
from seq2text.pretrained import load_pretrained
from seq2text.recipe import load_recipe
from seq2text.tokenizers import BOS
from seq2text.model_folder import latest_checkpoint
from seq2text.training.feeds import StreamFeed
from seq2text.prepare import prepare

PTB = """\
name: ptb_tiny
task: lm
data: {kind: text, train: ptb/ptb.train.txt, valid: ptb/ptb.valid.txt}
tokenizer: {type: word}
model: {cell: lstm, embed_size: 32, hidden_size: 48, decoder_layers: 2, dropout: 0.1, tied_embeddings: true}
training: {bptt: 20, batch_size: 8, epochs: 2, validate_every: 20, keep_checkpoints: 50, metric: ppl,
           learning_rate: 0.005, schedule: exponential, lr_decay: 0.5}
"""

TANG = """\
name: tang_tiny
task: lm
data: {kind: tang, train: tang, valid_fraction: 0.05, max_length: 120}
tokenizer: {type: char, simplified: true}
model: {cell: gru, embed_size: 32, hidden_size: 64, decoder_layers: 1, dropout: 0.1}
training: {batch_size: 32, epochs: 1, metric: ppl, learning_rate: 0.005}
"""


@pytest.fixture
def ptb_slice(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "ptb"
    folder.mkdir(parents=True)
    (folder / "ptb.train.txt").write_text(head(DATA / "ptb" / "ptb.train.txt", 800), encoding="utf-8")
    (folder / "ptb.valid.txt").write_text(head(DATA / "ptb" / "ptb.valid.txt", 200), encoding="utf-8")
    return tmp_path / "data"


def train(recipe: Path, data_root: Path, output: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seq2text", "train", str(recipe), "--data-root", str(data_root),
                           "--output-dir", str(output), *extra], capture_output=True, text=True)


def test_stream_windows_cover_the_text_once(ptb_slice: Path, tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, PTB), data_root=ptb_slice)
    feed = StreamFeed(recipe, prepare(recipe, tmp_path / "vocab"))
    windows = [feed.collate(start, torch.device("cpu")) for start in feed.batches(0)]
    inputs = torch.cat([w.inputs for w in windows], dim=1)
    targets = torch.cat([w.targets for w in windows], dim=1)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])  # each target is the next input
    assert torch.equal(torch.cat([inputs, targets[:, -1:]], dim=1), feed.train)
    assert {w.inputs.size(1) for w in windows[:-1]} == {20}


@pytest.mark.slow
def test_ptb_stream_lm_learns_and_resumes_exactly(ptb_slice: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, PTB)
    straight = tmp_path / "straight"
    result = train(recipe, ptb_slice, straight)
    assert result.returncode == 0, result.stderr[-2000:]
    history = json.loads((straight / "history.json").read_text())
    assert history[-1]["ppl"] < history[0]["ppl"] < 2000 and "bleu" not in history[-1]
    # `seq2text evaluate` scores the held-out split as training validated it.
    scored = subprocess.run([sys.executable, "-m", "seq2text", "evaluate", "-m", str(latest_checkpoint(straight))],
                            capture_output=True, text=True, env={**os.environ, "SEQ2TEXT_DATA": str(ptb_slice)})
    assert scored.returncode == 0, scored.stderr
    summary = json.loads(scored.stdout)
    assert summary["ppl"] == pytest.approx(history[-1]["ppl"], abs=0.01) and summary["data"] == "valid split"
    assert summary["tokens"] == sum(len(line.split()) + 1 for line in (ptb_slice / "ptb" / "ptb.valid.txt")
                                    .read_text().splitlines()) // 10 * 10 - 10  # 10 streams, last target

    # Resume from a checkpoint in the middle of the first epoch: the carried hidden state is
    # part of the checkpoint, so the run ends at the same weights.
    resumed = tmp_path / "resumed"
    shutil.copytree(straight, resumed)
    (resumed / "checkpoints" / "latest").write_text(f"step-{history[0]['step']:07d}\n")
    result = train(recipe, ptb_slice, resumed, "--resume")
    assert result.returncode == 0, result.stderr[-2000:]
    a, b = (load_pretrained(latest_checkpoint(run)) for run in (straight, resumed))
    assert all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))


@pytest.mark.slow
def test_tang_lm_reads_form_labels_and_searches(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "tang"
    (folder / "strains").mkdir(parents=True)
    for name in ("poet.tang.0.json", "strains/poet.tang.0.json"):
        shutil.copy(DATA / "tang" / name, folder / name)
    recipe_path = write_recipe(tmp_path, TANG)
    run = tmp_path / "run"
    result = train(recipe_path, tmp_path / "data", run)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = load_pretrained(latest_checkpoint(run))
    recipe, model, tokenizer = loaded.recipe, loaded.model, loaded.src
    data = prepare(recipe, tmp_path / "vocab")
    first = data.src.decode(data.splits["train"].dataset[0]["ids"])
    assert first[:3] in {"五绝|", "七绝|", "五律|", "七律|", "古诗|"}
    last, state = model.start([[BOS, *tokenizer.encode("七绝|")]])
    line = greedy_search(model, state, 12, start=last)[0]
    assert len(line.tokens) <= 12 and line.log_prob < 0


@pytest.mark.slow
def test_regularisers_act_in_training_only(ptb_slice: Path, tmp_path: Path) -> None:
    """Locked dropout keeps one mask for every position of a stream; embedding dropout and
    DropConnect change training outputs, and in eval the model is the plain one."""
    from seq2text.models.lm import RNNLM

    recipe = load_recipe(write_recipe(tmp_path, PTB), ["model.locked_dropout=true", "model.embedding_dropout=0.2",
                                                       "model.weight_drop=0.5", "model.dropout=0.5"],
                         data_root=ptb_slice)
    data = prepare(recipe, tmp_path / "vocab")
    ids = torch.tensor([row[:20] for row in data.splits["train"].dataset["ids"] if len(row) >= 20][:4])
    torch.manual_seed(0)
    model = RNNLM(recipe.model, data.src.vocab_size)
    plain = RNNLM(load_recipe(write_recipe(tmp_path, PTB), data_root=ptb_slice).model, data.src.vocab_size)
    plain.load_state_dict(model.state_dict())  # the regularisers add no weights
    model.eval(), plain.eval()
    assert torch.equal(model(ids)[0], plain(ids)[0])
    model.train()
    dropped = model._drop(torch.ones(4, 20, 8))
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))  # the same mask at every position
    assert 0 < (dropped == 0).float().mean() < 1
    first, second = model(ids)[0], model(ids)[0]
    assert not torch.allclose(first, second)
    second.sum().backward()
    assert model.rnn.weight_hh_l0.grad is not None and model.rnn.weight_hh_l0.grad.abs().sum() > 0
