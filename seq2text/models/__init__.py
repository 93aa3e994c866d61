"""Recurrent encoder-decoder models: encoder, attention, decoder, and the model that joins them."""

from seq2text.models.seq2seq import Seq2Seq

__all__ = ["Seq2Seq"]
