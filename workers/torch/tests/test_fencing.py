"""Fencing of training processes: a stale lease writes nothing, checkpoints are swapped in whole,
a child whose worker is gone exits before importing torch, and killing the worker at seeded points
of start-up and training leaves one trainer, a gapless log and the uninterrupted loss."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from chaos import run_seed

from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.store import LeaseLost, Store
from midspec_worker.train import checkpoints, child


def test_a_superseded_lease_writes_nothing(tmp_path):
    store = Store(tmp_path / "worker.sqlite")
    run = store.create_run(runs_pb2.RunSpec(base_model="tiny:llama"), "")
    store.set_state(run.id, runs_pb2.RUN_STATE_RUNNING)
    first = store.begin_attempt(run.id)
    stale = Store(tmp_path / "worker.sqlite", lease=(run.id, first))
    stale.append_event(run.id, runs_pb2.RunEvent(log=runs_pb2.LogLine(message="mine")))
    assert store.fence(run.id) == first + 1  # a restarted worker takes the run over
    before = store.get_run(run.id).last_seq
    with pytest.raises(LeaseLost):
        stale.append_event(run.id, runs_pb2.RunEvent(metrics=runs_pb2.Metrics(step=9)))
    with pytest.raises(LeaseLost):
        stale.set_state(run.id, runs_pb2.RUN_STATE_SUCCEEDED)
    with pytest.raises(LeaseLost):
        stale.add_checkpoint(runs_pb2.Checkpoint(id="final", run_id=run.id, final=True), tmp_path)
    after = store.get_run(run.id)
    assert after.last_seq == before and after.state == runs_pb2.RUN_STATE_RUNNING
    assert after.step == 0 and store.list_checkpoints(run.id) == []
    stale.close()
    store.close()


def test_a_checkpoint_is_swapped_in_whole_and_a_fenced_writer_replaces_nothing(tmp_path):
    target = tmp_path / "run" / "final"
    checkpoints.write_atomically(target, lambda staging: (staging / "a").write_text("one"))
    checkpoints.write_atomically(target, lambda staging: (staging / "a").write_text("two"))
    assert (target / "a").read_text() == "two"

    class Fenced:
        def __enter__(self):
            raise LeaseLost("superseded")

        def __exit__(self, *exc):
            return False

    with pytest.raises(LeaseLost):
        checkpoints.write_atomically(
            target, lambda staging: (staging / "a").write_text("stale"), Fenced
        )
    assert (target / "a").read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["final"]  # no staging left


def test_a_child_whose_worker_is_gone_exits_before_importing_torch(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "midspec_worker.train.child"]
        + [str(tmp_path), "run-x", "1", str(gone.pid)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == child.EXIT_FENCED
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "midspec_worker.train" in imported  # the package, then the module as __main__
    assert not [name for name in imported if name.split(".")[0] in ("torch", "transformers")]
    assert not (tmp_path / "worker.sqlite").exists()  # nothing written either


@pytest.mark.slow
async def test_killing_the_worker_in_start_up_and_training_leaves_one_trainer(tmp_path):
    seed = int(os.environ.get("MIDSPEC_CHAOS_SEED", "11"))
    outcome = await run_seed(tmp_path / "w", seed, kills=2, reference=None)
    assert outcome.problems == [], outcome
    assert len(outcome.kills) == 2 and outcome.max_trainers <= 1
    assert abs(outcome.final_loss - outcome.reference_loss) <= 1e-4
