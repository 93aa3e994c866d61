"""Networks: the encoder-decoder for translation and the recurrent language model."""

import torch

from seq2text.models.lm import RNNLM
from seq2text.models.seq2seq import Seq2Seq
from seq2text.recipe import Recipe

__all__ = ["RNNLM", "Seq2Seq", "build_model"]


def build_model(recipe: Recipe, src_vocab: int, tgt_vocab: int) -> torch.nn.Module:
    """The network a recipe describes, sized for its tokenizers (language models use ``src_vocab``)."""
    if recipe.task == "lm":
        return RNNLM(recipe.model, src_vocab)
    return Seq2Seq(recipe.model, src_vocab, tgt_vocab)
