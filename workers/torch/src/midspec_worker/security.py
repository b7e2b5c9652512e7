"""Server-side guards: the bearer token, message-size limits with a clear answer, and TLS.

One interceptor wraps every method handler. Health checks stay open without a token, so load
balancers and `grpc_health_probe` work; everything else (the Worker service and reflection) needs
`authorization: Bearer <token>` when a token is configured. Requests larger than the limit are
answered RESOURCE_EXHAUSTED with a message that names the limit and the flag that raises it;
gRPC core enforces a hard ceiling at twice the limit with its own message.
"""

from __future__ import annotations

import hmac
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc

from midspec_worker import errors

OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
TOKEN_ENV = "MIDSPEC_WORKER_TOKEN"
_MAX_CORE_LIMIT = 2**31 - 1


class _Oversize:
    """What the deserializer returns instead of parsing a message over the limit."""

    def __init__(self, size: int) -> None:
        self.size = size


def core_receive_limit(limit: int) -> int:
    # Headroom above our own limit so that oversize messages reach the interceptor's clear answer.
    return min(2 * limit, _MAX_CORE_LIMIT)


def server_credentials(cert: Path, key: Path) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])


class Guard(grpc.aio.ServerInterceptor):
    def __init__(self, token: str | None, max_message_bytes: int) -> None:
        self._expected = f"Bearer {token}".encode() if token else None
        self._limit = max_message_bytes

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        if self._expected is not None and not method.startswith(OPEN_PREFIXES):
            metadata = dict(handler_call_details.invocation_metadata or ())
            given = metadata.get("authorization", "")
            given_bytes = given.encode() if isinstance(given, str) else bytes(given)
            if not hmac.compare_digest(given_bytes, self._expected):
                problem = "missing" if not given else "wrong"
                return _rejecting(
                    handler,
                    errors.Unauthenticated(
                        f"{problem} bearer token: send 'authorization: Bearer <token>' with the "
                        f"worker's --token (or ${TOKEN_ENV})"
                    ),
                )
        return _limited(handler, self._limit, method)


async def _abort(context: grpc.aio.ServicerContext, error: errors.MidspecError) -> None:
    context.set_trailing_metadata(errors.trailing_metadata(error))
    await context.abort(errors.status_code(error), error.message)


def _rebuild(handler: grpc.RpcMethodHandler, behavior: Any, deserializer: Any) -> Any:
    serializer = handler.response_serializer
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(behavior, deserializer, serializer)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(behavior, deserializer, serializer)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(behavior, deserializer, serializer)
    return grpc.unary_unary_rpc_method_handler(behavior, deserializer, serializer)


def _rejecting(handler: grpc.RpcMethodHandler, error: errors.MidspecError) -> Any:
    if handler.response_streaming:

        async def reject_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await _abort(context, error)
            yield  # pragma: no cover - makes this an async generator

        return _rebuild(handler, reject_stream, None)

    async def reject(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await _abort(context, error)

    return _rebuild(handler, reject, None)


def _too_large(size: int, limit: int, method: str) -> errors.MessageTooLarge:
    return errors.MessageTooLarge(
        f"a {method.rsplit('/', 1)[-1]} request message is {size} bytes, over this worker's limit "
        f"of {limit} bytes ({limit / 2**20:g} MiB); send smaller messages (upload chunks of a "
        "few MiB) or start the worker with a larger --max-message-mb"
    )


def _limited(handler: grpc.RpcMethodHandler, limit: int, method: str) -> Any:
    parse = handler.request_deserializer

    def deserialize(data: bytes) -> Any:
        if len(data) > limit:
            return _Oversize(len(data))
        return parse(data) if parse is not None else data

    if handler.request_streaming:
        behavior = handler.stream_stream or handler.stream_unary

        async def checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for request in requests:
                if isinstance(request, _Oversize):
                    raise _too_large(request.size, limit, method)
                yield request

        if handler.response_streaming:

            async def stream_stream(requests: Any, context: grpc.aio.ServicerContext) -> Any:
                try:
                    async for response in behavior(checked(requests), context):
                        yield response
                except errors.MessageTooLarge as error:
                    await _abort(context, error)

            return _rebuild(handler, stream_stream, deserialize)

        async def stream_unary(requests: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await behavior(checked(requests), context)
            except errors.MessageTooLarge as error:
                await _abort(context, error)

        return _rebuild(handler, stream_unary, deserialize)

    unary_behavior = handler.unary_stream or handler.unary_unary
    if handler.response_streaming and inspect.iscoroutinefunction(unary_behavior):
        # A coroutine that answers with context.write() (grpc_health's Watch), not a generator.
        async def unary_writer(request: Any, context: grpc.aio.ServicerContext) -> None:
            if isinstance(request, _Oversize):
                await _abort(context, _too_large(request.size, limit, method))
            await unary_behavior(request, context)

        return _rebuild(handler, unary_writer, deserialize)
    if handler.response_streaming:

        async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, _Oversize):
                await _abort(context, _too_large(request.size, limit, method))
            async for response in unary_behavior(request, context):
                yield response

        return _rebuild(handler, unary_stream, deserialize)

    async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(request, _Oversize):
            await _abort(context, _too_large(request.size, limit, method))
        return await unary_behavior(request, context)

    return _rebuild(handler, unary_unary, deserialize)
