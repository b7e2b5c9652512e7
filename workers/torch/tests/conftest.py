"""A real grpc.aio worker on port 0 per test, torn down afterwards."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

# The suite runs on small shared machines; one intra-op thread per training child avoids stalls.
os.environ.setdefault("MIDSPEC_TORCH_THREADS", "1")

from midspec_worker import server
from midspec_worker.gen.midspec.worker.v1 import worker_pb2_grpc


@pytest.fixture
async def worker(tmp_path: Path) -> AsyncIterator[server.Worker]:
    started = await server.start(
        "127.0.0.1", 0, tmp_path / "data", heartbeat_seconds=0.5, shutdown_grace_seconds=3
    )
    yield started
    await started.stop(grace=0)


@pytest.fixture
async def channel(worker: server.Worker) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{worker.port}") as opened:
        yield opened


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> worker_pb2_grpc.WorkerStub:
    return worker_pb2_grpc.WorkerStub(channel)


@pytest.fixture(scope="session")
def real_model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Qwen3- and Llama-3.1-format model folders (real tokenizers, tiny random weights), built once
    per session."""
    from real_models import build_model_folder

    from midspec_worker import model_policy

    root = tmp_path_factory.mktemp("real-models")
    model_policy.add_root(root)  # a worker serves local folders only from under its model roots
    return {kind: build_model_folder(kind, root / kind) for kind in ("qwen3", "llama3_1")}
