"""Runs submitted through the worker's slurm launcher to a real single-node Slurm (Debian's
slurmctld/slurmd/munge, started for this module): a run trains to completion, a cancelled run
ends CANCELLED, and a run whose job is killed with scancel resumes as a new job from its last
checkpoint. The events name the Slurm job ids."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from helpers import TEXT, jsonl, stage, stored, text_records, upload
from helpers import watch as watch_events
from slurm_cluster import SlurmCluster, missing_reason

from midspec_worker import server
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2, worker_pb2_grpc
from midspec_worker.launch.slurm import SlurmConfig, SlurmLauncher, render_script

SUBMITTED = re.compile(r"slurm job (\d+) submitted")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def stub(
    slurm: SlurmCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[worker_pb2_grpc.WorkerStub]:
    monkeypatch.setenv("SLURM_CONF", str(slurm.conf))
    data_dir = tmp_path / "data"
    launcher = SlurmLauncher(data_dir, SlurmConfig(time_minutes=10))
    worker = await server.start(
        "127.0.0.1",
        0,
        data_dir,
        heartbeat_seconds=0.5,
        shutdown_grace_seconds=20,
        launcher=launcher,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{worker.port}") as channel:
            yield worker_pb2_grpc.WorkerStub(channel)
    finally:
        await worker.stop(grace=0)


async def _submit(stub, steps: int, **spec) -> str:
    text = (await upload(stub, jsonl(text_records(16)), TEXT)).dataset.id
    one = stage(caps.STAGE_KIND_MIDTRAIN, text, steps)
    one.packing.enabled = False
    request = runs_pb2.SubmitRunRequest(
        spec=runs_pb2.RunSpec(base_model="tiny:llama", seed=1, stages=[one], **spec)
    )
    return (await stub.SubmitRun(request)).run.id


def _job_ids(events) -> list[str]:
    return [m.group(1) for e in events if (m := SUBMITTED.search(e.log.message))]


async def test_a_run_trains_to_completion_as_a_slurm_job(stub, tmp_path):
    run_id = await _submit(stub, 2)
    log = stored(await watch_events(stub, run_id))
    assert log[-1].state_changed.state == runs_pb2.RUN_STATE_SUCCEEDED, log[-1]
    (job_id,) = _job_ids(log)
    messages = [e.log.message for e in log]
    assert any(f"slurm job {job_id} running on " in m for m in messages), messages
    assert [e.metrics.step for e in log if e.HasField("metrics")] == [1, 2]
    script = (tmp_path / "data" / "runs" / run_id / "slurm" / "job.sbatch").read_text()
    assert "exec srun --kill-on-bad-exit=1 " in script and "--time=10" in script
    final = await stub.ListCheckpoints(runs_pb2.ListCheckpointsRequest(run_id=run_id))
    assert final.checkpoints[-1].final


async def test_a_cancelled_run_ends_cancelled_and_its_job_leaves_the_queue(stub, slurm):
    run_id = await _submit(stub, 400)
    request = runs_pb2.WatchRunRequest(run_id=run_id)
    async for event in stub.WatchRun(request, timeout=240):
        if event.HasField("metrics"):
            break
    await stub.CancelRun(runs_pb2.CancelRunRequest(run_id=run_id))
    log = stored(await watch_events(stub, run_id))
    assert log[-1].state_changed.state == runs_pb2.RUN_STATE_CANCELLED, log[-1]
    (job_id,) = _job_ids(log)
    # The ranks exit right after recording CANCELLED; the job then leaves the queue.
    for _ in range(300):
        queue = await asyncio.to_thread(
            subprocess.run, ["squeue", "-h", "-j", job_id], capture_output=True, text=True
        )
        if not queue.stdout.strip():
            break
        await asyncio.sleep(0.1)
    assert queue.stdout.strip() == ""


async def test_a_run_resumes_as_a_new_job_after_scancel(stub):
    # Enough steps that the scancel lands while the job still trains (6 could all finish first).
    run_id = await _submit(stub, 60, checkpoint_every_steps=2)
    seen = []
    request = runs_pb2.WatchRunRequest(run_id=run_id)
    async for event in stub.WatchRun(request, timeout=240):
        seen.append(event)
        if event.HasField("metrics") and event.metrics.step >= 3:
            break
    (job_id,) = _job_ids(seen)
    # From outside the worker, as an operator or a preemption would.
    await asyncio.to_thread(subprocess.run, ["scancel", job_id], check=True)
    log = stored(await watch_events(stub, run_id))
    assert log[-1].state_changed.state == runs_pb2.RUN_STATE_SUCCEEDED, log[-1]
    jobs = _job_ids(log)
    assert len(jobs) == 2 and jobs[0] == job_id and jobs[1] != job_id, jobs
    messages = [e.log.message for e in log]
    assert any(f"slurm job {job_id} ended: CANCELLED" in m for m in messages), messages
    assert any("resuming from checkpoint stage-0-step-" in m for m in messages), messages
    steps = {e.metrics.step for e in log if e.HasField("metrics")}
    assert steps == set(range(1, 61))


def test_the_script_spans_nodes_with_one_torchrun_per_node(tmp_path):
    config = SlurmConfig(
        partition="gpu",
        account="lab",
        time_minutes=90,
        gpus_per_node=8,
        container_image="nvcr.io/nvidia/pytorch:25.01-py3",
        modules=["cuda/12.4"],
        python="python3",
        extra_sbatch=["--qos=high"],
    )
    script = render_script(config, tmp_path, "run-1", 16, lease=5)
    for line in (
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=1",
        "#SBATCH --partition=gpu",
        "#SBATCH --account=lab",
        "#SBATCH --time=90",
        "#SBATCH --gpus-per-node=8",
        "#SBATCH --qos=high",
        "module load cuda/12.4",
    ):
        assert line in script.splitlines(), (line, script)
    command = script.splitlines()[-1]
    assert command.startswith("exec srun --kill-on-bad-exit=1 --container-image=nvcr.io/")
    assert "python3 -m torch.distributed.run --nnodes=2 --nproc-per-node=8" in command
    assert "--rdzv-backend=c10d" in command and command.endswith(f"{tmp_path} run-1 5")
    with pytest.raises(Exception, match="does not fill whole nodes"):
        render_script(config, tmp_path, "run-1", 12)
