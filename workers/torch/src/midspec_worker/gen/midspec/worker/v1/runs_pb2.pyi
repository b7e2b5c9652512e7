import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as _capabilities_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ScheduleKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCHEDULE_KIND_UNSPECIFIED: _ClassVar[ScheduleKind]
    SCHEDULE_KIND_COSINE: _ClassVar[ScheduleKind]
    SCHEDULE_KIND_LINEAR: _ClassVar[ScheduleKind]
    SCHEDULE_KIND_CONSTANT: _ClassVar[ScheduleKind]

class ReasoningMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASONING_MODE_UNSPECIFIED: _ClassVar[ReasoningMode]
    REASONING_MODE_TRAIN: _ClassVar[ReasoningMode]
    REASONING_MODE_STRIP: _ClassVar[ReasoningMode]

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUN_STATE_QUEUED: _ClassVar[RunState]
    RUN_STATE_RUNNING: _ClassVar[RunState]
    RUN_STATE_RESUMING: _ClassVar[RunState]
    RUN_STATE_SUCCEEDED: _ClassVar[RunState]
    RUN_STATE_FAILED: _ClassVar[RunState]
    RUN_STATE_CANCELLED: _ClassVar[RunState]
SCHEDULE_KIND_UNSPECIFIED: ScheduleKind
SCHEDULE_KIND_COSINE: ScheduleKind
SCHEDULE_KIND_LINEAR: ScheduleKind
SCHEDULE_KIND_CONSTANT: ScheduleKind
REASONING_MODE_UNSPECIFIED: ReasoningMode
REASONING_MODE_TRAIN: ReasoningMode
REASONING_MODE_STRIP: ReasoningMode
RUN_STATE_UNSPECIFIED: RunState
RUN_STATE_QUEUED: RunState
RUN_STATE_RUNNING: RunState
RUN_STATE_RESUMING: RunState
RUN_STATE_SUCCEEDED: RunState
RUN_STATE_FAILED: RunState
RUN_STATE_CANCELLED: RunState

class RunSpec(_message.Message):
    __slots__ = ("name", "base_model", "stages", "seed", "world_size", "checkpoint_every_steps", "labels", "dtype")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    WORLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_EVERY_STEPS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    base_model: str
    stages: _containers.RepeatedCompositeFieldContainer[Stage]
    seed: int
    world_size: int
    checkpoint_every_steps: int
    labels: _containers.ScalarMap[str, str]
    dtype: str
    def __init__(self, name: _Optional[str] = ..., base_model: _Optional[str] = ..., stages: _Optional[_Iterable[_Union[Stage, _Mapping]]] = ..., seed: _Optional[int] = ..., world_size: _Optional[int] = ..., checkpoint_every_steps: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., dtype: _Optional[str] = ...) -> None: ...

class Stage(_message.Message):
    __slots__ = ("name", "kind", "data", "loss_mask", "packing", "optimizer", "schedule", "budget", "micro_batch_size", "gradient_accumulation_steps", "adapter", "continue_adapter", "reasoning", "gradient_checkpointing", "compile")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LOSS_MASK_FIELD_NUMBER: _ClassVar[int]
    PACKING_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    MICRO_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_ACCUMULATION_STEPS_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    CONTINUE_ADAPTER_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_CHECKPOINTING_FIELD_NUMBER: _ClassVar[int]
    COMPILE_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: _capabilities_pb2.StageKind
    data: _containers.RepeatedCompositeFieldContainer[DataSource]
    loss_mask: _capabilities_pb2.LossMask
    packing: Packing
    optimizer: Optimizer
    schedule: Schedule
    budget: Budget
    micro_batch_size: int
    gradient_accumulation_steps: int
    adapter: Adapter
    continue_adapter: bool
    reasoning: ReasoningMode
    gradient_checkpointing: bool
    compile: bool
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[_capabilities_pb2.StageKind, str]] = ..., data: _Optional[_Iterable[_Union[DataSource, _Mapping]]] = ..., loss_mask: _Optional[_Union[_capabilities_pb2.LossMask, str]] = ..., packing: _Optional[_Union[Packing, _Mapping]] = ..., optimizer: _Optional[_Union[Optimizer, _Mapping]] = ..., schedule: _Optional[_Union[Schedule, _Mapping]] = ..., budget: _Optional[_Union[Budget, _Mapping]] = ..., micro_batch_size: _Optional[int] = ..., gradient_accumulation_steps: _Optional[int] = ..., adapter: _Optional[_Union[Adapter, _Mapping]] = ..., continue_adapter: _Optional[bool] = ..., reasoning: _Optional[_Union[ReasoningMode, str]] = ..., gradient_checkpointing: _Optional[bool] = ..., compile: _Optional[bool] = ...) -> None: ...

class DataSource(_message.Message):
    __slots__ = ("dataset_id", "weight")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    weight: float
    def __init__(self, dataset_id: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class Packing(_message.Message):
    __slots__ = ("enabled", "max_length")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    max_length: int
    def __init__(self, enabled: _Optional[bool] = ..., max_length: _Optional[int] = ...) -> None: ...

class Optimizer(_message.Message):
    __slots__ = ("learning_rate", "weight_decay", "beta1", "beta2", "epsilon", "max_grad_norm")
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_DECAY_FIELD_NUMBER: _ClassVar[int]
    BETA1_FIELD_NUMBER: _ClassVar[int]
    BETA2_FIELD_NUMBER: _ClassVar[int]
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    MAX_GRAD_NORM_FIELD_NUMBER: _ClassVar[int]
    learning_rate: float
    weight_decay: float
    beta1: float
    beta2: float
    epsilon: float
    max_grad_norm: float
    def __init__(self, learning_rate: _Optional[float] = ..., weight_decay: _Optional[float] = ..., beta1: _Optional[float] = ..., beta2: _Optional[float] = ..., epsilon: _Optional[float] = ..., max_grad_norm: _Optional[float] = ...) -> None: ...

class Schedule(_message.Message):
    __slots__ = ("kind", "warmup_ratio", "min_lr_ratio")
    KIND_FIELD_NUMBER: _ClassVar[int]
    WARMUP_RATIO_FIELD_NUMBER: _ClassVar[int]
    MIN_LR_RATIO_FIELD_NUMBER: _ClassVar[int]
    kind: ScheduleKind
    warmup_ratio: float
    min_lr_ratio: float
    def __init__(self, kind: _Optional[_Union[ScheduleKind, str]] = ..., warmup_ratio: _Optional[float] = ..., min_lr_ratio: _Optional[float] = ...) -> None: ...

class Budget(_message.Message):
    __slots__ = ("epochs", "max_tokens", "max_steps")
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    epochs: float
    max_tokens: int
    max_steps: int
    def __init__(self, epochs: _Optional[float] = ..., max_tokens: _Optional[int] = ..., max_steps: _Optional[int] = ...) -> None: ...

class Adapter(_message.Message):
    __slots__ = ("lora", "full")
    LORA_FIELD_NUMBER: _ClassVar[int]
    FULL_FIELD_NUMBER: _ClassVar[int]
    lora: LoraConfig
    full: FullFinetune
    def __init__(self, lora: _Optional[_Union[LoraConfig, _Mapping]] = ..., full: _Optional[_Union[FullFinetune, _Mapping]] = ...) -> None: ...

class LoraConfig(_message.Message):
    __slots__ = ("r", "alpha", "dropout", "target_modules")
    R_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    DROPOUT_FIELD_NUMBER: _ClassVar[int]
    TARGET_MODULES_FIELD_NUMBER: _ClassVar[int]
    r: int
    alpha: float
    dropout: float
    target_modules: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, r: _Optional[int] = ..., alpha: _Optional[float] = ..., dropout: _Optional[float] = ..., target_modules: _Optional[_Iterable[str]] = ...) -> None: ...

class FullFinetune(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RunError(_message.Message):
    __slots__ = ("reason", "message", "retryable")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    reason: str
    message: str
    retryable: bool
    def __init__(self, reason: _Optional[str] = ..., message: _Optional[str] = ..., retryable: _Optional[bool] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ("id", "spec", "state", "created_at", "started_at", "finished_at", "stage_index", "step", "total_steps", "error", "last_seq", "idempotency_key", "latest_metrics", "effective_spec", "attempt")
    ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    STAGE_INDEX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LATEST_METRICS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_SPEC_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    id: str
    spec: RunSpec
    state: RunState
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    stage_index: int
    step: int
    total_steps: int
    error: RunError
    last_seq: int
    idempotency_key: str
    latest_metrics: Metrics
    effective_spec: RunSpec
    attempt: int
    def __init__(self, id: _Optional[str] = ..., spec: _Optional[_Union[RunSpec, _Mapping]] = ..., state: _Optional[_Union[RunState, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stage_index: _Optional[int] = ..., step: _Optional[int] = ..., total_steps: _Optional[int] = ..., error: _Optional[_Union[RunError, _Mapping]] = ..., last_seq: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., latest_metrics: _Optional[_Union[Metrics, _Mapping]] = ..., effective_spec: _Optional[_Union[RunSpec, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...

class SubmitRunRequest(_message.Message):
    __slots__ = ("spec", "idempotency_key")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    spec: RunSpec
    idempotency_key: str
    def __init__(self, spec: _Optional[_Union[RunSpec, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SubmitRunResponse(_message.Message):
    __slots__ = ("run", "already_existed", "new_attempt")
    RUN_FIELD_NUMBER: _ClassVar[int]
    ALREADY_EXISTED_FIELD_NUMBER: _ClassVar[int]
    NEW_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    run: Run
    already_existed: bool
    new_attempt: bool
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ..., already_existed: _Optional[bool] = ..., new_attempt: _Optional[bool] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("states", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[RunState]
    labels: _containers.ScalarMap[str, str]
    def __init__(self, states: _Optional[_Iterable[_Union[RunState, str]]] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[Run]
    def __init__(self, runs: _Optional[_Iterable[_Union[Run, _Mapping]]] = ...) -> None: ...

class CancelRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class WatchRunRequest(_message.Message):
    __slots__ = ("run_id", "after_seq")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    after_seq: int
    def __init__(self, run_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class Metrics(_message.Message):
    __slots__ = ("stage_index", "step", "total_steps", "loss", "learning_rate", "grad_norm", "tokens_per_second", "tokens_seen", "mfu", "packing_efficiency", "epoch")
    STAGE_INDEX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    GRAD_NORM_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    TOKENS_SEEN_FIELD_NUMBER: _ClassVar[int]
    MFU_FIELD_NUMBER: _ClassVar[int]
    PACKING_EFFICIENCY_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    stage_index: int
    step: int
    total_steps: int
    loss: float
    learning_rate: float
    grad_norm: float
    tokens_per_second: float
    tokens_seen: int
    mfu: float
    packing_efficiency: float
    epoch: float
    def __init__(self, stage_index: _Optional[int] = ..., step: _Optional[int] = ..., total_steps: _Optional[int] = ..., loss: _Optional[float] = ..., learning_rate: _Optional[float] = ..., grad_norm: _Optional[float] = ..., tokens_per_second: _Optional[float] = ..., tokens_seen: _Optional[int] = ..., mfu: _Optional[float] = ..., packing_efficiency: _Optional[float] = ..., epoch: _Optional[float] = ...) -> None: ...

class StateChanged(_message.Message):
    __slots__ = ("state", "error", "message", "attempt")
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    state: RunState
    error: RunError
    message: str
    attempt: int
    def __init__(self, state: _Optional[_Union[RunState, str]] = ..., error: _Optional[_Union[RunError, _Mapping]] = ..., message: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class StageStarted(_message.Message):
    __slots__ = ("stage_index", "name", "total_steps", "num_tokens", "packing_efficiency", "initial_loss")
    STAGE_INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    NUM_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PACKING_EFFICIENCY_FIELD_NUMBER: _ClassVar[int]
    INITIAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    stage_index: int
    name: str
    total_steps: int
    num_tokens: int
    packing_efficiency: float
    initial_loss: float
    def __init__(self, stage_index: _Optional[int] = ..., name: _Optional[str] = ..., total_steps: _Optional[int] = ..., num_tokens: _Optional[int] = ..., packing_efficiency: _Optional[float] = ..., initial_loss: _Optional[float] = ...) -> None: ...

class StageFinished(_message.Message):
    __slots__ = ("stage_index", "final_loss")
    STAGE_INDEX_FIELD_NUMBER: _ClassVar[int]
    FINAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    stage_index: int
    final_loss: float
    def __init__(self, stage_index: _Optional[int] = ..., final_loss: _Optional[float] = ...) -> None: ...

class CheckpointSaved(_message.Message):
    __slots__ = ("checkpoint",)
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    checkpoint: Checkpoint
    def __init__(self, checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LogLine(_message.Message):
    __slots__ = ("level", "message")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    level: str
    message: str
    def __init__(self, level: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RunEvent(_message.Message):
    __slots__ = ("seq", "run_id", "time", "state_changed", "metrics", "stage_started", "stage_finished", "checkpoint_saved", "heartbeat", "log")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    STAGE_STARTED_FIELD_NUMBER: _ClassVar[int]
    STAGE_FINISHED_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_SAVED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    seq: int
    run_id: str
    time: _timestamp_pb2.Timestamp
    state_changed: StateChanged
    metrics: Metrics
    stage_started: StageStarted
    stage_finished: StageFinished
    checkpoint_saved: CheckpointSaved
    heartbeat: Heartbeat
    log: LogLine
    def __init__(self, seq: _Optional[int] = ..., run_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state_changed: _Optional[_Union[StateChanged, _Mapping]] = ..., metrics: _Optional[_Union[Metrics, _Mapping]] = ..., stage_started: _Optional[_Union[StageStarted, _Mapping]] = ..., stage_finished: _Optional[_Union[StageFinished, _Mapping]] = ..., checkpoint_saved: _Optional[_Union[CheckpointSaved, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., log: _Optional[_Union[LogLine, _Mapping]] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("id", "run_id", "stage_index", "step", "final", "formats", "created_at", "size_bytes", "local_path")
    ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_INDEX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOCAL_PATH_FIELD_NUMBER: _ClassVar[int]
    id: str
    run_id: str
    stage_index: int
    step: int
    final: bool
    formats: _containers.RepeatedScalarFieldContainer[_capabilities_pb2.CheckpointFormat]
    created_at: _timestamp_pb2.Timestamp
    size_bytes: int
    local_path: str
    def __init__(self, id: _Optional[str] = ..., run_id: _Optional[str] = ..., stage_index: _Optional[int] = ..., step: _Optional[int] = ..., final: _Optional[bool] = ..., formats: _Optional[_Iterable[_Union[_capabilities_pb2.CheckpointFormat, str]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., size_bytes: _Optional[int] = ..., local_path: _Optional[str] = ...) -> None: ...

class ListCheckpointsRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class ListCheckpointsResponse(_message.Message):
    __slots__ = ("checkpoints",)
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedCompositeFieldContainer[Checkpoint]
    def __init__(self, checkpoints: _Optional[_Iterable[_Union[Checkpoint, _Mapping]]] = ...) -> None: ...

class DownloadCheckpointRequest(_message.Message):
    __slots__ = ("run_id", "checkpoint_id", "format")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    checkpoint_id: str
    format: _capabilities_pb2.CheckpointFormat
    def __init__(self, run_id: _Optional[str] = ..., checkpoint_id: _Optional[str] = ..., format: _Optional[_Union[_capabilities_pb2.CheckpointFormat, str]] = ...) -> None: ...

class CheckpointFile(_message.Message):
    __slots__ = ("path", "size_bytes", "sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    size_bytes: int
    sha256: str
    def __init__(self, path: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class DownloadManifest(_message.Message):
    __slots__ = ("checkpoint", "format", "files")
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    checkpoint: Checkpoint
    format: _capabilities_pb2.CheckpointFormat
    files: _containers.RepeatedCompositeFieldContainer[CheckpointFile]
    def __init__(self, checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ..., format: _Optional[_Union[_capabilities_pb2.CheckpointFormat, str]] = ..., files: _Optional[_Iterable[_Union[CheckpointFile, _Mapping]]] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("path", "offset", "data")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    path: str
    offset: int
    data: bytes
    def __init__(self, path: _Optional[str] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class DownloadCheckpointResponse(_message.Message):
    __slots__ = ("manifest", "chunk")
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    manifest: DownloadManifest
    chunk: FileChunk
    def __init__(self, manifest: _Optional[_Union[DownloadManifest, _Mapping]] = ..., chunk: _Optional[_Union[FileChunk, _Mapping]] = ...) -> None: ...
