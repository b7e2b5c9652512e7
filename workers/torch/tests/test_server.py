from __future__ import annotations

import asyncio
import re
import signal
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from helpers import trailers

from midspec_worker.gen.midspec.worker.v1 import (
    capabilities_pb2,
    runs_pb2,
    worker_pb2_grpc,
)

WORKER = "midspec.worker.v1.Worker"


async def test_capabilities(stub):
    caps = await stub.GetCapabilities(capabilities_pb2.GetCapabilitiesRequest())
    assert caps.worker_name == "midspec-torch" and caps.protocol_version == "midspec.worker.v1"
    assert "cpu" in caps.devices and caps.max_world_size >= 1
    assert list(caps.builtin_models) == ["tiny:llama", "tiny:qwen3"]
    assert caps.supports_lora and caps.supports_full_finetune
    assert caps.library_versions["torch"] and caps.library_versions["transformers"]
    assert {"SubmitRun", "Sample", "SampleStream", "ScoreLogprobs", "Tokenize"} <= set(
        caps.implemented_rpcs
    )


async def test_download_of_an_unknown_run(stub):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.DownloadCheckpoint(runs_pb2.DownloadCheckpointRequest(run_id="x")):
            pass
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_RUN_NOT_FOUND"


async def test_unknown_run(stub):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetRun(runs_pb2.GetRunRequest(run_id="nope"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_RUN_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.WatchRun(runs_pb2.WatchRunRequest(run_id="nope")):
            pass
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_health_and_reflection(channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", WORKER):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = reflection.ServerReflectionInfo()
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    reply = await call.read()
    await call.done_writing()
    names = {service.name for service in reply.list_services_response.service}
    assert {WORKER, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


async def test_serve_command_prints_address_and_stops_on_sigterm(tmp_path):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "midspec_worker",
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(tmp_path / "data"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
        match = re.fullmatch(r"midspec-worker listening on 127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        async with grpc.aio.insecure_channel(f"127.0.0.1:{match.group(1)}") as channel:
            stub = worker_pb2_grpc.WorkerStub(channel)
            caps = await stub.GetCapabilities(capabilities_pb2.GetCapabilitiesRequest())
            assert caps.worker_name == "midspec-torch"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 60) == 0
        stderr = (await process.stderr.read()).decode()
        assert '"message": "serving"' in stderr
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
