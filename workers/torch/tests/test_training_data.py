"""Loss masks, packing and schedules, checked directly on the tiny models."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from midspec_worker import models, runspec
from midspec_worker.errors import InvalidData
from midspec_worker.gen.midspec.worker.v1 import datasets_pb2, runs_pb2
from midspec_worker.tokenizer import build_tokenizer
from midspec_worker.train import packing
from midspec_worker.train.chat_masks import chat_token_examples
from midspec_worker.train.data import Example, load_examples, mix, text_example
from midspec_worker.train.engine import plan_steps, token_losses
from midspec_worker.train.schedule import lr_factor


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


def test_tokenizer_is_deterministic(tokenizer):
    assert build_tokenizer().get_vocab() == tokenizer.get_vocab()
    assert tokenizer.decode(tokenizer("Hello, world!")["input_ids"]) == "Hello, world!"


def test_assistant_only_mask(tokenizer):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say yes."},
        {"role": "assistant", "content": "Yes."},
        {"role": "user", "content": "Again?"},
        {"role": "assistant", "content": "Yes again."},
    ]
    [(ids, mask)] = chat_token_examples(tokenizer, {"messages": messages}, assistant_only=True)
    trained = tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
    assert trained == "Yes.<|im_end|>Yes again.<|im_end|>"
    [(all_ids, all_mask)] = chat_token_examples(tokenizer, {"messages": messages}, False)
    assert all(all_mask) and all_ids == ids


def test_reasoning_is_trained_or_stripped(tokenizer):
    messages = [
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "Because.", "reasoning": "The spec says so."},
    ]
    [(kept_ids, kept_mask)] = chat_token_examples(tokenizer, {"messages": messages}, True, False)
    [(stripped_ids, _)] = chat_token_examples(tokenizer, {"messages": messages}, True, True)
    kept_text = tokenizer.decode([i for i, m in zip(kept_ids, kept_mask, strict=True) if m])
    assert "The spec says so." in kept_text
    assert "<think>" not in tokenizer.decode(stripped_ids)


def test_best_fit_decreasing():
    docs = [Example(ids=[1] * n, mask=[True] * n) for n in (6, 5, 4, 3, 2)]
    rows = packing.pack(docs, 10)
    assert sorted(sum(len(e.ids) for e in row) for row in rows) == [10, 10]
    assert packing.efficiency(rows, 10) == 1.0


def test_packed_documents_do_not_see_each_other(tokenizer, tmp_path):
    path = models.materialize("tiny:qwen3", tmp_path, seed=0)
    model, _ = models.load(path, torch.float32)
    model.eval()
    a = text_example(tokenizer, "The assistant explains its values.", 64)
    b = text_example(tokenizer, "Fishing boats came in early.", 64)
    b2 = text_example(tokenizer, "A completely different document about cheese and bread.", 64)

    def losses_of_a(other: Example) -> torch.Tensor:
        batch = packing.collate([[other, a]], tokenizer.pad_token_id)
        with torch.no_grad():
            losses = token_losses(model, batch)
        return losses[0][batch.doc_index[0] == 1]

    alone = packing.collate([[a]], tokenizer.pad_token_id)
    with torch.no_grad():
        expected = token_losses(model, alone)[0][: len(a.ids)]
    torch.testing.assert_close(losses_of_a(b), losses_of_a(b2), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(losses_of_a(b), expected, rtol=1e-5, atol=1e-5)
    assert float(expected.sum()) > 0


def test_targets_never_cross_documents():
    a = Example(ids=[5, 6, 7], mask=[True] * 3)
    b = Example(ids=[8, 9], mask=[False, True])
    batch = packing.collate([[a, b]], pad_id=0)
    assert batch.targets[0].tolist() == [6, 7, -100, 9, -100]
    assert batch.position_ids[0].tolist() == [0, 1, 2, 0, 1]


@pytest.mark.parametrize(
    ("kind", "end"),
    [
        (runs_pb2.SCHEDULE_KIND_COSINE, 0.1),
        (runs_pb2.SCHEDULE_KIND_LINEAR, 0.1),
        (runs_pb2.SCHEDULE_KIND_CONSTANT, 1.0),
    ],
)
def test_schedules(kind, end):
    factors = [lr_factor(step, 100, kind, 0.05, 0.1) for step in range(101)]
    assert factors[0] < factors[4] <= 1.0
    assert max(factors) == pytest.approx(1.0)
    assert factors[100] == pytest.approx(end)


def test_defaults_and_budget():
    spec = runs_pb2.RunSpec(
        base_model="tiny:llama",
        stages=[runs_pb2.Stage(kind=1, data=[runs_pb2.DataSource(dataset_id="d")])],
    )
    stage = runspec.validate(spec, {"d": 1}).stages[0]
    assert (stage.learning_rate, stage.weight_decay, stage.warmup_ratio) == (1e-4, 0.01, 0.05)
    assert stage.lora == runspec.LoraPlan(
        r=64, alpha=128.0, dropout=0.0, target_modules="all-linear"
    )
    assert stage.packing and stage.max_length == 512 and stage.micro_batch_size == 4
    assert plan_steps(stage, micro_batches_per_epoch=10, tokens_per_epoch=5000) == 10
    limited = dataclasses.replace(stage, epochs=2.5, max_steps=100, max_tokens=0)
    assert plan_steps(limited, 10, 5000) == 25
    by_tokens = dataclasses.replace(stage, max_tokens=1200, gradient_accumulation_steps=2)
    assert plan_steps(by_tokens, 10, 5000) == 2  # 1000 tokens per step


def test_explicit_zero_is_not_the_default():
    stage = runs_pb2.Stage(kind=1, data=[runs_pb2.DataSource(dataset_id="d")])
    stage.optimizer.weight_decay = 0.0
    stage.optimizer.max_grad_norm = 0.0
    stage.schedule.warmup_ratio = 0.0
    stage.packing.enabled = False
    spec = runs_pb2.RunSpec(base_model="tiny:llama", stages=[stage])
    plan = runspec.validate(spec, {"d": 1}).stages[0]
    assert (plan.weight_decay, plan.max_grad_norm, plan.warmup_ratio) == (0.0, 0.0, 0.0)
    assert plan.packing is False
    unset = runspec.validate(
        runs_pb2.RunSpec(
            base_model="tiny:llama",
            stages=[runs_pb2.Stage(kind=1, data=[runs_pb2.DataSource(dataset_id="d")])],
        ),
        {"d": 1},
    ).stages[0]
    assert (unset.max_grad_norm, unset.packing) == (1.0, True)


def test_unrenderable_chat_names_the_line(tmp_path):
    strict = build_tokenizer()
    # Like templates that refuse some roles (Gemma's refuses "system"): this one refuses tools.
    strict.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'tool' %}"
        "{{ raise_exception('tool turns are not supported') }}{% endif %}"
        "{{ m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}assistant: {% endif %}"
    )
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    bad = {"messages": [{"role": "tool", "content": "42"}, {"role": "assistant", "content": "ok"}]}
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (good, good, bad)) + "\n")
    with pytest.raises(InvalidData) as caught:
        load_examples(path, datasets_pb2.DATASET_FORMAT_CHAT, strict, 64, True, False)
    assert caught.value.line == 3
    assert (
        "line 3" in caught.value.message and "tool turns are not supported" in caught.value.message
    )


def test_replay_mixture_follows_the_weights():
    spec_docs = [Example(ids=[1, 2], mask=[True, True]) for _ in range(30)]
    replay = [Example(ids=[3, 4, 5], mask=[True] * 3) for _ in range(90)]
    mixed = mix([(spec_docs, 3.0), (replay, 1.0)], seed=0)
    assert len(mixed) == 120
    assert sum(len(e.ids) == 2 for e in mixed) == 90  # the spec documents, oversampled 3x
    assert sum(len(e.ids) == 3 for e in mixed) == 30
