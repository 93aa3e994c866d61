"""The devices seq2text runs on: ``cpu``, ``cuda`` (``cuda:N``) and ``mps``, checked once."""

from __future__ import annotations

import re

import torch

from seq2text.errors import Seq2TextError, shown

DEVICE = re.compile(r"cpu|mps|cuda(:[0-9]{1,3})?")


def resolve_device(name: str | torch.device) -> torch.device:
    """The device ``name`` names, if this machine has it; a one-line error otherwise (``meta``,
    ``cuda`` without a GPU, a typo)."""
    text = str(name)
    if not DEVICE.fullmatch(text):
        raise Seq2TextError(f"device {shown(text)}: not supported (cpu, cuda, cuda:N or mps)")
    device = torch.device(text)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise Seq2TextError(f"device {text}: CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise Seq2TextError(f"device {text}: this machine has {torch.cuda.device_count()} CUDA devices")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise Seq2TextError(f"device {text}: MPS is not available on this machine")
    return device
