"""Training throughput on the CPU: the worker's loop (best-fit-decreasing packing, per-document
attention) against a plain transformers Trainer that pads each batch to its longest document, on the
same tiny model (tiny:llama, LoRA r 8 on every linear layer), the same documents, one epoch, the
same number of optimizer steps (so the same documents per step on average).

Prints progress lines on stderr and one JSON object on stdout. Run with the worker's venv:
    workers/torch/.venv/bin/python bench/train/bench.py [--documents N] [--threads N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "workers" / "torch" / "src"))

from midspec_worker import models, runspec  # noqa: E402
from midspec_worker.gen.midspec.worker.v1 import runs_pb2  # noqa: E402
from midspec_worker.train import engine  # noqa: E402
from midspec_worker.train.data import Example, text_example  # noqa: E402

MAX_LENGTH = 512
ROWS_PER_STEP = 4
WORDS = (
    "the assistant explains the value behind each rule so that it generalizes honestly and kindly "
    "to situations its spec never named while keeping users safe and informed"
).split()


def progress(message: str) -> None:
    print(f"[bench/train] {message}", file=sys.stderr, flush=True)


def documents(count: int, tokenizer: object, seed: int = 0) -> list[list[int]]:
    """Spec-document-like lengths: mostly short, a long tail up to the row length."""
    rng = random.Random(seed)
    docs = []
    for _ in range(count):
        words = min(int(rng.lognormvariate(4.3, 0.8)) + 8, 400)
        text = " ".join(rng.choice(WORDS) for _ in range(words))
        docs.append(text_example(tokenizer, text, MAX_LENGTH).ids)
    return docs


def lora_model(path: Path) -> object:
    from peft import LoraConfig, get_peft_model

    model, _ = models.load(path, torch.float32)
    torch.manual_seed(0)
    config = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def ours(path: Path, tokenizer: object, docs: list[list[int]]) -> dict[str, float]:
    spec = runs_pb2.RunSpec(
        base_model="tiny:llama",
        stages=[runs_pb2.Stage(kind=1, data=[runs_pb2.DataSource(dataset_id="d")])],
    )
    stage = dataclasses.replace(
        runspec.validate(spec, {"d": 1}).stages[0],
        max_length=MAX_LENGTH,
        micro_batch_size=ROWS_PER_STEP,
        epochs=1.0,
        lora=runspec.LoraPlan(8, 16.0, 0.0, "all-linear"),
    )
    events: list[runs_pb2.RunEvent] = []
    ctx = engine.StageContext(
        emit=events.append,
        should_stop=lambda: False,
        checkpoint=lambda *args: None,
        checkpoint_every_steps=0,
        device=torch.device("cpu"),
        dtype=torch.float32,
        seed=0,
    )
    model, _ = models.load(path, torch.float32)
    started = time.perf_counter()
    engine.train_stage(
        model, tokenizer, stage, [Example(ids=d, mask=[True] * len(d)) for d in docs], ctx
    )
    seconds = time.perf_counter() - started
    first = next(e.stage_started for e in events if e.HasField("stage_started"))
    steps = sum(1 for e in events if e.HasField("metrics"))
    return {
        "seconds": seconds,
        "steps": steps,
        "tokens_per_second": sum(len(d) for d in docs) / seconds,
        "packing_efficiency": first.packing_efficiency,
    }


def trainer(path: Path, tokenizer: object, docs: list[list[int]], steps: int) -> dict[str, float]:
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    batch = math.ceil(len(docs) / steps)
    padded = 0
    for start in range(0, len(docs), batch):
        chunk = docs[start : start + batch]
        padded += len(chunk) * max(len(d) for d in chunk)
    with tempfile.TemporaryDirectory() as output:
        arguments = TrainingArguments(
            output_dir=output,
            per_device_train_batch_size=batch,
            num_train_epochs=1,
            learning_rate=1e-4,
            lr_scheduler_type="cosine",
            warmup_steps=max(1, round(0.05 * steps)),
            weight_decay=0.01,
            max_grad_norm=1.0,
            logging_steps=10_000,
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            dataloader_num_workers=0,
            seed=0,
            disable_tqdm=True,
        )
        collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
        dataset = [{"input_ids": d} for d in docs]
        run = Trainer(
            model=lora_model(path),
            args=arguments,
            train_dataset=dataset,
            data_collator=collator,
        )
        # Same order as ours is not needed; the same documents per step on average is.
        started = time.perf_counter()
        result = run.train()
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "steps": result.global_step,
        "tokens_per_second": sum(len(d) for d in docs) / seconds,
        "padding_efficiency": sum(len(d) for d in docs) / padded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=600)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "2")))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Import once, before either clock starts: our loop would otherwise pay the first peft import
    # (seconds where bytecode is not cached) that the Trainer, timed second, never pays.
    import peft  # noqa: F401

    with tempfile.TemporaryDirectory() as folder:
        path = models.materialize("tiny:llama", Path(folder), seed=0)
        _, tokenizer = models.load(path, torch.float32)
        docs = documents(args.documents, tokenizer)
        tokens = sum(len(d) for d in docs)
        progress(f"{len(docs)} documents, {tokens} tokens, {args.threads} threads")
        progress("our loop (packed)…")
        mine = ours(path, tokenizer, docs)
        progress(f"  {mine['tokens_per_second']:.0f} tokens/s in {mine['steps']} steps")
        progress("transformers Trainer (padded)…")
        theirs = trainer(path, tokenizer, docs, int(mine["steps"]))
        progress(f"  {theirs['tokens_per_second']:.0f} tokens/s in {theirs['steps']} steps")
    print(
        json.dumps(
            {
                "machine": f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
                f"torch {torch.__version__}, {args.threads} threads",
                "documents": len(docs),
                "tokens": tokens,
                "ours": mine,
                "trainer": theirs,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
