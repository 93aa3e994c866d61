"""Search over a trained model: greedy, sampling and batched beam search, with logit processors
as the one place where output rules plug in."""

from seq2text.decoding.beam import beam_search
from seq2text.decoding.hypothesis import Hypothesis, length_penalty
from seq2text.decoding.processors import LogitProcessor, MinLength, NoRepeatNGram
from seq2text.decoding.sampling import greedy_search, restrict, sample

__all__ = ["Hypothesis", "LogitProcessor", "MinLength", "NoRepeatNGram", "beam_search", "greedy_search",
           "length_penalty", "restrict", "sample"]
