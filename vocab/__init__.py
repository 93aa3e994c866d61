"""Tokenizers of the bundled models, one folder per model; installed as ``seq2text.vocab``."""
