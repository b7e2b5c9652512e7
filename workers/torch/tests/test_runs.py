from __future__ import annotations

import asyncio

import grpc
import pytest
from helpers import CHAT, TEXT, chat_records, jsonl, stage, stored, text_records, trailers, upload
from helpers import watch as watch_events

from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2

MIDTRAIN = caps.STAGE_KIND_MIDTRAIN
SFT = caps.STAGE_KIND_SFT


async def _datasets(stub):
    text = (await upload(stub, jsonl(text_records()), TEXT, name="docs.jsonl")).dataset.id
    chat = (await upload(stub, jsonl(chat_records()), CHAT, name="chats.jsonl")).dataset.id
    return text, chat


async def test_unknown_dataset_is_not_found(stub):
    spec = runs_pb2.RunSpec(base_model="tiny:llama", stages=[stage(MIDTRAIN, "a" * 64, 2)])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_DATASET_NOT_FOUND"


async def test_unknown_model_and_bad_numbers(stub):
    text, chat = await _datasets(stub)
    spec = runs_pb2.RunSpec(base_model="tiny:gpt9", stages=[stage(MIDTRAIN, text, 2)])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_MODEL_NOT_FOUND"

    bad = stage(MIDTRAIN, chat, -1)
    bad.optimizer.learning_rate = -1
    bad.schedule.warmup_ratio = 2
    spec = runs_pb2.RunSpec(base_model="tiny:llama", stages=[bad])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))
    details = caught.value.details()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for problem in ("learning_rate", "warmup_ratio", "max_steps", "DATASET_FORMAT_TEXT"):
        assert problem in details


async def test_idempotency(stub):
    text, _ = await _datasets(stub)
    spec = runs_pb2.RunSpec(base_model="tiny:llama", stages=[stage(MIDTRAIN, text, 1)])
    first = await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec, idempotency_key="k1"))
    again = await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec, idempotency_key="k1"))
    assert not first.already_existed and again.already_existed
    assert again.run.id == first.run.id and again.run.idempotency_key == "k1"
    spec.seed = 7
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec, idempotency_key="k1"))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert trailers(caught.value)["midspec-reason"] == "ERROR_REASON_IDEMPOTENCY_CONFLICT"
    await stub.CancelRun(runs_pb2.CancelRunRequest(run_id=first.run.id))


async def test_two_stage_run(stub, tmp_path):
    text, chat = await _datasets(stub)
    spec = runs_pb2.RunSpec(
        name="msm-aft",
        base_model="tiny:llama",
        seed=3,
        labels={"arm": "msm-aft"},
        stages=[
            stage(MIDTRAIN, text, 12),
            stage(SFT, chat, 12, continue_adapter=True),
        ],
    )
    submitted = await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))
    run_id = submitted.run.id
    events = await watch_events(stub, run_id)
    assert any(e.WhichOneof("event") == "heartbeat" for e in events)
    log = stored(events)
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    states = [e.state_changed.state for e in log if e.HasField("state_changed")]
    assert states == [
        runs_pb2.RUN_STATE_QUEUED,
        runs_pb2.RUN_STATE_RUNNING,
        runs_pb2.RUN_STATE_SUCCEEDED,
    ], [e.state_changed for e in log if e.HasField("state_changed")]
    starts = [e.stage_started for e in log if e.HasField("stage_started")]
    assert [s.stage_index for s in starts] == [0, 1]
    for started in starts:
        metrics = [
            e.metrics
            for e in log
            if e.HasField("metrics") and e.metrics.stage_index == started.stage_index
        ]
        assert [m.step for m in metrics] == list(range(1, 13))
        assert started.total_steps == 12 and started.num_tokens > 0
        assert metrics[-1].loss < started.initial_loss - 0.2
        assert all(m.grad_norm > 0 and m.tokens_per_second > 0 for m in metrics)

    tail = stored(await watch_events(stub, run_id, after_seq=10))
    assert [e.SerializeToString() for e in tail] == [e.SerializeToString() for e in log[10:]]

    run = await stub.GetRun(runs_pb2.GetRunRequest(run_id=run_id))
    assert run.state == runs_pb2.RUN_STATE_SUCCEEDED and run.last_seq == len(log)
    assert run.latest_metrics.stage_index == 1 and run.finished_at.seconds > 0
    listed = await stub.ListRuns(runs_pb2.ListRunsRequest(labels={"arm": "msm-aft"}))
    assert [r.id for r in listed.runs] == [run_id]
    none = await stub.ListRuns(runs_pb2.ListRunsRequest(states=[runs_pb2.RUN_STATE_FAILED]))
    assert list(none.runs) == []

    checkpoints = await stub.ListCheckpoints(runs_pb2.ListCheckpointsRequest(run_id=run_id))
    assert [c.id for c in checkpoints.checkpoints] == [
        "stage-0-step-12",
        "stage-1-step-12",
        "final",
    ]
    final = checkpoints.checkpoints[-1]
    assert final.final and caps.CHECKPOINT_FORMAT_MERGED_HF in final.formats
    folder = tmp_path / "data" / "runs" / run_id / "checkpoints" / "final"
    assert final.local_path == str(folder.resolve())
    assert (folder / "adapter" / "adapter_config.json").is_file()
    board = tmp_path / "data" / "runs" / run_id / "tensorboard"
    assert any(board.glob("events.out.tfevents.*"))
    await asyncio.to_thread(_generate, folder)


def _generate(folder):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 3 plus one?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    output = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert output.shape[1] > prompt["input_ids"].shape[1]


async def test_cancel_keeps_checkpoints(stub):
    text, _ = await _datasets(stub)
    long = stage(MIDTRAIN, text, 100_000)
    long.adapter.full.SetInParent()
    long.packing.enabled = False  # one padded row per document
    spec = runs_pb2.RunSpec(base_model="tiny:qwen3", stages=[long], checkpoint_every_steps=2)
    run_id = (await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))).run.id
    request = runs_pb2.WatchRunRequest(run_id=run_id)
    async for event in stub.WatchRun(request, timeout=120):
        if event.HasField("checkpoint_saved"):
            break
    await stub.CancelRun(runs_pb2.CancelRunRequest(run_id=run_id))
    log = stored(await watch_events(stub, run_id))
    assert log[-1].state_changed.state == runs_pb2.RUN_STATE_CANCELLED
    run = await stub.GetRun(runs_pb2.GetRunRequest(run_id=run_id))
    assert run.state == runs_pb2.RUN_STATE_CANCELLED and run.step < 100_000
    checkpoints = await stub.ListCheckpoints(runs_pb2.ListCheckpointsRequest(run_id=run_id))
    assert checkpoints.checkpoints and not any(c.final for c in checkpoints.checkpoints)
    again = await stub.CancelRun(runs_pb2.CancelRunRequest(run_id=run_id))
    assert again.state == runs_pb2.RUN_STATE_CANCELLED


async def test_bad_target_modules_fail_the_run_as_a_user_error(stub):
    text, _ = await _datasets(stub)
    bad = stage(MIDTRAIN, text, 2)
    bad.adapter.lora.target_modules.append("no_such_proj")
    spec = runs_pb2.RunSpec(base_model="tiny:llama", stages=[bad])
    run_id = (await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))).run.id
    log = stored(await watch_events(stub, run_id))
    final = log[-1].state_changed
    assert final.state == runs_pb2.RUN_STATE_FAILED
    assert final.error.reason == "ERROR_REASON_INVALID_REQUEST" and not final.error.retryable
    assert "no_such_proj" in final.error.message
    run = await stub.GetRun(runs_pb2.GetRunRequest(run_id=run_id))
    assert run.error.reason == "ERROR_REASON_INVALID_REQUEST"


async def test_a_failed_run_leaves_readable_tensorboard_events(stub, tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from midspec_worker.train import child

    monkeypatch.setenv(child.TEST_FAIL_AFTER_STEP, "3")
    text, _ = await _datasets(stub)
    spec = runs_pb2.RunSpec(base_model="tiny:llama", stages=[stage(MIDTRAIN, text, 10)])
    run_id = (await stub.SubmitRun(runs_pb2.SubmitRunRequest(spec=spec))).run.id
    final = stored(await watch_events(stub, run_id))[-1].state_changed
    assert final.state == runs_pb2.RUN_STATE_FAILED
    assert f"{child.TEST_FAIL_AFTER_STEP}=3" in final.error.message
    events = EventAccumulator(str(tmp_path / "data" / "runs" / run_id / "tensorboard"))
    events.Reload()
    tags = events.Tags()["scalars"]
    assert any(tag.endswith("/loss") for tag in tags)
    # Every scalar of every step: the writer buffers, so an unclosed one loses the last few.
    for tag in tags:
        assert [scalar.step for scalar in events.Scalars(tag)] == [1, 2, 3], tag
