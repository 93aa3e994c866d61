"""Shared fixtures: the real corpora in ../shared/data, small slices of them, a private cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SEQ2TEXT_DATA", ROOT / ".." / "shared" / "data")).resolve()


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Token-id caches go to a per-session temporary folder, never to ~/.cache."""
    cache = tmp_path_factory.getbasetemp() / "cache"
    monkeypatch.setenv("SEQ2TEXT_CACHE", str(cache))
    return cache


@pytest.fixture
def data_root() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"the corpora are missing: {DATA} (set SEQ2TEXT_DATA)")
    return DATA


def head(path: Path, lines: int) -> str:
    """The first ``lines`` lines of a real corpus file, as text."""
    with path.open(encoding="utf-8") as handle:
        return "".join(next(handle) for _ in range(lines))


def write_multi30k_slice(root: Path, train_lines: int = 2000, val_lines: int = 200) -> Path:
    """A data root under ``root`` holding the first lines of Multi30k train and val (de, en)."""
    folder = root / "data" / "multi30k"
    folder.mkdir(parents=True, exist_ok=True)
    for lang in ("de", "en"):
        for split, count in (("train", train_lines), ("val", val_lines)):
            (folder / f"{split}.{lang}").write_text(head(DATA / "multi30k" / f"{split}.{lang}", count),
                                                    encoding="utf-8")
    return root / "data"


@pytest.fixture
def multi30k_slice(data_root: Path, tmp_path: Path) -> Path:
    """A data root holding the first 2,000 training and 200 validation lines of Multi30k."""
    return write_multi30k_slice(tmp_path)


def write_recipe(folder: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


SLICE_RECIPE = """\
name: slice
data: {kind: parallel, train: multi30k/train, valid: multi30k/val, src_lang: de, tgt_lang: en,
       max_length: 40}
tokenizer: {type: sentencepiece, vocab_size: 1000}
training: {batch_tokens: 1024}
"""


# A guard against hangs, not a speed test: generous enough for a busy machine (load 6 took a
# 90-second evaluation past 300 s), so that a test fails on behaviour, never on the load.
HANG = 1800


def run(*args: str, cwd: Path | None = None, stdin: str | bytes = "") -> subprocess.CompletedProcess:
    """The ``seq2text`` command as a user runs it (stdout/stderr as text unless stdin is bytes)."""
    return subprocess.run([sys.executable, "-m", "seq2text", *args], capture_output=True,
                          text=isinstance(stdin, str), cwd=cwd, input=stdin, timeout=HANG)


def model_folder(name: str, where: Path) -> Path:
    """A trained-model folder (``model.safetensors``, ``recipe.yaml``, ``tokenizer/``, tables)
    copied from the bundled model ``name``, to damage or change in a test."""
    import shutil

    folder = where / name
    shutil.copytree(ROOT / "seq2text" / "pretrained" / name, folder)
    shutil.copytree(ROOT / "vocab" / name, folder / "tokenizer")
    return folder


def one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    """``result`` failed with exit code 2 and one ``error: ...`` line holding every needle."""
    assert result.returncode == 2, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr[-2000:]
    for needle in needles:
        assert needle in result.stderr, result.stderr


CHECK = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const summary = {images: images.length, broken: images.filter(i => !i.complete || i.naturalWidth === 0).length,
                   tables: document.querySelectorAll("table").length,
                   wider: document.documentElement.scrollWidth > window.innerWidth,
                   rows: document.querySelectorAll("tr").length, lang: document.documentElement.lang};
  document.body.setAttribute("data-rendered", JSON.stringify(summary));
});
</script>"""


def render_in_chromium(page: Path, tmp_path: Path) -> dict:
    """Load a copy of ``page`` (with a checking script added) in headless Chromium and read back
    how many images decoded, how many tables it laid out, and whether the page is wider than the
    window."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Chromium is missing: install Debian's chromium package (.ci/run does)")
    checked = tmp_path / "checked.html"
    checked.write_text(page.read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"), encoding="utf-8")
    result = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                             f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", checked.as_uri()],
                            capture_output=True, text=True, timeout=HANG)
    marker = 'data-rendered="'
    assert marker in result.stdout, result.stderr[-2000:]
    value = result.stdout.split(marker, 1)[1].split('"', 1)[0]
    return json.loads(value.replace("&quot;", '"'))
