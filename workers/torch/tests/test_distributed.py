"""world_size 2 through torchrun with FSDP2 on CPU (gloo) matches one process on the same global
batch, and resumes mid-stage after a restart with the uninterrupted loss curve."""

from __future__ import annotations

import grpc
import pytest
from helpers import TEXT, jsonl, stage, stored, text_records, upload
from helpers import watch as watch_events

from midspec_worker import server
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2, worker_pb2_grpc


@pytest.mark.slow
async def test_two_processes_match_one(stub, tmp_path):
    answer = await stub.GetCapabilities(caps.GetCapabilitiesRequest())
    assert answer.max_world_size >= 2
    text = (await upload(stub, jsonl(text_records(24)), TEXT)).dataset.id
    curves = []
    for world_size, micro_batch in ((1, 4), (2, 2)):
        one = stage(caps.STAGE_KIND_MIDTRAIN, text, 3)
        one.micro_batch_size = micro_batch
        one.packing.enabled = False
        spec = runs_pb2.RunSpec(
            base_model="tiny:llama", seed=2, world_size=world_size, stages=[one]
        )
        run_id = (await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))).run.id
        log = stored(await watch_events(stub, run_id))
        assert log[-1].state_changed.state == runs_pb2.RUN_STATE_SUCCEEDED, log[-1]
        started = next(e.stage_started for e in log if e.HasField("stage_started"))
        metrics = [e.metrics for e in log if e.HasField("metrics")]
        curves.append([started.initial_loss] + [m.loss for m in metrics])
        assert [m.step for m in metrics] == [1, 2, 3]
        final = await stub.ListCheckpoints(runs_pb2.ListCheckpointsRequest(run_id=run_id))
        assert final.checkpoints[-1].final
        assert (tmp_path / "data" / "runs" / run_id / "checkpoints" / "final").is_dir()
    single, double = curves
    assert len(single) == len(double) == 4
    for a, b in zip(single, double, strict=True):
        assert abs(a - b) < 1e-4, (single, double)


@pytest.mark.slow
async def test_two_processes_resume_mid_stage_with_the_same_loss_curve(tmp_path):
    """Stop the worker mid-stage during a two-process run; the restarted worker resumes from the
    last in-stage checkpoint (weights, optimizer shards, schedule, every rank's RNG, data position)
    and reproduces the uninterrupted two-process loss curve."""
    data_dir = tmp_path / "w"
    options = {"heartbeat_seconds": 0.5, "shutdown_grace_seconds": 60}
    worker = await server.start("127.0.0.1", 0, data_dir, **options)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{worker.port}") as channel:
            stub = worker_pb2_grpc.WorkerStub(channel)
            text = (await upload(stub, jsonl(text_records(24)), TEXT)).dataset.id
            one = stage(caps.STAGE_KIND_MIDTRAIN, text, 8)
            one.packing.enabled = False
            one.adapter.lora.dropout = 0.1  # every rank's RNG state must be restored
            spec = runs_pb2.RunSpec(
                base_model="tiny:llama",
                seed=3,
                world_size=2,
                checkpoint_every_steps=2,
                stages=[one],
            )
            whole = (await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))).run.id
            expected = _losses(stored(await watch_events(stub, whole)))
            run_id = (await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))).run.id
            request = runs_pb2.WatchRunRequest(run_id=run_id)
            async for event in stub.WatchRun(request, timeout=240):
                if event.HasField("metrics") and event.metrics.step >= 3:
                    break
    finally:
        # Graceful: torchrun forwards SIGTERM, the ranks stop at a step boundary, run stays RUNNING.
        await worker.stop(grace=0)
    worker = await server.start("127.0.0.1", 0, data_dir, **options)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{worker.port}") as channel:
            log = stored(await watch_events(worker_pb2_grpc.WorkerStub(channel), run_id))
    finally:
        await worker.stop(grace=0)
    assert log[-1].state_changed.state == runs_pb2.RUN_STATE_SUCCEEDED, log[-1]
    (resumed,) = [e.log.message for e in log if "resuming from checkpoint" in e.log.message]
    assert resumed.split()[-1] in ("stage-0-step-2", "stage-0-step-4", "stage-0-step-6")
    losses = _losses(log)
    assert sorted(losses) == sorted(expected) == [(0, step) for step in range(1, 9)]
    for key, loss in expected.items():
        assert abs(losses[key] - loss) < 1e-4, (key, losses[key], loss)


def _losses(events):
    """Loss per (stage, step); a step trained again after a resume counts with its last value."""
    return {
        (e.metrics.stage_index, e.metrics.step): e.metrics.loss
        for e in events
        if e.HasField("metrics")
    }
