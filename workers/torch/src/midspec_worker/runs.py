"""The run queue and supervisor: submission, one-at-a-time execution in a spawned child, cancel,
watch, and recovery of runs interrupted by a worker restart."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

from midspec_worker import models, runspec
from midspec_worker.datasets import Datasets
from midspec_worker.errors import (
    BadState,
    DatasetNotFound,
    IdempotencyConflict,
    InvalidRequest,
    RunNotFound,
)
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.launch.base import Job, Launcher
from midspec_worker.launch.local import LocalLauncher
from midspec_worker.store import FINAL_STATES, Store, labels_match, timestamp

log = logging.getLogger("midspec.runs")
_RUNNING = frozenset({runs_pb2.RUN_STATE_RUNNING})
_STARTABLE = frozenset({runs_pb2.RUN_STATE_QUEUED, runs_pb2.RUN_STATE_RESUMING})
_INTERRUPTED = (runs_pb2.RUN_STATE_RUNNING, runs_pb2.RUN_STATE_RESUMING)
_POLL_SECONDS = 0.2


class Runs:
    def __init__(
        self,
        data_dir: Path,
        store: Store,
        datasets: Datasets,
        heartbeat_seconds: float = 5.0,
        shutdown_grace_seconds: float = 15.0,
        max_restarts: int = 3,
        launcher: Launcher | None = None,
    ) -> None:
        self._data_dir = data_dir
        self._store = store
        self._datasets = datasets
        self._heartbeat = heartbeat_seconds
        self._grace = shutdown_grace_seconds
        self._max_restarts = max_restarts
        # Turns a run into training processes: local children by default, or a cluster job.
        self._launcher = launcher if launcher is not None else LocalLauncher(data_dir)
        self._stopping = False
        self._wake = asyncio.Event()
        self._current: tuple[str, Job] | None = None  # (run id, its training)
        self._loop_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._recover()
        self._loop_task = asyncio.create_task(self._run_queue(), name="run-queue")

    def _recover(self) -> None:
        """Queue runs a previous worker process left unfinished to resume from their checkpoints.

        They go to RESUMING (ahead of queued runs); the training child continues each from its
        newest stage checkpoint, or from the start when it has none. Event numbering continues.
        A run whose training process was still marked in flight died with the previous worker
        without a clean stop: that counts towards the crash-loop guard like a child that died.
        """
        for state in _INTERRUPTED:
            for run_id in self._store.run_ids_in_state(state):
                if self._store.cancel_requested(run_id):
                    self._store.set_state(
                        run_id,
                        runs_pb2.RUN_STATE_CANCELLED,
                        "cancelled while the worker was down",
                        only_from=frozenset({state}),
                    )
                    continue
                # A training process of the previous worker may still be alive (it dies with its
                # parent, but nothing is instant): from here on it can write nothing.
                self._store.fence(run_id)
                if state == runs_pb2.RUN_STATE_RUNNING and self._store.attempt_in_flight(run_id):
                    if not self._child_died(run_id, "died with the previous worker process"):
                        continue
                elif state == runs_pb2.RUN_STATE_RUNNING:
                    self._store.set_state(
                        run_id,
                        runs_pb2.RUN_STATE_RESUMING,
                        "worker restarted; resuming from the last checkpoint",
                        only_from=_RUNNING,
                    )
                log.warning("resuming interrupted run", extra={"run_id": run_id})

    async def stop(self) -> None:
        """Stop the queue; the running child stops at a step boundary on SIGTERM, or is killed."""
        self._stopping = True
        if self._current is not None:
            run_id, process = self._current
            process.terminate()
            if await asyncio.to_thread(_wait, process, self._grace) is None:
                log.warning("killing training process", extra={"pid": process.pid})
                process.kill()
                await asyncio.to_thread(_wait, process, 5.0)
            # A stop the worker asked for is no failure of the run's.
            self._store.end_attempt(run_id)
        if self._loop_task is not None:
            self._loop_task.cancel()
            try:
                await self._loop_task
            except asyncio.CancelledError:
                pass

    # Submission and queries -------------------------------------------------------------------

    def submit(self, spec: runs_pb2.RunSpec, key: str) -> tuple[runs_pb2.Run, bool, bool]:
        """Queue a run; return it, whether the key matched an existing run, and whether that run
        (FAILED or CANCELLED) was queued again as a new attempt (see runs.proto)."""
        if len(key) > 256:
            raise InvalidRequest("idempotency_key must be at most 256 characters")
        if key:
            found = self._store.find_run_by_key(key)
            if found is not None:
                run, stored = found
                if stored != spec.SerializeToString(deterministic=True):
                    raise IdempotencyConflict(
                        f"idempotency key {key!r} was used for run {run.id} with a different spec"
                    )
                previous = runs_pb2.RunState.Name(run.state)
                attempt = self._store.start_new_attempt(
                    run.id, f"resubmitted after {previous}: attempt {run.attempt + 1}"
                )
                if attempt:
                    log.info("new attempt", extra={"run_id": run.id, "attempt": attempt})
                    self._wake.set()
                    return self.get(run.id), True, True
                return run, True, False
        formats = {}
        missing = []
        for stage in spec.stages:
            for source in stage.data:
                try:
                    formats[source.dataset_id] = self._datasets.get(source.dataset_id).format
                except DatasetNotFound:
                    missing.append(source.dataset_id)
        if missing:
            raise DatasetNotFound(f"unknown dataset(s): {', '.join(sorted(set(missing)))}")
        if spec.base_model:
            models.check_base_model(spec.base_model)
        runspec.validate(spec, formats)
        run = self._store.create_run(spec, key)
        log.info("run queued", extra={"run_id": run.id})
        self._wake.set()
        return run, False, False

    def get(self, run_id: str) -> runs_pb2.Run:
        run = self._store.get_run(run_id)
        if run is None:
            raise RunNotFound(f"run {run_id!r} not found")
        return run

    def list_runs(self, states: list[int], labels: dict[str, str]) -> list[runs_pb2.Run]:
        return [
            run
            for run in self._store.list_runs()
            if (not states or run.state in states) and labels_match(run, labels)
        ]

    def checkpoints(self, run_id: str) -> list[runs_pb2.Checkpoint]:
        self.get(run_id)
        return self._store.list_checkpoints(run_id)

    def cancel(self, run_id: str) -> runs_pb2.Run:
        run = self.get(run_id)
        if run.state in _STARTABLE:
            self._store.set_state(
                run_id,
                runs_pb2.RUN_STATE_CANCELLED,
                "cancelled while queued",
                only_from=_STARTABLE,
            )
        elif run.state == runs_pb2.RUN_STATE_RUNNING:
            # The child sees this at its next step boundary and records CANCELLED itself.
            self._store.request_cancel(run_id)
        elif run.state in (runs_pb2.RUN_STATE_SUCCEEDED, runs_pb2.RUN_STATE_FAILED):
            raise BadState(f"run {run_id} already finished as {runs_pb2.RunState.Name(run.state)}")
        return self.get(run_id)

    async def watch(self, run_id: str, after_seq: int) -> AsyncIterator[runs_pb2.RunEvent]:
        """Replay stored events after `after_seq`, then follow live ones until a final state."""
        self.get(run_id)
        last = after_seq
        quiet_since = time.monotonic()
        while True:
            events = self._store.events_after(run_id, last)
            for event in events:
                yield event
                last = event.seq
            if events:
                quiet_since = time.monotonic()
                continue
            run = self.get(run_id)
            if run.state in FINAL_STATES and run.last_seq <= last:
                return
            if time.monotonic() - quiet_since >= self._heartbeat:
                yield runs_pb2.RunEvent(
                    seq=run.last_seq,
                    run_id=run_id,
                    time=timestamp(time.time()),
                    heartbeat=runs_pb2.Heartbeat(),
                )
                quiet_since = time.monotonic()
            await asyncio.sleep(_POLL_SECONDS)

    # Execution --------------------------------------------------------------------------------

    async def _run_queue(self) -> None:
        while not self._stopping:
            queued = self._store.run_ids_in_state(
                runs_pb2.RUN_STATE_RESUMING
            ) + self._store.run_ids_in_state(runs_pb2.RUN_STATE_QUEUED)
            if not queued:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self._execute(queued[0])
            except Exception:
                log.exception("run supervision failed", extra={"run_id": queued[0]})
                self._fail(queued[0], "the worker could not supervise the run")

    async def _execute(self, run_id: str) -> None:
        resuming = self.get(run_id).state == runs_pb2.RUN_STATE_RESUMING
        if not self._store.set_state(
            run_id,
            runs_pb2.RUN_STATE_RUNNING,
            "training resumed" if resuming else "training started",
            only_from=_STARTABLE,
        ):
            return
        lease = self._store.begin_attempt(run_id)
        process = self._launcher.start(run_id, lease)
        self._current = (run_id, process)
        log.info("training process started", extra={"run_id": run_id, "pid": process.pid})
        try:
            await asyncio.to_thread(process.wait)
        finally:
            self._current = None
        if self._stopping:
            return
        log.info("training process exited", extra={"run_id": run_id, "code": process.returncode})
        if self.get(run_id).state != runs_pb2.RUN_STATE_RUNNING:
            self._store.end_attempt(run_id)  # the child recorded the final state itself
        elif self._store.cancel_requested(run_id):
            self._store.end_attempt(run_id)
            self._store.set_state(
                run_id, runs_pb2.RUN_STATE_CANCELLED, "cancelled", only_from=_RUNNING
            )
        else:
            self._child_died(run_id, _describe_exit(process.returncode))

    def _child_died(self, run_id: str, how: str) -> bool:
        """Resume a run whose training process died (segfault, OOM kill, a killed worker) from its
        last checkpoint, unless it keeps dying without getting past that checkpoint: after
        `max_restarts` restarts in a row with no new checkpoint the run fails. The count lives in
        SQLite, so restarting the worker neither resets it nor, with progress, trips it.

        Returns True when the run was queued to resume.
        """
        failures, checkpoint = self._store.count_failure(run_id)
        run = self.get(run_id)
        where = f"after step {run.step} of stage {run.stage_index}"
        since = f"checkpoint {checkpoint}" if checkpoint else "the start (no checkpoint yet)"
        if failures > self._max_restarts:
            message = (
                f"training process {how} {where}, {failures} time(s) in a row with no progress"
                f" past {since}; gave up after {self._max_restarts} restart(s) (--max-restarts)"
            )
            log.error("crash loop", extra={"run_id": run_id, "failures": failures})
            # Not retryable: the same run would die at the same step again.
            self._fail(run_id, message, retryable=False)
            return False
        message = (
            f"training process {how} {where}; resuming from {since}"
            f" (restart {failures} of at most {self._max_restarts} without progress)"
        )
        log.warning("training process died", extra={"run_id": run_id, "failures": failures})
        return self._store.set_state(
            run_id, runs_pb2.RUN_STATE_RESUMING, message, only_from=_RUNNING
        )

    def _fail(self, run_id: str, message: str, retryable: bool = True) -> None:
        """Fail a run the training child could not finish or record a final state for."""
        error = runs_pb2.RunError(
            reason="ERROR_REASON_INTERNAL", message=message, retryable=retryable
        )
        self._store.set_state(
            run_id, runs_pb2.RUN_STATE_FAILED, message, error=error, only_from=_RUNNING
        )


def _wait(process: Job, seconds: float) -> int | None:
    try:
        return process.wait(seconds)
    except subprocess.TimeoutExpired:
        return None


def _describe_exit(code: int | None) -> str:
    """How a process ended, in words: subprocess reports a signal as a negative exit code."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "an unknown signal"
        return f"was killed by signal {-code} ({name})"
    return f"exited with code {code}"
