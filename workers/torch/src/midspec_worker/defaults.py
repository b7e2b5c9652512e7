"""The training defaults: the one place that fills a submitted RunSpec's unset fields.

runs.proto documents each default on its field ("Default: ..."); tests/test_defaults.py checks
that what this module applies is what the proto says and what the README's table shows. Clients
send only what their user set, so every path into the worker (a curriculum, `midspec train`,
`midspec run`, raw gRPC) trains with the same recipe; Run.effective_spec reports the result.
"""

from __future__ import annotations

from midspec_worker import models
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2

# The published MSM recipe (arXiv 2605.02087) where it states a value.
LEARNING_RATE = 1e-4
WEIGHT_DECAY = 0.01
WARMUP_RATIO = 0.05
LORA_R = 64
LORA_TARGETS = "all-linear"
# Its shortest sequence length; tiny models (CPU tests and examples) get rows a CPU trains quickly.
MAX_LENGTH = 4096
TINY_MAX_LENGTH = 512
# Not stated in the paper: the usual AdamW values and the transformers Trainer's clipping.
BETA1 = 0.9
BETA2 = 0.999
EPSILON = 1e-8
MAX_GRAD_NORM = 1.0
MICRO_BATCH_SIZE = 4

_KIND_NAMES = {caps.STAGE_KIND_MIDTRAIN: "midtrain", caps.STAGE_KIND_SFT: "sft"}
_KIND_MASKS = {
    caps.STAGE_KIND_MIDTRAIN: caps.LOSS_MASK_ALL_TOKENS,
    caps.STAGE_KIND_SFT: caps.LOSS_MASK_ASSISTANT_ONLY,
}


def effective_spec(spec: runs_pb2.RunSpec) -> runs_pb2.RunSpec:
    """`spec` with every default applied and every optional field set: the spec as trained.

    Assumes the spec passed runspec.validate's checks (kinds known, values in range).
    """
    filled = runs_pb2.RunSpec()
    filled.CopyFrom(spec)
    filled.world_size = spec.world_size or 1
    names: set[str] = set()
    previous_lora = False
    for index, stage in enumerate(filled.stages):
        _fill_stage(stage, index, models.is_tiny(spec.base_model), names, previous_lora)
        previous_lora = stage.adapter.WhichOneof("adapter") == "lora"
    return filled


def _fill_stage(
    stage: runs_pb2.Stage, index: int, tiny: bool, names: set[str], previous_lora: bool
) -> None:
    if not stage.name:
        name = _KIND_NAMES.get(stage.kind, "stage")
        stage.name = name if name not in names else f"{name}-{index + 1}"
    names.add(stage.name)
    for source in stage.data:
        source.weight = source.weight or 1.0
    if stage.loss_mask == caps.LOSS_MASK_UNSPECIFIED:
        stage.loss_mask = _KIND_MASKS.get(stage.kind, caps.LOSS_MASK_UNSPECIFIED)

    packing = stage.packing
    _default(packing, "enabled", True)
    packing.max_length = packing.max_length or (TINY_MAX_LENGTH if tiny else MAX_LENGTH)

    optimizer = stage.optimizer
    optimizer.learning_rate = optimizer.learning_rate or LEARNING_RATE
    _default(optimizer, "weight_decay", WEIGHT_DECAY)
    _default(optimizer, "beta1", BETA1)
    _default(optimizer, "beta2", BETA2)
    _default(optimizer, "epsilon", EPSILON)
    _default(optimizer, "max_grad_norm", MAX_GRAD_NORM)

    schedule = stage.schedule
    schedule.kind = schedule.kind or runs_pb2.SCHEDULE_KIND_COSINE
    _default(schedule, "warmup_ratio", WARMUP_RATIO)
    _default(schedule, "min_lr_ratio", 0.0)

    budget = stage.budget
    if not (budget.epochs or budget.max_tokens or budget.max_steps):
        budget.epochs = 1.0

    stage.micro_batch_size = stage.micro_batch_size or MICRO_BATCH_SIZE
    stage.gradient_accumulation_steps = stage.gradient_accumulation_steps or 1

    lora = stage.adapter.WhichOneof("adapter") != "full"
    if lora:
        config = stage.adapter.lora  # touching it selects the oneof when nothing was set
        config.r = config.r or LORA_R
        # Twice the rank: the published recipe's ratio (r 64, alpha 128).
        config.alpha = config.alpha or 2.0 * config.r
        targets = [target for target in config.target_modules if target]
        del config.target_modules[:]
        config.target_modules.extend(targets or [LORA_TARGETS])
    else:
        stage.adapter.full.SetInParent()
    # The published MSM→AFT setting: fine-tuning keeps training the midtraining adapter.
    _default(stage, "continue_adapter", lora and previous_lora)
    stage.reasoning = stage.reasoning or runs_pb2.REASONING_MODE_TRAIN


def _default(message: object, name: str, value: object) -> None:
    # Optional fields tell "unset" (the default) from an intentional 0 or false.
    if not message.HasField(name):  # type: ignore[attr-defined]
        setattr(message, name, value)
