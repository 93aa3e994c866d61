"""Search over a trained model: greedy (and, with the decoding issue, beam search and sampling)."""

from seq2text.decoding.greedy import greedy_search

__all__ = ["greedy_search"]
