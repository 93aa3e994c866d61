"""The encoder-decoder model a recipe's ``model`` section describes.

``Seq2Seq(config, src_vocab, tgt_vocab)``; ``forward(src, src_mask, tgt_in)`` returns logits
``(B, T, V)`` for teacher-forced training; search code uses :meth:`encode` and :meth:`step`.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from seq2text.models.attention import make_attention
from seq2text.models.decoder import Decoder, DecoderState
from seq2text.models.encoder import Encoder
from seq2text.recipe import ModelConfig
from seq2text.tokenizers import PAD


class Seq2Seq(nn.Module):
    def __init__(self, config: ModelConfig, src_vocab: int, tgt_vocab: int):
        super().__init__()
        src_embedding = nn.Embedding(src_vocab, config.embed_size, padding_idx=PAD)
        shared = config.share_embeddings and src_vocab == tgt_vocab
        tgt_embedding = src_embedding if shared else nn.Embedding(tgt_vocab, config.embed_size, padding_idx=PAD)
        directions = 2 if config.bidirectional else 1
        self.encoder = Encoder(src_embedding, config.cell, config.encoder_output_size // directions,
                               config.encoder_layers, config.bidirectional, config.dropout, config.layer_norm)
        attention = make_attention(config.attention, config.hidden_size, self.encoder.output_size)
        output_size = config.embed_size if config.tied_embeddings else config.hidden_size
        self.decoder = Decoder(tgt_embedding, config.cell, config.hidden_size, config.decoder_layers,
                               self.encoder.output_size, attention, config.input_feeding,
                               config.dropout, config.layer_norm, output_size)
        self.generator = nn.Linear(self.decoder.output_size, tgt_vocab, bias=False)
        if config.tied_embeddings:  # sizes checked by ModelConfig
            self.generator.weight = tgt_embedding.weight

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor) -> DecoderState:
        """Run the encoder over ``src`` ``(B, S)``; returns the decoder's first state."""
        memory, final = self.encoder(src, src_mask)
        return self.decoder.init_state(memory, src_mask, final)

    def step(self, previous: torch.Tensor, state: DecoderState
             ) -> tuple[torch.Tensor, DecoderState, Optional[torch.Tensor]]:
        """Log-probabilities ``(B, V)`` of the next token after ``previous`` ``(B,)``."""
        output, state, weights = self.decoder.step(previous, state)
        # In float32 even under bf16 autocast: search adds these up over many steps.
        return torch.log_softmax(self.generator(output).float(), dim=-1), state, weights

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor, tgt_in: torch.Tensor,
                tgt_mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Logits ``(B, T, V)`` and attention ``(B, T, S)`` under teacher forcing.

        With ``tgt_mask`` ``(B, T)`` the logits are those of its True positions only, ``(N, V)``,
        in row-major order, and the decoder skips the padded steps (no attention is returned):
        padding is often half of the positions of a batch of random sentences.
        """
        outputs, weights = self.decoder(tgt_in, self.encode(src, src_mask), tgt_mask)
        return self.generator(outputs), weights
