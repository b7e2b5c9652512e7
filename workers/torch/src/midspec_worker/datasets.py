"""Content-addressed dataset storage: resumable, verified uploads of JSONL files.

Bytes stream into DIR/uploads/<sha256>.part while being hashed and checked line by line (on a
thread beside the event loop, so receiving, hashing, writing and parsing overlap); the first bad
line ends the upload. Only a complete, verified and validated file is renamed into
DIR/datasets/<sha256>.jsonl. A stream that breaks, or ends before size_bytes have arrived, keeps
its partial file so the client can resume from GetUploadStatus.received_bytes; a short stream fails
with FAILED_PRECONDITION, retryable.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import queue
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, BinaryIO

from midspec_worker import records
from midspec_worker.errors import (
    BadState,
    Busy,
    ChecksumMismatch,
    DatasetNotFound,
    IdempotencyConflict,
    InvalidRequest,
    MidspecError,
    UploadIncomplete,
)
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2
from midspec_worker.store import Store, timestamp

log = logging.getLogger("midspec.datasets")

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Chunks (1 MiB each from the reference client) waiting for the sink thread, at most.
_SINK_CAPACITY = 4
_FORMATS = (datasets_pb2.DATASET_FORMAT_TEXT, datasets_pb2.DATASET_FORMAT_CHAT)


def check_sha256(value: str) -> str:
    if not _SHA256.match(value):
        raise InvalidRequest(f"sha256 must be 64 lower-case hex digits, got {value!r}")
    return value


class Datasets:
    def __init__(self, data_dir: Path, store: Store) -> None:
        self._store = store
        self.dir = data_dir / "datasets"
        self._uploads = data_dir / "uploads"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._uploads.mkdir(parents=True, exist_ok=True)
        self._active: set[str] = set()

    def path(self, dataset_id: str) -> Path:
        return self.dir / f"{check_sha256(dataset_id)}.jsonl"

    def get(self, dataset_id: str) -> datasets_pb2.Dataset:
        dataset = self._store.get_dataset(dataset_id) if _SHA256.match(dataset_id) else None
        if dataset is None:
            raise DatasetNotFound(f"dataset {dataset_id!r} not found")
        return dataset

    def list_datasets(self) -> list[datasets_pb2.Dataset]:
        return self._store.list_datasets()

    def status(self, sha256: str) -> datasets_pb2.GetUploadStatusResponse:
        check_sha256(sha256)
        dataset = self._store.get_dataset(sha256)
        if dataset is not None:
            return datasets_pb2.GetUploadStatusResponse(
                complete=True, received_bytes=dataset.size_bytes, dataset=dataset
            )
        part = self._uploads / f"{sha256}.part"
        return datasets_pb2.GetUploadStatusResponse(
            received_bytes=part.stat().st_size if part.exists() else 0
        )

    async def upload(
        self,
        requests: AsyncIterator[datasets_pb2.UploadDatasetRequest],
    ) -> datasets_pb2.UploadDatasetResponse:
        first = await anext(requests, None)
        if first is None or not first.HasField("header"):
            raise InvalidRequest("the first message of an upload must be a header")
        header = first.header
        _check_header(header)
        sha = header.sha256
        if header.idempotency_key:
            known = self._store.dataset_key(header.idempotency_key)
            if known is not None and known != sha:
                raise IdempotencyConflict(
                    f"idempotency key {header.idempotency_key!r} was used for dataset {known}"
                )
        existing = self._store.get_dataset(sha)
        if existing is not None:
            # Content-addressed: the bytes are already here; the rest of the stream is not needed.
            if existing.format != header.format:
                raise InvalidRequest(
                    f"dataset {sha} is already stored with format "
                    f"{datasets_pb2.DatasetFormat.Name(existing.format)}"
                )
            self._remember_key(header, sha)
            return datasets_pb2.UploadDatasetResponse(dataset=existing, already_existed=True)
        if sha in self._active:
            raise Busy(f"an upload of {sha} is already in progress")
        self._active.add(sha)
        try:
            dataset = await self._receive(header, requests)
        finally:
            self._active.discard(sha)
        self._remember_key(header, sha)
        return datasets_pb2.UploadDatasetResponse(dataset=dataset)

    def _remember_key(self, header: datasets_pb2.UploadHeader, sha: str) -> None:
        if header.idempotency_key:
            self._store.set_dataset_key(header.idempotency_key, sha)

    async def _receive(
        self,
        header: datasets_pb2.UploadHeader,
        requests: AsyncIterator[datasets_pb2.UploadDatasetRequest],
    ) -> datasets_pb2.Dataset:
        part = self._uploads / f"{header.sha256}.part"
        held = part.stat().st_size if part.exists() else 0
        if header.offset not in (0, held):
            raise BadState(
                f"upload offset {header.offset} does not match the {held} bytes held; "
                "ask GetUploadStatus where to resume"
            )
        digest = hashlib.sha256()
        validator = records.LineValidator(header.format)
        received = header.offset
        try:
            with part.open("ab" if header.offset else "wb") as handle:
                sink = _Sink(handle, digest, validator)
                try:
                    if header.offset:
                        # The held bytes are hashed and checked again, before the new ones.
                        await asyncio.to_thread(_replay, part, held, digest, validator)
                    while (request := await sink.next(requests)) is not None:
                        if not request.HasField("chunk"):
                            raise InvalidRequest("only chunks may follow the header")
                        chunk = request.chunk
                        received += len(chunk)
                        if received > header.size_bytes:
                            raise ChecksumMismatch(
                                f"received more than the declared {header.size_bytes} bytes"
                            )
                        await sink.put(chunk)
                finally:
                    await sink.close()
        except MidspecError:
            # Rejected for its content: nothing is left behind.
            part.unlink(missing_ok=True)
            raise
        # Any other exit (cancelled, connection lost) keeps the bytes for a resume, and so does a
        # stream that ends early: grpc.aio ends a cancelled call's request stream like a finished
        # one, so the two cannot be told apart, and the contract treats both as interrupted.
        if received < header.size_bytes:
            raise UploadIncomplete(
                f"the upload stream ended after {received} of {header.size_bytes} bytes; the bytes "
                f"are kept: resume with header.offset={received} (see GetUploadStatus)"
            )
        try:
            if digest.hexdigest() != header.sha256:
                raise ChecksumMismatch(
                    f"sha256 mismatch: declared {header.sha256}, received {digest.hexdigest()}"
                )
            num_records = validator.finish()
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        part.replace(self.dir / f"{header.sha256}.jsonl")
        dataset = datasets_pb2.Dataset(
            id=header.sha256,
            name=header.name,
            format=header.format,
            sha256=header.sha256,
            size_bytes=header.size_bytes,
            num_records=num_records,
            created_at=timestamp(time.time()),
        )
        self._store.add_dataset(dataset)
        log.info("dataset stored", extra={"dataset_id": dataset.id, "records": num_records})
        return dataset


def _check_header(header: datasets_pb2.UploadHeader) -> None:
    problems = []
    if not _NAME.match(header.name) or header.name in (".", ".."):
        problems.append("name must be 1-200 letters, digits, '.', '_' or '-'")
    if header.format not in _FORMATS:
        problems.append("format must be DATASET_FORMAT_TEXT or DATASET_FORMAT_CHAT")
    if not _SHA256.match(header.sha256):
        problems.append("sha256 must be 64 lower-case hex digits")
    if header.size_bytes < 0:
        problems.append("size_bytes must not be negative")
    if header.offset < 0 or header.offset > header.size_bytes:
        problems.append("offset must be between 0 and size_bytes")
    if problems:
        raise InvalidRequest("invalid upload header: " + "; ".join(problems))


def _replay(path: Path, size: int, digest: Any, validator: records.LineValidator) -> None:
    with path.open("rb") as handle:
        while size > 0 and (block := handle.read(min(size, 1 << 20))):
            size -= len(block)
            digest.update(block)
            validator.feed(block)


class _Sink:
    """Processes an upload's chunks, in order, on two threads beside the event loop: one hashes and
    writes them (both release the GIL), one checks their lines. The event loop receives the next
    chunk meanwhile. At most _SINK_CAPACITY chunks wait per thread, so memory stays bounded whatever
    the sender's speed. The first error (a bad line, a full disk) ends the upload at once, even
    while waiting for the sender: next() and put() raise it, and so does close()."""

    def __init__(self, handle: BinaryIO, digest: Any, validator: records.LineValidator) -> None:
        self._loop = asyncio.get_running_loop()
        self._error: BaseException | None = None
        self._failed: asyncio.Future[None] = self._loop.create_future()

        def store(chunk: bytes) -> None:
            digest.update(chunk)
            handle.write(chunk)

        self._lanes = [
            _Lane(self, "upload-store", store),
            _Lane(self, "upload-check", validator.feed),
        ]

    async def next(self, requests: AsyncIterator[Any]) -> Any:
        """The next request, or None at the stream's end; the sink's error if it fails first."""
        receive = asyncio.ensure_future(anext(requests, None))
        await asyncio.wait((receive, self._failed), return_when=asyncio.FIRST_COMPLETED)
        if self._error is not None:
            receive.cancel()
            raise self._error
        return receive.result()

    async def put(self, chunk: bytes) -> None:
        for lane in self._lanes:
            if self._error is not None:
                raise self._error
            await lane.slots.acquire()
            lane.queue.put(chunk)

    async def close(self) -> None:
        """Wait until every chunk put so far is processed; raise the first error."""
        for lane in self._lanes:
            lane.queue.put(None)
        for lane in self._lanes:
            await asyncio.to_thread(lane.thread.join)
        if self._error is not None:
            raise self._error

    def failed(self, error: BaseException) -> None:
        """Called from a lane's thread."""
        if self._error is None:
            self._error = error
            self._loop.call_soon_threadsafe(self._failed_soon)

    def _failed_soon(self) -> None:
        if not self._failed.done():
            self._failed.set_result(None)


class _Lane:
    def __init__(self, sink: _Sink, name: str, step: Callable[[bytes], None]) -> None:
        self.slots = asyncio.Semaphore(_SINK_CAPACITY)
        self.queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._sink = sink
        self._step = step
        self._release = functools.partial(sink._loop.call_soon_threadsafe, self.slots.release)
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self._sink._error is None:
                try:
                    self._step(chunk)
                except BaseException as error:
                    self._sink.failed(error)
            self._release()
