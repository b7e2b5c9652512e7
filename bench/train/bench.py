"""Training throughput on the CPU: the worker's loop against TRL's SFTTrainer (the primary
baseline) and a plain transformers Trainer that pads (context).

Two stages, each on a tiny random model of a real architecture with LoRA r 8 on every linear layer:
- text: tiny:llama, spec-document-like texts, loss on every token (midtraining);
- chat: tiny:qwen3, user/assistant chats, loss on the assistant turns only.

Both sides get the same token ids and loss masks (tokenized once, by the worker's chat-template
masks), the same initial model and adapter, the same rows of 512 tokens, 4 rows per optimizer step,
the same number of steps, AdamW with the same settings and the same learning-rate schedule (the
worker's, handed to TRL as its scheduler). TRL runs as its documentation recommends for this:
`packing=True, packing_strategy="bfd", padding_free=True`, and completion-only loss for the chat
stage (a pre-tokenized dataset with a `completion_mask`). Gradient checkpointing and bf16, which
SFTConfig turns on by default, are off on both sides (the worker trains in fp32 on the CPU).

Each repeat runs both sides back to back, alternating which goes first (the machine is shared);
the figures are the min/median/max of the per-repeat ratio. Only training is timed (`train_stage`
and `SFTTrainer.train()`), not loading or tokenizing. After each run the trained model's mean
loss over every trained token of the stage's documents is measured the same way for both sides:
that is the "final loss" compared.

Prints progress on stderr and one JSON object on stdout. With the worker's venv:
    workers/torch/.venv/bin/python bench/train/bench.py [--repeats N] [--documents N] [--profile]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(
    0, str(Path(__file__).resolve().parents[2] / "workers" / "torch" / "src")
)

from midspec_worker import models, runspec  # noqa: E402
from midspec_worker.gen.midspec.worker.v1 import runs_pb2  # noqa: E402
from midspec_worker.train import chat_masks, engine, packing, schedule  # noqa: E402
from midspec_worker.train.data import Example, text_example  # noqa: E402

MAX_LENGTH = 512
ROWS_PER_STEP = 4
LORA = runspec.LoraPlan(8, 16.0, 0.0, "all-linear")
WORDS = (
    "the assistant explains the value behind each rule so that it generalizes honestly and kindly "
    "to situations its spec never named while keeping users safe and informed"
).split()


def progress(message: str) -> None:
    print(f"[bench/train] {message}", file=sys.stderr, flush=True)


def load() -> float:
    return os.getloadavg()[0]


def _words(rng: random.Random, mu: float, cap: int) -> str:
    count = min(int(rng.lognormvariate(mu, 0.8)) + 4, cap)
    return " ".join(rng.choice(WORDS) for _ in range(count))


def text_documents(count: int, tokenizer: Any, seed: int = 0) -> list[Example]:
    """Spec-document-like lengths: mostly short, a long tail up to the row length."""
    rng = random.Random(seed)
    return [
        text_example(tokenizer, _words(rng, 4.3, 400), MAX_LENGTH) for _ in range(count)
    ]


def chat_documents(count: int, tokenizer: Any, seed: int = 0) -> list[Example]:
    """One- or two-turn chats; the assistant-only masks come from the model's chat template."""
    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        messages = []
        for _turn in range(rng.choice((1, 1, 2))):
            messages.append({"role": "user", "content": _words(rng, 3.2, 120)})
            messages.append({"role": "assistant", "content": _words(rng, 3.8, 250)})
        for ids, mask in chat_masks.chat_token_examples(
            tokenizer, {"messages": messages}, True
        ):
            examples.append(Example(ids=ids[:MAX_LENGTH], mask=mask[:MAX_LENGTH]))
    return examples


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    base_model: str
    path: Path
    tokenizer: Any
    examples: list[Example]
    chat: bool

    @property
    def tokens(self) -> int:
        return sum(len(e.ids) for e in self.examples)


def stage_plan(workload: Workload) -> runspec.StagePlan:
    kind = 2 if workload.chat else 1  # STAGE_KIND_SFT / STAGE_KIND_MIDTRAIN
    spec = runs_pb2.RunSpec(
        base_model=workload.base_model,
        stages=[runs_pb2.Stage(kind=kind, data=[runs_pb2.DataSource(dataset_id="d")])],
    )
    chat_format = 2 if workload.chat else 1  # DATASET_FORMAT_CHAT / DATASET_FORMAT_TEXT
    return dataclasses.replace(
        runspec.validate(spec, {"d": chat_format}).stages[0],
        max_length=MAX_LENGTH,
        micro_batch_size=ROWS_PER_STEP,
        epochs=1.0,
        lora=LORA,
    )


def mean_loss(model: Any, examples: list[Example], pad_id: int) -> float:
    """Mean loss over every trained token of `examples` (one document per row, SDPA attention)."""
    model.eval()
    total, count = 0.0, 0
    rows = packing.unpacked(sorted(examples, key=lambda e: len(e.ids)))
    with torch.no_grad():
        for start in range(0, len(rows), 32):
            batch = packing.collate(rows[start : start + 32], pad_id)
            total += float(engine.token_losses(model, batch).sum())
            count += batch.loss_tokens
    return total / count


def ours(
    workload: Workload, profile: Callable[[], Any] | None = None
) -> dict[str, Any]:
    stage = stage_plan(workload)
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
    model, tokenizer = models.load(workload.path, torch.float32)
    before = load()
    started = time.perf_counter()
    with profile() if profile else _nothing():
        trained = engine.train_stage(model, tokenizer, stage, workload.examples, ctx)
    seconds = time.perf_counter() - started
    first = next(e.stage_started for e in events if e.HasField("stage_started"))
    losses = [e.metrics.loss for e in events if e.HasField("metrics")]
    return {
        "seconds": seconds,
        "steps": len(losses),
        "tokens_per_second": workload.tokens / seconds,
        "packing_efficiency": first.packing_efficiency,
        "last_step_losses": statistics.fmean(losses[-10:]),
        "final_loss": mean_loss(trained, workload.examples, tokenizer.pad_token_id),
        "load": [before, load()],
    }


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def optimizer_and_schedule(
    model: Any, stage: runspec.StagePlan, steps: int
) -> tuple[Any, Any]:
    """The worker's AdamW and learning-rate schedule, built the way engine.train_stage builds them
    on the CPU (fused AdamW: also what transformers' Trainer and TRL pick by default)."""
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=stage.learning_rate,
        betas=stage.betas,
        eps=stage.epsilon,
        weight_decay=stage.weight_decay,
        fused=True,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: schedule.lr_factor(
            step, steps, stage.schedule, stage.warmup_ratio, stage.min_lr_ratio
        ),
    )
    return optimizer, scheduler


def trl(
    workload: Workload, steps: int, profile: Callable[[], Any] | None = None
) -> dict[str, Any]:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    stage = stage_plan(workload)
    model, tokenizer = models.load(workload.path, torch.float32)
    # The worker's adapter, with the worker's seed: the same initial LoRA weights on both sides.
    model = engine.prepare_adapter(model, stage, 0)
    rows = [{"input_ids": e.ids} for e in workload.examples]
    if workload.chat:
        for row, example in zip(rows, workload.examples, strict=True):
            row["completion_mask"] = [int(m) for m in example.mask]
    with tempfile.TemporaryDirectory() as output:
        arguments = SFTConfig(
            output_dir=output,
            max_length=MAX_LENGTH,
            packing=True,
            packing_strategy="bfd",
            padding_free=True,
            completion_only_loss=workload.chat,
            per_device_train_batch_size=ROWS_PER_STEP,
            max_steps=steps,
            max_grad_norm=stage.max_grad_norm,
            gradient_checkpointing=False,
            bf16=False,
            use_cpu=True,
            logging_steps=1,
            save_strategy="no",
            report_to=[],
            dataloader_num_workers=0,
            seed=0,
            disable_tqdm=True,
        )
        run = SFTTrainer(
            model=model,
            args=arguments,
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            optimizers=optimizer_and_schedule(model, stage, steps),
        )
        packed = run.train_dataset
        real = sum(sum(lengths) for lengths in packed["seq_lengths"])
        before = load()
        started = time.perf_counter()
        with profile() if profile else _nothing():
            result = run.train()
        seconds = time.perf_counter() - started
        losses = [entry["loss"] for entry in run.state.log_history if "loss" in entry]
    return {
        "seconds": seconds,
        "steps": result.global_step,
        "tokens_per_second": workload.tokens / seconds,
        "packing_efficiency": real / (len(packed) * MAX_LENGTH),
        "last_step_losses": statistics.fmean(losses[-10:]),
        "final_loss": mean_loss(run.model, workload.examples, tokenizer.pad_token_id),
        "load": [before, load()],
    }


def padded_trainer(workload: Workload, steps: int) -> dict[str, Any]:
    """Context: a plain transformers Trainer, each batch padded to its longest document."""
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    docs = [e.ids for e in workload.examples]
    batch = math.ceil(len(docs) / steps)
    padded = sum(
        len(chunk) * max(len(d) for d in chunk)
        for chunk in (docs[i : i + batch] for i in range(0, len(docs), batch))
    )
    stage = stage_plan(workload)
    model, tokenizer = models.load(workload.path, torch.float32)
    model = engine.prepare_adapter(model, stage, 0)
    with tempfile.TemporaryDirectory() as output:
        arguments = TrainingArguments(
            output_dir=output,
            per_device_train_batch_size=batch,
            max_steps=steps,
            max_grad_norm=stage.max_grad_norm,
            logging_steps=10_000,
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            dataloader_num_workers=0,
            seed=0,
            disable_tqdm=True,
        )
        run = Trainer(
            model=model,
            args=arguments,
            train_dataset=[{"input_ids": d} for d in docs],
            data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
            optimizers=optimizer_and_schedule(model, stage, steps),
        )
        before = load()
        started = time.perf_counter()
        result = run.train()
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "steps": result.global_step,
        "tokens_per_second": workload.tokens / seconds,
        "padding_efficiency": workload.tokens / padded,
        "load": [before, load()],
    }


def profiler(name: str, steps: int, folder: Path) -> Callable[[], Any]:
    """A torch.profiler context over a whole training call; its table goes to folder/NAME.txt."""

    class Profile:
        def __enter__(self) -> None:
            self.inner = torch.profiler.profile(
                activities=[torch.profiler.ProfilerActivity.CPU]
            )
            self.inner.__enter__()

        def __exit__(self, *exc: object) -> None:
            self.inner.__exit__(*exc)
            table = self.inner.key_averages().table(
                sort_by="self_cpu_time_total", row_limit=20
            )
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.txt").write_text(f"{name}: {steps} steps\n{table}\n")
            progress(f"  profile written to {folder / f'{name}.txt'}")

    return Profile


def summary(ratios: list[float]) -> dict[str, float]:
    return {"min": min(ratios), "median": statistics.median(ratios), "max": max(ratios)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stages", default="text,chat")
    parser.add_argument(
        "--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "2"))
    )
    parser.add_argument(
        "--no-padded", action="store_true", help="skip the padded Trainer row"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="profile one run of each side; tables go to this folder",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Import once, before any clock starts, so no side pays the first import of peft/trl.
    import peft  # noqa: F401
    import trl as _trl  # noqa: F401
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        workloads = []
        for name in args.stages.split(","):
            base = {"text": "tiny:llama", "chat": "tiny:qwen3"}[name]
            path = models.materialize(base, Path(folder), seed=0)
            _, tokenizer = models.load(path, torch.float32)
            make = chat_documents if name == "chat" else text_documents
            examples = make(args.documents, tokenizer)
            workloads.append(
                Workload(name, base, path, tokenizer, examples, name == "chat")
            )
        for workload in workloads:
            tokens = workload.tokens
            trained = sum(sum(e.mask[1:]) for e in workload.examples)
            progress(
                f"{workload.name} ({workload.base_model}): {len(workload.examples)} documents, "
                f"{tokens} tokens ({trained} trained), {args.threads} threads, load {load():.1f}"
            )
            # Untimed warm-up of both sides on a few documents: the first training call in a
            # process pays one-off costs (thread pools, kernel selection) that neither side owns.
            warm = dataclasses.replace(workload, examples=workload.examples[:16])
            ours(warm)
            trl(warm, 2)
            runs: list[dict[str, Any]] = []
            for repeat in range(args.repeats):
                sides: dict[str, Any] = {}
                order = ("ours", "trl") if repeat % 2 == 0 else ("trl", "ours")
                for side in order:
                    if side == "ours":
                        sides["ours"] = ours(workload)
                    else:
                        steps = sides["ours"]["steps"] if "ours" in sides else None
                        if (
                            steps is None
                        ):  # TRL first: the step count is the worker's plan
                            stage = stage_plan(workload)
                            rows = packing.pack(workload.examples, MAX_LENGTH)
                            steps = engine.plan_steps(
                                stage, math.ceil(len(rows) / ROWS_PER_STEP), tokens
                            )
                        sides["trl"] = trl(workload, steps)
                ratio = (
                    sides["ours"]["tokens_per_second"]
                    / sides["trl"]["tokens_per_second"]
                )
                progress(
                    f"  repeat {repeat + 1}: ours {sides['ours']['tokens_per_second']:.0f} tokens/s"
                    f" (final loss {sides['ours']['final_loss']:.4f}), TRL "
                    f"{sides['trl']['tokens_per_second']:.0f} tokens/s (final loss "
                    f"{sides['trl']['final_loss']:.4f}), {ratio:.2f}x, load {load():.1f}"
                )
                runs.append({**sides, "ratio": ratio})
            initial, _ = models.load(workload.path, torch.float32)
            entry: dict[str, Any] = {
                "model": workload.base_model,
                "initial_loss": mean_loss(
                    initial, workload.examples, workload.tokenizer.pad_token_id
                ),
                "documents": len(workload.examples),
                "tokens": tokens,
                "trained_tokens": trained,
                "runs": runs,
                "ratio": summary([r["ratio"] for r in runs]),
            }
            steps = runs[0]["ours"]["steps"]
            if not args.no_padded and not workload.chat:
                progress("  transformers Trainer (padded), context…")
                entry["padded"] = padded_trainer(workload, steps)
                progress(f"    {entry['padded']['tokens_per_second']:.0f} tokens/s")
            if args.profile:
                progress("  profiling one run of each side…")
                ours(workload, profiler(f"{workload.name}-ours", steps, args.profile))
                trl(
                    workload,
                    steps,
                    profiler(f"{workload.name}-trl", steps, args.profile),
                )
            results[workload.name] = entry
    print(
        json.dumps(
            {
                "machine": f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
                f"torch {torch.__version__}, trl {_trl.__version__}, {args.threads} threads",
                "stages": results,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
