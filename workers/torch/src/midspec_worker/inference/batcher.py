"""Dynamic batching: rows from concurrent requests for the same model share one generate loop.

Requests enqueue their rows and return at once; a scheduler task on the event loop waits a few
milliseconds for company (unless a full batch is already waiting), takes up to max_batch_size rows
of the oldest waiting row's model (models never mix in a batch) and runs them on the inference
thread. A batch runs to completion before the next one starts (static batching); rows that finish
or whose client went away leave the batch at the next step.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from midspec_worker.gen.midspec.worker.v1 import inference_pb2
from midspec_worker.inference import sampler
from midspec_worker.inference.model_cache import ModelCache, Resolved

log = logging.getLogger("midspec.inference")


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


class Batcher:
    def __init__(
        self, cache: ModelCache, executor: Executor, max_batch_size: int, window_seconds: float
    ) -> None:
        self._cache = cache
        self._executor = executor
        self._max_batch_size = max(1, max_batch_size)
        self._window = window_seconds
        self._pending: deque[tuple[SampleJob, sampler.Row]] = deque()
        self._wakeup = asyncio.Event()
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

    def _take(self) -> tuple[Resolved, list[tuple[SampleJob, sampler.Row]]] | None:
        self._pending = deque(item for item in self._pending if not item[0].cancelled)
        if not self._pending:
            return None
        key = self._pending[0][0].resolved.key
        taken: list[tuple[SampleJob, sampler.Row]] = []
        rest: deque[tuple[SampleJob, sampler.Row]] = deque()
        for item in self._pending:
            if item[0].resolved.key == key and len(taken) < self._max_batch_size:
                taken.append(item)
            else:
                rest.append(item)
        self._pending = rest
        return taken[0][0].resolved, taken

    def _run(self, resolved: Resolved, rows: list[sampler.Row]) -> None:
        sampler.generate(self._cache.get(resolved), rows)

    async def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                if len(self._pending) < self._max_batch_size:
                    await asyncio.sleep(self._window)  # let concurrent requests join the batch
                batch = self._take()
                if batch is None:
                    break
                resolved, items = batch
                rows = [row for _, row in items]
                try:
                    await loop.run_in_executor(self._executor, self._run, resolved, rows)
                except Exception as error:  # noqa: BLE001 - every waiting request must hear of it
                    log.exception("batch failed")
                    for job in {id(job): job for job, _ in items}.values():
                        job.fail(error)
