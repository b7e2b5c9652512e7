"""Training precision: fp32 master weights for full fine-tuning, fp32 LoRA adapters, bf16 math."""

from __future__ import annotations

import dataclasses

import torch

from midspec_worker import models, runspec
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.train import engine, packing, precision
from midspec_worker.train.data import text_example

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_dtypes_per_device_and_adapter():
    assert precision.compute_dtype("", CPU) == torch.float32
    assert precision.compute_dtype("", CUDA) == torch.bfloat16
    assert precision.compute_dtype("float32", CUDA) == torch.float32
    # Full fine-tuning keeps fp32 master weights; LoRA's frozen base may stay in bf16.
    assert precision.load_dtype(torch.bfloat16, full_finetune=True) == torch.float32
    assert precision.load_dtype(torch.bfloat16, full_finetune=False) == torch.bfloat16
    assert models.attention_implementation(CPU, torch.float32) == "sdpa"
    assert models.attention_implementation(None, torch.bfloat16) == "sdpa"


def test_lora_adapters_train_in_fp32_on_a_bf16_base(tmp_path):
    spec = runs_pb2.RunSpec(
        base_model="tiny:qwen3",
        stages=[
            runs_pb2.Stage(
                kind=1,
                data=[runs_pb2.DataSource(dataset_id="d")],
                adapter=runs_pb2.Adapter(lora=runs_pb2.LoraConfig(r=4)),
            )
        ],
    )
    stage = dataclasses.replace(runspec.validate(spec, {"d": 1}).stages[0], max_length=32)
    path = models.materialize("tiny:qwen3", tmp_path, seed=0)
    model, tokenizer = models.load(path, torch.bfloat16)
    model = engine.prepare_adapter(model, stage, seed=0)
    trainable = [p for p in model.parameters() if p.requires_grad]
    frozen = [p for p in model.parameters() if not p.requires_grad]
    assert trainable and all(p.dtype == torch.float32 for p in trainable)
    assert all(p.dtype == torch.bfloat16 for p in frozen)
    example = text_example(tokenizer, "The assistant explains its values.", 32)
    batch = packing.collate(packing.pack([example], 32)[:1], 0).to(CPU, torch.bfloat16)
    with precision.autocast(CPU, torch.bfloat16):
        loss = engine.token_losses(model, batch).sum()
    loss.backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in trainable)
    assert torch.isfinite(loss)
