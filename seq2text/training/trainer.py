"""``seq2text train``: the training loop, validation and checkpoints, for every task.

Per step: a batch from the task's feed (:mod:`seq2text.training.feeds`: length-bucketed pairs
or sequences, or windows of a text stream), cross-entropy with label smoothing averaged over
target tokens, Adam or SGD, gradient clipping.  Every ``training.validate_every`` steps
(default: at the end of each epoch) the model is scored on the validation split (loss,
perplexity, and greedy BLEU for translation) and a checkpoint is written.

The batch order is a pure function of ``(seed, epoch)`` and the RNG state is saved, so resuming
from a checkpoint replays exactly what an uninterrupted run would have done.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from seq2text.atomic import write_text_atomic
from seq2text.errors import Seq2TextError
from seq2text.models import build_model
from seq2text.plots import plot_learning_curves
from seq2text.prepare import Prepared, prepare
from seq2text.recipe import Recipe, TrainingConfig
from seq2text.training import distributed
from seq2text.training.checkpoint import (latest_checkpoint, load_trainer_state, load_weights,
                                          save_checkpoint)
from seq2text.training.feeds import make_feed, pair_loss
from seq2text.training.schedule import after_validation, learning_rate, score

AUTOCAST = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def say(line: str) -> None:
    """A report line on stderr that does not break the progress bar."""
    tqdm.write(line, file=sys.stderr)


class MixedPrecision:
    """``training.precision``: autocast for the forward pass and, for fp16, loss scaling so that
    small gradients do not underflow.  Both are no-ops for fp32."""

    def __init__(self, precision: str, device: torch.device):
        self.autocast = torch.autocast(device.type, dtype=AUTOCAST[precision], enabled=precision != "fp32")
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Any,
               config: TrainingConfig, rate: float, precision: MixedPrecision,
               process: distributed.Process = distributed.Process(), loss_fn: Callable = pair_loss
               ) -> tuple[float, int, float]:
    """One optimizer step on ``batch`` with ``loss_fn(model, batch, label_smoothing) -> (summed
    loss, tokens)``: returns the summed loss, this process's target tokens and the target tokens
    of the global batch (all processes)."""
    for group in optimizer.param_groups:
        group["lr"] = rate
    with precision.autocast:
        loss, tokens = loss_fn(model, batch, config.label_smoothing)
    # Normalise by the global token count: DDP's gradient mean then equals the gradient of one
    # process over the whole global batch.
    total_tokens = process.sum(tokens)
    optimizer.zero_grad(set_to_none=True)
    precision.scaler.scale(loss * process.world_size / total_tokens).backward()
    precision.scaler.unscale_(optimizer)
    if config.clip_grad_norm > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad_norm)
    precision.scaler.step(optimizer)
    precision.scaler.update()
    return loss.item(), tokens, total_tokens


def make_optimizer(model: torch.nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    return torch.optim.SGD(model.parameters(), lr=config.learning_rate)


def train(recipe: Recipe, output_dir: Path | None = None, resume: bool = False,
          device: str = "cpu") -> dict:
    """Train ``recipe`` into ``output_dir`` (default ``runs/<name>``); returns the last metrics."""
    if recipe.data.valid is None and not recipe.data.valid_fraction:
        raise Seq2TextError(f"{recipe.path}: data.valid: training needs a validation set, a file or "
                            f"data.valid_fraction (for checkpoint selection and schedules)")
    run_dir = Path(output_dir or Path("runs") / recipe.name)
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise Seq2TextError(f"{run_dir}: no checkpoint to resume from")
    if not resume and latest_checkpoint(run_dir) is not None:
        raise Seq2TextError(f"{run_dir}: already holds a run; use --resume or another --output-dir")
    try:
        device = torch.device(device)
    except RuntimeError:
        raise Seq2TextError(f"--device {device}: not a device (cpu, cuda, cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise Seq2TextError(f"--device {device}: CUDA is not available on this machine")
    process = distributed.start(device)
    device = process.device if process.world_size > 1 else device
    torch.manual_seed(recipe.seed + process.rank)
    try:
        return _train(recipe, run_dir, checkpoint, device, process)
    finally:
        distributed.stop(process)


def _train(recipe: Recipe, run_dir: Path, checkpoint: Path | None, device: torch.device,
           process: distributed.Process) -> dict:
    # The run keeps its own copy of the tokenizers: those `seq2text prepare` saved, or new ones.
    vocab_dir, prepared = run_dir / "tokenizer", Path("vocab") / recipe.name
    if process.is_main and not vocab_dir.exists() and prepared.is_dir():
        shutil.copytree(prepared, vocab_dir)
    # Rank 0 trains the tokenizer (if needed) before the other ranks read it.
    if not process.is_main:
        torch.distributed.barrier()
    data = prepare(recipe, vocab_dir, reuse=True)
    if process.is_main and process.world_size > 1:
        torch.distributed.barrier()
    report = say if process.is_main else (lambda line: None)
    for line in data.report:
        report(line)

    model = build_model(recipe, data.src.vocab_size, data.tgt.vocab_size).to(device)
    feed = make_feed(recipe, data, process)
    config = recipe.training
    optimizer = make_optimizer(model, config)
    state = {"step": 0, "epoch": 0, "batch": 0, "history": [], "plateau_scale": 1.0, "bad_validations": 0}
    precision = MixedPrecision(config.precision, device)
    if checkpoint:
        load_weights(checkpoint, model)
        saved = load_trainer_state(checkpoint)
        try:
            optimizer.load_state_dict(saved.pop("optimizer"))
            rng = saved.pop("rng")
            if len(rng) != process.world_size:
                raise Seq2TextError(f"{checkpoint}: saved by {len(rng)} processes, resumed by {process.world_size}")
            torch.set_rng_state(rng[process.rank])
            precision.scaler.load_state_dict(saved.pop("scaler", {}))  # absent before fp16 support
            feed.load_state_dict(saved.pop("feed", {}), device)
        except (KeyError, ValueError, RuntimeError) as err:
            raise Seq2TextError(f"{checkpoint}: cannot resume from this checkpoint ({err})") from None
        state = saved
        report(f"resumed from {checkpoint} (step {state['step']})")
    trained = DistributedDataParallel(model) if process.world_size > 1 else model

    model.train()
    stop = False
    for epoch in range(state["epoch"], config.epochs):
        batches = feed.batches(epoch)
        if state["batch"] == 0:
            feed.start_epoch()
        every = config.validate_every or len(batches)
        progress = tqdm(total=len(batches), initial=state["batch"], desc=f"epoch {epoch + 1}",
                        unit="batch", dynamic_ncols=True, disable=not process.is_main)
        started, tokens_seen = time.perf_counter(), 0
        for index in range(state["batch"], len(batches)):
            batch = feed.collate(batches[index], device)
            rate = learning_rate(config, state["step"] + 1, epoch, state["plateau_scale"])
            loss, tokens, total_tokens = train_step(trained, optimizer, batch, config, rate, precision, process,
                                                    feed.loss)
            state["step"] += 1
            state["batch"], state["lr"] = index + 1, rate
            tokens_seen += total_tokens
            progress.update(1)
            progress.set_postfix(loss=f"{loss / tokens:.3f}", lr=f"{rate:.2e}",
                                 tok_s=f"{tokens_seen / (time.perf_counter() - started):.0f}")
            if state["batch"] % every == 0 or state["batch"] == len(batches):
                if state["batch"] == len(batches):
                    state["epoch"], state["batch"] = epoch + 1, 0
                stop = _validate_and_save(recipe, model, optimizer, precision, feed, data, state, run_dir,
                                          device, process)
                report(json.dumps(state["history"][-1]))
                if stop:
                    report(f"early stopping: no better {config.metric} in {config.early_stopping} validations")
                    break
        progress.close()
        state["batch"] = 0
        if stop:
            break
    if process.is_main and config.average_checkpoints:
        folder = average_checkpoints(run_dir, state["history"], config.average_checkpoints, config.metric, model)
        scores = feed.validate(model, "valid", device)
        report(f"averaged the best {config.average_checkpoints} checkpoints into {folder}: "
               f"{json.dumps(scores.as_dict())}")
    return state["history"][-1] if state["history"] else {}


def _validate_and_save(recipe: Recipe, model: torch.nn.Module, optimizer, precision: MixedPrecision, feed,
                       data: Prepared, state: dict, run_dir: Path, device: torch.device,
                       process: distributed.Process) -> bool:
    """Validate (every process, so schedules agree), checkpoint (rank 0); True to stop early."""
    scores = feed.validate(model, "valid", device)
    state["history"].append({"step": state["step"], "epoch": state["epoch"], "lr": state["lr"],
                             **scores.as_dict()})
    stop = after_validation(recipe.training, state["history"], state)
    rng = process.gather_rng()
    if process.is_main:
        trainer_state = {**state, "optimizer": optimizer.state_dict(), "rng": rng,
                         "scaler": precision.scaler.state_dict(), "feed": feed.state_dict()}
        folder = run_dir / "checkpoints" / f"step-{state['step']:07d}"
        save_checkpoint(folder, model, trainer_state, recipe.to_yaml(), data.vocab_dir)
        _keep_best(run_dir / "checkpoints", state["history"], recipe.training.keep_checkpoints,
                   recipe.training.metric, folder.name)
        write_text_atomic(run_dir / "history.json", json.dumps(state["history"], indent=1))
        with (run_dir / "train.log").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(state["history"][-1]) + "\n")
        plot_learning_curves(state["history"], run_dir / "learning_curves.png")
    return stop


def _keep_best(folder: Path, history: list[dict], keep: int, metric: str, latest: str) -> None:
    """Delete all but the ``keep`` best checkpoints by ``metric`` (the latest always stays)."""
    wanted = {f"step-{h['step']:07d}" for h in best_validations(history, keep, metric)} | {latest}
    for path in folder.glob("step-*"):
        if path.name not in wanted:
            shutil.rmtree(path, ignore_errors=True)


def best_validations(history: list[dict], count: int, metric: str) -> list[dict]:
    """The ``count`` best validations under ``metric``."""
    return sorted(history, key=lambda h: -score(h, metric))[:count]


def average_checkpoints(run_dir: Path, history: list[dict], count: int, metric: str,
                        model: torch.nn.Module) -> Path:
    """Average the weights of the best ``count`` checkpoints into ``run_dir/averaged``.

    ``model`` ends up holding the averaged weights.
    """
    folders = [run_dir / "checkpoints" / f"step-{h['step']:07d}" for h in best_validations(history, count, metric)]
    total = None
    for folder in folders:
        load_weights(folder, model)
        weights = {k: v.detach().double().clone() for k, v in model.state_dict().items()}
        total = weights if total is None else {k: total[k] + weights[k] for k in total}
    model.load_state_dict({k: (v / len(folders)).to(model.state_dict()[k].dtype) for k, v in total.items()})
    best = folders[0]
    target = run_dir / "averaged"
    save_checkpoint(target, model, {"averaged": [f.name for f in folders]},
                    (best / "recipe.yaml").read_text(encoding="utf-8"), best / "tokenizer", pointer=False)
    return target
