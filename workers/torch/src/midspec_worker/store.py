"""The job table, event log and dataset/checkpoint metadata, in SQLite (WAL) under the data dir.

Both the gRPC process and the training child open the same database: the child appends events, the
server reads them. Sequence numbers are allocated inside an IMMEDIATE transaction from the run
row, so writers in different processes never produce gaps or duplicates.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp

from midspec_worker import defaults
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2, runs_pb2

FINAL_STATES = frozenset(
    {runs_pb2.RUN_STATE_SUCCEEDED, runs_pb2.RUN_STATE_FAILED, runs_pb2.RUN_STATE_CANCELLED}
)

# A resubmission with the run's idempotency key starts a new attempt only from these.
_RETRYABLE_STATES = frozenset({runs_pb2.RUN_STATE_FAILED, runs_pb2.RUN_STATE_CANCELLED})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, format INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
  num_records INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dataset_keys (key TEXT PRIMARY KEY, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, spec BLOB NOT NULL, idempotency_key TEXT UNIQUE, state INTEGER NOT NULL,
  created_at REAL NOT NULL, started_at REAL, finished_at REAL, stage_index INTEGER DEFAULT 0,
  step INTEGER DEFAULT 0, total_steps INTEGER DEFAULT 0, error BLOB, last_seq INTEGER DEFAULT 0,
  latest_metrics BLOB, cancel_requested INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (run_id, seq));
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id TEXT NOT NULL, id TEXT NOT NULL, payload BLOB NOT NULL, path TEXT NOT NULL,
  PRIMARY KEY (run_id, id));
CREATE TABLE IF NOT EXISTS restarts (
  run_id TEXT PRIMARY KEY, in_flight INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0, checkpoint TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS leases (run_id TEXT PRIMARY KEY, generation INTEGER NOT NULL);
"""


class LeaseLost(BaseException):
    """A training process's lease on its run was taken over by a newer one: it must write nothing
    more and exit. A BaseException, so no `except Exception` on the way turns it into a failure."""


def timestamp(seconds: float | None) -> Timestamp | None:
    if seconds is None:
        return None
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


class Store:
    def __init__(self, path: Path, lease: tuple[str, int] | None = None) -> None:
        """`lease` (run id, generation) makes every write fenced: it happens only while the run's
        lease generation is still this one, otherwise it raises LeaseLost and writes nothing."""
        self._lease = lease
        # Autocommit mode; multi-statement writes open their own IMMEDIATE transaction.
        self._db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(runs)")}
        if "attempt" not in columns:  # a data dir from before attempts
            self._db.execute("ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self._lease is not None:
                    self._check_lease()
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _check_lease(self) -> None:
        assert self._lease is not None
        run_id, generation = self._lease
        row = self._db.execute(
            "SELECT generation FROM leases WHERE run_id = ?", (run_id,)
        ).fetchone()
        current = row["generation"] if row is not None else 0
        if current != generation:
            raise LeaseLost(f"run {run_id}: lease {generation} superseded by {current}")

    @contextmanager
    def fenced(self) -> Iterator[None]:
        """Hold the write lock with the lease checked: a file renamed into place inside this block
        cannot race a newer training process taking the run over (it takes the same lock)."""
        with self._write():
            yield

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # Datasets ---------------------------------------------------------------------------------

    def add_dataset(self, dataset: datasets_pb2.Dataset) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO datasets VALUES (?, ?, ?, ?, ?, ?)",
                (
                    dataset.id,
                    dataset.name,
                    dataset.format,
                    dataset.size_bytes,
                    dataset.num_records,
                    dataset.created_at.ToNanoseconds() / 1e9,
                ),
            )

    def get_dataset(self, dataset_id: str) -> datasets_pb2.Dataset | None:
        rows = self._query("SELECT * FROM datasets WHERE id = ?", (dataset_id,))
        return _dataset(rows[0]) if rows else None

    def list_datasets(self) -> list[datasets_pb2.Dataset]:
        rows = self._query("SELECT * FROM datasets ORDER BY created_at DESC, rowid DESC")
        return [_dataset(row) for row in rows]

    def dataset_key(self, key: str) -> str | None:
        rows = self._query("SELECT sha256 FROM dataset_keys WHERE key = ?", (key,))
        return rows[0]["sha256"] if rows else None

    def set_dataset_key(self, key: str, sha256: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO dataset_keys VALUES (?, ?)", (key, sha256))

    # Runs -------------------------------------------------------------------------------------

    def find_run_by_key(self, key: str) -> tuple[runs_pb2.Run, bytes] | None:
        rows = self._query("SELECT * FROM runs WHERE idempotency_key = ?", (key,))
        return (_run(rows[0]), bytes(rows[0]["spec"])) if rows else None

    def create_run(self, spec: runs_pb2.RunSpec, idempotency_key: str) -> runs_pb2.Run:
        run_id = f"run-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (id, spec, idempotency_key, state, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    run_id,
                    spec.SerializeToString(deterministic=True),
                    idempotency_key or None,
                    runs_pb2.RUN_STATE_QUEUED,
                    time.time(),
                ),
            )
            self._append(
                db,
                run_id,
                runs_pb2.RunEvent(
                    state_changed=runs_pb2.StateChanged(
                        state=runs_pb2.RUN_STATE_QUEUED, message="queued", attempt=1
                    )
                ),
            )
        run = self.get_run(run_id)
        assert run is not None
        return run

    def get_run(self, run_id: str) -> runs_pb2.Run | None:
        rows = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))
        return _run(rows[0]) if rows else None

    def list_runs(self) -> list[runs_pb2.Run]:
        rows = self._query("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC")
        return [_run(row) for row in rows]

    def run_ids_in_state(self, state: runs_pb2.RunState) -> list[str]:
        rows = self._query(
            "SELECT id FROM runs WHERE state = ? ORDER BY created_at, rowid", (state,)
        )
        return [row["id"] for row in rows]

    def set_state(
        self,
        run_id: str,
        state: runs_pb2.RunState,
        message: str = "",
        error: runs_pb2.RunError | None = None,
        only_from: frozenset[runs_pb2.RunState] | None = None,
    ) -> bool:
        """Move a run to `state` and log the change; with `only_from`, only from those states.

        Returns False (and changes nothing) when the run is not in an allowed state, so concurrent
        writers (a cancel racing a finishing child) settle on whichever came first.
        """
        with self._write() as db:
            row = db.execute("SELECT state, attempt FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or (only_from is not None and row["state"] not in only_from):
                return False
            now = time.time()
            db.execute(
                "UPDATE runs SET state = ?, error = ?,"
                " started_at = CASE WHEN ? AND started_at IS NULL THEN ? ELSE started_at END,"
                " finished_at = CASE WHEN ? THEN ? ELSE finished_at END WHERE id = ?",
                (
                    state,
                    error.SerializeToString() if error is not None else None,
                    state == runs_pb2.RUN_STATE_RUNNING,
                    now,
                    state in FINAL_STATES,
                    now,
                    run_id,
                ),
            )
            changed = runs_pb2.StateChanged(state=state, message=message, attempt=row["attempt"])
            if error is not None:
                changed.error.CopyFrom(error)
            self._append(db, run_id, runs_pb2.RunEvent(state_changed=changed))
        return True

    def start_new_attempt(self, run_id: str, message: str) -> int:
        """Queue a FAILED or CANCELLED run again as its next attempt; return the attempt number,
        or 0 (and change nothing) when the run is not in one of those states.

        The new attempt continues from the run's newest checkpoint with a fresh crash-loop count;
        the event log goes on with the next seq."""
        with self._write() as db:
            row = db.execute("SELECT state, attempt FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or row["state"] not in _RETRYABLE_STATES:
                return 0
            attempt = int(row["attempt"]) + 1
            db.execute(
                "UPDATE runs SET state = ?, attempt = ?, error = NULL, finished_at = NULL,"
                " cancel_requested = 0 WHERE id = ?",
                (runs_pb2.RUN_STATE_QUEUED, attempt, run_id),
            )
            db.execute("DELETE FROM restarts WHERE run_id = ?", (run_id,))
            changed = runs_pb2.StateChanged(
                state=runs_pb2.RUN_STATE_QUEUED, message=message, attempt=attempt
            )
            self._append(db, run_id, runs_pb2.RunEvent(state_changed=changed))
        return attempt

    def request_cancel(self, run_id: str) -> None:
        """Flag a running run; its training process polls the flag at every step boundary."""
        with self._write() as db:
            db.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))

    def cancel_requested(self, run_id: str) -> bool:
        rows = self._query("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,))
        return bool(rows and rows[0]["cancel_requested"])

    def append_event(self, run_id: str, event: runs_pb2.RunEvent) -> int:
        """Log an event; metrics and stage starts also update the run row's progress fields."""
        with self._write() as db:
            if event.HasField("metrics"):
                m = event.metrics
                db.execute(
                    "UPDATE runs SET stage_index = ?, step = ?, total_steps = ?, latest_metrics = ?"
                    " WHERE id = ?",
                    (m.stage_index, m.step, m.total_steps, m.SerializeToString(), run_id),
                )
            elif event.HasField("stage_started"):
                s = event.stage_started
                db.execute(
                    "UPDATE runs SET stage_index = ?, step = 0, total_steps = ? WHERE id = ?",
                    (s.stage_index, s.total_steps, run_id),
                )
            return self._append(db, run_id, event)

    def _append(self, db: sqlite3.Connection, run_id: str, event: runs_pb2.RunEvent) -> int:
        (last,) = db.execute("SELECT last_seq FROM runs WHERE id = ?", (run_id,)).fetchone()
        seq = last + 1
        event.seq = seq
        event.run_id = run_id
        event.time.CopyFrom(timestamp(time.time()))
        db.execute("UPDATE runs SET last_seq = ? WHERE id = ?", (seq, run_id))
        db.execute("INSERT INTO events VALUES (?, ?, ?)", (run_id, seq, event.SerializeToString()))
        return seq

    def events_after(
        self, run_id: str, after_seq: int, limit: int = 500
    ) -> list[runs_pb2.RunEvent]:
        rows = self._query(
            "SELECT payload FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (run_id, after_seq, limit),
        )
        return [runs_pb2.RunEvent.FromString(row["payload"]) for row in rows]

    # Crash-loop guard -------------------------------------------------------------------------

    def begin_attempt(self, run_id: str) -> int:
        """Mark that a training process is starting for the run (cleared by end_attempt) and give
        it a new lease generation, which fences off every older process of the run."""
        with self._write() as db:
            db.execute(
                "INSERT INTO restarts (run_id, in_flight) VALUES (?, 1)"
                " ON CONFLICT (run_id) DO UPDATE SET in_flight = 1",
                (run_id,),
            )
            return self._bump_lease(db, run_id)

    def fence(self, run_id: str) -> int:
        """Take the run's lease away from whatever process holds it; return the new generation."""
        with self._write() as db:
            return self._bump_lease(db, run_id)

    def _bump_lease(self, db: sqlite3.Connection, run_id: str) -> int:
        db.execute(
            "INSERT INTO leases (run_id, generation) VALUES (?, 1)"
            " ON CONFLICT (run_id) DO UPDATE SET generation = generation + 1",
            (run_id,),
        )
        (generation,) = db.execute(
            "SELECT generation FROM leases WHERE run_id = ?", (run_id,)
        ).fetchone()
        return int(generation)

    def end_attempt(self, run_id: str) -> None:
        """The training process ended in a way the worker understood (finished or stopped)."""
        with self._write() as db:
            db.execute("UPDATE restarts SET in_flight = 0 WHERE run_id = ?", (run_id,))

    def attempt_in_flight(self, run_id: str) -> bool:
        rows = self._query("SELECT in_flight FROM restarts WHERE run_id = ?", (run_id,))
        return bool(rows and rows[0]["in_flight"])

    def count_failure(self, run_id: str) -> tuple[int, str]:
        """Count a training process that died; return (failures in a row, newest checkpoint).

        Failures count consecutively only while the run's newest checkpoint stays the same: a
        process that saved a new checkpoint before dying made progress, so the count restarts at 1.
        """
        with self._write() as db:
            newest = db.execute(
                "SELECT id FROM checkpoints WHERE run_id = ? ORDER BY rowid DESC LIMIT 1",
                (run_id,),
            ).fetchone()
            checkpoint = newest["id"] if newest is not None else ""
            row = db.execute(
                "SELECT failures, checkpoint FROM restarts WHERE run_id = ?", (run_id,)
            ).fetchone()
            same = row is not None and row["failures"] > 0 and row["checkpoint"] == checkpoint
            failures = row["failures"] + 1 if same else 1
            db.execute(
                "INSERT INTO restarts (run_id, in_flight, failures, checkpoint) VALUES (?, 0, ?, ?)"
                " ON CONFLICT (run_id) DO UPDATE SET in_flight = 0, failures = ?, checkpoint = ?",
                (run_id, failures, checkpoint, failures, checkpoint),
            )
        return failures, checkpoint

    # Checkpoints ------------------------------------------------------------------------------

    def add_checkpoint(self, checkpoint: runs_pb2.Checkpoint, path: Path) -> int:
        """Record a checkpoint and log checkpoint_saved in one transaction."""
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?)",
                (checkpoint.run_id, checkpoint.id, checkpoint.SerializeToString(), str(path)),
            )
            event = runs_pb2.RunEvent(
                checkpoint_saved=runs_pb2.CheckpointSaved(checkpoint=checkpoint)
            )
            return self._append(db, checkpoint.run_id, event)

    def list_checkpoints(self, run_id: str) -> list[runs_pb2.Checkpoint]:
        rows = self._query(
            "SELECT payload FROM checkpoints WHERE run_id = ? ORDER BY rowid", (run_id,)
        )
        return [runs_pb2.Checkpoint.FromString(row["payload"]) for row in rows]


def _dataset(row: sqlite3.Row) -> datasets_pb2.Dataset:
    return datasets_pb2.Dataset(
        id=row["id"],
        name=row["name"],
        format=row["format"],
        sha256=row["id"],
        size_bytes=row["size_bytes"],
        num_records=row["num_records"],
        created_at=timestamp(row["created_at"]),
    )


def _run(row: sqlite3.Row) -> runs_pb2.Run:
    spec = runs_pb2.RunSpec.FromString(row["spec"])
    run = runs_pb2.Run(
        id=row["id"],
        spec=spec,
        # Derived, not stored: the defaults of this worker version, which its training child applies
        # (a run resumed after an upgrade trains on with them).
        effective_spec=defaults.effective_spec(spec),
        state=row["state"],
        created_at=timestamp(row["created_at"]),
        started_at=timestamp(row["started_at"]),
        finished_at=timestamp(row["finished_at"]),
        stage_index=row["stage_index"],
        step=row["step"],
        total_steps=row["total_steps"],
        last_seq=row["last_seq"],
        idempotency_key=row["idempotency_key"] or "",
        attempt=row["attempt"],
    )
    if row["error"] is not None:
        run.error.CopyFrom(runs_pb2.RunError.FromString(row["error"]))
    if row["latest_metrics"] is not None:
        run.latest_metrics.CopyFrom(runs_pb2.Metrics.FromString(row["latest_metrics"]))
    return run


def labels_match(run: runs_pb2.Run, labels: dict[str, str]) -> bool:
    return all(run.spec.labels.get(key) == value for key, value in labels.items())
