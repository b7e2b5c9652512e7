"""Seeded fuzzing of the worker's two front doors, over loopback only: generated malformed gRPC
requests (every RPC, fields filled from pools of hostile values: NaN, infinities, negative counts,
64-bit extremes, unknown enum numbers, path traversal, odd Unicode) and malformed HTTP requests to
the OpenAI-compatible API (bodies with mistyped and out-of-range fields, invalid JSON, unknown
routes and methods, non-ASCII Authorization headers). No answer may be gRPC INTERNAL or UNKNOWN,
or an HTTP 5xx, and every HTTP error must be OpenAI's error JSON; afterwards the worker must still
serve.

The default suite sends a few hundred (tests/test_fuzz.py); the figure comes from this script:

    cd workers/torch && .venv/bin/python tests/fuzz.py --grpc 5000 --http 5000 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor

from midspec_worker.gen.midspec.worker.v1 import (
    capabilities_pb2,
    common_pb2,
    datasets_pb2,
    inference_pb2,
    runs_pb2,
    worker_pb2_grpc,
)

STRINGS = [
    "",
    "tiny:llama",
    "tiny:gpt9",
    "run:nope",
    "run:../../x/final@adapter",
    "../../etc/passwd",
    "/etc",
    "/",
    "a" * 300,
    "\u0000",
    "é\u202e",
    "\U0001d4cd",
    "x" * 10,
    "0" * 64,
    "DATASET_FORMAT_TEXT",
]
SIGNED = [0, 1, 2, -1, 2**31 - 1, -(2**31)]
SIGNED_64 = SIGNED + [2**63 - 1, -(2**63)]
UNSIGNED_32 = [0, 1, 2, 2**32 - 1]
UNSIGNED_64 = [0, 1, 2, 2**63, 2**64 - 1]
DOUBLES = [0.0, 0.5, 1.0, -1.0, math.nan, math.inf, -math.inf, 1e308, 5e-324, 3.0]

# (method, request type, kind): kind is how the stub is called.
METHODS = [
    ("GetCapabilities", capabilities_pb2.GetCapabilitiesRequest, "unary"),
    ("GetUploadStatus", datasets_pb2.GetUploadStatusRequest, "unary"),
    ("GetDataset", datasets_pb2.GetDatasetRequest, "unary"),
    ("ListDatasets", datasets_pb2.ListDatasetsRequest, "unary"),
    ("SubmitRun", runs_pb2.SubmitRunRequest, "unary"),
    ("GetRun", runs_pb2.GetRunRequest, "unary"),
    ("ListRuns", runs_pb2.ListRunsRequest, "unary"),
    ("WatchRun", runs_pb2.WatchRunRequest, "stream"),
    ("CancelRun", runs_pb2.CancelRunRequest, "unary"),
    ("ListCheckpoints", runs_pb2.ListCheckpointsRequest, "unary"),
    ("DownloadCheckpoint", runs_pb2.DownloadCheckpointRequest, "stream"),
    ("Sample", inference_pb2.SampleRequest, "unary"),
    ("SampleStream", inference_pb2.SampleRequest, "stream"),
    ("ScoreLogprobs", inference_pb2.ScoreLogprobsRequest, "unary"),
    ("Tokenize", inference_pb2.TokenizeRequest, "unary"),
    ("UploadDataset", datasets_pb2.UploadDatasetRequest, "upload"),
]
TOKEN = "fuzz-token"
BAD_CODES = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})


def fill(message: Any, rng: random.Random, depth: int = 0) -> Any:
    """Set a random subset of a message's fields from the hostile pools, recursively."""
    for descriptor in message.DESCRIPTOR.fields:
        if rng.random() < 0.4:
            continue
        if descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= 3:
                continue
            if descriptor.message_type.GetOptions().map_entry:
                target = getattr(message, descriptor.name)
                for _ in range(rng.randint(0, 2)):
                    value_field = descriptor.message_type.fields_by_name["value"]
                    key = rng.choice(STRINGS)
                    if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                        fill(target[key], rng, depth + 1)
                    else:
                        target[key] = _scalar(value_field, rng)
            elif descriptor.is_repeated:
                target = getattr(message, descriptor.name)
                for _ in range(rng.randint(0, 3)):
                    fill(target.add(), rng, depth + 1)
            else:
                fill(getattr(message, descriptor.name), rng, depth + 1)
        elif descriptor.is_repeated:
            target = getattr(message, descriptor.name)
            target.extend(_scalar(descriptor, rng) for _ in range(rng.randint(0, 3)))
        else:
            setattr(message, descriptor.name, _scalar(descriptor, rng))
    return message


def _scalar(descriptor: FieldDescriptor, rng: random.Random) -> Any:
    kind = descriptor.type
    if kind == FieldDescriptor.TYPE_STRING:
        return rng.choice(STRINGS)
    if kind == FieldDescriptor.TYPE_BYTES:
        return rng.randbytes(rng.randint(0, 64))
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return rng.choice(DOUBLES)
    if kind == FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in descriptor.enum_type.values]
        return rng.choice(known + [99, -1, 2**31 - 1])
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64):
        return rng.choice(SIGNED_64)
    if kind in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return rng.choice(UNSIGNED_64)
    if kind in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return rng.choice(UNSIGNED_32)
    return rng.choice(SIGNED)


def grpc_request(rng: random.Random) -> tuple[str, str, Any]:
    method, message_type, kind = rng.choice(METHODS)
    request = fill(message_type(), rng)
    if method == "SubmitRun":
        # Never a run that could train: its data always names a dataset that is not there.
        stage = request.spec.stages.add() if not request.spec.stages else request.spec.stages[0]
        stage.data.add(dataset_id=f"{rng.getrandbits(256):064x}")
    return method, kind, request


async def call_grpc(stub: Any, method: str, kind: str, request: Any) -> grpc.StatusCode:
    try:
        if kind == "unary":
            await getattr(stub, method)(request, timeout=120)
        elif kind == "stream":
            call = getattr(stub, method)(request, timeout=120)
            # Watching a run that exists would follow it; the first answer is what counts.
            await call.read()
            call.cancel()
        else:
            header = fill(datasets_pb2.UploadHeader(), random.Random(id(request)))

            async def requests() -> Any:
                yield datasets_pb2.UploadDatasetRequest(header=header)
                yield datasets_pb2.UploadDatasetRequest(chunk=request.chunk or b"{}\n")

            await stub.UploadDataset(requests(), timeout=120)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


BODY_VALUES: list[Any] = [
    None,
    -1,
    0,
    2**70,
    "1e999",  # written raw: Python's JSON reads it as infinity
    "NaN",
    "-Infinity",
    "text",
    [],
    {},
    True,
    3.5,
    [[[[[]]]]],
    "\ud800",
    [1, "a"],
    [-5, 99999999],
    [[]],
]
FIELDS = [
    "model",
    "messages",
    "prompt",
    "n",
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "logprobs",
    "top_logprobs",
    "echo",
]
BASES = {
    "/v1/chat/completions": {
        "model": "tiny:llama",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 2,
    },
    "/v1/completions": {"model": "tiny:llama", "prompt": "The rule", "max_tokens": 2},
}


def http_request(rng: random.Random) -> bytes:
    """One raw HTTP/1.1 request: a mutated body, broken JSON, an odd route, method or header."""
    route = rng.choice(list(BASES) + ["/v1/models", "/v1/nope", "/", "/v1/completions/../x"])
    method = "POST" if rng.random() < 0.85 else rng.choice(["GET", "PUT", "DELETE", "PATCH"])
    headers = ["Host: 127.0.0.1", "Content-Type: application/json", "Connection: close"]
    if rng.random() < 0.1:  # non-ASCII credentials, or none at all
        headers += rng.choice([["Authorization: Bearer é€"], ["Authorization: \xff\xfe"], []])
    else:
        headers.append(f"Authorization: Bearer {TOKEN}")
    base = json.loads(json.dumps(BASES.get(route, BASES["/v1/completions"])))
    choice = rng.random()
    if choice < 0.08:
        text = rng.choice(["{", "", "[1,", "null", "42", '"x"', "{'a': 1}", "[]"])
    else:
        raw = {}
        for _ in range(rng.randint(1, 3)):
            name = rng.choice(FIELDS)
            value = rng.choice(BODY_VALUES)
            if name == "max_tokens" and isinstance(value, int) and not isinstance(value, bool):
                value = min(value, 4) if value >= 0 else value
            if isinstance(value, str) and value in ("1e999", "NaN", "-Infinity"):
                raw[name] = value
            else:
                base[name] = value
        if rng.random() < 0.3 and "messages" in base and isinstance(base["messages"], list):
            base["messages"] = [rng.choice(BODY_VALUES)]
        for name in raw:
            base.pop(name, None)
        text = json.dumps(base)
        extra = ", ".join(f'"{name}": {literal}' for name, literal in raw.items())
        if extra:
            text = text[:-1] + (", " if base else "") + extra + "}"
    body = text.encode("utf-8", "surrogatepass")
    head = f"{method} {route} HTTP/1.1\r\n" + "\r\n".join(headers)
    head += f"\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("utf-8", "surrogateescape") + body


async def send_http(port: int, raw: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 120)
    finally:
        writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.partition(b"\r\n\r\n")[2]


@dataclass
class Tally:
    grpc_codes: Counter[str] = field(default_factory=Counter)
    http_statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


async def fuzz(
    grpc_port: int, http_port: int, grpc_count: int, http_count: int, seed: int
) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = worker_pb2_grpc.WorkerStub(channel)
        for _ in range(grpc_count):
            method, kind, request = grpc_request(rng)
            code = await call_grpc(stub, method, kind, request)
            tally.grpc_codes[code.name] += 1
            if code in BAD_CODES and len(tally.failures) < 20:
                tally.failures.append(f"gRPC {method} -> {code.name}: {request}"[:500])
    for _ in range(http_count):
        raw = http_request(rng)
        status, body = await send_http(http_port, raw)
        tally.http_statuses[status] += 1
        shaped = status < 400
        if not shaped:
            try:
                error = json.loads(body)["error"]
                shaped = isinstance(error["message"], str) and "type" in error
            except (ValueError, KeyError, TypeError):
                shaped = False
        if (status >= 500 or not shaped) and len(tally.failures) < 20:
            tally.failures.append(f"HTTP {status} {body[:200]!r} for {raw[:300]!r}")
    return tally


async def healthy(grpc_port: int, http_port: int) -> bool:
    """Still serving: a real Tokenize over gRPC and /v1/models over HTTP."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = worker_pb2_grpc.WorkerStub(channel)
        request = inference_pb2.TokenizeRequest(
            model=common_pb2.ModelRef(base_model="tiny:llama"), texts=["still here"]
        )
        counted = await stub.Tokenize(request, timeout=120)
    get = f"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
    get += "Connection: close\r\n\r\n"
    status, _ = await send_http(http_port, get.encode())
    return counted.results[0].count > 0 and status == 200


async def main() -> int:
    from midspec_worker import server
    from midspec_worker.openai_http import OpenAIServer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grpc", type=int, default=5000)
    parser.add_argument("--http", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="midspec-fuzz-"))
    worker = await server.start("127.0.0.1", 0, data_dir)
    openai = OpenAIServer(worker.inference, token=TOKEN)
    http_port = await openai.start("127.0.0.1", 0)
    began = time.monotonic()
    try:
        tally = await fuzz(worker.port, http_port, args.grpc, args.http, args.seed)
        alive = await healthy(worker.port, http_port)
    finally:
        await openai.stop()
        await worker.stop(grace=0)
    print(json.dumps({"grpc": dict(tally.grpc_codes), "http": dict(tally.http_statuses)}))
    for failure in tally.failures:
        print(failure)
    print(
        f"{args.grpc} gRPC + {args.http} HTTP requests (seed {args.seed}) in"
        f" {time.monotonic() - began:.0f} s: {len(tally.failures)} bad answers;"
        f" worker healthy after: {alive}"
    )
    return 0 if alive and not tally.failures else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(asyncio.run(main()))
