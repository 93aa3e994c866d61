"""Figures written as PNG files: learning curves next to checkpoints, attention heat-maps and
the bar charts of evaluation reports."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from seq2text.atomic import atomic_path


# Fonts with Chinese glyphs, tried in order after matplotlib's own (Debian: fonts-noto-cjk).
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "SimHei", "Microsoft YaHei"]


def _pyplot():
    # matplotlib takes a second to import, and only plots need it; its backend is set before pyplot
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt  # noqa: PLC0415

    installed = _installed_fonts()
    plt.rcParams["font.sans-serif"] = [*(f for f in CJK_FONTS if f in installed), *plt.rcParams["font.sans-serif"]]
    return plt


@functools.cache
def _installed_fonts() -> frozenset[str]:
    """The names of the fonts matplotlib can use, with any CJK font installed after matplotlib
    cached its font list (it never looks again on its own: fonts from a later `apt-get install`
    would stay unseen)."""
    from matplotlib import font_manager  # noqa: PLC0415 (see _pyplot)

    manager = font_manager.fontManager
    if not {font.name for font in manager.ttflist} & set(CJK_FONTS):
        known = {font.fname for font in manager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read: not a font for us
                    pass
    return frozenset(font.name for font in manager.ttflist)


def has_cjk_font() -> bool:
    """Whether a font that draws Chinese characters is installed for the plots."""
    return bool(_installed_fonts() & set(CJK_FONTS))


def _save(figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    _pyplot().close(figure)


def plot_learning_curves(history: list[dict], path: Path) -> None:
    """Write :func:`learning_curves_figure` to ``path`` (nothing if the history has no scores)."""
    figure = learning_curves_figure(history)
    if figure is not None:
        _save(figure, path)


def learning_curves_figure(history: list[dict]):
    """Training and validation loss, validation perplexity, BLEU, accuracy and F1 against training steps,
    side by side (None when the history holds none of them)."""
    plt = _pyplot()
    steps = [h["step"] for h in history]
    panels = [(key, label) for key, label in (("loss", "loss (nats per token)"), ("ppl", "validation perplexity"),
                                              ("bleu", "validation greedy BLEU"), ("accuracy", "validation accuracy %"),
                                              ("f1", "validation macro-F1 %")) if key in history[0]]
    if not panels:
        return None
    figure, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    for axis, (key, label) in zip(axes[0], panels):
        axis.plot(steps, [h[key] for h in history], marker="o", markersize=3, label="validation")
        if key == "loss" and any("train_loss" in h for h in history):
            trained = [h for h in history if "train_loss" in h]
            axis.plot([h["step"] for h in trained], [h["train_loss"] for h in trained], marker="o", markersize=3,
                      label="training")
            axis.legend()
        axis.set_xlabel("step")
        axis.set_title(label)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def plot_attention(source: list[str], target: list[str], weights, path: Path, title: str = "Attention") -> None:
    """Write :func:`attention_figure` to ``path``."""
    _save(attention_figure(source, target, weights, title), path)


def attention_figure(source: list[str], target: list[str], weights, title: str):
    """A heat-map of ``weights`` ``(len(target), len(source))``: target pieces down, source
    pieces across, with a colour bar and ``title`` below.  The colours span 0 to the largest
    weight shown, on a perceptually even map, so attention spread over several pieces shows."""

    plt = _pyplot()
    weights = np.array(weights.tolist() if hasattr(weights, "tolist") else weights, dtype=float)
    figure, axis = plt.subplots(figsize=(2.2 + 0.45 * len(source), 1.6 + 0.35 * len(target)))
    image = axis.imshow(weights, cmap="viridis", vmin=0.0, vmax=max(float(weights.max()), 1e-6), aspect="auto")
    axis.set_xticks(range(len(source)), source, rotation=90)
    axis.set_yticks(range(len(target)), target)
    axis.xaxis.tick_top()
    axis.xaxis.set_label_position("top")
    axis.set_xlabel("source pieces")
    axis.set_ylabel("output pieces")
    figure.colorbar(image, ax=axis, label="attention weight", fraction=0.05, pad=0.02)
    figure.supxlabel(title, fontsize=10)  # below the map: the source pieces take the top
    figure.tight_layout()
    return figure


def plot_bars(labels: list[str], values: list[float], xlabel: str, ylabel: str, path: Path) -> None:
    """One bar per label, its value written on top."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(1.2 + 0.9 * len(labels), 3.2))
    bars = axis.bar(range(len(labels)), values, color="#4c72b0")
    axis.bar_label(bars, fmt="%.1f")
    axis.set_xticks(range(len(labels)), labels)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.margins(y=0.15)
    figure.tight_layout()
    _save(figure, path)


def plot_confusion(labels: list[str], matrix, path: Path) -> None:
    """A confusion matrix: gold labels down, predicted across, each cell's count written in it."""

    plt = _pyplot()
    counts = np.array(matrix.tolist() if hasattr(matrix, "tolist") else matrix)
    figure, axis = plt.subplots(figsize=(1.8 + 0.8 * len(labels), 1.4 + 0.8 * len(labels)))
    image = axis.imshow(counts, cmap="Blues")
    for (row, column), count in np.ndenumerate(counts):
        axis.text(column, row, str(count), ha="center", va="center",
                  color="white" if count > counts.max() / 2 else "black")
    axis.set_xticks(range(len(labels)), labels)
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted label")
    axis.set_ylabel("gold label")
    figure.colorbar(image, ax=axis, fraction=0.05, pad=0.04)
    figure.tight_layout()
    _save(figure, path)
