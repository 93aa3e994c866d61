"""The N-vs-N tagger: a tag for every word, from a bidirectional RNN over the sentence.

Each word is read as its embedding joined with its spelling: the last states of a character
BiLSTM run over the word (Plank et al. 2016), so that a word never seen in training still gets
a vector from its form (``-ly``, ``-ed``, a capital, a digit).  The encoder (the project's
:class:`~seq2text.models.encoder.Encoder`, bidirectional and stacked) reads those vectors, and a
linear layer scores every tag at every word; with ``model.crf`` a linear-chain
:class:`~seq2text.models.crf.CRF` scores tag sequences instead.

Shapes: ``words`` ``(B, S)`` word ids (PAD after the last word), ``spellings`` ``(W, C)`` the
character ids of the W distinct words of the batch (row 0: padding), ``spelled`` ``(B, S)`` the
row of ``spellings`` that spells each word.  :meth:`RNNTagger.forward` returns the tag scores
``(B, S, T)``.  Padding never changes a tag: the encoder packs the sentences and each spelling
is read alone.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from seq2text.models.crf import CRF
from seq2text.models.encoder import Encoder
from seq2text.recipe import ModelConfig
from seq2text.tokenizers import PAD


class Spelling(nn.Module):
    """Word vectors ``(B, S, E)`` joined with their spellings ``(B, S, 2 * char_size)``."""

    def __init__(self, config: ModelConfig, words: int, characters: int):
        super().__init__()
        self.words = nn.Embedding(words, config.embed_size, padding_idx=PAD)
        self.char_size = config.char_size
        self.embedding_dim = config.embed_size + 2 * config.char_size
        if config.char_size:
            self.characters = nn.Embedding(characters, config.char_embed_size, padding_idx=PAD)
            self.speller = nn.LSTM(config.char_embed_size, config.char_size, batch_first=True, bidirectional=True)

    def forward(self, words: torch.Tensor, spellings: torch.Tensor, spelled: torch.Tensor) -> torch.Tensor:
        vectors = self.words(words)
        if not self.char_size:
            return vectors
        lengths = (spellings != PAD).sum(1).clamp(min=1)
        packed = pack_padded_sequence(self.characters(spellings), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, (last, _) = self.speller(packed)
        spelt = torch.cat([last[0], last[1]], dim=-1)  # forward after the last character, backward after the first
        # a lookup, not spelt[spelled]: the gradient of advanced indexing is summed in an order
        # that varies between runs on several CPU threads, and training must repeat exactly
        return torch.cat([vectors, nn.functional.embedding(spelled, spelt)], dim=-1)


class RNNTagger(nn.Module):
    def __init__(self, config: ModelConfig, words: int, characters: int, tags: int):
        super().__init__()
        self.features = Spelling(config, words, characters)
        directions = 2 if config.bidirectional else 1
        self.encoder = Encoder(self.features, config.cell, config.encoder_output_size // directions,
                               config.encoder_layers, config.bidirectional, config.dropout, config.layer_norm)
        self.output = nn.Linear(self.encoder.output_size, tags)
        self.crf = CRF(tags) if config.crf else None

    def forward(self, words: torch.Tensor, spellings: torch.Tensor, spelled: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.encoder.read(self.features(words, spellings, spelled), words != PAD)
        return self.output(outputs)

    def loss(self, scores: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor,
             label_smoothing: float = 0.0) -> torch.Tensor:
        """The summed loss of ``tags`` ``(B, S)``: the CRF's negative log-likelihood of each
        sentence, or the cross-entropy of each word."""
        if self.crf is not None:
            return self.crf.negative_log_likelihood(scores, tags, mask)
        return nn.functional.cross_entropy(scores[mask].float(), tags[mask], label_smoothing=label_smoothing,
                                           reduction="sum")

    def decode(self, scores: torch.Tensor, mask: torch.Tensor) -> tuple[list[list[int]], torch.Tensor]:
        """The best tags of each sentence and each word's tag probabilities ``(B, S, T)``
        (CRF: the marginals, and the tags of the Viterbi path)."""
        if self.crf is not None:
            return self.crf.viterbi(scores, mask), self.crf.marginals(scores, mask)
        probabilities = scores.float().softmax(-1)
        best = probabilities.argmax(-1).tolist()
        return [row[:length] for row, length in zip(best, mask.sum(1).tolist())], probabilities
