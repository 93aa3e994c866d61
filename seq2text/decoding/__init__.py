"""Search over a trained model: greedy, sampling and batched beam search, with logit processors
as the one place where output rules plug in, and :func:`decode_sources` for encoder-decoders."""

from seq2text.decoding.batch import decode_sources, encode_sources, output_limits
from seq2text.decoding.beam import beam_search
from seq2text.decoding.hypothesis import Hypothesis, length_penalty
from seq2text.decoding.processors import LogitProcessor, MinLength, NoRepeatNGram
from seq2text.decoding.protocols import EncoderDecoder, SearchModel, SearchState
from seq2text.decoding.sampling import greedy_search, restrict, sample

__all__ = ["EncoderDecoder", "Hypothesis", "LogitProcessor", "MinLength", "NoRepeatNGram", "SearchModel",
           "SearchState", "beam_search", "decode_sources", "encode_sources", "greedy_search", "length_penalty",
           "output_limits", "restrict", "sample"]
