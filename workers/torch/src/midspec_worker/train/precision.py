"""Which dtypes training uses: half-precision math, fp32 where updates accumulate.

On CUDA the default compute dtype is bfloat16 (a run's `dtype` overrides it); on CPU it is fp32.
- Full fine-tuning keeps fp32 master weights and runs the forward and backward under bf16
  autocast, so small updates are not lost to bf16 rounding and AdamW's state is fp32.
- LoRA loads the frozen base in the compute dtype (half the memory) and keeps the adapter weights,
  their gradients and optimizer state in fp32; autocast runs the mixed matmuls in bf16.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch


def compute_dtype(requested: str, device: torch.device) -> torch.dtype:
    if requested:
        dtype: torch.dtype = getattr(torch, requested)
        return dtype
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def load_dtype(compute: torch.dtype, full_finetune: bool) -> torch.dtype:
    """What the model is loaded in: fp32 master weights when any stage trains every weight."""
    return torch.float32 if full_finetune else compute


def autocast(device: torch.device, compute: torch.dtype) -> contextlib.AbstractContextManager[Any]:
    if compute == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=compute)


def adapters_in_fp32(model: Any) -> None:
    """Trainable (adapter) weights in fp32 whatever the base's dtype."""
    for parameter in model.parameters():
        if parameter.requires_grad and parameter.dtype != torch.float32:
            parameter.data = parameter.data.float()
