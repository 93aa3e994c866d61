"""Running the JoeyNMT 2.3 kit in ../shared/peers on this machine (for side-by-side figures)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[1] / ".." / "shared" / "peers" / "joeynmt" / "joeynmt_bench.sh"


def run_joeynmt(epochs: int = 1, train_subset: int = -1, dev_subset: int = 100) -> dict[str, str]:
    """The kit's final ``key=value`` line as a dict (it trains, then decodes test_2016_flickr)."""
    env = {**os.environ, "EPOCHS": str(epochs), "TRAIN_SUBSET": str(train_subset),
           "DEV_SUBSET": str(dev_subset), "KEEP": "0"}
    result = subprocess.run(["bash", str(KIT)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"the JoeyNMT kit failed:\n{result.stderr[-2000:]}")
    return dict(re.findall(r"(\S+)=(\S+)", result.stdout.strip().splitlines()[-1]))
