"""Training observability: model FLOPs utilisation and TensorBoard event files.

MFU = (model FLOPs per token x tokens per second) / (peak FLOP/s of the devices). Model FLOPs per
token follow the PaLM appendix: 6 N + 12 L h T (N the parameters outside the input embedding,
L layers, h hidden size, T the row length), counting a full backward pass even for LoRA, as the
convention does. Peak figures are dense bf16 from vendor data sheets; MIDSPEC_PEAK_TFLOPS
overrides them (per device); an unknown GPU or a CPU reports MFU 0.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

# Dense bf16 tensor-core peaks (TFLOP/s), matched against torch.cuda.get_device_name().
_PEAK_TFLOPS = (
    ("GB200", 2450.0),
    ("B200", 2250.0),
    ("H200", 989.0),
    ("H100 PCIe", 756.0),
    ("H100", 989.0),
    ("H800", 989.0),
    ("A100", 312.0),
    ("A800", 312.0),
    ("L40S", 362.0),
    ("L40", 181.0),
    ("L4", 121.0),
    ("A10G", 125.0),
    ("A10", 125.0),
    ("RTX 4090", 165.0),
    ("RTX 3090", 71.0),
)


def peak_flops(device: torch.device, dtype: torch.dtype) -> float:
    """Peak FLOP/s of one device for `dtype`; 0 when unknown (then MFU is reported as 0)."""
    override = os.environ.get("MIDSPEC_PEAK_TFLOPS")
    if override:
        return float(override) * 1e12
    if device.type != "cuda" or dtype != torch.bfloat16:
        return 0.0
    name = torch.cuda.get_device_name(device)
    for fragment, tflops in _PEAK_TFLOPS:
        if fragment in name:
            return tflops * 1e12
    return 0.0


def flops_per_token(model: Any, row_length: int) -> float:
    """Training FLOPs per token of `model` (6N + 12 L h T)."""
    config = model.config
    embeddings = model.get_input_embeddings()
    embedding_params = embeddings.weight.numel() if embeddings is not None else 0
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = sum(p.numel() for p in base.parameters()) - embedding_params
    if getattr(config, "tie_word_embeddings", False):
        params += embedding_params  # the output projection still multiplies by the embedding
    layers = getattr(config, "num_hidden_layers", 0)
    hidden = getattr(config, "hidden_size", 0)
    return 6.0 * params + 12.0 * layers * hidden * row_length


class Board:
    """Scalars of every metrics event, in DIR/runs/<run_id>/tensorboard (rank 0 only)."""

    def __init__(self, folder: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(log_dir=str(folder), flush_secs=5)
        self._step = 0

    def metrics(self, stage_name: str, metrics: Any) -> None:
        for name in ("loss", "learning_rate", "grad_norm", "tokens_per_second", "mfu"):
            self._writer.add_scalar(f"{stage_name}/{name}", getattr(metrics, name), metrics.step)
        self._writer.add_scalar(
            f"{stage_name}/packing_efficiency", metrics.packing_efficiency, metrics.step
        )
        self._writer.add_scalar(f"{stage_name}/tokens_seen", metrics.tokens_seen, metrics.step)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
