"""The models a server holds: each loaded once, with the endpoint it answers and its batcher.

A model answers one endpoint, chosen by its task: ``translate`` (translation), ``couplet``,
``classify`` (classification), ``tag`` (tagging), ``poem`` (a poetry language model) or ``text`` (any other
language model).  Requests name a model only among these; a path never reaches the loader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable, Optional, Sequence

import torch

from seq2text.classifier import Classifier
from seq2text.generator import Generator
from seq2text.model_folder import bundled_models
from seq2text.pretrained import Pretrained, load_pretrained
from seq2text.server.batching import Batcher
from seq2text.tagger import Tagger
from seq2text.tasks import task_of
from seq2text.translator import Translator

Runner = Callable[[Hashable, list], list]  # (a request's options, a batch of inputs) -> one answer per input

# The model an endpoint uses when a request names none, if it is served.
DEFAULTS = {"translate": "multi30k-de-en", "poem": "poems", "couplet": "couplet", "classify": "sentiment-zh",
            "tag": "pos-en", "text": "shakespeare-char"}


@dataclass
class Served:
    """One served model: ``engine`` is its :class:`Translator`, :class:`Generator`,
    :class:`Classifier` or :class:`Tagger`."""

    name: str
    endpoint: str
    description: str
    engine: Any
    batcher: Batcher

    def card(self, default: bool) -> dict:
        return {"name": self.name, "endpoint": f"/v1/{self.endpoint}", "description": self.description,
                "default": default}


def serve_models(names: Sequence[str], device: str | torch.device = "cpu") -> dict[str, Served]:
    """Load ``names`` (bundled names or model folders; none: every bundled model)."""
    names = list(names) or [card["name"] for card in bundled_models()]
    served: dict[str, Served] = {}
    for name in names:
        loaded = load_pretrained(name, device)
        endpoint, engine, run = _engine(loaded)
        served[loaded.name] = Served(loaded.name, endpoint, loaded.card.get("description", loaded.task), engine,
                                     Batcher(run, name=loaded.name))
    return served


def defaults(served: dict[str, Served]) -> dict[str, str]:
    """The model each endpoint answers with when a request names none."""
    chosen: dict[str, str] = {}
    for model in served.values():
        chosen.setdefault(model.endpoint, model.name)
    for endpoint, name in DEFAULTS.items():
        if name in served and served[name].endpoint == endpoint:
            chosen[endpoint] = name
    return chosen


def _engine(loaded: Pretrained) -> tuple[str, Any, Optional[Runner]]:
    """The endpoint a model answers, its API object, and how a batch of inputs runs (None: one
    request at a time, as for sampled poems and text, whose seed decides the output): what the
    row of its task names (:mod:`seq2text.tasks`)."""
    task = task_of(loaded)
    return (task.endpoint(loaded.recipe), *task.load("served")(loaded))


def translating(loaded: Pretrained) -> tuple[Translator, Runner]:
    translator = Translator.load(loaded)
    return translator, lambda options, texts: _translate(translator, options, texts)


def classifying(loaded: Pretrained) -> tuple[Classifier, Runner]:
    classifier = Classifier.load(loaded)
    return classifier, lambda options, texts: classifier.classify(texts)


def tagging(loaded: Pretrained) -> tuple[Tagger, Runner]:
    tagger = Tagger.load(loaded)
    return tagger, lambda pretokenized, texts: tagger.tag(texts, pretokenized)


def answering_couplets(loaded: Pretrained) -> tuple[Generator, Runner]:
    generator = Generator(loaded)
    # options: a CoupletRequest of beam search (sampled 下联 depend on their batch: they run alone)
    return generator, lambda options, lines: generator.couplets(lines, request=options)


def writing(loaded: Pretrained) -> tuple[Generator, None]:
    """Poems and free text: sampled, so each request runs alone (its seed decides its output)."""
    return Generator(loaded), None


def _translate(translator: Translator, options: Hashable, texts: list[str]) -> list[dict]:
    beam_size, nbest, attention = options
    results = translator.search(texts, beam_size=beam_size, nbest=nbest)
    answers = []
    for result in results:
        best = result.hypotheses[0]
        answer = {"text": best.text, "score": round(best.score, 4), "truncated": result.truncated}
        if nbest > 1:
            answer["alternatives"] = [{"text": h.text, "score": round(h.score, 4)} for h in result.hypotheses]
        if attention and best.tokens:
            weights = translator.attention(result.source, best)
            answer["attention"] = {"source": weights.source, "target": weights.target,
                                   "weights": [[round(w, 4) for w in row] for row in weights.weights.tolist()]}
        answers.append(answer)
    return answers
