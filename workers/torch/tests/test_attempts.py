"""Idempotency with retries: a reused key returns the run while it is alive or succeeded, and
starts the next attempt of the same run after FAILED or CANCELLED."""

from __future__ import annotations

from helpers import TEXT, jsonl, stage, stored, text_records, upload
from helpers import watch as watch_events

from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.store import Store
from midspec_worker.train import child

Q, R, S = runs_pb2.RUN_STATE_QUEUED, runs_pb2.RUN_STATE_RUNNING, runs_pb2.RUN_STATE_SUCCEEDED
F, C = runs_pb2.RUN_STATE_FAILED, runs_pb2.RUN_STATE_CANCELLED


def _changes(events):
    return [
        (e.state_changed.state, e.state_changed.attempt)
        for e in events
        if e.HasField("state_changed")
    ]


async def test_a_failed_run_is_retried_as_its_next_attempt(stub, monkeypatch):
    text = (await upload(stub, jsonl(text_records()), TEXT)).dataset.id
    spec = runs_pb2.RunSpec(
        base_model="tiny:llama",
        checkpoint_every_steps=2,
        stages=[stage(caps.STAGE_KIND_MIDTRAIN, text, 4)],
    )
    request = runs_pb2.SubmitRunRequest(spec=spec, idempotency_key="retry-me")
    monkeypatch.setenv(child.TEST_FAIL_AFTER_STEP, "3")
    first = await stub.SubmitRun(request)
    assert first.run.attempt == 1 and not first.already_existed and not first.new_attempt
    failed = stored(await watch_events(stub, first.run.id))
    assert _changes(failed)[-1] == (F, 1)
    monkeypatch.delenv(child.TEST_FAIL_AFTER_STEP)

    again = await stub.SubmitRun(request)
    assert again.run.id == first.run.id and again.already_existed and again.new_attempt
    assert again.run.attempt == 2 and again.run.state == Q and not again.run.HasField("error")
    log = stored(await watch_events(stub, first.run.id))
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert _changes(log) == [(Q, 1), (R, 1), (F, 1), (Q, 2), (R, 2), (S, 2)]
    assert any("resuming from checkpoint stage-0-step-2" in e.log.message for e in log)
    # Succeeded: the key now only ever returns the run.
    third = await stub.SubmitRun(request)
    assert third.already_existed and not third.new_attempt and third.run.attempt == 2
    assert third.run.state == S


async def test_a_cancelled_run_is_retried_and_a_live_one_is_not(stub):
    text = (await upload(stub, jsonl(text_records()), TEXT)).dataset.id
    blocker = runs_pb2.RunSpec(
        base_model="tiny:llama", stages=[stage(caps.STAGE_KIND_MIDTRAIN, text, 400)]
    )
    busy = await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=blocker))
    spec = runs_pb2.RunSpec(
        base_model="tiny:llama", seed=2, stages=[stage(caps.STAGE_KIND_MIDTRAIN, text, 2)]
    )
    request = runs_pb2.SubmitRunRequest(spec=spec, idempotency_key="cancel-me")
    first = await stub.SubmitRun(request)
    queued = await stub.SubmitRun(request)  # queued behind the blocker: returned as it is
    assert queued.already_existed and not queued.new_attempt and queued.run.state == Q
    await stub.CancelRun(runs_pb2.CancelRunRequest(run_id=first.run.id))
    again = await stub.SubmitRun(request)
    assert again.new_attempt and again.run.attempt == 2 and again.run.state == Q
    await stub.CancelRun(runs_pb2.CancelRunRequest(run_id=first.run.id))
    await stub.CancelRun(runs_pb2.CancelRunRequest(run_id=busy.run.id))
    events = stored(await watch_events(stub, first.run.id))
    assert _changes(events) == [(Q, 1), (C, 1), (Q, 2), (C, 2)]


def test_a_data_dir_from_before_attempts_is_migrated(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "worker.sqlite")
    db.execute(
        "CREATE TABLE runs (id TEXT PRIMARY KEY, spec BLOB NOT NULL, idempotency_key TEXT UNIQUE,"
        " state INTEGER NOT NULL, created_at REAL NOT NULL, started_at REAL, finished_at REAL,"
        " stage_index INTEGER DEFAULT 0, step INTEGER DEFAULT 0, total_steps INTEGER DEFAULT 0,"
        " error BLOB, last_seq INTEGER DEFAULT 0, latest_metrics BLOB,"
        " cancel_requested INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute(
        "INSERT INTO runs (id, spec, state, created_at) VALUES ('old', x'', ?, 0)",
        (runs_pb2.RUN_STATE_SUCCEEDED,),
    )
    db.commit()
    db.close()
    store = Store(tmp_path / "worker.sqlite")
    assert store.get_run("old").attempt == 1
    assert store.start_new_attempt("old", "again") == 0  # SUCCEEDED: nothing to retry
    store.close()
