"""Learning-rate schedules: linear warm-up, then cosine, linear or constant."""

from __future__ import annotations

import math

from midspec_worker.gen.midspec.worker.v1 import runs_pb2


def lr_factor(
    step: int, total_steps: int, kind: int, warmup_ratio: float, min_ratio: float
) -> float:
    """Multiplier of the peak rate for 0-based optimizer step `step`."""
    warmup = math.ceil(warmup_ratio * total_steps)
    if step < warmup:
        # Step 0 already learns a little: a first step at lr 0 would be wasted work.
        return (step + 1) / (warmup + 1)
    if kind == runs_pb2.SCHEDULE_KIND_CONSTANT:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
    if kind == runs_pb2.SCHEDULE_KIND_LINEAR:
        shape = 1.0 - progress
    else:
        shape = 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_ratio + (1.0 - min_ratio) * shape
