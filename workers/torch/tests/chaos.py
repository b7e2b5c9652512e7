"""Kill the worker at seeded random points of its training child's start-up and training, restart
it on the same data dir each time, and check what fencing promises: never more than one trainer
process for the run (none left over), a gapless event log in which each training process's steps
follow on from one another, and the final loss of an uninterrupted run.

The default test suite runs a couple of kill points (tests/test_fencing.py). The full figure comes
from running this file, e.g. 20 seeds of 3 kill points each:

    cd workers/torch && .venv/bin/python tests/chaos.py --seeds 20 --kills 3

(`MIDSPEC_CHAOS_SEED` sets the first seed.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).parent))
from helpers import TEXT, jsonl, stage, stored, text_records, upload  # noqa: E402

from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps  # noqa: E402
from midspec_worker.gen.midspec.worker.v1 import runs_pb2, worker_pb2_grpc  # noqa: E402

TOTAL_STEPS = 16
CHILD_MODULE = "midspec_worker.train.child"


@dataclass
class Outcome:
    seed: int
    kills: list[str] = field(default_factory=list)  # "start-up +1.23s" / "training step 7"
    max_trainers: int = 0
    orphan_seconds: float = 0.0  # longest a trainer outlived its killed worker
    final_loss: float = 0.0
    reference_loss: float = 0.0
    problems: list[str] = field(default_factory=list)


def trainer_pids(data_dir: Path) -> list[int]:
    """Training processes of this data dir, found by their command line (they are started as
    `python -m midspec_worker.train.child DATA_DIR RUN_ID LEASE PARENT`)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "stat").read_text().split(") ", 1)[1].split()[0]
        except OSError:
            continue
        if status == "Z":
            continue
        if CHILD_MODULE.encode() in argv and str(data_dir).encode() in argv:
            pids.append(int(entry.name))
    return pids


def _wait_for_no_trainers(data_dir: Path, seconds: float) -> tuple[float, list[int]]:
    """Seconds until no trainer of the data dir is left (at most `seconds`), and any left then."""
    began = time.monotonic()
    while (left := trainer_pids(data_dir)) and time.monotonic() - began < seconds:
        time.sleep(0.05)
    return time.monotonic() - began, left


def start_worker(data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "midspec_worker", "serve", "--port", "0"]
        + ["--data-dir", str(data_dir), "--heartbeat-seconds", "0.5", "--max-restarts", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={
            **{k: v for k, v in os.environ.items() if k != "MIDSPEC_WORKER_TOKEN"},
            "MIDSPEC_TORCH_THREADS": "1",
        },
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("midspec-worker listening on "), line
    return process, int(line.rsplit(":", 1)[1])


def spec(dataset_id: str) -> runs_pb2.RunSpec:
    long = stage(caps.STAGE_KIND_MIDTRAIN, dataset_id, TOTAL_STEPS)
    long.packing.enabled = False
    return runs_pb2.RunSpec(
        base_model="tiny:llama", seed=3, checkpoint_every_steps=3, stages=[long]
    )


def _final_loss(events: list[runs_pb2.RunEvent]) -> float:
    return [e.metrics.loss for e in events if e.HasField("metrics")][-1]


async def _watch_all(stub: worker_pb2_grpc.WorkerStub, run_id: str) -> list[runs_pb2.RunEvent]:
    request = runs_pb2.WatchRunRequest(run_id=run_id)
    return stored([event async for event in stub.WatchRun(request, timeout=600)])


async def _kill_at(
    stub: worker_pb2_grpc.WorkerStub, run_id: str, after_seq: int, rng: random.Random
) -> str:
    """Follow the run from `after_seq` until this worker's child is started, then return at a
    seeded point: a delay into its start-up, or a number of live training steps."""
    phase = rng.choice(["start-up", "training"])
    delay = rng.uniform(0.0, 4.0)
    steps = rng.randint(1, 5)
    started_at = None
    live_steps = 0
    request = runs_pb2.WatchRunRequest(run_id=run_id, after_seq=after_seq)
    stream = stub.WatchRun(request, timeout=300)
    try:
        while True:
            timeout = None
            if started_at is not None and phase == "start-up":
                timeout = max(0.0, started_at + delay - time.monotonic())
            try:
                event = await asyncio.wait_for(stream.read(), timeout)
            except TimeoutError:
                return f"start-up +{delay:.2f}s"
            if event is grpc.aio.EOF:
                return "after the end"
            if event.HasField("state_changed"):
                if event.state_changed.state == runs_pb2.RUN_STATE_RUNNING:
                    started_at = time.monotonic()
                elif event.state_changed.state in (
                    runs_pb2.RUN_STATE_SUCCEEDED,
                    runs_pb2.RUN_STATE_FAILED,
                ):
                    return "after the end"
            if started_at is not None and event.HasField("metrics"):
                live_steps += 1
                if phase == "training" and live_steps >= steps:
                    return f"training step {event.metrics.step}"
                if phase == "start-up":
                    # The delay outlasted start-up: the kill lands in training after all.
                    if time.monotonic() >= started_at + delay:
                        return f"training step {event.metrics.step} (+{delay:.2f}s)"
    finally:
        stream.cancel()


def check_log(events: list[runs_pb2.RunEvent], outcome: Outcome) -> None:
    seqs = [e.seq for e in events]
    if seqs != list(range(1, len(seqs) + 1)):
        outcome.problems.append(f"event seqs not gapless/unique: {seqs[:5]}...{seqs[-5:]}")
    states = [e.state_changed.state for e in events if e.HasField("state_changed")]
    if states[:2] != [runs_pb2.RUN_STATE_QUEUED, runs_pb2.RUN_STATE_RUNNING]:
        outcome.problems.append(f"unexpected first states {states[:2]}")
    middle = states[2:-1]
    if middle != [runs_pb2.RUN_STATE_RESUMING, runs_pb2.RUN_STATE_RUNNING] * (len(middle) // 2):
        outcome.problems.append(f"unexpected state sequence {states}")
    if states[-1] != runs_pb2.RUN_STATE_SUCCEEDED or not events[-1].HasField("state_changed"):
        outcome.problems.append("the run did not end with SUCCEEDED as its last event")
    # Between two state changes one training process reports: its steps follow on one by one
    # (a second trainer writing beside it would interleave or repeat them).
    previous = None
    for event in events:
        if event.HasField("state_changed"):
            previous = None
        elif event.HasField("metrics"):
            step = event.metrics.step
            if previous is not None and step != previous + 1:
                outcome.problems.append(f"steps {previous} then {step} in one attempt")
            previous = step
    steps = {e.metrics.step for e in events if e.HasField("metrics")}
    if steps != set(range(1, TOTAL_STEPS + 1)):
        outcome.problems.append(f"steps missing: {sorted(set(range(1, TOTAL_STEPS + 1)) - steps)}")
    finals = [e for e in events if e.checkpoint_saved.checkpoint.final]
    if len(finals) != 1:
        outcome.problems.append(f"{len(finals)} final checkpoints recorded")


async def run_seed(data_dir: Path, seed: int, kills: int, reference: float | None) -> Outcome:
    """One chaos trial; `reference` is the uninterrupted final loss (computed here when None)."""
    rng = random.Random(seed)
    outcome = Outcome(seed=seed)
    run_id = ""
    after = 0
    for attempt in range(kills + 1):
        process, port = await asyncio.to_thread(start_worker, data_dir)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = worker_pb2_grpc.WorkerStub(channel)
                if not run_id:
                    text = (await upload(stub, jsonl(text_records()), TEXT)).dataset.id
                    if reference is None:
                        whole = await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec(text)))
                        reference = _final_loss(await _watch_all(stub, whole.run.id))
                    submitted = await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec(text)))
                    run_id = submitted.run.id
                if attempt < kills:
                    outcome.kills.append(await _kill_at(stub, run_id, after, rng))
                    after = (await stub.GetRun(runs_pb2.GetRunRequest(run_id=run_id))).last_seq
                    outcome.max_trainers = max(outcome.max_trainers, len(trainer_pids(data_dir)))
                else:
                    events = await _watch_all(stub, run_id)
                    outcome.max_trainers = max(outcome.max_trainers, len(trainer_pids(data_dir)))
        finally:
            if attempt < kills:
                process.send_signal(signal.SIGKILL)
            else:
                process.terminate()
            await asyncio.to_thread(process.wait, 60)
        waited, left = await asyncio.to_thread(_wait_for_no_trainers, data_dir, 10.0)
        outcome.orphan_seconds = max(outcome.orphan_seconds, waited)
        if left:
            outcome.problems.append(f"trainer process(es) {left} outlived the worker")
            for pid in left:
                os.kill(pid, signal.SIGKILL)
    if outcome.max_trainers > 1:
        outcome.problems.append(f"{outcome.max_trainers} trainer processes at once")
    check_log(events, outcome)
    assert reference is not None
    outcome.reference_loss = reference
    outcome.final_loss = _final_loss(events)
    if abs(outcome.final_loss - reference) > 1e-4:
        outcome.problems.append(f"final loss {outcome.final_loss} != uninterrupted {reference}")
    return outcome


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--kills", type=int, default=3, help="kill points per seed")
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()
    first = int(os.environ.get("MIDSPEC_CHAOS_SEED", "1"))
    work = args.work_dir or Path(f"/tmp/midspec-chaos-{os.getpid()}")
    reference = None
    failed = 0
    points = 0
    began = time.monotonic()
    for seed in range(first, first + args.seeds):
        outcome = await run_seed(work / f"seed-{seed}", seed, args.kills, reference)
        reference = outcome.reference_loss
        points += len(outcome.kills)
        failed += bool(outcome.problems)
        print(json.dumps(outcome.__dict__), flush=True)
    print(
        f"{args.seeds} seeds, {points} kill points, {failed} failed,"
        f" {time.monotonic() - began:.0f} s",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
