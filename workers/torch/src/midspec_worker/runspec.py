"""Validation of submitted run specs and their concrete plan (defaults applied by defaults.py).

The server validates with the same code the training child uses to resolve defaults, so a run that
was accepted never fails later for a reason the submission could have caught.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from midspec_worker import defaults, models
from midspec_worker.errors import InvalidRequest
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2, runs_pb2

DTYPES = ("float32", "bfloat16")
_STAGE_FORMAT = {
    caps.STAGE_KIND_MIDTRAIN: datasets_pb2.DATASET_FORMAT_TEXT,
    caps.STAGE_KIND_SFT: datasets_pb2.DATASET_FORMAT_CHAT,
}


@dataclass(frozen=True)
class LoraPlan:
    r: int
    alpha: float
    dropout: float
    target_modules: list[str] | str


@dataclass(frozen=True)
class StagePlan:
    index: int
    name: str
    kind: int
    sources: list[tuple[str, float]]
    assistant_only: bool
    packing: bool
    max_length: int
    learning_rate: float
    weight_decay: float
    betas: tuple[float, float]
    epsilon: float
    max_grad_norm: float
    schedule: int
    warmup_ratio: float
    min_lr_ratio: float
    epochs: float
    max_tokens: int
    max_steps: int
    micro_batch_size: int
    gradient_accumulation_steps: int
    lora: LoraPlan | None
    continue_adapter: bool
    strip_reasoning: bool
    gradient_checkpointing: bool
    compile: bool = False


@dataclass(frozen=True)
class RunPlan:
    base_model: str
    seed: int
    dtype: str
    checkpoint_every_steps: int
    world_size: int = 1
    stages: list[StagePlan] = field(default_factory=list)
    # The submitted spec with every default applied (what GetRun reports as effective_spec).
    effective: runs_pb2.RunSpec = field(default_factory=runs_pb2.RunSpec)


def validate(spec: runs_pb2.RunSpec, dataset_formats: Mapping[str, int]) -> RunPlan:
    """Resolve defaults; raise InvalidRequest listing every problem (not just the first)."""
    problems: list[str] = []
    if not spec.base_model:
        problems.append("base_model: required")
    if not spec.stages:
        problems.append("stages: at least one stage is required")
    if spec.world_size < 0 or spec.world_size > 1:
        from midspec_worker.train.distributed import max_world_size

        most = max_world_size()
        if not 0 <= spec.world_size <= most:
            problems.append(f"world_size: must be between 1 and {most} (see capabilities)")
    if spec.dtype and spec.dtype not in DTYPES:
        problems.append(f"dtype: must be one of {', '.join(DTYPES)} or empty")
    if spec.checkpoint_every_steps < 0:
        problems.append("checkpoint_every_steps: must not be negative")
    for index, stage in enumerate(spec.stages):
        _check_stage(index, stage, spec, dataset_formats, problems)
    if problems:
        raise InvalidRequest("invalid run spec: " + "; ".join(problems))
    effective = defaults.effective_spec(spec)
    return RunPlan(
        base_model=effective.base_model,
        seed=effective.seed,
        dtype=effective.dtype,
        checkpoint_every_steps=effective.checkpoint_every_steps,
        world_size=effective.world_size,
        stages=[_plan(index, stage) for index, stage in enumerate(effective.stages)],
        effective=effective,
    )


def _check_stage(
    index: int,
    stage: runs_pb2.Stage,
    spec: runs_pb2.RunSpec,
    formats: Mapping[str, int],
    problems: list[str],
) -> None:
    at = f"stages[{index}]"

    def check(ok: bool, where: str, message: str) -> None:
        if not ok:
            problems.append(f"{at}.{where}: {message}")

    check(stage.kind in _STAGE_FORMAT, "kind", "must be STAGE_KIND_MIDTRAIN or STAGE_KIND_SFT")
    check(len(stage.data) > 0, "data", "at least one dataset is required")
    for i, source in enumerate(stage.data):
        check(_finite(source.weight) and source.weight >= 0, f"data[{i}].weight", "must be >= 0")
        fmt = formats.get(source.dataset_id)
        if fmt is not None and stage.kind in _STAGE_FORMAT and fmt != _STAGE_FORMAT[stage.kind]:
            check(
                False,
                f"data[{i}]",
                f"{caps.StageKind.Name(stage.kind)} stages take "
                f"{datasets_pb2.DatasetFormat.Name(_STAGE_FORMAT[stage.kind])} datasets, "
                f"not {datasets_pb2.DatasetFormat.Name(fmt)}",
            )
    check(
        not (
            stage.kind == caps.STAGE_KIND_MIDTRAIN
            and stage.loss_mask == caps.LOSS_MASK_ASSISTANT_ONLY
        ),
        "loss_mask",
        "midtrain stages have no assistant turns; use LOSS_MASK_ALL_TOKENS",
    )
    max_length = stage.packing.max_length
    check(
        0 <= max_length <= models.MAX_SEQUENCE_LENGTH,
        "packing.max_length",
        f"must be between 1 and {models.MAX_SEQUENCE_LENGTH}",
    )
    opt = stage.optimizer
    check(
        _finite(opt.learning_rate) and 0 <= opt.learning_rate < 1,
        "optimizer.learning_rate",
        "must be in [0, 1)",
    )
    check(
        _finite(opt.weight_decay) and opt.weight_decay >= 0,
        "optimizer.weight_decay",
        "must be >= 0",
    )
    check(_finite(opt.beta1) and 0 <= opt.beta1 < 1, "optimizer.beta1", "must be in [0, 1)")
    check(_finite(opt.beta2) and 0 <= opt.beta2 < 1, "optimizer.beta2", "must be in [0, 1)")
    check(_finite(opt.epsilon) and opt.epsilon >= 0, "optimizer.epsilon", "must be >= 0")
    check(
        _finite(opt.max_grad_norm) and opt.max_grad_norm >= 0,
        "optimizer.max_grad_norm",
        "must be >= 0",
    )
    sched = stage.schedule
    check(sched.kind in runs_pb2.ScheduleKind.values(), "schedule.kind", "unknown schedule")
    check(
        _finite(sched.warmup_ratio) and 0 <= sched.warmup_ratio < 1,
        "schedule.warmup_ratio",
        "must be in [0, 1)",
    )
    check(
        _finite(sched.min_lr_ratio) and 0 <= sched.min_lr_ratio <= 1,
        "schedule.min_lr_ratio",
        "must be in [0, 1]",
    )
    budget = stage.budget
    check(_finite(budget.epochs) and budget.epochs >= 0, "budget.epochs", "must be >= 0")
    check(budget.max_tokens >= 0, "budget.max_tokens", "must be >= 0")
    check(budget.max_steps >= 0, "budget.max_steps", "must be >= 0")
    check(stage.micro_batch_size >= 0, "micro_batch_size", "must be >= 0")
    check(stage.gradient_accumulation_steps >= 0, "gradient_accumulation_steps", "must be >= 0")
    lora = stage.adapter.WhichOneof("adapter") != "full"
    if lora:
        cfg = stage.adapter.lora
        check(cfg.r >= 0, "adapter.lora.r", "must be >= 0")
        check(_finite(cfg.alpha) and cfg.alpha >= 0, "adapter.lora.alpha", "must be >= 0")
        check(
            _finite(cfg.dropout) and 0 <= cfg.dropout < 1,
            "adapter.lora.dropout",
            "must be in [0, 1)",
        )
    if stage.continue_adapter:
        previous = spec.stages[index - 1] if index > 0 else None
        check(
            previous is not None and previous.adapter.WhichOneof("adapter") != "full" and lora,
            "continue_adapter",
            "needs a LoRA stage before it and a LoRA adapter in this stage",
        )


def _plan(index: int, stage: runs_pb2.Stage) -> StagePlan:
    """The plan of a stage of the effective spec (every default already applied)."""
    lora = None
    if stage.adapter.WhichOneof("adapter") == "lora":
        cfg = stage.adapter.lora
        targets = list(cfg.target_modules)
        lora = LoraPlan(
            r=cfg.r,
            alpha=cfg.alpha,
            dropout=cfg.dropout,
            target_modules=defaults.LORA_TARGETS if targets == [defaults.LORA_TARGETS] else targets,
        )
    opt, sched, budget = stage.optimizer, stage.schedule, stage.budget
    return StagePlan(
        index=index,
        name=stage.name,
        kind=stage.kind,
        sources=[(s.dataset_id, s.weight) for s in stage.data],
        assistant_only=stage.loss_mask == caps.LOSS_MASK_ASSISTANT_ONLY,
        packing=stage.packing.enabled,
        max_length=stage.packing.max_length,
        learning_rate=opt.learning_rate,
        weight_decay=opt.weight_decay,
        betas=(opt.beta1, opt.beta2),
        epsilon=opt.epsilon,
        max_grad_norm=opt.max_grad_norm,
        schedule=sched.kind,
        warmup_ratio=sched.warmup_ratio,
        min_lr_ratio=sched.min_lr_ratio,
        epochs=budget.epochs,
        max_tokens=budget.max_tokens,
        max_steps=budget.max_steps,
        micro_batch_size=stage.micro_batch_size,
        gradient_accumulation_steps=stage.gradient_accumulation_steps,
        lora=lora,
        continue_adapter=stage.continue_adapter,
        strip_reasoning=stage.reasoning == runs_pb2.REASONING_MODE_STRIP,
        gradient_checkpointing=stage.gradient_checkpointing,
        compile=stage.compile,
    )


def _finite(value: float) -> bool:
    return math.isfinite(value)
