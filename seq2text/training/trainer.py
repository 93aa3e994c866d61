"""``seq2text train``: the training loop, validation and checkpoints, for every task.

Per step: a batch from the task's feed (:mod:`seq2text.training.feeds`: length-bucketed pairs
or sequences, or windows of a text stream), cross-entropy with label smoothing averaged over
target tokens, Adam or SGD, gradient clipping.  Every ``training.validate_every`` steps
(default: at the end of each epoch) the model is scored on the validation split (loss,
perplexity, and greedy BLEU for translation) and a checkpoint is written; every
``training.checkpoint_every`` steps a checkpoint is written without validating.

The batch order is a pure function of ``(seed, epoch)`` and the RNG state is saved, so resuming
from a checkpoint replays exactly what an uninterrupted run would have done.  Ctrl-C writes a
checkpoint at the last finished step; a non-finite loss stops training before it can spoil
the weights, the checkpoints written so far untouched.

``train.log`` in the run folder reads like a log: when the run started, its parameter count,
every validation with its scores, duration and a few sample outputs.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch.nn.parallel import DistributedDataParallel

from seq2text.atomic import write_text_atomic
from seq2text.device import resolve_device
from seq2text.errors import Seq2TextError, Stopped, shown
from seq2text.model_folder import (CHECKPOINTS, HISTORY_FILE, RECIPE_FILE, STATE_FILE, TOKENIZER_DIR, checkpoint_name,
                                   latest_checkpoint, load_weights)
from seq2text.models import build_model
from seq2text.plots import plot_learning_curves
from seq2text.progress import progress_bar, write_line
from seq2text.prepare import Prepared, prepare
from seq2text.recipe import Recipe, TrainingConfig, load_recipe
from seq2text.training import distributed
from seq2text.training.averaging import average_checkpoints
from seq2text.training.checkpoint import (TrainerState, all_finite, check_optimizer_state, keep_best,
                                          load_resume_state, save_checkpoint)
from seq2text.training.feeds import make_feed, pair_loss
from seq2text.training.schedule import after_validation, learning_rate
from seq2text.training.warm_start import warm_start

LOG_FILE = "train.log"

AUTOCAST = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
# What a resumed run may change: none of it alters the weights' shapes or the batches seen so far.
RESUMABLE = ("training.epochs", "training.learning_rate", "training.min_learning_rate", "training.validate_every",
             "training.checkpoint_every", "training.keep_checkpoints", "training.average_checkpoints",
             "training.early_stopping", "training.patience", "training.clip_grad_norm", "decoding.")


class NonFiniteLoss(Seq2TextError):
    """The training loss became NaN or infinite."""


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bf16 matrices in hardware (CUDA with bf16, or a CPU with
    AVX512-BF16 or AMX); elsewhere PyTorch emulates them, many times slower than fp32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


class MixedPrecision:
    """``training.precision``: autocast for the forward pass and, for fp16, loss scaling so that
    small gradients do not underflow.  Both are no-ops for fp32.  bf16 on a device without bf16
    hardware falls back to fp32 (``fell_back``): emulated, a training step took 24 times as long
    as in fp32 (``scripts/bench_train.py`` on an AVX2-only CPU)."""

    def __init__(self, precision: str, device: torch.device):
        self.fell_back = precision == "bf16" and not native_bf16(device)
        if self.fell_back:
            precision = "fp32"
        self.autocast = torch.autocast(device.type, dtype=AUTOCAST[precision], enabled=precision != "fp32")
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Any,
               config: TrainingConfig, rate: float, precision: MixedPrecision,
               process: distributed.Process = distributed.Process(), loss_fn: Callable = pair_loss
               ) -> tuple[float, int, float]:
    """One optimizer step on ``batch`` with ``loss_fn(model, batch, label_smoothing) -> (summed
    loss, tokens)``: returns the summed loss, this process's target tokens and the target tokens
    of the global batch (all processes).  A non-finite loss raises :class:`NonFiniteLoss`
    before the weights are touched."""
    for group in optimizer.param_groups:
        group["lr"] = rate
    with precision.autocast:
        loss, tokens = loss_fn(model, batch, config.label_smoothing)
    value = loss.item()
    if not math.isfinite(value):
        raise NonFiniteLoss(f"the training loss is {value}")
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
    return value, tokens, total_tokens


def make_optimizer(model: torch.nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    return torch.optim.SGD(model.parameters(), lr=config.learning_rate)


def run_folder(recipe_name: str, output_dir: Path | None) -> Path:
    return Path(output_dir or Path("runs") / recipe_name)


def resume_recipe(run_dir: Path, overrides: list[str], data_root: str | Path | None) -> tuple[Recipe, list[str]]:
    """The recipe a run was trained with (saved in its latest checkpoint), with the ``--set``
    overrides a resume may apply (:data:`RESUMABLE`); returns it and what to tell the user."""
    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None:
        raise Seq2TextError(f"{run_dir}: no checkpoint to resume from")
    for item in overrides:
        key = item.partition("=")[0].strip()
        if not any(key == allowed or (allowed.endswith(".") and key.startswith(allowed)) for allowed in RESUMABLE):
            raise Seq2TextError(f"--set {key}: cannot change on --resume (the checkpoint was trained with it); "
                                f"a resume may change {', '.join(k.rstrip('.') for k in RESUMABLE)}")
    recipe = load_recipe(checkpoint / RECIPE_FILE, overrides, data_root)
    notes = [f"resuming with the recipe saved in {checkpoint / RECIPE_FILE}"]
    notes += [f"--set {item} applied to the resumed run" for item in overrides]
    return recipe, notes


def _check_new_run(run_dir: Path) -> None:
    """A new run starts in a folder that is missing, empty or prepared (``seq2text prepare``:
    its tokenizers and log): anything else there is not this run's, and training would
    overwrite it."""
    if run_dir.exists() and not run_dir.is_dir():
        raise Seq2TextError(f"{run_dir}: exists and is not a folder; choose another --output-dir")
    foreign = sorted(entry.name for entry in run_dir.iterdir() if entry.name not in (TOKENIZER_DIR, LOG_FILE)) \
        if run_dir.is_dir() else []
    if foreign:
        raise Seq2TextError(f"{run_dir}: not empty and not a run to resume (it holds "
                            f"{', '.join(shown(name) for name in foreign[:3])}{' ...' if len(foreign) > 3 else ''}); "
                            f"choose another --output-dir")


def train(recipe: Recipe, output_dir: Path | None = None, resume: bool = False,
          device: str = "cpu", notes: list[str] = ()) -> dict:
    """Train ``recipe`` into ``output_dir`` (default ``runs/<name>``); returns the last metrics.

    With ``resume`` the run continues from its latest checkpoint (``recipe`` should then come
    from :func:`resume_recipe`); ``notes`` are printed first."""
    if recipe.data.valid is None and not recipe.data.valid_fraction:
        raise Seq2TextError(f"{recipe.path}: data.valid: training needs a validation set, a file or "
                            f"data.valid_fraction (for checkpoint selection and schedules)")
    run_dir = run_folder(recipe.name, output_dir)
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise Seq2TextError(f"{run_dir}: no checkpoint to resume from")
    if not resume and latest_checkpoint(run_dir) is not None:
        raise Seq2TextError(f"{run_dir}: already holds a run; use --resume or another --output-dir")
    if not resume:
        _check_new_run(run_dir)
    device = resolve_device(device)
    process = distributed.start(device)
    device = process.device if process.world_size > 1 else device
    torch.manual_seed(recipe.seed + process.rank)
    try:
        result = Trainer(recipe, run_dir, device, process, list(notes)).run(checkpoint)
        distributed.finish(process)
        return result
    finally:
        distributed.stop(process)


class Trainer:
    """One training run: the model, its optimizer and feed, the :class:`TrainerState`, and the
    run folder it checkpoints and logs into."""

    def __init__(self, recipe: Recipe, run_dir: Path, device: torch.device, process: distributed.Process,
                 notes: list[str]):
        self.recipe, self.run_dir, self.device, self.process = recipe, run_dir, device, process
        self.config = recipe.training
        self.started = time.time()
        for line in notes:
            self.log(line)
        # The run keeps its tokenizers in its own folder: those `seq2text prepare` saved there,
        # or new ones.  Rank 0 trains them (if needed) before the other ranks read them.
        if not process.is_main:
            torch.distributed.barrier()
        self.data: Prepared = prepare(recipe, run_dir / TOKENIZER_DIR, reuse=True)
        if process.is_main and process.world_size > 1:
            torch.distributed.barrier()
        for line in self.data.report:
            self.log(line)
        self.model = build_model(recipe, self.data.src.vocab_size, self.data.tgt.vocab_size,
                                 len(self.data.labels)).to(device)
        self.feed = make_feed(recipe, self.data, process)
        for line in self.feed.report:
            self.log(line)
        self.optimizer = make_optimizer(self.model, self.config)
        self.precision = MixedPrecision(self.config.precision, device)
        if self.precision.fell_back:
            self.log(f"training.precision bf16: this {device.type} has no bf16 hardware (AVX512-BF16 or AMX), "
                     f"where bf16 is emulated and many times slower; training in fp32")
        self.state = TrainerState()
        self.stop = StopRequest()

    def log(self, line: str) -> None:
        """A line on stderr (not breaking the progress bar) and, with its time, in ``train.log``."""
        if not self.process.is_main:
            return
        write_line(line)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with (self.run_dir / LOG_FILE).open("a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {line}\n")

    def run(self, checkpoint: Path | None) -> dict:
        parameters = sum(p.numel() for p in self.model.parameters())
        self.log(f"{self.recipe.name}: {type(self.model).__name__} with {parameters:,} parameters on {self.device}, "
                 f"{self.config.epochs} epochs, {self.config.optimizer} at {self.config.learning_rate:g}")
        if checkpoint:
            self._resume(checkpoint)
        elif self.config.init_from:
            self.log(warm_start(self.model, self.recipe.task, self.data.src, self.data.tgt, self.config.init_from))
        trained = DistributedDataParallel(self.model) if self.process.world_size > 1 else self.model
        self.model.train()
        try:
            with stop_between_steps() as self.stop:
                self._epochs(trained)
        except KeyboardInterrupt:
            if self.stop.forced:
                self.log(f"interrupted twice during step {self.state.step + 1}: no checkpoint written; "
                         f"--resume continues from the last one")
                raise Stopped() from None
            folder = self._save()
            self.log(f"interrupted at step {self.state.step}: saved {folder}; continue with "
                     f"`seq2text train {self.recipe.path} --resume --output-dir {self.run_dir}`")
            raise Stopped() from None
        except NonFiniteLoss as err:
            last = latest_checkpoint(self.run_dir)
            kept = f"the last good checkpoint is {last}" if last else "no checkpoint was written"
            raise Seq2TextError(f"step {self.state.step + 1}: {err}; training stopped, {kept} (try a lower "
                                f"training.learning_rate or training.clip_grad_norm)") from None
        if self.process.is_main and self.config.average_checkpoints:
            folder = average_checkpoints(self.run_dir, self.state.history, self.config.average_checkpoints,
                                         self.config.metric, self.model)
            scores = self.feed.validate(self.model, "valid", self.device)
            self.log(f"averaged the best {self.config.average_checkpoints} checkpoints into {folder}: "
                     f"{_scores_text(scores.as_dict())}")
        self.log(f"done in {_duration(time.time() - self.started)}")
        return self.state.history[-1] if self.state.history else {}

    def _resume(self, checkpoint: Path) -> None:
        load_weights(checkpoint, self.model)
        self.state, saved = load_resume_state(checkpoint)
        where = checkpoint / STATE_FILE
        check_optimizer_state(saved["optimizer"], self.optimizer, where)
        rng = saved["rng"]
        if not isinstance(rng, list) or not all(isinstance(r, torch.Tensor) and r.dtype == torch.uint8 for r in rng):
            raise Seq2TextError(f"{where}: cannot resume: the RNG state is not a list of byte tensors")
        if len(rng) != self.process.world_size:
            raise Seq2TextError(f"{checkpoint}: saved by {len(rng)} processes, resumed by {self.process.world_size}")
        try:
            self.optimizer.load_state_dict(saved["optimizer"])
            torch.set_rng_state(rng[self.process.rank])
            self.precision.scaler.load_state_dict(saved["scaler"] or {})  # absent before fp16 support
            self.feed.load_state_dict(saved["feed"] or {}, self.device)
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            raise Seq2TextError(f"{checkpoint}: cannot resume from this checkpoint ({err})") from None
        self.log(f"resumed from {checkpoint} (step {self.state.step}, epoch {self.state.epoch + 1})")

    def _epochs(self, trained: torch.nn.Module) -> None:
        state, config = self.state, self.config
        for epoch in range(state.epoch, config.epochs):
            batches = self.feed.batches(epoch)
            if state.batch == 0:
                self.feed.start_epoch()
            with progress_bar(len(batches), f"epoch {epoch + 1}/{config.epochs}", "batch", state.batch,
                              shown=self.process.is_main) as progress:
                if self._epoch(trained, epoch, batches, progress):
                    self.log(f"early stopping: no better {config.metric} in {config.early_stopping} validations")
                    return
            state.batch = 0

    def _epoch(self, trained: torch.nn.Module, epoch: int, batches: list, progress: Any) -> bool:
        """Train on the rest of ``epoch``'s ``batches``; True to stop early."""
        state, config = self.state, self.config
        every = config.validate_every or len(batches)
        started, tokens_seen = time.perf_counter(), 0
        for index in range(state.batch, len(batches)):
            batch = self.feed.collate(batches[index], self.device)
            rate = learning_rate(config, state.step + 1, epoch, state.plateau_scale)
            loss, tokens, total_tokens = train_step(trained, self.optimizer, batch, config, rate, self.precision,
                                                    self.process, self.feed.loss)
            state.step, state.batch, state.lr = state.step + 1, index + 1, rate
            state.loss_sum, state.loss_tokens = state.loss_sum + loss, state.loss_tokens + tokens
            tokens_seen += total_tokens
            progress.update(1)
            progress.set_postfix(loss=f"{loss / tokens:.3f}", lr=f"{rate:.2e}",
                                 tok_s=f"{tokens_seen / (time.perf_counter() - started):.0f}")
            last = state.batch == len(batches)
            if state.batch % every == 0 or last:
                if last:
                    state.epoch, state.batch = epoch + 1, 0
                if self._validate(epoch + 1):
                    return True
            elif config.checkpoint_every and state.step % config.checkpoint_every == 0:
                self._save(announce=True)
            self.stop.check()
        return False

    def _validate(self, epoch: int) -> bool:
        """Validate (every process, so schedules agree), checkpoint (rank 0); True to stop early."""
        started = time.perf_counter()
        scores = self.feed.validate(self.model, "valid", self.device)
        train_loss = self.state.loss_sum / max(1, self.state.loss_tokens)
        self.state.loss_sum, self.state.loss_tokens = 0.0, 0
        entry = {"step": self.state.step, "epoch": epoch, "lr": self.state.lr, "train_loss": train_loss,
                 **scores.as_dict()}
        self.state.history.append(entry)
        stop = after_validation(self.config, self.state)
        if not all_finite(self.model) or not all(math.isfinite(v) for v in scores.as_dict().values()):
            raise NonFiniteLoss(f"validation gave {_scores_text(scores.as_dict())}")
        folder = self._save()
        if self.process.is_main:
            write_text_atomic(self.run_dir / HISTORY_FILE, json.dumps(self.state.history, indent=1))
            plot_learning_curves(self.state.history, self.run_dir / "learning_curves.png")
            self.log(f"epoch {epoch} step {self.state.step}: {_scores_text(entry)} "
                     f"(validated in {time.perf_counter() - started:.1f} s, {_duration(time.time() - self.started)} "
                     f"since the start) -> {folder.name}")
            for sample in scores.samples:
                self.log(f"  sample: {sample}")
        return stop

    def _save(self, announce: bool = False) -> Path:
        """Checkpoint the run where it stands (rank 0 writes; every rank gathers the RNG); with
        ``announce``, say so in the log (validations and interruptions say it their own way)."""
        rng = self.process.gather_rng()
        folder = self.run_dir / CHECKPOINTS / checkpoint_name(self.state.step)
        if not self.process.is_main:
            return folder
        extra = {**asdict(self.state), "optimizer": self.optimizer.state_dict(), "rng": rng,
                 "scaler": self.precision.scaler.state_dict(), "feed": self.feed.state_dict()}
        save_checkpoint(folder, self.model, extra, self.recipe.to_yaml(), self.data.vocab_dir)
        keep_best(self.run_dir / CHECKPOINTS, self.state.history, self.config.keep_checkpoints, self.config.metric,
                  folder.name)
        if announce:
            self.log(f"checkpoint at step {self.state.step} -> {folder}")
        return folder


class StopRequest:
    """Ctrl-C or SIGTERM during training, taken between steps: a checkpoint written mid-step
    would hold a half-applied update and an RNG already drawn from, and resume inexactly."""

    def __init__(self) -> None:
        self.requested = self.forced = False

    def signal(self, number: int, frame: Any) -> None:
        if self.requested:  # a second signal: stop now, without a checkpoint
            self.forced = True
            raise KeyboardInterrupt
        self.requested = True

    def check(self) -> None:
        """Stop here, at a step boundary, if a signal came."""
        if self.requested:
            raise KeyboardInterrupt


@contextlib.contextmanager
def stop_between_steps() -> Iterator[StopRequest]:
    """Ctrl-C and SIGTERM (``timeout``, ``docker stop``, SLURM) stop training at the end of the
    step under way, with a checkpoint that resumes exactly; a second one stops at once.  Only
    the main thread can take signals; elsewhere nothing changes."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {number: signal.signal(number, stop.signal) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _scores_text(scores: dict) -> str:
    """``valid loss 4.123, ppl 61.8, BLEU 12.34, ...``: four significant figures, BLEU in hundredths."""
    shown = {"loss": ("valid loss", "{:.4g}"), "ppl": ("ppl", "{:.4g}"), "bleu": ("BLEU", "{:.2f}"),
             "accuracy": ("accuracy", "{:.2f}%"), "f1": ("macro-F1", "{:.2f}%"),
             "train_loss": ("train loss", "{:.4g}"), "lr": ("lr", "{:.2e}")}
    return ", ".join(f"{label} {form.format(scores[key])}" for key, (label, form) in shown.items() if key in scores)


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"
