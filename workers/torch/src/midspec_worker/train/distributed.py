"""Data-parallel training across processes started by torchrun, with FSDP2 sharding.

A run with world_size > 1 is launched by the spawned training child as
`python -m torch.distributed.run --standalone --nproc_per_node=N -m midspec_worker.train.child`;
each rank trains a `fully_shard`ed copy of the model (every decoder layer, then the root) on its
own slice of each global micro-batch (micro_batch_size rows per process). Rank 0 alone writes
events and checkpoints; checkpoints gather the full state into an unsharded twin and save that
with the one-process code, so the weights' formats stay the same. The optimizer state is gathered
unsharded too (keyed by parameter name) and the RNG state of every rank is kept, so a run resumes
mid-stage: each rank reloads the full weights, shards them, and takes its shard of the optimizer
state and its own RNG state back.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import torch
import torch.distributed as dist


class Group:
    """The process group seen by the training loop; world size 1 is the plain one-process case."""

    def __init__(self) -> None:
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def start(self, device: torch.device) -> None:
        if self.active and not dist.is_initialized():
            if device.type == "cuda":
                # Object collectives (the RNG states in checkpoints) use the current device.
                torch.cuda.set_device(device)
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def stop(self) -> None:
        if self.active and dist.is_initialized():
            dist.destroy_process_group()

    def total(self, value: float) -> float:
        """The sum of `value` over all ranks."""
        if not self.active:
            return value
        tensor = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(tensor)
        return float(tensor.item())

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any: ranks must stop at the same step."""
        return self.total(1.0 if flag else 0.0) > 0

    def shard(self, model: Any) -> Any:
        """A fully_shard'ed copy of `model` (which stays whole, for checkpoints)."""
        from torch.distributed.fsdp import fully_shard

        sharded = copy.deepcopy(model)
        for module in sharded.modules():
            if type(module).__name__.endswith("DecoderLayer"):
                fully_shard(module)
        fully_shard(sharded)
        return sharded

    def trainer_state(self, sharded: Any, optimizer: Any) -> dict[str, Any]:
        """What a resume needs beyond the weights and the schedule (a collective call when active):
        the optimizer state and, with several ranks, every rank's RNG state. Complete on rank 0
        only; the other ranks get a dict they must not save."""
        from midspec_worker.train import checkpoints

        if not self.active:
            return {"optimizer": optimizer.state_dict()}
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions,
            get_optimizer_state_dict,
        )

        # Full (unsharded) and offloaded to the CPU: only rank 0 holds it, as it alone saves.
        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        state = get_optimizer_state_dict(sharded, optimizer, options=options)
        generators: list[Any] = [None] * self.world_size
        dist.all_gather_object(generators, checkpoints.rng_state())
        return {"optimizer": state, "rank_rng": generators}

    def restore_trainer_state(self, sharded: Any, optimizer: Any, state: dict[str, Any]) -> None:
        """Take back what `trainer_state` gave: this rank's optimizer shard and RNG state."""
        from midspec_worker.train import checkpoints

        if not self.active:
            optimizer.load_state_dict(state["optimizer"])
            checkpoints.restore_rng(state)
            return
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions,
            set_optimizer_state_dict,
        )

        # Every rank reads the same full state and keeps its own shard of it.
        options = StateDictOptions(full_state_dict=True)
        set_optimizer_state_dict(sharded, optimizer, state["optimizer"], options=options)
        checkpoints.restore_rng(state["rank_rng"][self.rank])

    def gather_into(self, sharded: Any, whole: Any) -> None:
        """Copy the sharded model's full state into its unsharded twin (a collective call)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        state = get_model_state_dict(sharded, options=StateDictOptions(full_state_dict=True))
        whole.load_state_dict(state, strict=False)


def max_world_size() -> int:
    """Processes one run may use: the GPUs on CUDA machines, otherwise CPU processes (gloo)."""
    if torch.cuda.is_available():
        return torch.cuda.device_count()
    return max(1, min(8, os.cpu_count() or 1))
