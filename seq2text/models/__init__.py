"""Networks: the encoder-decoder (translation, couplets), the aligned couplet tagger, the
recurrent language model and the recurrent text classifier."""

import torch

from seq2text.models.aligned import AlignedTagger
from seq2text.models.classifier import RNNClassifier
from seq2text.models.lm import RNNLM
from seq2text.models.seq2seq import Seq2Seq
from seq2text.recipe import Recipe

__all__ = ["AlignedTagger", "RNNClassifier", "RNNLM", "Seq2Seq", "build_model"]


def build_model(recipe: Recipe, src_vocab: int, tgt_vocab: int, labels: int = 0) -> torch.nn.Module:
    """The network a recipe describes, sized for its tokenizers (language models use ``src_vocab``)
    and, for a classifier, its number of ``labels``."""
    if recipe.task == "classification":
        model = RNNClassifier(recipe.model, src_vocab, labels)
    elif recipe.task == "lm":
        model = RNNLM(recipe.model, src_vocab)
    elif recipe.model.architecture == "aligned":
        model = AlignedTagger(recipe.model, src_vocab, tgt_vocab)
    else:
        model = Seq2Seq(recipe.model, src_vocab, tgt_vocab)
    if recipe.model.init_range is not None:
        # PyTorch draws embeddings from N(0, 1): too wide once they double as the output layer.
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.uniform_(-recipe.model.init_range, recipe.model.init_range)
            for module in model.modules():
                if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None:
                    module.weight[module.padding_idx].zero_()
    return model
