"""Free text from any language model: a prompt continued for a number of tokens.

Works for character, word and subword models alike (tiny-shakespeare, Penn Treebank, Tang
poems).  A model trained on a text stream (``training.bptt``) reads ``</s>`` as a line end,
so a passage runs on across lines to its length; a model of single sequences ends a passage
at its ``</s>``.
"""

from __future__ import annotations

from dataclasses import dataclass


from seq2text.decoding import sample
from seq2text.decoding.sampling import row_generators
from seq2text.errors import Seq2TextError, marked, option
from seq2text.generation.requests import TextRequest
from seq2text.models.lm import RNNLM
from seq2text.tokenizers import BOS, EOS, UNK, Tokenizer


@dataclass
class Passage:
    """A sampled ``text`` (the prompt included), its ``log_prob`` and the ``seed`` it came from."""

    text: str
    log_prob: float
    seed: int

    def to_dict(self) -> dict:
        """The passage as ``--format jsonl`` and the HTTP API give it."""
        return {"text": self.text, "seed": self.seed, "log_prob": round(self.log_prob, 3)}


class TextWriter:
    """A language model with its tokenizer; ``stream``: trained on a text stream."""

    def __init__(self, model: RNNLM, tokenizer: Tokenizer, stream: bool, name: str = "model"):
        self.model, self.tokenizer, self.stream, self.name = model, tokenizer, stream, name

    def text(self, request: TextRequest) -> list[Passage]:
        """``request.count`` continuations of ``request.prompt``, each up to ``request.length``
        tokens after it (the line ends of a prompt are the model's ``</s>``)."""
        prompt, count = request.prompt, request.count
        ids = [token for number, line in enumerate(prompt.split("\n") if prompt else [])
               for token in ([EOS] if number else []) + self.tokenizer.encode(line)]
        if UNK in ids and self.tokenizer.kind == "char":  # word models read unknown words as <unk>
            known = (lambda c: c == "\n" or all(p in self.tokenizer.index for p in self.tokenizer.pieces(c)))
            raise Seq2TextError(f"{option('prompt')} {marked(prompt, known)}: the model {self.name} does not know "
                                f"the characters marked ⟦ ⟧")
        # A stream model read every line after the previous line's </s>, never after <s>.
        last, state = self.model.start([[EOS if self.stream else BOS, *ids]] * count)
        seeds = request.seeds(count)
        found = sample(self.model, state, request.length, request.temperature, request.top_k, request.top_p,
                       row_generators(seeds, state.device), start=last, stop_at_eos=not self.stream)
        return [Passage(self._join(ids + h.tokens), h.log_prob, row_seed) for h, row_seed in zip(found, seeds)]

    def _join(self, ids: list[int]) -> str:
        """The text of ``ids``, ``</s>`` read as a line end."""
        lines, current = [], []
        for token in ids:
            if token == EOS:
                lines.append(current)
                current = []
            else:
                current.append(token)
        return "\n".join(self.tokenizer.decode(line) for line in [*lines, current])
