"""FSDP2 memory and loss: a ~110M-parameter Llama-architecture model (random init, no download)
trained for a few steps with AdamW on the CPU (gloo), once as one process and once as two torchrun
ranks, through the worker's own code (midspec_worker.train.distributed: rank 0 loads, the other
rank builds on the meta device, every decoder layer then the root is fully_shard'ed, the weights
are broadcast from rank 0).

Per rank it measures the bytes of parameters + gradients + optimizer state the rank holds (the
local shards), and the loss at every step; rank 0's CPU copy of the weights between stages is
reported apart. Run from the repository root:
    workers/torch/.venv/bin/python bench/fsdp/bench.py [--steps 4] [--layers 12]
Prints progress on stderr and one JSON summary on stdout. Takes a few minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(f"[bench/fsdp] {message}", file=sys.stderr, flush=True)


def build(folder: Path, layers: int) -> int:
    import torch
    from midspec_worker.tokenizer import build_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    # A Llama-architecture model of ~110M parameters: TinyLlama's head layout, narrower.
    config = LlamaConfig(
        vocab_size=32000,
        hidden_size=768,
        intermediate_size=2048,
        num_hidden_layers=layers,
        num_attention_heads=12,
        num_key_value_heads=4,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def rank_main(folder: Path, steps: int, out: Path) -> None:
    """One rank (or the single process): train and report its memory and losses."""
    import torch
    from midspec_worker import models
    from midspec_worker.train import distributed
    from midspec_worker.train.engine import token_losses
    from midspec_worker.train.packing import Batch

    torch.set_num_threads(1)
    group = distributed.Group()
    device = torch.device("cpu")
    group.start(device)
    if group.active and not group.main:
        whole, _ = distributed.load_skeleton(folder, torch.float32)
    else:
        whole, _ = models.load(folder, torch.float32)
    model = group.shard(whole, device) if group.active else whole
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(1)
    rows, length = 4, 128
    per_rank = rows // group.world_size
    losses = []
    for step in range(steps):
        ids = torch.randint(0, 32000, (rows, length + 1), generator=generator)
        mine = ids[group.rank * per_rank : (group.rank + 1) * per_rank]
        batch = Batch(
            input_ids=mine[:, :-1],
            targets=mine[:, 1:],
            position_ids=torch.arange(length).expand(per_rank, length),
            doc_index=torch.zeros(per_rank, length, dtype=torch.long),
            lengths=((length,),) * per_rank,
            real_tokens=per_rank * length,
        )
        total_tokens = rows * length
        part = token_losses(model, batch).sum() / total_tokens
        (part * group.world_size).backward()  # FSDP averages gradients over ranks
        optimizer.step()
        losses.append(group.total(float(part.detach())))
        if step == 0:
            held = _held_bytes(model, optimizer)  # gradients still held, optimizer state exists
        optimizer.zero_grad(set_to_none=False)
        log(f"world {group.world_size} rank {group.rank} step {step + 1}: loss {losses[-1]:.4f}")
    host = sum(p.numel() * p.element_size() for p in whole.parameters() if not p.is_meta)
    result = {
        "rank": group.rank,
        "world_size": group.world_size,
        "losses": losses,
        **held,
        "host_copy_bytes": host if group.active else 0,
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    out.write_text(json.dumps(result))
    group.stop()


def _held_bytes(model, optimizer) -> dict[str, int]:
    def local(tensor):
        return tensor.to_local() if hasattr(tensor, "to_local") else tensor

    def size(tensor) -> int:
        tensor = local(tensor)
        return tensor.numel() * tensor.element_size()

    parameters = list(model.parameters())
    state = [
        value
        for entry in optimizer.state.values()
        for value in entry.values()
        if hasattr(value, "numel") and value.dim() > 0
    ]
    figures = {
        "parameter_bytes": sum(size(p) for p in parameters),
        "gradient_bytes": sum(size(p.grad) for p in parameters if p.grad is not None),
        "optimizer_bytes": sum(size(v) for v in state),
    }
    figures["total_bytes"] = sum(figures.values())
    return figures


def launch(folder: Path, world_size: int, steps: int, scratch: Path) -> list[dict]:
    outputs = [scratch / f"world{world_size}-rank{rank}.json" for rank in range(world_size)]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += [f"--nproc_per_node={world_size}", __file__, "--rank-of", str(folder)]
    command += ["--steps", str(steps), "--out-dir", str(scratch)]
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "workers" / "torch" / "src")}
    subprocess.run(command, check=True, env=environment)
    return [json.loads(path.read_text()) for path in outputs]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--rank-of", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rank_of is not None:
        rank = int(os.environ.get("RANK", "0"))
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank_main(args.rank_of, args.steps, args.out_dir / f"world{world}-rank{rank}.json")
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "model"
        parameters = build(folder, args.layers)
        log(f"model: {parameters / 1e6:.1f}M parameters (Llama architecture, float32)")
        single = launch(folder, 1, args.steps, Path(scratch))
        double = launch(folder, 2, args.steps, Path(scratch))
    one = single[0]["total_bytes"]
    peak = max(rank["total_bytes"] for rank in double)
    difference = max(
        abs(a - b) for a, b in zip(single[0]["losses"], double[0]["losses"], strict=True)
    )
    summary = {
        "machine": f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}",
        "parameters": parameters,
        "steps": args.steps,
        "one_rank": single[0],
        "two_ranks": double,
        "ratio_per_rank": peak / one,
        "max_loss_difference": difference,
    }
    log(
        f"params+grads+optimizer per rank: 1 rank {one / 2**20:.0f} MiB, 2 ranks "
        f"{peak / 2**20:.0f} MiB (ratio {peak / one:.3f}); max loss difference {difference:.2e}"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
