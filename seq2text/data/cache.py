"""Where seq2text caches what it derives from corpora: ``$SEQ2TEXT_CACHE``, else
``~/.cache/seq2text``.  Token ids go to ``encoded/``, and the ``datasets`` library's own cache
of parsed TSV/CSV files to ``datasets/`` (not to ``~/.cache/huggingface``)."""

from __future__ import annotations

import os
from pathlib import Path

from seq2text.errors import Seq2TextError


def cache_dir() -> Path:
    """``$SEQ2TEXT_CACHE``, else ``~/.cache/seq2text``."""
    return Path(os.environ.get("SEQ2TEXT_CACHE", Path.home() / ".cache" / "seq2text"))


def cache_folder(name: str) -> Path:
    """The cache's sub-folder ``name``, created; one line if it cannot be."""
    folder = cache_dir() / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise Seq2TextError(f"SEQ2TEXT_CACHE: cannot create the cache folder {folder} ({err.strerror}); "
                            f"point SEQ2TEXT_CACHE at a writable folder") from None
    return folder
