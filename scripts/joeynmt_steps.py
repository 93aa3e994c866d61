#!/usr/bin/env python3
"""Time JoeyNMT 2.3 training steps on given batches (run by scripts/bench_train.py in the kit's venv).

    JOEY_PYTHON scripts/joeynmt_steps.py KIT_CONFIG PIECES_DIR BATCHES_JSON WORK_DIR

KIT_CONFIG is the kit's ``joeynmt_rnn_deen.yaml`` (its ``@...@`` placeholders are filled in
here), PIECES_DIR holds the kit's SentencePiece-encoded Multi30k (``spm_prep.py``), and
BATCHES_JSON is ``{"warmup": N, "batches": [[line, ...], ...]}``: lines of the training files.
Each step is what JoeyNMT's own loop does per batch (``TrainManager._train_step``, gradient
clipping, ``optimizer.step``, ``zero_grad``) plus building the batch from tokens, timed after the
first ``warmup`` batches, whose forward and backward passes are counted instead (PyTorch's
``FlopCounterMode``).  Prints one JSON line: ``{"seconds": S, "pieces": N, "steps": K,
"flops_per_piece": F, "peak_rss_mb": M}`` (target pieces without ``</s>``).
"""

import contextlib
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.set_num_interop_threads(1)

from joeynmt.config import load_config, parse_global_args, set_validation_args  # noqa: E402
from joeynmt.helpers import make_model_dir  # noqa: E402
from joeynmt.prediction import prepare  # noqa: E402
from joeynmt.training import TrainManager  # noqa: E402


def main() -> None:
    template, pieces, batches_file, work = map(Path, sys.argv[1:5])
    filled = template.read_text(encoding="utf-8")
    for key, value in {"@WORK@": str(work), "@EPOCHS@": "1", "@VALFREQ@": "100000", "@LOGFREQ@": "100000",
                       "@TRAIN_SUBSET@": "-1", "@DEV_SUBSET@": "100"}.items():
        filled = filled.replace(key, value)
    filled = filled.replace(f"{work}/data/", f"{pieces}/")
    (work / "train.yaml").write_text(filled, encoding="utf-8")
    args = parse_global_args(load_config(work / "train.yaml"), rank=0, mode="train")
    make_model_dir(args.model_dir, overwrite=True)
    torch.manual_seed(args.seed)
    model, train_data, _, _ = prepare(args, rank=0, mode="train")
    trainer = TrainManager(model=model, model_dir=args.model_dir, device=args.device, n_gpu=args.n_gpu, rank=0,
                           num_workers=0, autocast=args.autocast, seed=args.seed, train_args=args.train,
                           dev_args=set_validation_args(args.test))
    src = (pieces / "train.de").read_text(encoding="utf-8").splitlines()
    tgt = (pieces / "train.en").read_text(encoding="utf-8").splitlines()
    plan = json.loads(batches_file.read_text(encoding="utf-8"))
    model.train()
    model.zero_grad()
    seconds, target_pieces, flops, counted_pieces = 0.0, 0, 0, 0
    for index, lines in enumerate(plan["batches"]):
        started = time.perf_counter()
        batch = train_data.collate_fn([(k, src[k].split(), tgt[k].split()) for k in lines],
                                      pad_index=model.pad_index, eos_index=model.eos_index)
        warming = index < plan["warmup"]
        with FlopCounterMode(display=False) if warming else contextlib.nullcontext() as counter:
            trainer._train_step(batch)
        trainer.clip_grad_fun(parameters=model.parameters())
        trainer.optimizer.step()
        model.zero_grad()
        if warming:  # counted, not timed
            flops += counter.get_total_flops()
            counted_pieces += sum(len(tgt[k].split()) for k in lines)
        else:
            seconds += time.perf_counter() - started
            target_pieces += sum(len(tgt[k].split()) for k in lines)
    print(json.dumps({"seconds": seconds, "pieces": target_pieces, "steps": len(plan["batches"]) - plan["warmup"],
                      "flops_per_piece": flops / max(1, counted_pieces),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


if __name__ == "__main__":
    main()
