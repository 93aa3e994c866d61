"""``seq2text evaluate``: score a model on its recipe's held-out data or on given files.

- translation: BLEU, chrF and TER (sacrebleu, with signatures) of greedy and beam search;
- couplets: the same with characters as tokens, and the rates of the couplet rules;
- language models: perplexity (bits per character for char models) over the scored tokens;
  Tang models add the rule rates of generated poems (form, acrostic, rhyme, 平仄, repetition,
  lines copied from the training poems).
- classifiers: accuracy, macro-F1, per-label precision and recall, the confusion matrix;
- taggers: token accuracy (and on words unseen in training), per-tag precision, recall and F1,
  the confusion matrix, the worst-tagged sentences.

:func:`evaluate` returns an :class:`Evaluation`: a summary (the one JSON line the command
prints) and the sections of the report that :func:`~seq2text.evaluation.report.write_report`
writes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

from seq2text.data.corpora import held_out_recipe
from seq2text.errors import Seq2TextError
from seq2text.evaluation.sections import Evaluation, Scoring, Section
from seq2text.pretrained import load_pretrained
from seq2text.recipe import data_files
from seq2text.tasks import task_of

__all__ = ["Evaluation", "Scoring", "Section", "evaluate"]


def evaluate(model: str | Path, src: Optional[Path] = None, ref: Optional[Path] = None, text: Optional[Path] = None,
             beam_size: int = 5, bootstrap: int = 0, poems: int = 200, figures: Optional[Path] = None,
             device: str = "cpu", data_root: Optional[Path] = None) -> Evaluation:
    """Score ``model`` (bundled name, model or run folder).  ``src``/``ref`` (pairs) or ``text``
    (language models) replace the recipe's held-out split, which is read under ``data_root``
    (default: the recipe's); ``figures``: a folder for the report's plots (None: no plots).  The
    model is loaded once and passed down."""
    loaded = load_pretrained(model, device)
    if data_root is not None:
        loaded = replace(loaded, recipe=loaded.recipe.model_copy(update={"data_root": Path(data_root).resolve()}))
    recipe = loaded.recipe
    if figures is not None:
        _ = loaded.history  # a damaged history.json is reported now, not after minutes of decoding
    if (src is None) != (ref is None):
        raise Seq2TextError("--src and --ref go together")
    if src is None and text is None:  # the recipe's own held-out data
        for key, path in data_files(held_out_recipe(recipe)):
            if not path.exists():
                raise Seq2TextError(f"{model}: {key}: no such file or folder: {path} (data root "
                                    f"{recipe.data_root}; give --data-root or set SEQ2TEXT_DATA, or give --src/--ref or --text)")
    task = task_of(recipe)
    if task.scored_on == "text" and src is not None:
        raise Seq2TextError(f"{model}: a {task.name} model is scored on --text, not --src/--ref")
    if task.scored_on == "pairs" and text is not None:
        raise Seq2TextError(f"{model}: a {task.name} model is scored on --src/--ref, not --text")
    return task.load("evaluator")(loaded, Scoring(src, ref, text, beam_size, bootstrap, poems, figures))
