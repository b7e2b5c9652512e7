"""world_size 2 through torchrun with FSDP2 on CPU (gloo) matches one process on the same global
batch."""

from __future__ import annotations

import pytest
from helpers import TEXT, jsonl, stage, stored, text_records, upload
from helpers import watch as watch_events

from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2


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
