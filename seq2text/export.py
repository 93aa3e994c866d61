"""``seq2text export``: a translation model as two ONNX graphs, for ONNX Runtime.

An exported folder holds

- ``encoder.onnx``: ``(src (B, S) int64, mask (B, S) bool)`` -> the decoder's first state;
- ``step.onnx``: ``(previous (N,) int64, hidden, feed, keys, memory, mask)`` -> ``(log_probs
  (N, V), hidden, feed, weights (N, S))``, one decoder step;
- ``recipe.yaml``, ``tokenizer/`` and ``export.json`` (format, cell, whether int8).

The hidden state travels as one tensor ``(layers, N, H)`` (LSTM: ``h`` and ``c`` side by side,
``(layers, N, 2H)``).  ``int8`` quantizes the weights of the matrix products with ONNX Runtime's
dynamic quantization (activations quantized per call).  Search stays in Python and runs the
graphs through :class:`~seq2text.decoding.onnx_model.OnnxSeq2Seq`; ``seq2text translate -m
FOLDER`` and ``Translator.load(FOLDER)`` take an exported folder.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch
from torch import nn

from seq2text.errors import Seq2TextError
from seq2text.models.decoder import DecoderState
from seq2text.decoding.onnx_model import FORMAT, STATE_NAMES, STEP_INPUTS, pack_hidden, unpack_hidden
from seq2text.model_folder import ENCODER_FILE, EXPORT_FILE, STEP_FILE, EXPORT_NAMES, check_replaceable, new_model_folder
from seq2text.pretrained import Pretrained
from seq2text.tasks import task_of

OPSET = 17


class EncoderGraph(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, src: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        state = self.model.encode(src, mask)
        return pack_hidden(state.hidden), state.feed, state.keys, state.memory


class StepGraph(nn.Module):
    def __init__(self, model: nn.Module, cell: str):
        super().__init__()
        self.model, self.cell = model, cell

    def forward(self, previous: torch.Tensor, hidden: torch.Tensor, feed: torch.Tensor, keys: torch.Tensor,
                memory: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        state = DecoderState(unpack_hidden(hidden, self.cell), feed, keys, memory, mask)
        log_probs, state, weights = self.model.step(previous, state)
        return log_probs, pack_hidden(state.hidden), state.feed, weights


@contextmanager
def quiet() -> Iterator[None]:
    """Silence the exporters' notes: the TorchScript exporter's Python warnings (tracing,
    deprecation) and C++ ones on stderr (shape inference of packed sequences, which the tests
    show harmless: the graphs give PyTorch's outputs for other batch and source sizes), and
    the quantizer's advice logged to the root logger."""
    root = logging.getLogger()
    level = root.level
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.setLevel(logging.ERROR)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            root.setLevel(level)


def export_onnx(loaded: Pretrained, target: Path, int8: bool = False, force: bool = False) -> Path:
    """Write ``loaded`` (a translation model with attention) as an exported folder ``target``,
    atomically (temporary folder + rename)."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415 (optional: seq2text[onnx])
    except ImportError:
        raise Seq2TextError("export needs ONNX Runtime: pip install 'seq2text[onnx]'") from None
    recipe = loaded.recipe
    if not task_of(loaded).exportable:
        raise Seq2TextError(f"{loaded.name}: its task is {loaded.task}; export takes translation models")
    if recipe.model.attention == "none":
        raise Seq2TextError(f"{loaded.name}: a model without attention; export takes attention models")
    target = Path(target)
    check_replaceable(target, EXPORT_NAMES, force)
    if loaded.exported:
        raise Seq2TextError(f"{loaded.name}: already exported; export the model it came from")
    with new_model_folder(target, recipe.to_yaml(), loaded.folder.tokenizer) as tmp:
        model = loaded.model.cpu().eval()
        src = torch.tensor([[5, 6, 7, 8], [5, 6, 7, 0]])  # sizes for tracing; the axes stay dynamic
        mask = src != 0
        with torch.no_grad():
            state = model.encode(src, mask)
        batch, source = {0: "batch", 1: "source"}, {1: "batch"}
        graphs = [
            (EncoderGraph(model), (src, mask), ENCODER_FILE, ["src", "mask"], STATE_NAMES,
             {"src": batch, "mask": batch, "hidden": source, "feed": {0: "batch"}, "keys": batch, "memory": batch}),
            (StepGraph(model, recipe.model.cell), (torch.tensor([5, 6]), pack_hidden(state.hidden), state.feed,
                                                   state.keys, state.memory, mask), STEP_FILE, STEP_INPUTS,
             ["log_probs", *(f"next_{name}" for name in STATE_NAMES[:2]), "weights"],
             {"previous": {0: "batch"}, "hidden": source, "feed": {0: "batch"}, "keys": batch, "memory": batch,
              "mask": batch, "log_probs": {0: "batch"}, "next_hidden": source, "next_feed": {0: "batch"},
              "weights": batch}),
        ]
        with quiet():
            for graph, inputs, name, input_names, output_names, axes in graphs:
                plain = tmp / (f"fp32-{name}" if int8 else name)
                torch.onnx.export(graph.eval(), inputs, str(plain), dynamo=False, opset_version=OPSET,
                                  input_names=input_names, output_names=output_names, dynamic_axes=axes)
                if int8:
                    quantize_dynamic(str(plain), str(tmp / name), weight_type=QuantType.QInt8)
                    plain.unlink()
        meta = {"format": FORMAT, "cell": recipe.model.cell, "int8": int8, "source": loaded.name}
        (tmp / EXPORT_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return target
