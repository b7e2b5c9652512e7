"""Data-parallel training across processes started by torchrun, with FSDP2 sharding that saves
memory.

A run with world_size > 1 is launched as `torchrun ... -m midspec_worker.train.child DATA RUN`
(locally by the training child, or by a cluster launcher: midspec_worker.launch). Only rank 0 loads
the weights, on the CPU; every other rank builds the same model on the meta device (no memory).
For each stage a meta-device twin of that structure is `fully_shard`ed (every decoder layer, then
the root; bf16 compute and fp32 gradient reduction on CUDA), materialised with `to_empty`, and
filled by broadcasting rank 0's weights; each rank then holds 1/world_size of the parameters,
gradients and optimizer state. Nothing is copied whole per rank.

Mid-stage checkpoints are written by every rank at once through torch.distributed.checkpoint
(sharded model and optimizer state; DCP reshards on load, so a run can resume at another world
size). At the end of a stage the full weights are gathered once, to rank 0's CPU model, which
the next stage starts from and the final Hugging Face export is written from.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

SHARDED_DIR = "dcp"  # the torch.distributed.checkpoint folder inside a stage checkpoint


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

    def shard(self, whole: Any, device: torch.device) -> Any:
        """A fully_shard'ed twin of `whole` on `device`, holding rank 0's weights.

        `whole` is rank 0's CPU model (on other ranks the same structure on the meta device); it
        stays as it is, for the gather at the end of the stage.
        """
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions,
            set_model_state_dict,
        )
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        twin = meta_twin(whole)
        options: dict[str, Any] = {}
        if device.type == "cuda":
            options["mp_policy"] = MixedPrecisionPolicy(
                param_dtype=torch.bfloat16, reduce_dtype=torch.float32
            )
        for module in twin.modules():
            if type(module).__name__.endswith("DecoderLayer"):
                fully_shard(module, **options)
        fully_shard(twin, **options)
        twin.to_empty(device=device)
        full = whole.state_dict() if self.main else {}
        set_model_state_dict(
            twin,
            full,
            options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True, strict=False),
        )
        # Buffers (rotary frequencies, which no state dict holds) come from rank 0 as well.
        buffers = dict(whole.named_buffers())
        for name, buffer in twin.named_buffers():
            if self.main:
                buffer.copy_(buffers[name])
            dist.broadcast(buffer, src=0)
        return twin

    def trainer_state(self) -> dict[str, Any]:
        """Every rank's RNG state, complete on rank 0 only (a collective call when active)."""
        from midspec_worker.train import checkpoints

        generators: list[Any] = [None] * self.world_size
        dist.all_gather_object(generators, checkpoints.rng_state())
        return {"rank_rng": generators}

    def restore_rng(self, state: dict[str, Any]) -> None:
        from midspec_worker.train import checkpoints

        generators = state.get("rank_rng")
        if generators is None:
            checkpoints.restore_rng(state)
        elif self.rank < len(generators):
            # At another world size the extra ranks keep the seeded state they started with.
            checkpoints.restore_rng(generators[self.rank])

    def scratch(self, parent: Path) -> Path:
        """A fresh folder under `parent` that every rank writes into (shared storage when ranks
        span nodes); rank 0 creates it and tells the others."""
        name = [tempfile.mkdtemp(prefix=".tmp-dcp-", dir=parent) if self.main else None]
        if self.active:
            dist.broadcast_object_list(name, src=0)
        return Path(str(name[0]))

    def save_sharded(self, model: Any, optimizer: Any, folder: Path) -> None:
        """Every rank writes its shard of the model and optimizer state (a collective call)."""
        import torch.distributed.checkpoint as dcp

        dcp.save(_dcp_state(model, optimizer), checkpoint_id=str(folder))

    def load_sharded(self, model: Any, optimizer: Any, folder: Path) -> None:
        """Read a sharded checkpoint back; DCP reshards it to this world size."""
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

        state = _dcp_state(model, optimizer)
        # dcp.load fails on a key the checkpoint lacks; the frozen weights are not in it.
        dcp.load(state, checkpoint_id=str(folder))
        set_state_dict(
            model,
            optimizer,
            model_state_dict=state["model"],
            optim_state_dict=state["optimizer"],
            options=StateDictOptions(ignore_frozen_params=True, strict=False),
        )

    def restore_full_optimizer(self, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
        """Take this rank's part of a full optimizer state (a checkpoint of one process)."""
        if not self.active:
            optimizer.load_state_dict(state)
            return
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions,
            set_optimizer_state_dict,
        )

        options = StateDictOptions(full_state_dict=True)
        set_optimizer_state_dict(model, optimizer, state, options=options)

    def gather_into(self, sharded: Any, whole: Any) -> None:
        """Gather the sharded model's full weights into rank 0's CPU model (a collective call);
        the other ranks receive nothing."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        state = get_model_state_dict(sharded, options=options)
        if self.main:
            whole.load_state_dict(state, strict=False)


def _dcp_state(model: Any, optimizer: Any) -> dict[str, Any]:
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

    # Frozen base weights (LoRA) are not saved: they come from the base model and earlier stages.
    options = StateDictOptions(ignore_frozen_params=True)
    model_state, optimizer_state = get_state_dict(model, optimizer, options=options)
    return {"model": model_state, "optimizer": optimizer_state}


def meta_twin(model: torch.nn.Module) -> torch.nn.Module:
    """The same module structure with every parameter and buffer on the meta device.

    A deepcopy whose memo maps each tensor to a meta stand-in, so nothing is copied; ties between
    parameters (shared embeddings) survive because the memo is keyed by identity.
    """
    memo: dict[int, Any] = {}
    for parameter in model.parameters():
        memo[id(parameter)] = torch.nn.Parameter(
            torch.empty_like(parameter, device="meta"), requires_grad=parameter.requires_grad
        )
    for buffer in model.buffers():
        memo[id(buffer)] = torch.empty_like(buffer, device="meta")
    return copy.deepcopy(model, memo)


def on_meta(model: torch.nn.Module) -> bool:
    return any(parameter.is_meta for parameter in model.parameters())


def load_skeleton(path: Path, dtype: torch.dtype) -> tuple[Any, Any]:
    """The model of a Hugging Face folder on the meta device (no weights read), and its tokenizer:
    what ranks other than 0 hold between stages."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from midspec_worker.tokenizer import ensure_chat_template

    tokenizer = AutoTokenizer.from_pretrained(path)
    ensure_chat_template(tokenizer)
    config = AutoConfig.from_pretrained(path)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")
    return model, tokenizer


def lost_peer(error: BaseException) -> bool:
    """Whether a collective failed because another rank went away (killed, its node lost)."""
    if isinstance(error, dist.DistError):
        return True
    text = str(error)
    return any(
        sign in text
        for sign in ("Connection closed by peer", "Connection reset by peer", "Broken pipe")
    )


def max_world_size() -> int:
    """Processes one run may use: the GPUs on CUDA machines, otherwise CPU processes (gloo)."""
    if torch.cuda.is_available():
        return torch.cuda.device_count()
    return max(1, min(8, os.cpu_count() or 1))
