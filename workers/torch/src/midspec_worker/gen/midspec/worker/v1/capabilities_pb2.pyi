from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StageKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STAGE_KIND_UNSPECIFIED: _ClassVar[StageKind]
    STAGE_KIND_MIDTRAIN: _ClassVar[StageKind]
    STAGE_KIND_SFT: _ClassVar[StageKind]

class LossMask(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOSS_MASK_UNSPECIFIED: _ClassVar[LossMask]
    LOSS_MASK_ALL_TOKENS: _ClassVar[LossMask]
    LOSS_MASK_ASSISTANT_ONLY: _ClassVar[LossMask]

class CheckpointFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECKPOINT_FORMAT_UNSPECIFIED: _ClassVar[CheckpointFormat]
    CHECKPOINT_FORMAT_ADAPTER: _ClassVar[CheckpointFormat]
    CHECKPOINT_FORMAT_MERGED_HF: _ClassVar[CheckpointFormat]
    CHECKPOINT_FORMAT_ONNX: _ClassVar[CheckpointFormat]
STAGE_KIND_UNSPECIFIED: StageKind
STAGE_KIND_MIDTRAIN: StageKind
STAGE_KIND_SFT: StageKind
LOSS_MASK_UNSPECIFIED: LossMask
LOSS_MASK_ALL_TOKENS: LossMask
LOSS_MASK_ASSISTANT_ONLY: LossMask
CHECKPOINT_FORMAT_UNSPECIFIED: CheckpointFormat
CHECKPOINT_FORMAT_ADAPTER: CheckpointFormat
CHECKPOINT_FORMAT_MERGED_HF: CheckpointFormat
CHECKPOINT_FORMAT_ONNX: CheckpointFormat

class GetCapabilitiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCapabilitiesResponse(_message.Message):
    __slots__ = ("worker_name", "worker_version", "protocol_version", "model_families", "builtin_models", "max_sequence_length", "supports_lora", "supports_full_finetune", "dtypes", "devices", "max_world_size", "stage_kinds", "loss_masks", "checkpoint_formats", "library_versions", "implemented_rpcs")
    class LibraryVersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKER_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FAMILIES_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_SEQUENCE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_LORA_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_FULL_FINETUNE_FIELD_NUMBER: _ClassVar[int]
    DTYPES_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    MAX_WORLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    STAGE_KINDS_FIELD_NUMBER: _ClassVar[int]
    LOSS_MASKS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FORMATS_FIELD_NUMBER: _ClassVar[int]
    LIBRARY_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    IMPLEMENTED_RPCS_FIELD_NUMBER: _ClassVar[int]
    worker_name: str
    worker_version: str
    protocol_version: str
    model_families: _containers.RepeatedScalarFieldContainer[str]
    builtin_models: _containers.RepeatedScalarFieldContainer[str]
    max_sequence_length: int
    supports_lora: bool
    supports_full_finetune: bool
    dtypes: _containers.RepeatedScalarFieldContainer[str]
    devices: _containers.RepeatedScalarFieldContainer[str]
    max_world_size: int
    stage_kinds: _containers.RepeatedScalarFieldContainer[StageKind]
    loss_masks: _containers.RepeatedScalarFieldContainer[LossMask]
    checkpoint_formats: _containers.RepeatedScalarFieldContainer[CheckpointFormat]
    library_versions: _containers.ScalarMap[str, str]
    implemented_rpcs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, worker_name: _Optional[str] = ..., worker_version: _Optional[str] = ..., protocol_version: _Optional[str] = ..., model_families: _Optional[_Iterable[str]] = ..., builtin_models: _Optional[_Iterable[str]] = ..., max_sequence_length: _Optional[int] = ..., supports_lora: _Optional[bool] = ..., supports_full_finetune: _Optional[bool] = ..., dtypes: _Optional[_Iterable[str]] = ..., devices: _Optional[_Iterable[str]] = ..., max_world_size: _Optional[int] = ..., stage_kinds: _Optional[_Iterable[_Union[StageKind, str]]] = ..., loss_masks: _Optional[_Iterable[_Union[LossMask, str]]] = ..., checkpoint_formats: _Optional[_Iterable[_Union[CheckpointFormat, str]]] = ..., library_versions: _Optional[_Mapping[str, str]] = ..., implemented_rpcs: _Optional[_Iterable[str]] = ...) -> None: ...
