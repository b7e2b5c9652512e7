"""Shared test helpers: datasets, uploads and event collection against a real worker."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import grpc

from midspec_worker.gen.midspec.worker.v1 import datasets_pb2, runs_pb2

TEXT = datasets_pb2.DATASET_FORMAT_TEXT
CHAT = datasets_pb2.DATASET_FORMAT_CHAT


def jsonl(records: list[Any]) -> bytes:
    return ("\n".join(json.dumps(r) for r in records) + "\n").encode()


def text_records(count: int = 40) -> list[dict[str, str]]:
    return [
        {"text": f"The assistant is honest and kind. Rule {i}: explain the value behind the rule."}
        for i in range(count)
    ]


def chat_records(count: int = 30) -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "system", "content": "Be honest."},
                {"role": "user", "content": f"What is {i} plus one?"},
                {"role": "assistant", "content": f"It is {i + 1}, because honesty matters."},
            ]
        }
        for i in range(count)
    ]


def header(data: bytes, fmt: int, name: str = "data.jsonl", **overrides: Any) -> Any:
    fields = {
        "name": name,
        "format": fmt,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_bytes": len(data),
    }
    fields.update(overrides)
    return datasets_pb2.UploadHeader(**fields)


async def upload(stub: Any, data: bytes, fmt: int, chunk: int = 1000, **overrides: Any) -> Any:
    async def requests() -> Any:
        yield datasets_pb2.UploadDatasetRequest(header=header(data, fmt, **overrides))
        for start in range(0, len(data), chunk):
            yield datasets_pb2.UploadDatasetRequest(chunk=data[start : start + chunk])

    return await stub.UploadDataset(requests())


def trailers(error: grpc.aio.AioRpcError) -> dict[str, str]:
    return {key: value for key, value in (error.trailing_metadata() or ())}


async def watch(stub: Any, run_id: str, after_seq: int = 0) -> list[runs_pb2.RunEvent]:
    request = runs_pb2.WatchRunRequest(run_id=run_id, after_seq=after_seq)
    return [event async for event in stub.WatchRun(request, timeout=240)]


def stored(events: list[runs_pb2.RunEvent]) -> list[runs_pb2.RunEvent]:
    return [e for e in events if e.WhichOneof("event") != "heartbeat"]


def stage(kind: int, dataset_id: str, steps: int, **extra: Any) -> runs_pb2.Stage:
    return runs_pb2.Stage(
        kind=kind,
        data=[runs_pb2.DataSource(dataset_id=dataset_id)],
        optimizer=runs_pb2.Optimizer(learning_rate=1e-2, max_grad_norm=1.0),
        budget=runs_pb2.Budget(max_steps=steps),
        adapter=runs_pb2.Adapter(lora=runs_pb2.LoraConfig(r=8)),
        micro_batch_size=2,
        **extra,
    )
