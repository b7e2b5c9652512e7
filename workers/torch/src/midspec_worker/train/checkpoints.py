"""Atomic checkpoint writing: everything goes to a hidden staging folder that is renamed at the end,
so a crash never leaves a checkpoint that looks complete but is not.

Stage checkpoints hold what a resume needs: the adapter (or the full model for full fine-tuning)
and, in trainer_state.pt, the optimizer, scheduler and RNG states, the data position (micro-batches
consumed) and whether the stage had finished. The final checkpoint is a merged Hugging Face folder
plus, for LoRA runs, the adapter in final/adapter.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import torch

from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.store import timestamp


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def write_atomically(
    target: Path,
    fill: Callable[[Path], None],
    guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> None:
    """Fill a staging folder, make it durable, then swap it in; the old folder is only removed
    once the new one is in place, so a crash leaves one whole checkpoint under `target`.

    `guard` wraps the swap (the training child passes its fenced store: a process whose lease was
    taken over raises there and replaces nothing).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        fill(staging)
        _fsync_tree(staging)
        with guard():
            _swap_in(staging, target)
        _fsync_dir(target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, target: Path) -> None:
    """Put `staging` at `target`. An existing target is exchanged atomically (renameat2 with
    RENAME_EXCHANGE on Linux; elsewhere renamed aside first), and what was there ends up at
    `staging`, for the caller to remove."""
    if not target.exists():
        os.replace(staging, target)
        return
    if _exchange(staging, target):
        return
    aside = Path(tempfile.mkdtemp(prefix=f".old-{target.name}-", dir=target.parent))
    os.replace(target, aside / "old")
    os.replace(staging, target)
    os.replace(aside / "old", staging)
    aside.rmdir()


def _exchange(first: Path, second: Path) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange)
    return bool(result == 0)


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        else:
            _fsync_dir(path)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def is_lora(model: Any) -> bool:
    from peft import PeftModel

    return isinstance(model, PeftModel)


def save_stage(
    target: Path,
    model: Any,
    tokenizer: Any,
    state: dict[str, Any],
    guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> list[caps.CheckpointFormat]:
    """Write a resumable stage checkpoint; return the formats it can be downloaded in.

    `state["sharded"]`, when present, is a torch.distributed.checkpoint folder written by every
    rank (the weights and optimizer state of a multi-process run); it moves into the checkpoint,
    which then holds no Hugging Face weights and offers no download format until its stage ends.
    """
    state = dict(state)
    sharded = state.pop("sharded", None)

    def fill(staging: Path) -> None:
        if sharded is not None:
            os.replace(sharded, staging / "dcp")
        elif is_lora(model):
            model.save_pretrained(staging / "adapter")
        else:
            model.save_pretrained(staging / "model")
            tokenizer.save_pretrained(staging / "model")
        torch.save(state, staging / "trainer_state.pt")

    write_atomically(target, fill, guard)
    if sharded is not None:
        return []
    return [caps.CHECKPOINT_FORMAT_ADAPTER if is_lora(model) else caps.CHECKPOINT_FORMAT_MERGED_HF]


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch_rng": torch.get_rng_state(), "python_rng": random.getstate()}
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch_rng"])
    random.setstate(state["python_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])


def load_state(folder: Path) -> dict[str, Any]:
    # Our own file from save_stage: it holds optimizer state and RNG tuples, not just tensors.
    state: dict[str, Any] = torch.load(folder / "trainer_state.pt", weights_only=False)
    return state


def load_weights(model: Any, folder: Path) -> None:
    """Load a stage checkpoint's adapter (or full model) into a model prepared for that stage."""
    from safetensors.torch import load_file

    if is_lora(model):
        from peft import set_peft_model_state_dict

        weights = load_file(str(folder / "adapter" / "adapter_model.safetensors"))
        set_peft_model_state_dict(model, weights)
        return
    weights = {}
    for shard in sorted((folder / "model").glob("*.safetensors")):
        weights.update(load_file(str(shard)))
    # Tied weights (the output embedding) are saved once; strict=False lets the tie fill them in.
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected:
        raise ValueError(f"checkpoint {folder.name} does not fit the model: {unexpected[:3]}")


def save_final(
    target: Path,
    model: Any,
    tokenizer: Any,
    guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> tuple[Any, list[caps.CheckpointFormat]]:
    """Write the merged model (and the adapter); return the merged model and the formats."""
    lora = is_lora(model)
    merged = model

    def fill(staging: Path) -> None:
        nonlocal merged
        if lora:
            model.save_pretrained(staging / "adapter")
            merged = model.merge_and_unload()
        merged.save_pretrained(staging)
        tokenizer.save_pretrained(staging)

    write_atomically(target, fill, guard)
    formats = [caps.CHECKPOINT_FORMAT_MERGED_HF]
    if lora:
        formats.append(caps.CHECKPOINT_FORMAT_ADAPTER)
    return merged, formats


def record(
    run_id: str,
    checkpoint_id: str,
    stage_index: int,
    step: int,
    final: bool,
    formats: list[caps.CheckpointFormat],
    path: Path,
) -> runs_pb2.Checkpoint:
    return runs_pb2.Checkpoint(
        id=checkpoint_id,
        run_id=run_id,
        stage_index=stage_index,
        step=step,
        final=final,
        formats=formats,
        created_at=timestamp(time.time()),
        size_bytes=folder_size(path),
        # Clients on this machine can load a merged folder directly; nothing else is exposed.
        local_path=str(path.resolve()) if caps.CHECKPOINT_FORMAT_MERGED_HF in formats else "",
    )
