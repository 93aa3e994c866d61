"""Search over a trained model: batched greedy and beam search."""

from seq2text.decoding.beam import Hypothesis, beam_search, length_penalty
from seq2text.decoding.greedy import greedy_search

__all__ = ["Hypothesis", "beam_search", "greedy_search", "length_penalty"]
