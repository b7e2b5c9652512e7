"""Continuous batching: rows from concurrent requests join a running batch at token boundaries.

Requests enqueue their rows and return at once. A scheduler task on the event loop drives the
inference thread one iteration at a time: it admits waiting rows, oldest first, into the running
batch of their model (prefilling them, which emits their first tokens), then advances every running
batch by one token. Rows that finish, or whose client went away, leave at once and free their place
for the next waiting row; at most max_batch_size rows run at a time, all models together. Between
two iterations the inference thread is free for other work (tokenizing, scoring, loading), so a new
request is tokenized and admitted while long ones keep running. An iteration keeps stepping until
such work or a new row is waiting (or STEP_BUDGET_SECONDS passed), so a quiet batch does not pay a
thread hand-over per token.

With nothing running, the scheduler waits a few milliseconds for company (unless a full batch is
already waiting). `continuous=False` admits rows only into an empty worker (static batching: a batch
runs to completion before the next starts), kept to measure the difference.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from midspec_worker.gen.midspec.worker.v1 import inference_pb2
from midspec_worker.inference import sampler
from midspec_worker.inference.model_cache import ModelCache, Resolved
from midspec_worker.inference.running_batch import RunningBatch

log = logging.getLogger("midspec.inference")

# Longest an iteration keeps stepping when nothing else is waiting (bookkeeping, shutdown).
STEP_BUDGET_SECONDS = 0.2


@dataclass
class Event:
    prompt_index: int
    completion_index: int
    delta: str
    completion: inference_pb2.Completion | None


class SampleJob:
    """The rows of one request and the queue their events arrive on (from the inference thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, resolved: Resolved) -> None:
        self.resolved = resolved
        self.rows: list[sampler.Row] = []
        self.cancelled = False
        self._loop = loop
        self._queue: asyncio.Queue[Event | BaseException] = asyncio.Queue()

    def emitter(
        self, prompt_index: int, completion_index: int
    ) -> Callable[[str, inference_pb2.Completion | None], None]:
        def emit(delta: str, completion: inference_pb2.Completion | None) -> None:
            event = Event(prompt_index, completion_index, delta, completion)
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

        return emit

    def fail(self, error: BaseException) -> None:
        self._queue.put_nowait(error)

    async def events(self) -> AsyncIterator[Event]:
        """Every event until all rows finish; leaving early (a disconnect) cancels the rows."""
        remaining = len(self.rows)
        try:
            while remaining:
                item = await self._queue.get()
                if isinstance(item, BaseException):
                    raise item
                if item.completion is not None:
                    remaining -= 1
                yield item
        finally:
            self.cancelled = True


Member = tuple[SampleJob, sampler.Row]


class Batcher:
    def __init__(
        self,
        cache: ModelCache,
        executor: Executor,
        max_batch_size: int,
        window_seconds: float,
        continuous: bool = True,
    ) -> None:
        self._cache = cache
        self._executor = executor
        self._max_batch_size = max(1, max_batch_size)
        self._window = window_seconds
        self._continuous = continuous
        self._pending: deque[Member] = deque()
        # Running batches by model key, and the (job, row) pairs in each, to fail them together.
        self._batches: dict[str, RunningBatch] = {}
        self._members: dict[str, list[Member]] = {}
        self._wakeup = asyncio.Event()
        # Set when a row or other work waits for the inference thread: the iteration yields.
        self._wanted = threading.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._schedule(), name="midspec-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def submit(self, job: SampleJob) -> None:
        self._pending.extend((job, row) for row in job.rows)
        self._wakeup.set()
        self._wanted.set()

    def yield_soon(self) -> None:
        """Other work is queued for the inference thread: end the iteration after this token."""
        self._wanted.set()

    def running(self) -> int:
        return sum(len(batch) for batch in self._batches.values())

    def _take(self) -> dict[str, tuple[Resolved, list[Member]]]:
        """Waiting rows to admit now, by model key, oldest first."""
        self._pending = deque(item for item in self._pending if not item[0].cancelled)
        running = self.running()
        if not self._pending or (running and not self._continuous):
            return {}
        free = self._max_batch_size - running
        # Static batching keeps to one model per batch, as it always did.
        only = None if self._continuous else self._pending[0][0].resolved.key
        taken: dict[str, tuple[Resolved, list[Member]]] = {}
        rest: deque[Member] = deque()
        for item in self._pending:
            key = item[0].resolved.key
            if free > 0 and only in (None, key):
                taken.setdefault(key, (item[0].resolved, []))[1].append(item)
                free -= 1
            else:
                rest.append(item)
        self._pending = rest
        return taken

    def _iterate(
        self, admitted: dict[str, tuple[Resolved, list[Member]]]
    ) -> dict[str, BaseException]:
        """On the inference thread: admit rows, then tokens for every running batch until other
        work waits."""
        failed: dict[str, BaseException] = {}
        for key, (resolved, items) in admitted.items():
            try:
                batch = self._batches.get(key)
                if batch is None:
                    batch = self._batches[key] = RunningBatch(self._cache.get(resolved))
                batch.admit([row for _, row in items])
            except Exception as error:  # noqa: BLE001 - reported to the batch's requests
                failed[key] = error
        deadline = time.monotonic() + STEP_BUDGET_SECONDS
        # More requests queued behind the ones just admitted: admit them before decoding, so a
        # burst of arrivals gets its first tokens together.
        while not (admitted and self._wanted.is_set()):
            for key, batch in self._batches.items():
                if key in failed or not batch:
                    continue
                try:
                    batch.step()
                except Exception as error:  # noqa: BLE001 - reported to the batch's requests
                    failed[key] = error
            stepping = any(batch for key, batch in self._batches.items() if key not in failed)
            if not stepping or self._wanted.is_set() or time.monotonic() > deadline:
                return failed
            if self._continuous and self._pending and self.running() < self._max_batch_size:
                return failed  # a row left: a waiting one takes its place
        return failed

    async def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._batches and not self._pending:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if not self._batches and len(self._pending) < self._max_batch_size:
                await asyncio.sleep(self._window)  # let concurrent requests join the batch
            self._wanted.clear()  # on the event loop, like every set: no wake-up is lost
            admitted = self._take()
            for key, (_, items) in admitted.items():
                self._members.setdefault(key, []).extend(items)
            if not self._batches and not admitted:
                continue
            try:
                failed = await loop.run_in_executor(self._executor, self._iterate, admitted)
            except Exception as error:  # noqa: BLE001 - every running request must hear of it
                failed = dict.fromkeys(self._members, error)
            for key, error in failed.items():
                log.error("batch of %s failed", key, exc_info=error)
                self._batches.pop(key, None)
                members = self._members.pop(key, [])
                for job in {id(job): job for job, row in members if not row.done}.values():
                    job.fail(error)
            for key in list(self._batches):
                self._members[key] = [m for m in self._members[key] if not m[1].done]
                if not self._batches[key]:
                    del self._batches[key], self._members[key]
