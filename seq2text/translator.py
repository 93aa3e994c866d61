"""The Python API for translation.

    from seq2text import Translator
    translator = Translator.load("multi30k-de-en")          # or a trained model folder
    translator.translate(["Ein Hund läuft durch den Schnee."], beam_size=5)
    ensemble = Translator.load(["runs/a", "runs/b"])        # models that share their tokenizers

Sentences are sorted by length and decoded in batches (little padding), then put back in
order.  Empty or blank sentences translate to empty strings without running the model.
Sources longer than :attr:`Translator.max_source_pieces` are cut there (a warning says so).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import torch

from seq2text.decoding import Hypothesis, MinLength, NoRepeatNGram, decode_sources, output_limits
from seq2text.decoding.ensemble import Ensemble
from seq2text.decoding.quantized import quantize_int8
from seq2text.decoding.shortlist import SHORTLIST_FILE, Shortlisted
from seq2text.errors import Seq2TextError
from seq2text.generation.requests import TranslationRequest
from seq2text.pretrained import Pretrained, load_pretrained
from seq2text.tasks import require
from seq2text.tokenizers import BOS, EOS, PAD, Tokenizer


@dataclass
class Translation:
    """One hypothesis: its ``text``, the ``score`` it was ranked by, its model ``log_prob`` and
    target token ids."""

    text: str
    score: float
    log_prob: float
    tokens: list[int] = field(repr=False)


@dataclass
class Result:
    """The hypotheses for one source, best first; ``truncated`` is the source's original length
    in pieces when it was cut to ``max_source_pieces``, else 0."""

    source: str
    hypotheses: list[Translation]
    truncated: int = 0


@dataclass
class Attention:
    """Attention weights ``(target pieces + </s>, source pieces)`` with their labels."""

    source: list[str]
    target: list[str]
    weights: torch.Tensor


PRECISIONS = ("fp32", "bf16", "int8")
ModelName = str | Path | Pretrained


class Translator:
    """A translation model with its tokenizers and default search settings."""

    max_source_pieces = 250

    def __init__(self, model: torch.nn.Module, src: Tokenizer, tgt: Tokenizer, beam_size: int = 5,
                 length_penalty: float = 1.0, precision: str = "fp32", name: str = "", max_length: int = 100):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.model, self.src, self.tgt, self.name = model, src, tgt, name
        self.beam_size, self.length_penalty, self.precision = beam_size, length_penalty, precision
        self.max_length = max_length

    @classmethod
    def load(cls, model: ModelName | Sequence[ModelName] = "multi30k-de-en", device: str | torch.device = "cpu",
             precision: str = "fp32", shortlist: bool = False) -> "Translator":
        """A bundled model by name, a trained model or run folder (``runs/<name>``), or a loaded
        :class:`~seq2text.pretrained.Pretrained`; a list of them is an ensemble (they must share
        their tokenizers; the search settings are the first one's).  An exported folder
        (``seq2text export``) runs alone, by ONNX Runtime on the CPU.

        ``precision="bf16"`` runs the matrix products in bfloat16 (faster on CPUs with bf16
        instructions and on GPUs; BLEU moves by a few hundredths on Multi30k); ``"int8"``
        quantizes the linear layers to int8 (CPU only, see :mod:`seq2text.decoding.quantized`).  With ``shortlist``
        a model that has one scores only the target tokens of its training data: beam search
        is faster, and a few beam outputs change (see :mod:`seq2text.decoding.shortlist`)."""
        names = [model] if isinstance(model, (str, Path, Pretrained)) else list(model)
        members = [load_pretrained(name, device) for name in names]
        exported = [loaded for loaded in members if loaded.exported]
        if exported and (len(members) > 1 or precision != "fp32" or shortlist):
            raise Seq2TextError(f"{exported[0].name}: an exported model runs alone, as exported, on the CPU (no "
                                f"ensemble, --precision, --shortlist or --device)")
        for loaded in members:
            require(loaded, "Translator")
        first = members[0]
        for other in members[1:]:
            if not other.shares_tokenizers(first):
                raise Seq2TextError(f"{other.name}: its tokenizers differ from those of {first.name}; an ensemble "
                                    f"needs models that share them (trained from the same tokenizer folder)")
        if precision == "int8" and (shortlist or any(loaded.device.type != "cpu" for loaded in members)):
            raise Seq2TextError("--precision int8 runs on the CPU, without --shortlist")
        if shortlist:
            for loaded in members:
                if loaded.shortlist is None:
                    raise Seq2TextError(f"{loaded.folder.tokenizer / SHORTLIST_FILE}: missing, so --shortlist cannot "
                                        f"be used (seq2text prepare writes it; scripts/write_shortlist.py for a "
                                        f"model prepared before)")
        networks = [Shortlisted(loaded.model, loaded.shortlist) if shortlist else
                    quantize_int8(loaded.model) if precision == "int8" else loaded.model for loaded in members]
        network = networks[0] if len(members) == 1 else Ensemble(networks)
        decoding = first.recipe.decoding
        return cls(network, first.src, first.tgt, decoding.beam_size, decoding.length_penalty,
                   precision, " + ".join(loaded.name for loaded in members), decoding.max_length)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def translate(self, sentences: str | Sequence[str], beam_size: Optional[int] = None,
                  **options) -> str | list[str]:
        """The best translation of each sentence, or of the one sentence a string is (see
        :meth:`search` for the options)."""
        results = self.search(sentences, beam_size=beam_size, **options)
        for number, result in enumerate(results, start=1):
            if result.truncated:
                warnings.warn(self.truncation_note(f"sentence {number}", result), stacklevel=2)
        best = [result.hypotheses[0].text for result in results]
        return best[0] if isinstance(sentences, str) else best

    def truncation_note(self, where: str, result: Result) -> str:
        """What to tell the user about a source that was cut (``where``: its name or line)."""
        return f"{where}: {result.truncated} pieces, translated only the first {self.max_source_pieces}"

    def search(self, sentences: str | Sequence[str], beam_size: Optional[int] = None, nbest: int = 1,
               length_penalty: Optional[float] = None, penalty: str = "gnmt", coverage_penalty: float = 0.0,
               max_length: Optional[int] = None, max_length_ratio: Optional[float] = None, min_length: int = 0,
               min_length_ratio: float = 0.0, no_repeat_ngram: int = 0, batch_size: int = 64,
               early_stop: bool = False) -> list[Result]:
        """Translate ``sentences`` (a string is one sentence); every :class:`Result` holds
        ``nbest`` hypotheses, best first.

        - ``beam_size`` 1 is greedy search (default: the model's recipe, usually 5);
        - ``length_penalty`` alpha (GNMT ``((5+len)/6)^alpha``, or ``penalty="plain"`` for
          ``len^alpha``), ``coverage_penalty`` beta (GNMT's, 0 = off);
        - output length at most ``max_length_ratio`` (default 2) × the source + 10 pieces, and
          at most ``max_length`` (default: the recipe's ``decoding.max_length``); at least
          ``max(min_length, min_length_ratio * source)`` pieces;
        - ``no_repeat_ngram`` n: no n-gram appears twice in an output (0 = off);
        - ``early_stop``: a sentence's beam search ends at the first step whose best candidate
          ends (faster; the length penalty no longer waits for longer hypotheses).
        """
        sentences = [sentences] if isinstance(sentences, str) else list(sentences)
        beam_size = TranslationRequest(beam_size=beam_size or self.beam_size, nbest=nbest).beam_size
        alpha = self.length_penalty if length_penalty is None else length_penalty
        encoded = [self.src.encode(text) if text.strip() else [] for text in sentences]
        results = [Result(text, [Translation("", 0.0, 0.0, [])] * nbest,
                          len(ids) if len(ids) > self.max_source_pieces else 0)
                   for text, ids in zip(sentences, encoded)]
        order = sorted((i for i, ids in enumerate(encoded) if ids), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            sources = [encoded[i][:self.max_source_pieces] for i in chunk]
            lengths = torch.tensor([len(ids) for ids in sources])
            longest = output_limits(lengths, max_length or self.max_length, max_length_ratio)
            shortest = torch.maximum((lengths.double() * min_length_ratio).ceil().long(),
                                     torch.tensor(min_length)).clamp(max=longest)
            processors = [MinLength(shortest)] if bool((shortest > 0).any()) else []
            if no_repeat_ngram:
                processors.append(NoRepeatNGram(no_repeat_ngram))
            with self._autocast():
                found = decode_sources(self.model, sources, longest, beam_size, alpha, penalty, coverage_penalty,
                                       nbest, processors, early_stop)
            for i, hypotheses in zip(chunk, found):
                results[i].hypotheses = [self._translation(h) for h in hypotheses]
        return results

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    def _translation(self, hypothesis: Hypothesis) -> Translation:
        return Translation(self.tgt.decode(hypothesis.tokens), hypothesis.score, hypothesis.log_prob,
                           hypothesis.tokens)

    @torch.no_grad()
    def attention(self, source: str, translation: Translation) -> Attention:
        """Where the model looked while writing ``translation`` of ``source``: the decoder is
        stepped through the translation's tokens (as search runs it, so an exported model or an
        ensemble answers too)."""
        ids = self.src.encode(source)[:self.max_source_pieces]
        src = torch.tensor([ids], device=self.device)
        rows = []
        with torch.no_grad(), self._autocast():
            state = self.model.encode(src, src != PAD)
            for previous in [BOS, *translation.tokens]:
                _, state, weights = self.model.step(torch.tensor([previous], device=self.device), state)
                if weights is None:
                    raise Seq2TextError(f"{self.name}: this model has no attention")
                rows.append(weights[0].float().cpu())
        return Attention(self.src.pieces_of(ids), self.tgt.pieces_of(translation.tokens + [EOS]), torch.stack(rows))

