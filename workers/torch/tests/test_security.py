"""Bearer token, TLS and message-size limits against real servers on port 0."""

from __future__ import annotations

import shutil
import subprocess

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import TEXT, jsonl, text_records, trailers, upload

from midspec_worker import server
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2, runs_pb2, worker_pb2_grpc


async def test_bearer_token(tmp_path):
    worker = await server.start("127.0.0.1", 0, tmp_path / "w", token="s3cret")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{worker.port}") as channel:
            stub = worker_pb2_grpc.WorkerStub(channel)
            request = capabilities_pb2.GetCapabilitiesRequest()
            for metadata, word in ((None, "missing"), ((("authorization", "Bearer no"),), "wrong")):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.GetCapabilities(request, metadata=metadata)
                assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
                assert word in caught.value.details()
                assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_UNAUTHENTICATED"
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await upload(stub, jsonl(text_records(2)), TEXT)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                async for _ in stub.WatchRun(runs_pb2.WatchRunRequest(run_id="x")):
                    pass
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
            good = (("authorization", "Bearer s3cret"),)
            answer = await stub.GetCapabilities(request, metadata=good)
            assert answer.worker_name
            health = health_pb2_grpc.HealthStub(channel)
            status = await health.Check(health_pb2.HealthCheckRequest())
            assert status.status == health_pb2.HealthCheckResponse.SERVING
            # Watch answers through context.write(); the guard must pass it through unchanged.
            watch = health.Watch(health_pb2.HealthCheckRequest(), timeout=10)
            first = await watch.read()
            assert first.status == health_pb2.HealthCheckResponse.SERVING
            watch.cancel()
    finally:
        await worker.stop(grace=0)


async def test_oversize_messages_are_resource_exhausted(tmp_path):
    worker = await server.start("127.0.0.1", 0, tmp_path / "w", max_message_mb=1)
    try:
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{worker.port}", options=[("grpc.max_send_message_length", 8 << 20)]
        ) as channel:
            stub = worker_pb2_grpc.WorkerStub(channel)
            data = jsonl([{"text": "x" * 1_500_000}])
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await upload(stub, data, TEXT, chunk=len(data))
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "--max-message-mb" in caught.value.details()
            assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_LIMIT_EXCEEDED"
            spec = runs_pb2.RunSpec(base_model="tiny:llama", name="y" * 1_200_000)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "SubmitRun request message is" in caught.value.details()
            small = await upload(stub, jsonl(text_records(2)), TEXT)
            assert small.dataset.num_records == 2
    finally:
        await worker.stop(grace=0)


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_tls(tmp_path, certificate):
    cert, key = certificate
    worker = await server.start("127.0.0.1", 0, tmp_path / "w", tls=(cert, key))
    try:
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        target = f"127.0.0.1:{worker.port}"
        async with grpc.aio.secure_channel(target, credentials) as channel:
            stub = worker_pb2_grpc.WorkerStub(channel)
            answer = await stub.GetCapabilities(capabilities_pb2.GetCapabilitiesRequest())
            assert answer.worker_name
        async with grpc.aio.insecure_channel(target) as plain:
            with pytest.raises(grpc.aio.AioRpcError):
                await worker_pb2_grpc.WorkerStub(plain).GetCapabilities(
                    capabilities_pb2.GetCapabilitiesRequest(), timeout=5
                )
    finally:
        await worker.stop(grace=0)
