"""Base models: the built-in tiny family, local Hugging Face folders and Hub ids (hub.py).

Tiny models are random-initialised from a transformers config with the run's seed, saved with
save_pretrained and loaded back with AutoModelForCausalLM.from_pretrained, so they exercise exactly
the loading path a real checkpoint takes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from midspec_worker import hub, model_policy
from midspec_worker.errors import ModelNotFound

TINY_PREFIX = "tiny:"
# Every built-in model shares one shape: big enough to learn a little, small enough for 2 CPU cores.
_TINY_SHAPE: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 176,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "max_position_embeddings": 8192,
    "tie_word_embeddings": True,
}
BUILTIN = ("llama", "qwen3")
MAX_SEQUENCE_LENGTH = 8192


def check_base_model(base_model: str) -> None:
    """Raise ModelNotFound unless the reference can be loaded on this machine."""
    if base_model.startswith(TINY_PREFIX):
        if base_model[len(TINY_PREFIX) :] not in BUILTIN:
            names = ", ".join(TINY_PREFIX + name for name in BUILTIN)
            raise ModelNotFound(f"unknown built-in model {base_model!r}; available: {names}")
        return
    # Local folders only from under the operator's model roots (see model_policy); anything else
    # that passes the policy is a hub id.
    if model_policy.local_folder(base_model) is not None:
        return
    if hub.offline():
        # Online, the training child downloads it; offline it must already be in the cache.
        hub.resolve(base_model, download=False)


def is_tiny(base_model: str) -> bool:
    return base_model.startswith(TINY_PREFIX)


def tiny_config(name: str, vocab_size: int, eos_id: int, pad_id: int) -> Any:
    from transformers import LlamaConfig, Qwen3Config

    config_class = {"llama": LlamaConfig, "qwen3": Qwen3Config}[name]
    return config_class(
        vocab_size=vocab_size,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        bos_token_id=None,
        **_TINY_SHAPE,
    )


def materialize(base_model: str, models_dir: Path, seed: int) -> Path:
    """Return a local folder holding the base model (and its tokenizer), creating tiny ones once."""
    check_base_model(base_model)
    if not is_tiny(base_model):
        return model_policy.local_folder(base_model) or hub.resolve(base_model)
    name = base_model[len(TINY_PREFIX) :]
    target = models_dir / f"tiny-{name}" / f"seed-{seed}"
    if (target / "config.json").is_file():
        return target
    import torch
    from transformers import AutoModelForCausalLM

    from midspec_worker.tokenizer import build_tokenizer

    tokenizer = build_tokenizer()
    config = tiny_config(name, len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: a crash never leaves a half-written model behind.
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)
    except OSError:
        if not (target / "config.json").is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def attention_implementation(device: Any, dtype: Any) -> str:
    """flash-attention 2 for half precision on CUDA when installed; PyTorch's SDPA otherwise."""
    import importlib.util

    import torch

    half = dtype in (torch.bfloat16, torch.float16)
    on_cuda = device is not None and torch.device(device).type == "cuda"
    if on_cuda and half and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def load(path: Path, dtype: Any, device: Any = None) -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer from a folder (default chat template if it has none)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from midspec_worker.tokenizer import ensure_chat_template

    tokenizer = AutoTokenizer.from_pretrained(path)
    ensure_chat_template(tokenizer)
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=dtype, attn_implementation=attention_implementation(device, dtype)
    )
    return model, tokenizer
