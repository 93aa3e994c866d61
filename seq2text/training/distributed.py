"""Multi-process training with DistributedDataParallel, started by ``torchrun``.

``torchrun --nproc_per_node N -m seq2text train RECIPE`` sets ``RANK``/``WORLD_SIZE``; each
process then trains on its slice of every global batch (see
:class:`seq2text.data.batching.BucketBatcher`), gradients are averaged by DDP, and only rank 0
writes checkpoints and logs.  Backend: nccl on GPUs, gloo on the CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Process:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def sum(self, value: float) -> float:
        """``value`` summed over all processes."""
        if self.world_size == 1:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return float(tensor.item())

    def gather_rng(self) -> list[torch.Tensor]:
        """Every process's torch RNG state (so a resumed run replays each one's dropout)."""
        state = torch.get_rng_state()
        if self.world_size == 1:
            return [state]
        states: list = [None] * self.world_size
        dist.all_gather_object(states, state)
        return states


def start(device: torch.device) -> Process:
    """Join the process group if ``torchrun`` started us; a single process otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Process()
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return Process(dist.get_rank(), world_size, device)


def finish(process: Process) -> None:
    """Wait until every process has finished training.  A rank that leaves the group while rank 0
    still writes its last checkpoint can abort inside gloo ("terminate called without an active
    exception"), so all ranks leave together."""
    if process.world_size > 1:
        dist.barrier()


def stop(process: Process) -> None:
    if process.world_size > 1:
        dist.destroy_process_group()
