"""What an evaluation produces: a summary for scripts and sections for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


@dataclass
class Section:
    """One part of a report: a heading, a paragraph, an optional table and PNG figures."""

    title: str
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)


@dataclass
class Evaluation:
    """``summary``: the JSON line; ``sections``: the report; ``files``: text files the report
    folder also gets (name -> content), e.g. the outputs that were scored."""

    summary: dict
    sections: list[Section]
    title: str = ""
    files: dict[str, str] = field(default_factory=dict)

    def add(self, section: Optional[Section]) -> None:
        if section is not None:
            self.sections.append(section)


def percent(good: int, total: int) -> Optional[float]:
    """``good / total`` in percent, rounded to 0.1; None when there is nothing to count."""
    return round(100.0 * good / total, 1) if total else None


def history_file(weights: Path) -> Optional[Path]:
    """The validation history of the run a model folder comes from: beside a bundled model's
    weights, or in its run folder (``runs/<name>`` above ``averaged`` or ``checkpoints/step-N``)."""
    for folder in (weights, weights.parent, weights.parent.parent):
        if (folder / "history.json").is_file():
            return folder / "history.json"
    return None


def learning_curves(weights: Path, figures: Optional[Path]) -> Optional[Section]:
    """The learning curves of the model's training run, if its history is known."""
    import json

    from seq2text.plots import plot_learning_curves

    path = history_file(weights)
    if figures is None or path is None:
        return None
    history = json.loads(path.read_text(encoding="utf-8"))
    if not history:
        return None
    plot_learning_curves(history, figures / "learning_curves.png")
    last = history[-1]
    return Section("Learning curves", f"{len(history)} validations during training, the last at step "
                   f"{last['step']} (epoch {last.get('epoch', '?')}).", figures=[figures / "learning_curves.png"])
