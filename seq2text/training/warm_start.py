"""``training.init_from``: start training from a trained model of the same shape.

- Same tokenizers (e.g. a translation model trained on, with other settings): every weight is
  copied as it is.
- A language model with a character or word vocabulary trained on more data (the Tang poems and
  the Song poems) has a larger vocabulary than the one it starts from (the Tang poems alone):
  every weight is copied as it is, except the rows of the embedding and output layers, which are
  matched by token: a token both vocabularies know keeps its trained row, a new token keeps the
  fresh row it was initialised with.
"""

from __future__ import annotations

from typing import Optional

import torch

from seq2text.errors import Seq2TextError
from seq2text.model_folder import stored_names
from seq2text.tasks import task_named
from seq2text.pretrained import load_pretrained
from seq2text.tokenizers.base import Tokenizer, VocabTokenizer


def warm_start(model: torch.nn.Module, task: str, src: Tokenizer, tgt: Tokenizer, source: str) -> str:
    """Copy the weights of the model ``source`` (a bundled name or a folder) into ``model``, a
    ``task`` model over the tokenizers ``src`` and ``tgt``; returns a line saying what was copied."""
    where = f"training.init_from: {source}"
    loaded = load_pretrained(source)
    if loaded.task != task:
        raise Seq2TextError(f"{where}: is a {loaded.task} model, this recipe trains a {task} model")
    same_tokenizers = (loaded.src.fingerprint(), loaded.tgt.fingerprint()) == (src.fingerprint(), tgt.fingerprint())
    if same_tokenizers:
        rows = None
    elif task_named(task).warm_by_token and isinstance(loaded.tgt, VocabTokenizer) and isinstance(tgt, VocabTokenizer):
        rows = [(new, loaded.tgt.index[token]) for new, token in enumerate(tgt.tokens) if token in loaded.tgt.index]
    else:
        raise Seq2TextError(f"{where}: its tokenizers differ from this recipe's; start from a model with the "
                            f"same tokenizers (tokenizer.model_file), or a language model with a character "
                            f"or word vocabulary")
    _copy(loaded.model.state_dict(), model.state_dict(), rows, loaded.tgt.vocab_size, tgt.vocab_size, where)
    if rows is None:
        return f"started from {loaded.folder.weights}: every weight copied (same tokenizers)"
    return (f"started from {loaded.folder.weights}: every weight copied, {len(rows):,} of "
            f"{tgt.vocab_size:,} vocabulary rows matched by token")


def _copy(old_weights: dict, new_weights: dict, rows: Optional[list[tuple[int, int]]], old_size: int,
          new_size: int, where: str) -> None:
    """Copy ``old_weights`` into ``new_weights``; vocabulary-sized tensors by the ``(new, old)``
    row pairs when ``rows`` is given."""
    new_rows = torch.tensor([new for new, _ in rows or []])
    old_rows = torch.tensor([old for _, old in rows or []])
    with torch.no_grad():
        for name in stored_names(new_weights):
            target, weights = new_weights[name], old_weights.get(name)
            if weights is None:
                raise Seq2TextError(f"{where}: has no {name}; the recipe's model section must match it")
            by_rows = rows is not None and target.dim() > 0 and target.size(0) == new_size
            if weights.shape == target.shape and not by_rows:
                target.copy_(weights)
            elif by_rows and weights.shape[1:] == target.shape[1:] and weights.size(0) == old_size:
                target[new_rows.to(target.device)] = weights[old_rows].to(target.device, target.dtype)
            else:
                raise Seq2TextError(f"{where}: {name} is {tuple(weights.shape)} there, {tuple(target.shape)} here; "
                                    f"the recipe's model section must match it")
