"""What a training step asks of the machine: its matrix-product FLOPs and the rate matrix
products of its own shapes reach here (the roofline ``scripts/bench_train.py`` prints).

A recurrent step is hundreds of small matrix products (one per time step and layer, forward
and backward) plus elementwise work.  :func:`count_step` runs one step under PyTorch's
``FlopCounterMode`` (which counts ``2 m k n`` per product, forward and backward) and records
the shape and dtype of every product; :func:`gemm_seconds` times products of exactly those
shapes alone, so that ``counted FLOPs / summed product time`` is the rate this CPU allows the
step, and ``counted FLOPs / step time`` what the step achieves.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

# The products a recurrent step runs, and where their operands sit in the op's arguments.
PRODUCTS = {torch.ops.aten.mm.default: (0, 1), torch.ops.aten.addmm.default: (1, 2),
            torch.ops.aten.bmm.default: (0, 1), torch.ops.aten.baddbmm.default: (1, 2)}


@dataclass(frozen=True)
class Gemm:
    """One matrix-product shape: ``batch`` products of ``(m, k) x (k, n)`` in ``dtype``."""

    batch: int
    m: int
    k: int
    n: int
    dtype: torch.dtype

    @property
    def flops(self) -> int:
        return 2 * self.batch * self.m * self.k * self.n


@dataclass
class StepCount:
    """The products of one training step: FlopCounterMode's total and each shape's count."""

    flops: int
    gemms: Counter = field(default_factory=Counter)  # Gemm -> how often the step ran it

    def by_dtype(self) -> dict[str, int]:
        """FLOPs per operand dtype (``{"float32": ..., "bfloat16": ...}``): under bf16 autocast,
        the products that still run in fp32."""
        found: Counter = Counter()
        for gemm, times in self.gemms.items():
            found[str(gemm.dtype).removeprefix("torch.")] += gemm.flops * times
        return dict(found)


class _Shapes(TorchDispatchMode):
    """Records the shape of every matrix product dispatched while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.gemms: Counter = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        operands = PRODUCTS.get(func)
        if operands is not None:
            a, b = (args[i] for i in operands)
            batch = a.size(0) if a.dim() == 3 else 1
            self.gemms[Gemm(batch, a.size(-2), a.size(-1), b.size(-1), a.dtype)] += 1
        return func(*args, **(kwargs or {}))


def count_step(step: Callable[[], Any]) -> StepCount:
    """Run ``step`` (a forward and backward pass) once, counting its matrix products."""
    shapes = _Shapes()
    with FlopCounterMode(display=False) as counter, shapes:
        step()
    return StepCount(counter.get_total_flops(), shapes.gemms)


def gemm_seconds(gemms: Counter, repeats: int = 20) -> float:
    """Seconds that the products ``gemms`` (shape -> count) take alone on this machine: each
    distinct shape timed ``repeats`` times on random operands of its dtype, best of three."""
    total = 0.0
    for gemm, times in gemms.items():
        shape_a = (gemm.batch, gemm.m, gemm.k) if gemm.batch > 1 else (gemm.m, gemm.k)
        shape_b = (gemm.batch, gemm.k, gemm.n) if gemm.batch > 1 else (gemm.k, gemm.n)
        a, b = torch.randn(shape_a, dtype=gemm.dtype), torch.randn(shape_b, dtype=gemm.dtype)
        product = torch.bmm if gemm.batch > 1 else torch.mm
        product(a, b)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for _ in range(repeats):
                product(a, b)
            best = min(best, (time.perf_counter() - started) / repeats)
        total += best * times
    return total
