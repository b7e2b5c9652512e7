"""The stage loop in-process: budgets, unpacked rows, full fine-tuning, gradient checkpointing."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from midspec_worker import models, runspec
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.train import engine
from midspec_worker.train.data import text_example


def _stage(**changes):
    spec = runs_pb2.RunSpec(
        base_model="tiny:llama",
        stages=[runs_pb2.Stage(kind=1, data=[runs_pb2.DataSource(dataset_id="d")])],
    )
    stage = runspec.validate(spec, {"d": 1}).stages[0]
    if "max_steps" in changes or "max_tokens" in changes:
        changes.setdefault("epochs", 0.0)  # as the defaults have it when a spec sets either
    return dataclasses.replace(stage, learning_rate=1e-2, **changes)


def _train(tmp_path, stage, model=None):
    path = models.materialize("tiny:llama", tmp_path, seed=0)
    loaded, tokenizer = models.load(path, torch.float32)
    examples = [text_example(tokenizer, f"Document {i} is about honesty.", 64) for i in range(12)]
    events, checkpoints = [], []
    ctx = engine.StageContext(
        emit=events.append,
        should_stop=lambda: False,
        checkpoint=lambda m, s, step, state: checkpoints.append(step),
        checkpoint_every_steps=2,
        device=torch.device("cpu"),
        dtype=torch.float32,
        seed=0,
    )
    trained = engine.train_stage(model or loaded, tokenizer, stage, examples, ctx)
    return trained, events, checkpoints


def test_full_finetune_unpacked_with_checkpointing(tmp_path):
    stage = _stage(
        lora=None, packing=False, max_steps=5, micro_batch_size=3, gradient_checkpointing=True
    )
    model, events, checkpoints = _train(tmp_path, stage)
    metrics = [e.metrics for e in events if e.HasField("metrics")]
    started = events[0].stage_started
    assert [m.step for m in metrics] == [1, 2, 3, 4, 5]
    assert metrics[-1].loss < started.initial_loss
    assert all(p.requires_grad for p in model.parameters())
    assert checkpoints == [2, 4, 5]
    assert started.packing_efficiency < 1.0


def test_max_tokens_ends_the_stage(tmp_path):
    lora = runspec.LoraPlan(4, 8.0, 0.0, ["q_proj"])
    stage = _stage(max_tokens=40, micro_batch_size=1, lora=lora, gradient_checkpointing=True)
    model, events, _ = _train(tmp_path, stage)
    metrics = [e.metrics for e in events if e.HasField("metrics")]
    assert metrics[-1].tokens_seen >= 40 and len(metrics) <= metrics[0].total_steps
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("q_proj" in n and "lora" in n for n in trainable)


@pytest.mark.slow
def test_compile_option_and_mfu(tmp_path, monkeypatch):
    from midspec_worker.train import observe

    stage = _stage(max_steps=2, micro_batch_size=2, compile=True)
    model, events, _ = _train(tmp_path, stage)
    metrics = [e.metrics for e in events if e.HasField("metrics")]
    assert [m.step for m in metrics] == [1, 2] and all(m.mfu == 0 for m in metrics)
    # 6N + 12 L h T for the tiny model: N counts every weight but the input embedding (tied).
    base = model.get_base_model()
    params = sum(p.numel() for p in base.parameters())
    expected = 6.0 * params + 12.0 * 2 * 64 * 128
    assert observe.flops_per_token(model, 128) == expected
    monkeypatch.setenv("MIDSPEC_PEAK_TFLOPS", "100")
    assert observe.peak_flops(torch.device("cpu"), torch.float32) == 100e12
