"""``training.init_from``: start a language model from a trained one of the same shape.

A model trained on more data (the Tang poems and the Song poems) has a larger vocabulary than
the one it starts from (the Tang poems alone).  Every weight is copied as it is, except the
rows of the embedding and output layers, which are matched by token: a token both vocabularies
know keeps its trained row, a new token keeps the fresh row it was initialised with.
"""

from __future__ import annotations

import torch

from seq2text.errors import Seq2TextError
from seq2text.pretrained import load_pretrained
from seq2text.tokenizers.base import VocabTokenizer
from seq2text.training.checkpoint import stored_names


def warm_start(model: torch.nn.Module, tokenizer: VocabTokenizer, source: str) -> str:
    """Copy the weights of the model ``source`` (a bundled name or a folder) into ``model``,
    whose vocabulary is ``tokenizer``; returns a line saying what was copied."""
    where = f"training.init_from: {source}"
    loaded = load_pretrained(source)
    old_tokenizer = loaded.tgt
    if loaded.task != "lm" or not isinstance(old_tokenizer, VocabTokenizer):
        raise Seq2TextError(f"{where}: only language models with a character or word vocabulary can be "
                            f"started from (this one is a {loaded.task} model)")
    old_weights, new_weights = loaded.model.state_dict(), model.state_dict()
    old_size = old_tokenizer.vocab_size
    shared = [(new, old_tokenizer.index[token]) for new, token in enumerate(tokenizer.tokens)
              if token in old_tokenizer.index]
    new_rows = torch.tensor([new for new, _ in shared])
    old_rows = torch.tensor([old for _, old in shared])
    with torch.no_grad():
        for name in stored_names(new_weights):
            target, weights = new_weights[name], old_weights.get(name)
            if weights is None:
                raise Seq2TextError(f"{where}: has no {name}; the recipe's model section must match it")
            if weights.shape == target.shape and (target.dim() == 0 or target.size(0) != tokenizer.vocab_size):
                target.copy_(weights)
            elif weights.shape[1:] == target.shape[1:] and weights.size(0) == old_size:
                target[new_rows.to(target.device)] = weights[old_rows].to(target.device, target.dtype)
            else:
                raise Seq2TextError(f"{where}: {name} is {tuple(weights.shape)} there, {tuple(target.shape)} here; "
                                    f"the recipe's model section must match it")
    return (f"started from {loaded.folder.weights}: every weight copied, {len(shared):,} of "
            f"{tokenizer.vocab_size:,} vocabulary rows matched by token")
