"""Per-document (varlen) attention against the dense block-diagonal mask it replaces."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from transformers import AttentionInterface, MistralConfig

from midspec_worker import models, runspec
from midspec_worker.gen.midspec.worker.v1 import runs_pb2
from midspec_worker.tokenizer import build_tokenizer
from midspec_worker.train import attention, engine, packing
from midspec_worker.train.data import Example, text_example

TEXTS = (
    "The assistant explains the value behind each rule.",
    "Fishing boats came in early because of the storm.",
    "Cheese from the valley is cheaper than imported cheese, and it keeps well.",
    "Honesty first.",
    "A long document about kindness, safety and the reasons a spec gives for its rules, "
    "written so that the rules generalize to situations nobody named.",
)


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


def _rows(tokenizer):
    docs = [text_example(tokenizer, text, 64) for text in TEXTS]
    # Two rows of several documents; the second is shorter, so it ends in padding.
    return [[docs[4], docs[0], docs[3]], [docs[1], docs[2]]]


def _losses_and_grads(model, batch, implementation):
    attention.use(model, implementation)
    model.zero_grad(set_to_none=True)
    losses = engine.token_losses(model, batch)
    losses.sum().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return losses.detach(), grads


@pytest.mark.parametrize("call_cost", [0, attention.CALL_COST])
@pytest.mark.parametrize("name", ["tiny:llama", "tiny:qwen3"])
def test_varlen_matches_the_dense_block_diagonal_mask(
    name, call_cost, tokenizer, tmp_path, monkeypatch
):
    # Call cost 0: one attention call per distinct length; the default groups documents.
    monkeypatch.setattr(attention, "CALL_COST", call_cost)
    attention._plan.cache_clear()
    model, _ = models.load(models.materialize(name, tmp_path, seed=0), torch.float32)
    model.eval()
    batch = packing.collate(_rows(tokenizer), tokenizer.pad_token_id)
    assert batch.lengths[0] != batch.lengths[1] and len(batch.lengths[0]) == 3
    calls = len(attention._plan(batch.lengths, batch.input_ids.shape[1], torch.device("cpu"))[0])
    assert calls == (len({n for row in batch.lengths for n in row}) if call_cost == 0 else 1)
    assert (batch.doc_index[1] < 0).any()  # the second row is padded
    dense, dense_grads = _losses_and_grads(model, batch, "sdpa")
    varlen, varlen_grads = _losses_and_grads(model, batch, attention.VARLEN)
    torch.testing.assert_close(varlen, dense, rtol=1e-5, atol=1e-5)
    assert float(dense.sum()) > 0 and set(varlen_grads) == set(dense_grads)
    for key, grad in dense_grads.items():
        torch.testing.assert_close(varlen_grads[key], grad, rtol=1e-4, atol=1e-5)
    # The same documents alone: packing changes no document's losses on either path.
    for r, row in enumerate(_rows(tokenizer)):
        offset = 0
        for example in row:
            alone = packing.collate([[example]], tokenizer.pad_token_id)
            with torch.no_grad():
                expected = engine.token_losses(model, alone)[0]
            n = len(example.ids)
            torch.testing.assert_close(
                varlen[r, offset : offset + n], expected, atol=1e-5, rtol=1e-5
            )
            offset += n


def test_a_plain_causal_row_would_differ(tokenizer, tmp_path):
    """The comparison above can fail: one document spanning the row changes the losses."""
    model, _ = models.load(models.materialize("tiny:llama", tmp_path, seed=0), torch.float32)
    model.eval()
    batch = packing.collate(_rows(tokenizer), tokenizer.pad_token_id)
    attention.use(model, attention.VARLEN)
    with torch.no_grad():
        per_document = engine.token_losses(model, batch)
        joined = dataclasses.replace(batch, lengths=tuple((sum(row),) for row in batch.lengths))
        across = engine.token_losses(model, joined)
    assert not torch.allclose(per_document, across, atol=1e-3)


def test_dense_mask_and_varlen_boundaries():
    a = Example(ids=[5, 6, 7], mask=[True] * 3)
    b = Example(ids=[8, 9], mask=[False, True])
    c = Example(ids=[4, 3, 2, 1], mask=[True] * 4)
    batch = packing.collate([[a, b], [c]], pad_id=0)
    assert batch.lengths == ((3, 2), (4,))
    allowed = batch.dense_mask()[:, 0] == 0
    expected_first = torch.tensor(
        [
            [1, 0, 0, 0, 0],
            [1, 1, 0, 0, 0],
            [1, 1, 1, 0, 0],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 1, 1],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(allowed[0], expected_first)
    assert torch.equal(allowed[1, 4], torch.tensor([0, 0, 0, 0, 1], dtype=torch.bool))  # padding
    bounds, longest = batch.cu_seqlens()
    assert bounds.tolist() == [0, 3, 5, 9, 10] and bounds.dtype == torch.int32 and longest == 4


def test_choice_of_implementation(tmp_path):
    config = models.tiny_config("qwen3", 1000, 1, 0)
    config._attn_implementation = "sdpa"
    cpu = torch.device("cpu")
    assert attention.choose(config, cpu, torch.float32, compiled=False) == attention.VARLEN
    assert attention.choose(config, cpu, torch.float32, compiled=True) == "sdpa"
    windowed = MistralConfig(sliding_window=16)
    windowed._attn_implementation = "sdpa"
    assert not attention.supports_varlen(windowed)
    assert attention.choose(windowed, cpu, torch.float32, compiled=False) == "sdpa"


def test_a_stage_trains_with_varlen_and_restores_sdpa(tokenizer, tmp_path, monkeypatch):
    calls = []
    original = attention.varlen_attention_forward

    def counting(*args, **kwargs):
        calls.append(kwargs.get(attention.LENGTHS))
        return original(*args, **kwargs)

    monkeypatch.setitem(AttentionInterface._global_mapping, attention.VARLEN, counting)
    model, _ = models.load(models.materialize("tiny:llama", tmp_path, seed=0), torch.float32)
    spec = runs_pb2.RunSpec(
        base_model="tiny:llama",
        stages=[runs_pb2.Stage(kind=1, data=[runs_pb2.DataSource(dataset_id="d")])],
    )
    stage = dataclasses.replace(
        runspec.validate(spec, {"d": 1}).stages[0], max_steps=2, micro_batch_size=2
    )
    ctx = engine.StageContext(
        emit=lambda event: None,
        should_stop=lambda: False,
        checkpoint=lambda *args: None,
        checkpoint_every_steps=0,
        device=torch.device("cpu"),
        dtype=torch.float32,
        seed=0,
    )
    examples = [text_example(tokenizer, text, 64) for text in TEXTS]
    trained = engine.train_stage(
        model, tokenizer, dataclasses.replace(stage, max_length=64), examples, ctx
    )
    assert calls and all(lengths is not None for lengths in calls)
    assert trained.config._attn_implementation == "sdpa"


def test_partition_groups_similar_lengths():
    assert attention._partition([100, 100, 100]) == [(0, 3)]
    # A long document alone, the short ones together: padding them to 500 would cost far more.
    assert attention._partition([500, 40, 30, 20]) == [(0, 1), (1, 4)]
