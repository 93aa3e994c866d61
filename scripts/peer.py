"""Running the JoeyNMT 2.3 kit in ../shared/peers on this machine (for side-by-side figures)."""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

KIT_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "peers" / "joeynmt"
KIT = KIT_DIR / "joeynmt_bench.sh"
PEERS_CACHE = Path.home() / ".cache" / "seq2text-peers"
JOEY_PYTHON = Path(os.environ.get("VENV", PEERS_CACHE / "joeynmt-venv")) / "bin" / "python"
MULTI30K_TEST_EN = KIT_DIR / ".." / ".." / "data" / "multi30k" / "test_2016_flickr.en"
STEPS_SCRIPT = Path(__file__).resolve().parent / "joeynmt_steps.py"


def run_joeynmt(epochs: int = 1, train_subset: int = -1, dev_subset: int = 100, keep_in: Path | None = None
                ) -> dict[str, str]:
    """The kit's final ``key=value`` line as a dict (it trains, then decodes test_2016_flickr);
    with ``keep_in`` its work folder (``workdir``) is made there and keeps the checkpoints."""
    env = {**os.environ, "EPOCHS": str(epochs), "TRAIN_SUBSET": str(train_subset),
           "DEV_SUBSET": str(dev_subset), "KEEP": "1" if keep_in else "0"}
    if keep_in:
        keep_in.mkdir(parents=True, exist_ok=True)
        env["WORK_ROOT"] = str(keep_in)
    result = subprocess.run(["bash", str(KIT)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"the JoeyNMT kit failed:\n{result.stderr[-2000:]}")
    return dict(re.findall(r"(\S+)=(\S+)", result.stdout.strip().splitlines()[-1]))


def joeynmt_model(epochs: int = 1) -> Path:
    """The kit's model after ``epochs`` epochs on all of Multi30k: its last checkpoint, trained
    on the first call (about six minutes an epoch) and kept in ~/.cache/seq2text-peers."""
    cache = PEERS_CACHE / f"joeynmt-deen-{epochs}epoch"
    kept = sorted(cache.glob("joeybench.*/model/[0-9]*.ckpt"), key=lambda path: int(path.stem))
    if kept:
        return kept[-1]
    figures = run_joeynmt(epochs=epochs, keep_in=cache)
    return Path(figures["workdir"]) / "model" / f"{int(figures['updates_per_epoch']) * epochs}.ckpt"


def joeynmt_decode(checkpoint: Path, beam_size: int) -> tuple[float, int, float]:
    """Seconds of JoeyNMT's own timer ("Generation took") for test_2016_flickr with ``checkpoint``,
    batches of 64, as the kit decodes (no length penalty), the pieces it wrote and the kit's
    cased BLEU of the output."""
    work = checkpoint.parents[1]
    config = work / f"test_beam{beam_size}.yaml"
    subprocess.run([str(JOEY_PYTHON), "-c", (
        "import sys, yaml; cfg = yaml.safe_load(open(sys.argv[1])); cfg['data'].pop('dev', None); "
        "cfg['testing'].update(load_model=sys.argv[3], beam_size=int(sys.argv[4]), beam_alpha=-1.0); "
        "yaml.safe_dump(cfg, open(sys.argv[2], 'w'), sort_keys=False)"),
        str(work / "train.yaml"), str(config), str(checkpoint), str(beam_size)], check=True)
    result = subprocess.run([str(JOEY_PYTHON), str(KIT_DIR / "joey_run.py"), "test", str(config),
                             "-o", str(work / f"hyp_beam{beam_size}")], capture_output=True, text=True,
                            env={**os.environ, "TORCH_THREADS": os.environ.get("TORCH_THREADS", "2")})
    took = re.findall(r"Generation took ([0-9.]+)", result.stdout + result.stderr)
    if result.returncode != 0 or not took:
        sys.exit(f"JoeyNMT's decoding failed:\n{(result.stdout + result.stderr)[-2000:]}")
    hypotheses = work / f"hyp_beam{beam_size}"
    bleu = subprocess.run([str(JOEY_PYTHON), str(KIT_DIR / "spm_score.py"), str(KIT_DIR / "spm_deen_8k.model"),
                           f"{hypotheses}.test", str(MULTI30K_TEST_EN),
                           f"{hypotheses}.detok.en"], capture_output=True, text=True, check=True)
    pieces = len(Path(f"{hypotheses}.test").read_text(encoding="utf-8").split())
    return float(took[-1]), pieces, float(bleu.stdout.split()[-1])


def check_peer() -> None:
    if not JOEY_PYTHON.exists():
        sys.exit(f"error: no JoeyNMT venv at {JOEY_PYTHON.parent.parent}; "
                 f"run `bash {KIT_DIR.resolve() / 'setup_joeynmt_venv.sh'}` once")


def kit_pieces(data_dir: Path, out_dir: Path) -> Path:
    """Multi30k encoded by the kit's own ``spm_prep.py`` (space-separated pieces) in ``out_dir``."""
    subprocess.run([str(JOEY_PYTHON), str(KIT_DIR / "spm_prep.py"), str(data_dir), str(out_dir),
                    str(KIT_DIR / "spm_deen_8k")], check=True, capture_output=True)
    return out_dir


def batch_plan(pieces: Path, count: int, batch_size: int = 64, max_length: int = 80, seed: int = 0) -> list[list[int]]:
    """``count`` batches of training line numbers, as the kit batches them: sentences in random
    order, ``batch_size`` at a time, pairs with a side over ``max_length`` pieces left out."""
    src = (pieces / "train.de").read_text(encoding="utf-8").splitlines()
    tgt = (pieces / "train.en").read_text(encoding="utf-8").splitlines()
    kept = [k for k, (s, t) in enumerate(zip(src, tgt))
            if len(s.split()) <= max_length and len(t.split()) <= max_length]
    random.Random(seed).shuffle(kept)
    return [kept[i * batch_size:(i + 1) * batch_size] for i in range(count)]


def joeynmt_steps(pieces: Path, batches: list[list[int]], warmup: int) -> dict[str, float]:
    """JoeyNMT's training steps on ``batches`` (the kit's model and vocabulary, fp32), timed
    after ``warmup``: ``{"seconds", "pieces", "steps", "peak_rss_mb"}``."""
    with tempfile.TemporaryDirectory(prefix="joeysteps-") as work:
        plan = Path(work) / "batches.json"
        plan.write_text(json.dumps({"warmup": warmup, "batches": batches}), encoding="utf-8")
        result = subprocess.run([str(JOEY_PYTHON), str(STEPS_SCRIPT), str(KIT_DIR / "joeynmt_rnn_deen.yaml"),
                                 str(pieces), str(plan), work], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"the JoeyNMT steps failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_spread(values: list[float], digits: int = 0) -> str:
    """``median (min-max)`` of repeated measurements."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def warn_if_loaded(limit: float = 0.5) -> float:
    """The 1-minute load average, with a warning on stderr when other work competes for the CPU."""
    load = os.getloadavg()[0]
    if load > limit:
        print(f"warning: load average {load:.2f} > {limit}: other processes compete for the cores and "
              f"the figures will be low and noisy", file=sys.stderr)
    return load
