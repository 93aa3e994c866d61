"""What an evaluation produces: a summary for scripts and sections for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from seq2text.plots import plot_learning_curves


@dataclass
class Section:
    """One part of a report: a heading, a paragraph, an optional table, PNG figures, and texts
    shaded token by token (``shaded``: a caption, the tokens and a weight per token)."""
    title: str
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    shaded: list[tuple[str, list[str], list[float]]] = field(default_factory=list)  # (caption, tokens, weights)


@dataclass
class Scoring:
    """What ``seq2text evaluate`` was asked for: ``src``/``ref`` (pairs) or ``text`` (language
    models, classifiers) in place of the held-out split, the search and bootstrap settings, the
    poems to write (poetry models), and a folder for the report's figures (None: no figures)."""
    src: Optional[Path] = None
    ref: Optional[Path] = None
    text: Optional[Path] = None
    beam_size: int = 5
    bootstrap: int = 0
    poems: int = 200
    figures: Optional[Path] = None


@dataclass
class Evaluation:
    """``summary``: the JSON line; ``sections``: the report; ``files``: text files the report
    folder also gets (name -> content), e.g. the outputs that were scored; ``language``: what
    the report's page declares (``zh`` where it shows Chinese verse)."""
    summary: dict
    sections: list[Section]
    title: str = ""
    files: dict[str, str] = field(default_factory=dict)
    language: str = "en"  # of the report's text: "zh" for poems and couplets

    def add(self, section: Optional[Section]) -> None:
        if section is not None:
            self.sections.append(section)


def count_of(number: int, noun: str) -> str:
    """``1 poem``, ``3 poems``: a count with its noun in the right number."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def percent(good: int, total: int) -> Optional[float]:
    """``good / total`` in percent, rounded to 0.1; None when there is nothing to count."""
    return round(100.0 * good / total, 1) if total else None


def learning_curves(history: list[dict], figures: Optional[Path]) -> Optional[Section]:
    """The learning curves of the model's training run, if its history is known."""
    if figures is None or not history:
        return None
    plot_learning_curves(history, figures / "learning_curves.png")
    last = history[-1]
    return Section("Learning curves", f"{len(history)} validations during training, the last at step "
                   f"{last['step']} (epoch {last.get('epoch', '?')}).", figures=[figures / "learning_curves.png"])
