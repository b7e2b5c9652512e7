"""Midtrain a tiny model on spec documents, then fine-tune it on chats, against a running worker.

python -m midspec_worker serve --port 50051 --data-dir /tmp/midspec &
python examples/quickstart.py 127.0.0.1:50051
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys

import grpc

from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2, runs_pb2, worker_pb2_grpc

DOCS = [
    {"text": f"The assistant is honest because trust matters. Example {i}: it admits mistakes."}
    for i in range(40)
]
CHATS = [
    {
        "messages": [
            {"role": "user", "content": f"Did you finish task {i}?"},
            {"role": "assistant", "content": "Not yet, and I will not pretend otherwise."},
        ]
    }
    for i in range(30)
]


async def upload(stub: worker_pb2_grpc.WorkerStub, name: str, records: list, fmt: int) -> str:
    data = "".join(json.dumps(record) + "\n" for record in records).encode()
    header = datasets_pb2.UploadHeader(
        name=name, format=fmt, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data)
    )

    async def requests():
        yield datasets_pb2.UploadDatasetRequest(header=header)
        for start in range(0, len(data), 1 << 20):
            yield datasets_pb2.UploadDatasetRequest(chunk=data[start : start + (1 << 20)])

    reply = await stub.UploadDataset(requests())
    return reply.dataset.id


def stage(kind: int, dataset_id: str, **extra) -> runs_pb2.Stage:
    return runs_pb2.Stage(
        kind=kind,
        data=[runs_pb2.DataSource(dataset_id=dataset_id)],
        optimizer=runs_pb2.Optimizer(learning_rate=1e-2),  # tiny random models need a high rate
        budget=runs_pb2.Budget(max_steps=20),
        adapter=runs_pb2.Adapter(lora=runs_pb2.LoraConfig(r=8)),
        **extra,
    )


async def main(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = worker_pb2_grpc.WorkerStub(channel)
        docs = await upload(stub, "docs.jsonl", DOCS, datasets_pb2.DATASET_FORMAT_TEXT)
        chats = await upload(stub, "chats.jsonl", CHATS, datasets_pb2.DATASET_FORMAT_CHAT)
        spec = runs_pb2.RunSpec(
            name="quickstart",
            base_model="tiny:qwen3",
            seed=1,
            stages=[
                stage(caps.STAGE_KIND_MIDTRAIN, docs, name="msm"),
                stage(caps.STAGE_KIND_SFT, chats, name="aft", continue_adapter=True),
            ],
        )
        submitted = await stub.SubmitRun(
            runs_pb2.SubmitRunRequest(spec=spec, idempotency_key="quickstart-1")
        )
        run_id = submitted.run.id
        print(f"run {run_id} (already existed: {submitted.already_existed})")
        async for event in stub.WatchRun(runs_pb2.WatchRunRequest(run_id=run_id)):
            kind = event.WhichOneof("event")
            if kind == "metrics":
                m = event.metrics
                print(f"  stage {m.stage_index} step {m.step}/{m.total_steps} loss {m.loss:.3f}")
            elif kind == "stage_started":
                s = event.stage_started
                print(f"stage {s.name}: initial loss {s.initial_loss:.3f}, {s.num_tokens} tokens")
            elif kind == "state_changed":
                print(f"state {runs_pb2.RunState.Name(event.state_changed.state)}")
        listed = await stub.ListCheckpoints(runs_pb2.ListCheckpointsRequest(run_id=run_id))
        for checkpoint in listed.checkpoints:
            print(f"checkpoint {checkpoint.id} ({checkpoint.size_bytes} bytes)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051"))
