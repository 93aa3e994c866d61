"""The learning-curve PNG written next to the checkpoints."""

from __future__ import annotations

from pathlib import Path

from seq2text.atomic import atomic_path


def plot_learning_curves(history: list[dict], path: Path) -> None:
    """Validation loss, perplexity and BLEU against training steps, side by side."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

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
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)
