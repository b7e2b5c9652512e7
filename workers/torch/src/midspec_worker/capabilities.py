"""What this worker can do, measured from the installed libraries and visible devices."""

from __future__ import annotations

import platform
from importlib import metadata

from midspec_worker import models
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps

WORKER_NAME = "midspec-torch"
PROTOCOL_VERSION = "midspec.worker.v1"
IMPLEMENTED_RPCS = (
    "GetCapabilities",
    "UploadDataset",
    "GetUploadStatus",
    "GetDataset",
    "ListDatasets",
    "SubmitRun",
    "GetRun",
    "ListRuns",
    "WatchRun",
    "CancelRun",
    "ListCheckpoints",
    "Sample",
    "SampleStream",
    "ScoreLogprobs",
    "Tokenize",
    "DownloadCheckpoint",
)
_LIBRARIES = ("torch", "transformers", "peft", "tokenizers", "grpcio", "protobuf", "safetensors")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def capabilities() -> caps.GetCapabilitiesResponse:
    import torch

    from midspec_worker.train.distributed import max_world_size

    devices = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    versions = {name: _version(name) for name in _LIBRARIES}
    versions["python"] = platform.python_version()
    return caps.GetCapabilitiesResponse(
        worker_name=WORKER_NAME,
        worker_version=_version("midspec-worker"),
        protocol_version=PROTOCOL_VERSION,
        model_families=["llama", "qwen3", "hf-causal-lm"],
        builtin_models=[models.TINY_PREFIX + name for name in models.BUILTIN],
        max_sequence_length=models.MAX_SEQUENCE_LENGTH,
        supports_lora=True,
        supports_full_finetune=True,
        dtypes=["float32", "bfloat16"],
        devices=devices,
        max_world_size=max_world_size(),
        stage_kinds=[caps.STAGE_KIND_MIDTRAIN, caps.STAGE_KIND_SFT],
        loss_masks=[caps.LOSS_MASK_ALL_TOKENS, caps.LOSS_MASK_ASSISTANT_ONLY],
        # ONNX is exported on demand by DownloadCheckpoint, from a merged folder.
        checkpoint_formats=[
            caps.CHECKPOINT_FORMAT_ADAPTER,
            caps.CHECKPOINT_FORMAT_MERGED_HF,
            caps.CHECKPOINT_FORMAT_ONNX,
        ],
        library_versions=versions,
        implemented_rpcs=list(IMPLEMENTED_RPCS),
    )
