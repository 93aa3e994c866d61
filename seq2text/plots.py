"""Figures written as PNG files: learning curves next to checkpoints, attention heat-maps and
the bar charts of evaluation reports."""

from __future__ import annotations

from pathlib import Path

from seq2text.atomic import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    _pyplot().close(figure)


def plot_learning_curves(history: list[dict], path: Path) -> None:
    """Validation loss, perplexity and BLEU against training steps, side by side."""
    plt = _pyplot()
    steps = [h["step"] for h in history]
    panels = [(key, label) for key, label in (("loss", "validation loss"), ("ppl", "perplexity"),
                                              ("bleu", "greedy BLEU")) if key in history[0]]
    if not panels:
        return
    figure, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    for axis, (key, label) in zip(axes[0], panels):
        axis.plot(steps, [h[key] for h in history], marker="o", markersize=3)
        axis.set_xlabel("step")
        axis.set_title(label)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    _save(figure, path)


def plot_attention(source: list[str], target: list[str], weights, path: Path) -> None:
    """A heat-map of ``weights`` ``(len(target), len(source))``: target pieces down, source
    pieces across, darker where the decoder attended more."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(1.0 + 0.45 * len(source), 1.0 + 0.35 * len(target)))
    axis.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    axis.set_xticks(range(len(source)), source, rotation=90)
    axis.set_yticks(range(len(target)), target)
    axis.xaxis.tick_top()
    figure.tight_layout()
    _save(figure, path)


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
