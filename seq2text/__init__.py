"""seq2text: recurrent sequence models for translation, poems, couplets, text classification and
tagging.

The Python API: ``from seq2text import Translator, Generator, Classifier, Tagger`` (see
:mod:`seq2text.translator`, :mod:`seq2text.generator`, :mod:`seq2text.classifier` and
:mod:`seq2text.tagger`).
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["Classifier", "Generator", "Tagger", "Translator", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `seq2text --help` does not pay for loading PyTorch.
    if name == "Translator":
        from seq2text.translator import Translator  # noqa: PLC0415 (lazy: see above)

        return Translator
    if name == "Generator":
        from seq2text.generator import Generator  # noqa: PLC0415 (lazy: see above)

        return Generator
    if name == "Classifier":
        from seq2text.classifier import Classifier  # noqa: PLC0415 (lazy: see above)

        return Classifier
    if name == "Tagger":
        from seq2text.tagger import Tagger  # noqa: PLC0415 (lazy: see above)

        return Tagger
    raise AttributeError(f"module 'seq2text' has no attribute {name!r}")
