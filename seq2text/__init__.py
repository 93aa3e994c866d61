"""seq2text: recurrent sequence models for translation, poems and couplets."""

__version__ = "0.1.0"
