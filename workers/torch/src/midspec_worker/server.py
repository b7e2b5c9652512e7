"""The grpc.aio server: the Worker service, health checking and reflection."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health as health_module
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from midspec_worker import errors, model_policy, security, validation
from midspec_worker.capabilities import capabilities
from midspec_worker.checkpoint_download import CheckpointDownloads
from midspec_worker.datasets import Datasets
from midspec_worker.errors import MidspecError
from midspec_worker.gen.midspec.worker.v1 import (
    datasets_pb2,
    inference_pb2,
    runs_pb2,
    worker_pb2,
    worker_pb2_grpc,
)
from midspec_worker.inference.engine import Inference, Limits
from midspec_worker.launch.base import Launcher
from midspec_worker.runs import Runs
from midspec_worker.store import Store

log = logging.getLogger("midspec.server")
SERVICE_NAME = worker_pb2.DESCRIPTOR.services_by_name["Worker"].full_name


async def _abort(context: grpc.aio.ServicerContext, error: MidspecError) -> None:
    context.set_trailing_metadata(errors.trailing_metadata(error))
    await context.abort(errors.status_code(error), error.message)


def _as_midspec(error: Exception) -> MidspecError:
    if isinstance(error, MidspecError):
        return error
    log.exception("unexpected error")
    return errors.Internal(f"internal error: {type(error).__name__}: {error}")


def unary(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into status + trailing metadata; the worker never dies on bad input."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            validation.check_request(request)
            return await method(self, request, context)
        except Exception as error:  # noqa: BLE001 - every failure must reach the client as a status
            if isinstance(error, grpc.aio.AbortError):
                raise
            await _abort(context, _as_midspec(error))

    return wrapper


def streaming(method: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            validation.check_request(request)
            async for item in method(self, request, context):
                yield item
        except Exception as error:  # noqa: BLE001
            if isinstance(error, grpc.aio.AbortError):
                raise
            await _abort(context, _as_midspec(error))

    return wrapper


class WorkerService(worker_pb2_grpc.WorkerServicer):
    def __init__(self, datasets: Datasets, runs: Runs, inference: Inference) -> None:
        self._datasets = datasets
        self._runs = runs
        self._inference = inference
        self._downloads = CheckpointDownloads(inference.data_dir, inference.cache, inference.call)

    @unary
    async def GetCapabilities(self, request: Any, context: Any) -> Any:
        return capabilities()

    @unary
    async def UploadDataset(self, request_iterator: Any, context: Any) -> Any:
        return await self._datasets.upload(request_iterator.__aiter__())

    @unary
    async def GetUploadStatus(self, request: Any, context: Any) -> Any:
        return self._datasets.status(request.sha256)

    @unary
    async def GetDataset(self, request: Any, context: Any) -> Any:
        return self._datasets.get(request.dataset_id)

    @unary
    async def ListDatasets(self, request: Any, context: Any) -> Any:
        return datasets_pb2.ListDatasetsResponse(datasets=self._datasets.list_datasets())

    @unary
    async def SubmitRun(self, request: Any, context: Any) -> Any:
        if not request.HasField("spec"):
            raise errors.InvalidRequest("spec is required")
        run, existed, new_attempt = self._runs.submit(request.spec, request.idempotency_key)
        return runs_pb2.SubmitRunResponse(run=run, already_existed=existed, new_attempt=new_attempt)

    @unary
    async def GetRun(self, request: Any, context: Any) -> Any:
        return self._runs.get(request.run_id)

    @unary
    async def ListRuns(self, request: Any, context: Any) -> Any:
        runs = self._runs.list_runs(list(request.states), dict(request.labels))
        return runs_pb2.ListRunsResponse(runs=runs)

    @streaming
    async def WatchRun(self, request: Any, context: Any) -> Any:
        async for event in self._runs.watch(request.run_id, request.after_seq):
            yield event

    @unary
    async def CancelRun(self, request: Any, context: Any) -> Any:
        return self._runs.cancel(request.run_id)

    @unary
    async def ListCheckpoints(self, request: Any, context: Any) -> Any:
        return runs_pb2.ListCheckpointsResponse(checkpoints=self._runs.checkpoints(request.run_id))

    @streaming
    async def DownloadCheckpoint(self, request: Any, context: Any) -> Any:
        async for message in self._downloads.download(request):
            yield message

    @unary
    async def Sample(self, request: Any, context: Any) -> Any:
        results = await self._inference.sample_all(request)
        return inference_pb2.SampleResponse(
            results=[inference_pb2.PromptCompletions(completions=c) for c in results]
        )

    @streaming
    async def SampleStream(self, request: Any, context: Any) -> Any:
        job = await self._inference.sample(request)
        async for event in job.events():
            message = inference_pb2.SampleStreamResponse(
                prompt_index=event.prompt_index,
                completion_index=event.completion_index,
                delta=event.delta,
            )
            if event.completion is not None:
                message.finish_reason = event.completion.finish_reason
                message.completion.CopyFrom(event.completion)
            yield message

    @unary
    async def ScoreLogprobs(self, request: Any, context: Any) -> Any:
        results = await self._inference.score(request)
        return inference_pb2.ScoreLogprobsResponse(results=results)

    @unary
    async def Tokenize(self, request: Any, context: Any) -> Any:
        tokenized = await self._inference.tokenize(request)
        return inference_pb2.TokenizeResponse(
            results=[
                inference_pb2.Tokenization(count=len(ids), ids=ids if request.return_ids else [])
                for ids in tokenized
            ]
        )


@dataclass
class Worker:
    """A started worker: the server, its port, and what must be stopped with it."""

    server: grpc.aio.Server
    port: int
    store: Store
    runs: Runs
    health: Any
    inference: Inference

    async def stop(self, grace: float = 2.0) -> None:
        for service in ("", SERVICE_NAME):
            await self.health.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.runs.stop()
        await self.server.stop(grace)
        await self.inference.stop()
        self.store.close()


async def start(
    host: str,
    port: int,
    data_dir: Path,
    max_message_mb: int = 64,
    heartbeat_seconds: float = 5.0,
    shutdown_grace_seconds: float = 15.0,
    inference_limits: Limits | None = None,
    token: str | None = None,
    tls: tuple[Path, Path] | None = None,
    max_restarts: int = 3,
    launcher: Launcher | None = None,
) -> Worker:
    """Start serving; `token` requires a bearer token, `tls` is (certificate, private key);
    `max_restarts` bounds how often a run whose training process keeps dying is resumed;
    `launcher` starts runs' training (default: local child processes)."""
    data_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at startup
    # The worker's own final checkpoints may serve as base models (a run continuing another's).
    model_policy.add_root(data_dir / "runs")
    store = Store(data_dir / "worker.sqlite")
    datasets = Datasets(data_dir, store)
    runs = Runs(
        data_dir,
        store,
        datasets,
        heartbeat_seconds=heartbeat_seconds,
        shutdown_grace_seconds=shutdown_grace_seconds,
        max_restarts=max_restarts,
        launcher=launcher,
    )
    limit = max_message_mb * 1024 * 1024
    server = grpc.aio.server(
        interceptors=[security.Guard(token, limit)],
        options=[
            ("grpc.max_receive_message_length", security.core_receive_limit(limit)),
            ("grpc.max_send_message_length", limit),
        ],
    )
    inference = Inference(data_dir, store, inference_limits)
    servicer = WorkerService(datasets, runs, inference)
    worker_pb2_grpc.add_WorkerServicer_to_server(servicer, server)
    health = health_module.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    for service in ("", SERVICE_NAME):
        await health.set(service, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_module.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    if tls is not None:
        bound = server.add_secure_port(f"{host}:{port}", security.server_credentials(*tls))
    else:
        bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    await runs.start()
    inference.start()
    log.info("serving", extra={"host": host, "port": bound, "data_dir": str(data_dir)})
    return Worker(
        server=server, port=bound, store=store, runs=runs, health=health, inference=inference
    )
