"""An exported translation model (``seq2text export``) run by ONNX Runtime, searched as one.

:class:`OnnxSeq2Seq` satisfies :class:`~seq2text.decoding.protocols.EncoderDecoder`: greedy
and beam search, n-best lists and penalties run on it unchanged.  Its state is the PyTorch
:class:`~seq2text.models.decoder.DecoderState` (on the CPU), handed to the graphs as NumPy
arrays that share the tensors' memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch

from seq2text.errors import Seq2TextError
from seq2text.export import ENCODER_FILE, EXPORT_FILE, FORMAT, STEP_FILE, STEP_INPUTS, pack_hidden, unpack_hidden
from seq2text.models.decoder import DecoderState


class OnnxSeq2Seq:
    """The graphs of an exported folder in ONNX Runtime sessions (CPU, ``threads`` threads:
    default PyTorch's)."""

    def __init__(self, folder: Path, threads: Optional[int] = None):
        try:
            import onnxruntime
        except ImportError:
            raise Seq2TextError("an exported model needs ONNX Runtime: pip install 'seq2text[onnx]'") from None
        folder = Path(folder)
        meta_file = folder / EXPORT_FILE
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError(f"expected format {FORMAT}")
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise Seq2TextError(f"{meta_file}: not an exported model ({str(err)[:100]})") from None
        self.cell, self.int8 = meta.get("cell"), meta.get("int8") is True
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        sessions = []
        for name in (ENCODER_FILE, STEP_FILE):
            try:
                sessions.append(onnxruntime.InferenceSession(str(folder / name), options,
                                                             providers=["CPUExecutionProvider"]))
            except Exception as err:  # ONNX Runtime raises its own exception types for bad files
                raise Seq2TextError(f"{folder / name}: not a readable ONNX graph "
                                    f"({str(err).splitlines()[0][:120]})") from None
        self.encoder, self.decoder = sessions
        self._device = torch.empty(0)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor) -> DecoderState:
        hidden, feed, keys, memory = self.encoder.run(None, {"src": src.numpy(), "mask": src_mask.numpy()})
        return DecoderState(unpack_hidden(torch.from_numpy(hidden), self.cell), torch.from_numpy(feed),
                            torch.from_numpy(keys), torch.from_numpy(memory), src_mask)

    def step(self, previous: torch.Tensor, state: DecoderState
             ) -> tuple[torch.Tensor, DecoderState, Optional[torch.Tensor]]:
        """Log-probabilities ``(N, V)``, the new state and the attention weights ``(N, S)``."""
        values = (previous, pack_hidden(state.hidden), state.feed, state.keys, state.memory, state.mask)
        inputs = {name: np.ascontiguousarray(value.numpy()) for name, value in zip(STEP_INPUTS, values)}
        log_probs, hidden, feed, weights = (torch.from_numpy(out) for out in self.decoder.run(None, inputs))
        return log_probs, DecoderState(unpack_hidden(hidden, self.cell), feed, state.keys, state.memory,
                                       state.mask), weights

    def __call__(self, src: torch.Tensor, src_mask: torch.Tensor, tgt_in: torch.Tensor):
        raise Seq2TextError("an exported model only searches; attention heat-maps need the PyTorch model")

    def parameters(self) -> Iterator[torch.Tensor]:
        """What the search code asks for the device: the graphs take and give CPU tensors."""
        yield self._device
