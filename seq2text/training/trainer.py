"""``seq2text train`` for translation recipes: the training loop, validation and checkpoints.

Per step: a length-bucketed batch (see :mod:`seq2text.data.batching`), teacher-forced
cross-entropy with label smoothing averaged over target tokens, Adam or SGD, gradient clipping.
Every ``training.validate_every`` steps (default: at the end of each epoch) the model is scored
on the validation split (loss, perplexity, greedy BLEU) and a checkpoint is written.

The batch order is a pure function of ``(seed, epoch)`` and the RNG state is saved, so resuming
from a checkpoint replays exactly what an uninterrupted run would have done.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import sacrebleu
import torch
import torch.nn.functional as F
from tqdm import tqdm

from seq2text.atomic import write_text_atomic
from seq2text.data.batching import BucketBatcher, collate_pairs
from seq2text.decoding import greedy_search
from seq2text.errors import Seq2TextError
from seq2text.models import Seq2Seq
from seq2text.prepare import Prepared, example_lengths, prepare
from seq2text.recipe import Recipe
from seq2text.tokenizers import PAD
from seq2text.training.checkpoint import (latest_checkpoint, load_trainer_state, load_weights,
                                          save_checkpoint)


def say(line: str) -> None:
    """A report line on stderr that does not break the progress bar."""
    tqdm.write(line, file=sys.stderr)


@dataclass
class Validation:
    loss: float
    perplexity: float
    bleu: float

    def as_dict(self) -> dict:
        return {"loss": self.loss, "ppl": self.perplexity, "bleu": self.bleu}


def batch_loss(model: Seq2Seq, batch, label_smoothing: float) -> tuple[torch.Tensor, int]:
    """Summed token cross-entropy of a batch and its number of target tokens."""
    logits, _ = model(batch.src, batch.src_mask, batch.tgt_in)
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), batch.tgt_out.reshape(-1),
                           ignore_index=PAD, label_smoothing=label_smoothing, reduction="sum")
    return loss, batch.target_tokens


@torch.no_grad()
def validate(model: Seq2Seq, data: Prepared, split: str, batch_size: int, max_length: int,
             device: torch.device) -> Validation:
    """Loss and perplexity (no smoothing) and greedy sacreBLEU on detokenised text."""
    model.eval()
    dataset = data.splits[split].dataset
    total_loss, total_tokens, hypotheses = 0.0, 0, []
    for start in range(0, len(dataset), batch_size):
        rows = dataset[start:start + batch_size]
        batch = collate_pairs(rows["src_ids"], rows["tgt_ids"]).to(device)
        loss, tokens = batch_loss(model, batch, 0.0)
        total_loss, total_tokens = total_loss + loss.item(), total_tokens + tokens
        outputs = greedy_search(model, batch.src, batch.src_mask, max_length)
        hypotheses += [data.tgt.decode(ids) for ids in outputs]
    model.train()
    bleu = sacrebleu.corpus_bleu(hypotheses, [dataset["tgt"]]).score
    mean = total_loss / max(1, total_tokens)
    return Validation(mean, math.exp(min(mean, 50.0)), bleu)


def train(recipe: Recipe, output_dir: Path | None = None, resume: bool = False,
          device: str = "cpu") -> dict:
    """Train ``recipe`` into ``output_dir`` (default ``runs/<name>``); returns the last metrics."""
    if recipe.task != "translation":
        raise Seq2TextError(f"{recipe.path}: task: training '{recipe.task}' models is not implemented yet")
    run_dir = Path(output_dir or Path("runs") / recipe.name)
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise Seq2TextError(f"{run_dir}: no checkpoint to resume from")
    if not resume and latest_checkpoint(run_dir) is not None:
        raise Seq2TextError(f"{run_dir}: already holds a run; use --resume or another --output-dir")
    torch.manual_seed(recipe.seed)
    device = torch.device(device)

    # The run keeps its own copy of the tokenizers: those `seq2text prepare` saved, or new ones.
    vocab_dir, prepared = run_dir / "tokenizer", Path("vocab") / recipe.name
    if not vocab_dir.exists() and prepared.is_dir():
        shutil.copytree(prepared, vocab_dir)
    data = prepare(recipe, vocab_dir, reuse=True)
    for line in data.report:
        say(line)
    model = Seq2Seq(recipe.model, data.src.vocab_size, data.tgt.vocab_size).to(device)
    config = recipe.training
    optimizer = (torch.optim.Adam(model.parameters(), lr=config.learning_rate) if config.optimizer == "adam"
                 else torch.optim.SGD(model.parameters(), lr=config.learning_rate))
    state = {"step": 0, "epoch": 0, "batch": 0, "history": []}
    if checkpoint:
        load_weights(checkpoint, model)
        saved = load_trainer_state(checkpoint)
        optimizer.load_state_dict(saved.pop("optimizer"))
        torch.set_rng_state(saved.pop("rng"))
        state = saved
        say(f"resumed from {checkpoint} (step {state['step']})")

    lengths = example_lengths(data.splits["train"])
    batcher = BucketBatcher(lengths, config.batch_size, config.batch_tokens, config.bucket_pool, recipe.seed)
    train_set = data.splits["train"].dataset
    model.train()
    log = run_dir / "train.log"
    for epoch in range(state["epoch"], config.epochs):
        batches = batcher.batches(epoch)
        every = config.validate_every or len(batches)
        progress = tqdm(total=len(batches), initial=state["batch"], desc=f"epoch {epoch + 1}",
                        unit="batch", dynamic_ncols=True)
        started, tokens_seen = time.perf_counter(), 0
        for index in range(state["batch"], len(batches)):
            rows = train_set[batches[index]]
            batch = collate_pairs(rows["src_ids"], rows["tgt_ids"]).to(device)
            loss, tokens = batch_loss(model, batch, config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            (loss / tokens).backward()
            if config.clip_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad_norm)
            optimizer.step()
            state["step"] += 1
            state["batch"] = index + 1
            tokens_seen += tokens
            progress.update(1)
            progress.set_postfix(loss=f"{loss.item() / tokens:.3f}",
                                 tok_s=f"{tokens_seen / (time.perf_counter() - started):.0f}")
            if state["batch"] % every == 0 or state["batch"] == len(batches):
                if state["batch"] == len(batches):
                    state["epoch"], state["batch"] = epoch + 1, 0
                _validate_and_save(recipe, model, optimizer, data, state, run_dir, device)
                say(json.dumps(state["history"][-1]))
                with log.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(state["history"][-1]) + "\n")
        progress.close()
        state["batch"] = 0
    return state["history"][-1] if state["history"] else {}


def _validate_and_save(recipe: Recipe, model: Seq2Seq, optimizer, data: Prepared, state: dict,
                       run_dir: Path, device: torch.device) -> None:
    scores = validate(model, data, "valid", 64, recipe.decoding.max_length, device) \
        if "valid" in data.splits else None
    state["history"].append({"step": state["step"], "epoch": state["epoch"],
                             **(scores.as_dict() if scores else {})})
    trainer_state = {**state, "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state()}
    folder = run_dir / "checkpoints" / f"step-{state['step']:07d}"
    save_checkpoint(folder, model, trainer_state, recipe.to_yaml(), data.vocab_dir)
    _keep_best(run_dir / "checkpoints", state["history"], recipe.training.keep_checkpoints, folder.name)
    write_text_atomic(run_dir / "history.json", json.dumps(state["history"], indent=1))


def _keep_best(folder: Path, history: list[dict], keep: int, latest: str) -> None:
    """Delete all but the ``keep`` best checkpoints by validation BLEU (the latest always stays)."""
    ranked = sorted(history, key=lambda h: -h.get("bleu", -h["step"]))
    wanted = {f"step-{h['step']:07d}" for h in ranked[:keep]} | {latest}
    for path in folder.glob("step-*"):
        if path.name not in wanted:
            shutil.rmtree(path, ignore_errors=True)
