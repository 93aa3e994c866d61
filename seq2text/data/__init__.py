"""Corpus loading, tokenisation caches and batching."""
