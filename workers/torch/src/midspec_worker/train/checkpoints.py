"""Atomic checkpoint writing: everything goes to a hidden staging folder that is renamed at the end,
so a crash never leaves a checkpoint that looks complete but is not.

Stage checkpoints hold what a resume needs: the adapter (or the full model for full fine-tuning) and
the optimizer/scheduler/RNG state. The final checkpoint is a merged Hugging Face folder plus, for
LoRA runs, the adapter in final/adapter.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.store import timestamp


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def write_atomically(target: Path, fill: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    try:
        fill(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def is_lora(model: Any) -> bool:
    from peft import PeftModel

    return isinstance(model, PeftModel)


def save_stage(
    target: Path, model: Any, tokenizer: Any, state: dict[str, Any]
) -> list[caps.CheckpointFormat]:
    """Write a resumable stage checkpoint; return the formats it can be downloaded in."""

    def fill(staging: Path) -> None:
        if is_lora(model):
            model.save_pretrained(staging / "adapter")
        else:
            model.save_pretrained(staging / "model")
            tokenizer.save_pretrained(staging / "model")
        torch.save(
            {**state, "torch_rng": torch.get_rng_state(), "python_rng": random.getstate()},
            staging / "trainer_state.pt",
        )

    write_atomically(target, fill)
    return [caps.CHECKPOINT_FORMAT_ADAPTER if is_lora(model) else caps.CHECKPOINT_FORMAT_MERGED_HF]


def save_final(target: Path, model: Any, tokenizer: Any) -> tuple[Any, list[caps.CheckpointFormat]]:
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

    write_atomically(target, fill)
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
    )
