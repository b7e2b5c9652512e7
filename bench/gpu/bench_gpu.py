"""GPU training throughput and MFU of Qwen3-0.6B- and Qwen3-1.7B-shaped models (random init, no
download), bf16, full fine-tuning with fused AdamW, packed rows of 4096 tokens whose position ids
restart at every document and whose attention stays inside each document (flash-attention varlen
when flash_attn is installed, otherwise SDPA with a block-diagonal mask).

Runs only where torch sees a CUDA GPU; needs just torch and transformers:
    PYTHONPATH=workers/torch/src python3 bench/gpu/bench_gpu.py [--steps 10] [--compile]
Prints progress on stderr and one JSON summary on stdout. Takes a few minutes on an H100.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

import torch

from midspec_worker.train.observe import flops_per_token, peak_flops

ROW = 4096
SHAPES = {
    # Published Qwen3 configurations (hidden, layers, heads, kv heads, intermediate).
    "qwen3-0.6b": (1024, 28, 16, 8, 3072, 2),
    "qwen3-1.7b": (2048, 28, 16, 8, 6144, 1),
}


def progress(message: str) -> None:
    print(f"[bench/gpu] {message}", file=sys.stderr, flush=True)


def build(name: str, attention: str) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM, Qwen3Config

    hidden, layers, heads, kv_heads, intermediate, _ = SHAPES[name]
    config = Qwen3Config(
        vocab_size=151_936,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=128,
        intermediate_size=intermediate,
        max_position_embeddings=40_960,
        tie_word_embeddings=True,
    )
    config._attn_implementation = attention
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16)
    return model


def packed_batch(rows: int, rng: random.Random) -> dict[str, torch.Tensor]:
    """Rows of whole documents (lengths 200-2000) filling ROW tokens; the tail is one document."""
    input_ids = torch.randint(0, 151_936, (rows, ROW), device="cuda")
    position_ids = torch.empty((rows, ROW), dtype=torch.long)
    starts_per_row = []
    for r in range(rows):
        offset, starts = 0, []
        while offset < ROW:
            n = min(rng.randint(200, 2000), ROW - offset)
            position_ids[r, offset : offset + n] = torch.arange(n)
            starts.append((offset, n))
            offset += n
        starts_per_row.append(starts)
    batch = {"input_ids": input_ids, "position_ids": position_ids.cuda(), "labels": input_ids}
    return batch | {"starts": starts_per_row}  # type: ignore[dict-item]


def block_mask(starts_per_row: list[list[tuple[int, int]]]) -> torch.Tensor:
    rows = len(starts_per_row)
    allowed = torch.zeros((rows, 1, ROW, ROW), dtype=torch.bool, device="cuda")
    causal = torch.ones((ROW, ROW), dtype=torch.bool, device="cuda").tril()
    for r, starts in enumerate(starts_per_row):
        for offset, n in starts:
            allowed[r, 0, offset : offset + n, offset : offset + n] = causal[:n, :n]
    mask = torch.zeros(allowed.shape, dtype=torch.bfloat16, device="cuda")
    return mask.masked_fill_(~allowed, torch.finfo(torch.bfloat16).min)


def measure(name: str, attention: str, steps: int, compile_model: bool) -> dict[str, object]:
    model = build(name, attention)
    model.train()
    rows = SHAPES[name][5]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
    if compile_model:
        model.compile()
    rng = random.Random(0)
    device = torch.device("cuda")
    per_token = flops_per_token(model, ROW)
    peak = peak_flops(device, torch.bfloat16)
    batches = []
    for _ in range(4):
        batch = packed_batch(rows, rng)
        starts = batch.pop("starts")
        if attention != "flash_attention_2":
            # SDPA: position ids alone do not separate documents; a block-diagonal mask does.
            batch["attention_mask"] = block_mask(starts)  # type: ignore[arg-type]
        batches.append(batch)
    timings = []
    for step in range(steps + 3):
        batch = batches[step % len(batches)]
        torch.cuda.synchronize()
        started = time.perf_counter()
        loss = model(**batch, use_cache=False).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if step >= 3:  # warm-up: allocator, kernels, compilation
            timings.append(time.perf_counter() - started)
    seconds = sorted(timings)[len(timings) // 2]
    tokens_per_second = rows * ROW / seconds
    result = {
        "model": name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "rows_per_step": rows,
        "row_tokens": ROW,
        "attention": attention,
        "compiled": compile_model,
        "median_step_seconds": seconds,
        "tokens_per_second": tokens_per_second,
        "mfu": tokens_per_second * per_token / peak if peak else None,
        "peak_tflops": peak / 1e12 if peak else None,
        "max_memory_gib": torch.cuda.max_memory_allocated() / 2**30,
    }
    del model, optimizer, batches
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--models", nargs="*", default=list(SHAPES))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "no CUDA GPU visible to torch"}))
        return
    try:
        import flash_attn  # noqa: F401

        attention = "flash_attention_2"
    except ImportError:
        attention = "sdpa"
    torch.backends.cuda.matmul.allow_tf32 = True
    results = []
    for name in args.models:
        progress(f"{name}: {attention}, {args.steps} timed steps")
        results.append(measure(name, attention, args.steps, args.compile))
        progress(f"  {json.dumps(results[-1])}")
    summary = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "results": results,
        "target": "MFU >= 0.40 at qwen3-1.7b",
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
