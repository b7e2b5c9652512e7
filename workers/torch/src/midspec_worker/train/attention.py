"""Attention over packed rows: each document attends only to itself, without a dense mask.

Three paths, all computing the same thing (tests/test_attention.py checks them against each other):
- `flash_attention_2` (CUDA, half precision, flash-attn installed): varlen kernels on the row
  stream cut at every document, through transformers' `cu_seq_lens_*` keyword arguments.
- `VARLEN` (everywhere else): one causal SDPA call per document, registered with transformers'
  AttentionInterface. A 512-token row of a few documents costs the sum of their squared lengths
  instead of 512² (more than half of a CPU step of the tiny models went to the masked 512×512
  attention), and no (rows, 1, length, length) mask is built or read.
- the dense block-diagonal additive mask with SDPA: compiled stages (a per-document loop would
  recompile on every new set of lengths) and models with sliding-window or soft-capped attention.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

import torch
import torch.nn.functional as F

VARLEN = "midspec_varlen"
# The keyword argument that carries a batch's document lengths down to every attention layer.
LENGTHS = "midspec_document_lengths"
_FLASH = ("flash_attention_2", "flash_attention_3")


def varlen_attention_forward(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Causal attention within each document of each row; (batch, length, heads, dim) out.

    `query` is (rows, heads, length, dim), `key` and `value` (rows, kv heads, length, dim).
    Positions after a row's last document (padding) get zeros: they attend to nothing, nothing
    attends to them, and their targets are ignored. Without document lengths (a call that is not a
    packed training batch: generation, scoring) this is transformers' ordinary SDPA attention.
    """
    lengths = kwargs.get(LENGTHS)
    if lengths is None:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    if kwargs.get("sliding_window") is not None or kwargs.get("softcap") is not None:
        raise ValueError("per-document attention supports neither sliding windows nor soft-capping")
    rows, heads, length, dim = query.shape
    kv_heads = key.shape[1]
    gathers, inverse = _plan(lengths, length, query.device)
    # Queries, keys and values side by side, (rows · length, heads + 2 · kv heads, dim): one
    # gather per call instead of three (on a busy CPU every extra kernel launch waits its turn).
    qkv = torch.cat([t.transpose(1, 2) for t in (query, key, value)], dim=2)
    qkv = qkv.view(rows * length, heads + 2 * kv_heads, dim)
    outs = []
    for index in gathers:
        x = qkv[index].transpose(1, 2)  # (documents, heads + 2 · kv heads, longest, dim)
        out = F.scaled_dot_product_attention(
            x[:, :heads],
            x[:, heads : heads + kv_heads],
            x[:, heads + kv_heads :],
            dropout_p=dropout,
            is_causal=True,
            scale=scaling,
            enable_gqa=kv_heads != heads,
        )
        outs.append(out.transpose(1, 2).reshape(-1, heads, dim))
    outs.append(query.new_zeros(1, heads, dim))  # what padding positions read
    return torch.cat(outs)[inverse].view(rows, length, heads, dim), None


# The cost of one more attention call, in units of one query-key score: a call of a few documents
# padded to the longest costs their count times its square, plus this. Measured on CPU, a 512-token
# causal call costs about 25 times a 64-token one rather than 64 times: about 100² of overhead.
CALL_COST = 128 * 128


def _partition(sizes: list[int]) -> list[tuple[int, int]]:
    """Split lengths sorted longest first into runs [i, j), each one padded attention call, so that
    padding waste plus per-call cost is smallest (exact dynamic programme over the runs)."""
    best = [0.0] + [float("inf")] * len(sizes)
    cut = [0] * (len(sizes) + 1)
    for j in range(1, len(sizes) + 1):
        for i in range(j):
            cost = best[i] + (j - i) * sizes[i] ** 2 + CALL_COST
            if cost < best[j]:
                best[j], cut[j] = cost, i
    runs = []
    j = len(sizes)
    while j > 0:
        runs.append((cut[j], j))
        j = cut[j]
    return runs[::-1]


@functools.lru_cache(maxsize=16)
def _plan(
    lengths: tuple[tuple[int, ...], ...], length: int, device: torch.device
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Where each attention call reads its documents and where each position reads its output.

    Documents are grouped by length into a few calls; each call gathers its documents, right-padded
    to its longest one, from the flattened rows (`index`: (documents, longest) positions). Causal
    attention makes the right padding invisible to real positions. `inverse` maps every position of
    the flattened rows to its output in the concatenated call outputs (row padding: a zero row).
    Computed once per micro-batch (every layer and the backward pass reuse it).
    """
    documents = []  # (first position in the flattened rows, length)
    for r, row in enumerate(lengths):
        offset = r * length
        for n in row:
            documents.append((offset, n))
            offset += n
    documents.sort(key=lambda d: d[1], reverse=True)
    gathers = []
    inverse = torch.empty(len(lengths) * length, dtype=torch.long)
    filled = torch.zeros(len(lengths) * length, dtype=torch.bool)
    produced = 0
    for i, j in _partition([n for _, n in documents]):
        width = documents[i][1]
        index = torch.empty((j - i, width), dtype=torch.long)
        for g, (start, n) in enumerate(documents[i:j]):
            index[g, :n] = torch.arange(start, start + n)
            index[g, n:] = start + n - 1  # any real position: only padded queries see it
            inverse[start : start + n] = torch.arange(n) + produced + g * width
            filled[start : start + n] = True
        gathers.append(index.to(device))
        produced += (j - i) * width
    inverse[~filled] = produced
    return gathers, inverse.to(device)


def _register() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(VARLEN, varlen_attention_forward)


_register()


def flash_available(device: torch.device, dtype: torch.dtype) -> bool:
    return (
        device.type == "cuda"
        and dtype in (torch.float16, torch.bfloat16)
        and importlib.util.find_spec("flash_attn") is not None
    )


def supports_varlen(config: Any) -> bool:
    """Whether every attention layer is plain causal attention (no window, no soft-capping)."""
    layer_types = getattr(config, "layer_types", None) or []
    if any(kind != "full_attention" for kind in layer_types):
        return False
    windowed = getattr(config, "use_sliding_window", None)
    if windowed is None:  # Mistral-style configs: a window size alone turns the window on
        windowed = bool(getattr(config, "sliding_window", None))
    return not windowed and not getattr(config, "attn_logit_softcapping", None)


def choose(config: Any, device: torch.device, dtype: torch.dtype, compiled: bool) -> str:
    """The attention implementation a training stage uses for packed rows."""
    if flash_available(device, dtype):
        return "flash_attention_2"
    if compiled or not supports_varlen(config):
        return config._attn_implementation
    return VARLEN


def use(model: Any, implementation: str) -> str:
    """Switch the model's attention implementation; return the previous one (to restore)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    previous = base.config._attn_implementation
    if implementation != previous:
        # transformers checks the name and loads what a flash implementation needs.
        base.set_attn_implementation(implementation)
    return previous


def model_inputs(model: Any, batch: Any) -> dict[str, Any]:
    """The attention keyword arguments for a packed batch under the model's implementation."""
    implementation = model.config._attn_implementation
    if implementation == VARLEN:
        return {LENGTHS: batch.lengths}
    if implementation in _FLASH:
        cu_seqlens, longest = batch.cu_seqlens()
        return {
            "cu_seq_lens_q": cu_seqlens,
            "cu_seq_lens_k": cu_seqlens,
            "max_length_q": longest,
            "max_length_k": longest,
        }
    return {"attention_mask": batch.dense_mask()}
