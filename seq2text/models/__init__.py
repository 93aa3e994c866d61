"""Networks: the encoder-decoder (translation, couplets), the aligned couplet tagger, the
recurrent language model and the recurrent text classifier."""

import torch

from seq2text.errors import Seq2TextError
from seq2text.models.aligned import AlignedTagger
from seq2text.models.classifier import RNNClassifier
from seq2text.models.lm import RNNLM
from seq2text.models.seq2seq import Seq2Seq
from seq2text.models.tagger import RNNTagger
from seq2text.recipe import Recipe
from seq2text.tasks import network_for

__all__ = ["AlignedTagger", "RNNClassifier", "RNNLM", "RNNTagger", "Seq2Seq", "build_model"]


MAX_PARAMETERS = 2_000_000_000  # 8 GB of float32: far above any recurrent model worth training


def build_model(recipe: Recipe, src_vocab: int, tgt_vocab: int, labels: int = 0) -> torch.nn.Module:
    """The network a recipe describes, sized for its tokenizers (language models use ``src_vocab``;
    a tagger reads words and, as its target vocabulary, the characters that spell them) and,
    for a classifier or tagger, its number of ``labels``.  A recipe whose network would have more
    than :data:`MAX_PARAMETERS` is refused before anything is allocated."""
    with torch.device("meta"):  # sized without allocating: a typo cannot take the memory
        parameters = sum(p.numel() for p in _network(recipe, src_vocab, tgt_vocab, labels).parameters())
    if parameters > MAX_PARAMETERS:
        where = recipe.path or "the recipe"
        raise Seq2TextError(f"{where}: asks for {parameters:,} parameters, over the {MAX_PARAMETERS:,} a "
                            f"seq2text model may have")
    model = _network(recipe, src_vocab, tgt_vocab, labels)
    if recipe.model.init_range is not None:
        # PyTorch draws embeddings from N(0, 1): too wide once they double as the output layer.
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.uniform_(-recipe.model.init_range, recipe.model.init_range)
            for module in model.modules():
                if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None:
                    module.weight[module.padding_idx].zero_()
    return model


def _network(recipe: Recipe, src_vocab: int, tgt_vocab: int, labels: int) -> torch.nn.Module:
    network = network_for(recipe)
    if network is RNNClassifier:
        return RNNClassifier(recipe.model, src_vocab, labels)
    if network is RNNTagger:
        return RNNTagger(recipe.model, src_vocab, tgt_vocab, labels)
    if network is RNNLM:
        return RNNLM(recipe.model, src_vocab)
    return network(recipe.model, src_vocab, tgt_vocab)
