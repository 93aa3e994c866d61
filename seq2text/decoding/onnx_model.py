"""An exported translation model (``seq2text export``) run by ONNX Runtime, searched as one.

:class:`OnnxSeq2Seq` satisfies :class:`~seq2text.decoding.protocols.EncoderDecoder`: greedy
and beam search, n-best lists and penalties run on it unchanged.  Its state is the PyTorch
:class:`~seq2text.models.decoder.DecoderState` (on the CPU), handed to the graphs as NumPy
arrays that share the tensors' memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np
import torch

from seq2text.textfile import read_json
from seq2text.errors import Seq2TextError
from seq2text.model_folder import ENCODER_FILE, EXPORT_FILE, STEP_FILE, TOKENIZER_DIR
from seq2text.models.decoder import DecoderState, Hidden

FORMAT = "seq2text-onnx-1"
STATE_NAMES = ["hidden", "feed", "keys", "memory"]
STEP_INPUTS = ["previous", *STATE_NAMES, "mask"]


def pack_hidden(hidden: list[Hidden]) -> torch.Tensor:
    """Per-layer states (``(N, H)`` or LSTM pairs) as one ``(layers, N, H or 2H)`` tensor."""
    return torch.stack([torch.cat(h, dim=-1) if isinstance(h, tuple) else h for h in hidden])


def unpack_hidden(packed: torch.Tensor, cell: str) -> list[Hidden]:
    """The inverse of :func:`pack_hidden`."""
    if cell == "lstm":
        return [tuple(layer.chunk(2, dim=-1)) for layer in packed.unbind(0)]
    return list(packed.unbind(0))


class OnnxSeq2Seq:
    """The graphs of an exported folder in ONNX Runtime sessions (CPU, ``threads`` threads:
    default PyTorch's)."""

    def __init__(self, folder: Path, vocab_size: int, threads: Optional[int] = None):
        try:
            import onnxruntime  # noqa: PLC0415 (an optional package: seq2text[onnx])
        except ImportError:
            raise Seq2TextError("an exported model needs ONNX Runtime: pip install 'seq2text[onnx]'") from None
        self.folder = folder = Path(folder)
        meta_file = folder / EXPORT_FILE
        meta = read_json(meta_file, 2**16)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("cell") not in ("rnn", "gru", "lstm"):
            raise Seq2TextError(f"{meta_file}: not an exported model (expected format {FORMAT} and a cell)")
        self.cell, self.int8 = meta["cell"], meta.get("int8") is True
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings would break our one-line messages
        sessions = []
        for name in (ENCODER_FILE, STEP_FILE):
            try:
                sessions.append(onnxruntime.InferenceSession(str(folder / name), options,
                                                             providers=["CPUExecutionProvider"]))
            except Exception as err:  # ONNX Runtime raises its own exception types for bad files
                raise Seq2TextError(f"{folder / name}: not a readable ONNX graph "
                                    f"({str(err).splitlines()[0][:120]})") from None
        self.encoder, self.decoder = sessions
        self._check_shapes(vocab_size)
        self._device = torch.empty(0)

    def _check_shapes(self, vocab_size: int) -> None:
        """Refuse graphs that do not fit together or the tokenizer (another model's step.onnx or
        tokenizer/): the fixed sizes the encoder gives must be those the step takes, and the
        step must score the target tokenizer's vocabulary."""
        given = {out.name: out.shape for out in self.encoder.get_outputs()}
        for node in self.decoder.get_inputs():
            if node.name in given and not _compatible(given[node.name], node.shape):
                raise Seq2TextError(f"{self.folder / STEP_FILE}: its input {node.name} {node.shape} does not fit "
                                    f"{ENCODER_FILE}'s output {given[node.name]}: graphs of two different models")
        scores = {out.name: out.shape for out in self.decoder.get_outputs()}.get("log_probs", [None, None])
        if len(scores) != 2 or scores[1] != vocab_size:
            raise Seq2TextError(f"{self.folder / STEP_FILE}: scores {scores[-1]} target tokens, the tokenizer in "
                                f"{self.folder / TOKENIZER_DIR} has {vocab_size}: not the model's own tokenizer")

    def _run(self, session: Any, name: str, inputs: dict) -> list:
        try:
            return session.run(None, inputs)
        except Exception as err:  # ONNX Runtime raises its own exception types (a damaged or hostile graph)
            reason = str(err).splitlines()[0][:160]
            raise Seq2TextError(f"{self.folder / name}: ONNX Runtime failed ({reason})") from None

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor) -> DecoderState:
        inputs = {"src": src.numpy(), "mask": src_mask.numpy()}
        hidden, feed, keys, memory = self._run(self.encoder, ENCODER_FILE, inputs)
        return DecoderState(unpack_hidden(torch.from_numpy(hidden), self.cell), torch.from_numpy(feed),
                            torch.from_numpy(keys), torch.from_numpy(memory), src_mask)

    def step(self, previous: torch.Tensor, state: DecoderState
             ) -> tuple[torch.Tensor, DecoderState, Optional[torch.Tensor]]:
        """Log-probabilities ``(N, V)``, the new state and the attention weights ``(N, S)``."""
        values = (previous, pack_hidden(state.hidden), state.feed, state.keys, state.memory, state.mask)
        inputs = {name: np.ascontiguousarray(value.numpy()) for name, value in zip(STEP_INPUTS, values)}
        log_probs, hidden, feed, weights = (torch.from_numpy(out) for out in self._run(self.decoder, STEP_FILE, inputs))
        return log_probs, DecoderState(unpack_hidden(hidden, self.cell), feed, state.keys, state.memory,
                                       state.mask), weights

    def parameters(self) -> Iterator[torch.Tensor]:
        """What the search code asks for the device: the graphs take and give CPU tensors."""
        yield self._device


def _compatible(given: Any, taken: Any) -> bool:
    """Whether a tensor of shape ``given`` fits an input of shape ``taken``: the same rank, and
    the same size on every axis that both fix (dynamic axes are names or None)."""
    if not isinstance(given, list) or not isinstance(taken, list) or len(given) != len(taken):
        return False
    return all(a == b for a, b in zip(given, taken) if isinstance(a, int) and isinstance(b, int))
