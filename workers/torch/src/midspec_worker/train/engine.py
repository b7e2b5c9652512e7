"""The training loop of one stage: data, adapter, optimizer, schedule, budget and events."""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from midspec_worker.errors import InvalidRequest
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.runspec import StagePlan
from midspec_worker.train import attention, checkpoints, packing, precision
from midspec_worker.train.data import Example
from midspec_worker.train.distributed import SHARDED_DIR, Group, on_meta
from midspec_worker.train.observe import flops_per_token
from midspec_worker.train.packing import IGNORE, Batch


class Stopped(Exception):
    """Raised at a step boundary when the run was cancelled or the worker is shutting down."""


@dataclass
class StageContext:
    """What the loop needs from the outside: where to report and when to stop."""

    emit: Callable[[runs_pb2.RunEvent], None]
    should_stop: Callable[[], bool]
    # (model, stage, step, trainer state): writes a resumable stage checkpoint. With several ranks
    # the state's "sharded" entry names a folder of sharded state the checkpoint takes over.
    checkpoint: Callable[[Any, StagePlan, int, dict[str, Any]], None]
    checkpoint_every_steps: int
    device: torch.device
    dtype: torch.dtype
    seed: int
    group: Group = field(default_factory=Group)
    peak_flops: float = 0.0  # per device; 0 means MFU is not measured (CPU, unknown GPU)
    # Where ranks write sharded checkpoint state before rank 0 moves it into place (shared
    # storage when ranks span nodes); needed when the group is active.
    scratch_dir: Path | None = None


@dataclass(frozen=True)
class Resume:
    """Where a stage picks up after a restart: a checkpoint folder and its trainer state."""

    folder: Path
    state: dict[str, Any]


def _kept_logits(model: Any, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits and targets at the positions where some row has a target, and those positions.

    Only they go through the output layer: with assistant-only masks most positions are prompt,
    and a real vocabulary (150k) makes the output layer the largest cost of a small model's step.
    """
    keep = (batch.targets != IGNORE).any(0).nonzero().squeeze(-1)
    logits = model(
        input_ids=batch.input_ids,
        position_ids=batch.position_ids,
        use_cache=False,
        logits_to_keep=keep,
        **attention.model_inputs(model, batch),
    ).logits
    return logits.float(), batch.targets[:, keep], keep


def token_losses(model: Any, batch: Batch) -> torch.Tensor:
    """Per-position cross-entropy (0 where there is no target), shape (rows, length)."""
    logits, targets, keep = _kept_logits(model, batch)
    kept = F.cross_entropy(
        logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE, reduction="none"
    )
    losses = torch.zeros(batch.targets.shape, dtype=kept.dtype, device=kept.device)
    losses[:, keep] = kept.view_as(targets)
    return losses


def loss_sum(model: Any, batch: Batch) -> torch.Tensor:
    """Summed cross-entropy over the batch's targets: what a training step differentiates (no
    per-position tensor to build, scatter into and sum again)."""
    logits, targets, _ = _kept_logits(model, batch)
    return F.cross_entropy(
        logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE, reduction="sum"
    )


def prepare_adapter(model: Any, stage: StagePlan, seed: int) -> Any:
    """Make the stage's parameters trainable: continue, or merge and start a fresh adapter/full."""
    from peft import LoraConfig, PeftModel, get_peft_model

    if isinstance(model, PeftModel):
        if stage.continue_adapter:
            return model
        model = model.merge_and_unload()
    if stage.lora is None:
        for parameter in model.parameters():
            parameter.requires_grad_(True)
        return model
    torch.manual_seed(seed + 7919 * stage.index)
    config = LoraConfig(
        r=stage.lora.r,
        # The contract allows a fractional alpha; peft only uses it in alpha / r.
        lora_alpha=stage.lora.alpha,  # type: ignore[arg-type]
        lora_dropout=stage.lora.dropout,
        target_modules=stage.lora.target_modules,
        task_type="CAUSAL_LM",
    )
    try:
        adapted = get_peft_model(model, config)
    except ValueError as error:
        # Module names can only be checked against the loaded model; it is still the user's input.
        raise InvalidRequest(f"stages[{stage.index}].adapter.lora: {error}") from None
    precision.adapters_in_fp32(adapted)
    return adapted


def restore_stage(model: Any, stage: StagePlan, folder: Path, seed: int) -> Any:
    """Rebuild a finished stage without training: its adapter (or model) from a checkpoint."""
    model = prepare_adapter(model, stage, seed)
    if not on_meta(model):  # ranks other than 0 hold no weights between stages
        checkpoints.load_weights(model, folder)
    return model


def plan_steps(stage: StagePlan, micro_batches_per_epoch: int, tokens_per_epoch: int) -> int:
    """Optimizer steps for the stage: the first of its budget limits; one epoch when none is set."""
    steps_per_epoch = max(1, math.ceil(micro_batches_per_epoch / stage.gradient_accumulation_steps))
    limits = []
    if stage.epochs > 0:
        limits.append(max(1, math.ceil(stage.epochs * steps_per_epoch)))
    if stage.max_steps > 0:
        limits.append(stage.max_steps)
    if stage.max_tokens > 0:
        tokens_per_step = max(1, tokens_per_epoch / steps_per_epoch)
        limits.append(max(1, math.ceil(stage.max_tokens / tokens_per_step)))
    return min(limits) if limits else steps_per_epoch


def micro_batches(rows: list[list[Example]], size: int, seed: int) -> Iterator[list[list[Example]]]:
    """Endless micro-batches: every epoch reshuffles the rows with its own seed."""
    epoch = 0
    while True:
        order = list(rows)
        random.Random(seed * 1_000_003 + epoch).shuffle(order)
        for start in range(0, len(order), size):
            yield order[start : start + size]
        epoch += 1


def train_stage(
    model: Any,
    tokenizer: Any,
    stage: StagePlan,
    examples: list[Example],
    ctx: StageContext,
    resume: Resume | None = None,
) -> Any:
    """Train one stage, or finish it from `resume`; return the (possibly adapter-wrapped) model."""
    if not examples:
        raise ValueError(f"stage {stage.index} has no trainable examples")
    rows = packing.pack(examples, stage.max_length) if stage.packing else packing.unpacked(examples)
    row_length = stage.max_length if stage.packing else max(len(e.ids) for e in examples)
    packing_efficiency = packing.efficiency(rows, row_length)
    tokens_per_epoch = sum(len(e.ids) for e in examples)
    group = ctx.group
    # micro_batch_size is per process: a global micro-batch holds one slice per rank.
    global_batch = stage.micro_batch_size * group.world_size
    per_epoch = math.ceil(len(rows) / global_batch)
    total_steps = plan_steps(stage, per_epoch, tokens_per_epoch)

    model = prepare_adapter(model, stage, ctx.seed)
    if group.active and not group.main:
        model.to("meta")  # a fresh adapter is built on the CPU; only rank 0 holds weights
    sharded_resume = resume is not None and (resume.folder / SHARDED_DIR).is_dir()
    if resume is not None and not sharded_resume and not on_meta(model):
        checkpoints.load_weights(model, resume.folder)
    # Unsharded (rank 0's CPU copy with several ranks): what the next stage starts from.
    whole = model
    # Per-document attention on packed rows (varlen), restored when the stage ends.
    implementation = attention.choose(whole.config, ctx.device, ctx.dtype, stage.compile)
    previous_attention = attention.use(whole, implementation)
    model_flops = flops_per_token(whole, row_length)
    if group.active:
        model = group.shard(whole, ctx.device)
    if stage.compile:
        # In place, so parameter names and state dicts stay those of the uncompiled model. CPU
        # runs use aot_eager (no C++ toolchain needed); CUDA uses inductor's fused kernels.
        model.compile(backend="inductor" if ctx.device.type == "cuda" else "aot_eager")
    if stage.gradient_checkpointing:
        # Non-reentrant checkpointing works with frozen base weights (LoRA) without extra hooks.
        # transformers 5 renamed gradient to activation checkpointing; 4.x has only the old name.
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable({"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable({"use_reentrant": False})
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        trainable,
        lr=stage.learning_rate,
        betas=stage.betas,
        eps=stage.epsilon,
        weight_decay=stage.weight_decay,
        # One fused kernel per step on the CPU instead of a dozen small ops per parameter (the
        # default there); transformers' Trainer and TRL default to it too. Sharded (DTensor)
        # parameters keep the default implementation.
        fused=True if ctx.device.type == "cpu" and not group.active else None,
    )
    from midspec_worker.train.schedule import lr_factor

    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: lr_factor(
            step, total_steps, stage.schedule, stage.warmup_ratio, stage.min_lr_ratio
        ),
    )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    stream = micro_batches(rows, global_batch, ctx.seed + stage.index)

    def local(rows_: list[list[Example]]) -> tuple[Batch, float]:
        """This rank's slice of a global micro-batch, and its weight (0 for an empty slice)."""
        size = stage.micro_batch_size
        mine = rows_[group.rank * size : (group.rank + 1) * size]
        # An empty slice (a short last batch) still joins the collectives, with weight 0.
        batch = packing.collate(mine or rows_[:1], pad_id).to(ctx.device, ctx.dtype)
        return batch, 1.0 if mine else 0.0

    tokens_seen = 0
    consumed = 0  # the data position: micro-batches taken from the stream so far
    first_step = 1
    pending: list[list[list[Example]]] = []
    if resume is None:
        pending.append(next(stream))
        model.eval()
        with torch.no_grad():
            first, weight = local(pending[0])
            with precision.autocast(ctx.device, ctx.dtype):
                summed = group.total(weight * float(loss_sum(model, first)))
            loss = summed / max(1.0, group.total(weight * first.loss_tokens))
        ctx.emit(
            runs_pb2.RunEvent(
                stage_started=runs_pb2.StageStarted(
                    stage_index=stage.index,
                    name=stage.name,
                    total_steps=total_steps,
                    num_tokens=tokens_per_epoch,
                    packing_efficiency=packing_efficiency,
                    initial_loss=loss,
                )
            )
        )
    else:
        state = resume.state
        # The weights and optimizer (this rank's shard of them) and the RNG state (this rank's).
        if sharded_resume:
            group.load_sharded(model, optimizer, resume.folder / SHARDED_DIR)
        else:
            group.restore_full_optimizer(model, optimizer, state["optimizer"])
        group.restore_rng(state)
        scheduler.load_state_dict(state["scheduler"])
        consumed = state["consumed"]
        tokens_seen = state["tokens_seen"]
        loss = state["loss"]
        first_step = state["step"] + 1
        # The stream is a pure function of the seed, so skipping replays the exact data order.
        stream = itertools.islice(stream, consumed, None)
    model.train()
    step = first_step - 1

    def save(step: int, finished: bool) -> None:
        if not group.active:
            gathered = {"optimizer": optimizer.state_dict(), **checkpoints.rng_state()}
            ctx.checkpoint(whole, stage, step, trainer_state(finished, gathered))
            return
        # Every rank takes part; rank 0 alone records the checkpoint (atomically). A finished
        # stage gathers its weights once into rank 0's model (the next stage starts from it);
        # a mid-stage checkpoint is sharded: each rank writes its part, nothing is gathered.
        gathered = group.trainer_state()
        if finished:
            group.gather_into(model, whole)
        else:
            assert ctx.scratch_dir is not None, "a sharded checkpoint needs ctx.scratch_dir"
            folder = group.scratch(ctx.scratch_dir)
            group.save_sharded(model, optimizer, folder)
            gathered["sharded"] = folder
        if group.main:
            ctx.checkpoint(whole, stage, step, trainer_state(finished, gathered))

    def trainer_state(finished: bool, gathered: dict[str, Any]) -> dict[str, Any]:
        return {
            **gathered,
            "scheduler": scheduler.state_dict(),
            "consumed": consumed,
            "tokens_seen": tokens_seen,
            "loss": loss,
            "finished": finished,
        }

    for step in range(first_step, total_steps + 1):
        if group.any(ctx.should_stop()):
            raise Stopped()
        started = time.perf_counter()
        while len(pending) < stage.gradient_accumulation_steps:
            pending.append(next(stream))
        batches = [local(rows_) for rows_ in pending]
        pending = []
        # Normalise by the step's loss tokens over all ranks, so accumulation and data parallelism
        # equal one big batch. FSDP averages gradients over ranks; the world size undoes that.
        loss_tokens = max(1.0, group.total(sum(w * b.loss_tokens for b, w in batches)))
        total = 0.0
        for batch, weight in batches:
            with precision.autocast(ctx.device, ctx.dtype):
                part = loss_sum(model, batch) * (weight / loss_tokens)
            (part * group.world_size).backward()
            total += float(part.detach())
        total = group.total(total)
        clip = stage.max_grad_norm if stage.max_grad_norm > 0 else float("inf")
        norm = torch.nn.utils.clip_grad_norm_(trainable, clip)
        grad_norm = float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)
        learning_rate = float(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        real = int(group.total(sum(w * b.real_tokens for b, w in batches)))
        computed = int(group.total(sum(w * b.input_ids.numel() for b, w in batches)))
        tokens_seen += real
        consumed += len(batches)
        loss = total
        elapsed = max(time.perf_counter() - started, 1e-9)
        ctx.emit(
            runs_pb2.RunEvent(
                metrics=runs_pb2.Metrics(
                    stage_index=stage.index,
                    step=step,
                    total_steps=total_steps,
                    loss=loss,
                    learning_rate=learning_rate,
                    grad_norm=grad_norm,
                    tokens_per_second=real / elapsed,
                    mfu=(
                        real * model_flops / elapsed / (ctx.peak_flops * group.world_size)
                        if ctx.peak_flops
                        else 0.0
                    ),
                    tokens_seen=tokens_seen,
                    packing_efficiency=real / max(1, computed),
                    epoch=consumed / per_epoch,
                )
            )
        )
        if stage.max_tokens and tokens_seen >= stage.max_tokens:
            break
        if (
            ctx.checkpoint_every_steps
            and step % ctx.checkpoint_every_steps == 0
            and step < total_steps
        ):
            save(step, False)
    if stage.gradient_checkpointing:
        if hasattr(model, "activation_checkpointing_disable"):
            model.activation_checkpointing_disable()
        else:
            model.gradient_checkpointing_disable()
    attention.use(whole, previous_attention)
    ctx.emit(
        runs_pb2.RunEvent(
            stage_finished=runs_pb2.StageFinished(stage_index=stage.index, final_loss=loss)
        )
    )
    save(step, True)
    return whole
