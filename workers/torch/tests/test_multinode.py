"""A run over two "nodes" on localhost (one process each, torchrun c10d rendezvous): the worker
runs node 0, `python -m midspec_worker.launch.local` joins as node 1. Killing node 1 mid-stage
makes the run resume from its last sharded checkpoint once node 1 is back, and finish."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys

import grpc
import pytest
from helpers import TEXT, jsonl, stage, stored, text_records, upload
from helpers import watch as watch_events

from midspec_worker import server
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2, worker_pb2_grpc
from midspec_worker.launch import local


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
async def test_two_nodes_train_and_resume_after_one_node_is_killed(tmp_path, monkeypatch):
    endpoint = f"127.0.0.1:{_free_port()}"
    monkeypatch.setenv(local.NNODES_ENV, "2")
    monkeypatch.setenv(local.RDZV_ENDPOINT_ENV, endpoint)
    data_dir = tmp_path / "data"
    worker = await server.start(
        "127.0.0.1", 0, data_dir, heartbeat_seconds=0.5, shutdown_grace_seconds=20
    )

    def join(run_id: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "midspec_worker.launch.local", "--data-dir"]
        command += [str(data_dir), "--run-id", run_id, "--nnodes", "2", "--node-rank", "1"]
        command += ["--rdzv-endpoint", endpoint]
        return subprocess.Popen(command, start_new_session=True)

    nodes = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{worker.port}") as channel:
            stub = worker_pb2_grpc.WorkerStub(channel)
            text = (await upload(stub, jsonl(text_records(16)), TEXT)).dataset.id
            one = stage(caps.STAGE_KIND_MIDTRAIN, text, 6)
            one.packing.enabled = False
            spec = runs_pb2.RunSpec(
                base_model="tiny:llama",
                seed=4,
                world_size=2,
                checkpoint_every_steps=2,
                stages=[one],
            )
            run_id = (await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))).run.id
            nodes.append(join(run_id))
            request = runs_pb2.WatchRunRequest(run_id=run_id)
            async for event in stub.WatchRun(request, timeout=300):
                if event.HasField("metrics") and event.metrics.step >= 3:
                    break
            os.killpg(nodes[0].pid, signal.SIGKILL)  # node 1 is lost
            async for event in stub.WatchRun(request, timeout=300):
                if event.state_changed.state == runs_pb2.RUN_STATE_RESUMING:
                    break
            nodes.append(join(run_id))  # node 1 comes back
            log = stored(await watch_events(stub, run_id))
            assert await asyncio.to_thread(nodes[1].wait, 60) == 0
    finally:
        for node in nodes:
            if node.poll() is None:
                os.killpg(node.pid, signal.SIGKILL)
        await worker.stop(grace=0)
    assert log[-1].state_changed.state == runs_pb2.RUN_STATE_SUCCEEDED, log[-1]
    (resumed,) = [e.log.message for e in log if "resuming from checkpoint" in e.log.message]
    assert resumed.split()[-1] in ("stage-0-step-2", "stage-0-step-4"), resumed
    checkpoint = data_dir / "runs" / run_id / "checkpoints" / "stage-0-step-2"
    assert (checkpoint / "dcp" / ".metadata").is_file()  # sharded, written by both nodes
    steps = [e.metrics.step for e in log if e.HasField("metrics")]
    assert set(steps) == set(range(1, 7)) and steps[-1] == 6
    assert (data_dir / "runs" / run_id / "checkpoints" / "final" / "config.json").is_file()
