"""The training defaults: runs.proto documents them, the worker applies them, the README shows them.

Each `Default:` of runs.proto is checked against what defaults.effective_spec fills into a spec
that sets nothing; every field the worker fills must have one; the README's table must be the one
proto_defaults.py makes from the proto.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from proto_defaults import Default, read_defaults, readme_block, table

from midspec_worker import defaults, runspec
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import runs_pb2

TEXT, CHAT = "a" * 64, "b" * 64
FORMATS = {TEXT: 1, CHAT: 2}
DOCUMENTED = read_defaults()


def bare(base_model: str = "tiny:llama", **budget: Any) -> runs_pb2.RunSpec:
    """A midtrain stage then an sft stage, every setting left unset (budget as given)."""
    return runs_pb2.RunSpec(
        base_model=base_model,
        stages=[
            runs_pb2.Stage(
                kind=caps.STAGE_KIND_MIDTRAIN,
                data=[runs_pb2.DataSource(dataset_id=TEXT)],
                budget=runs_pb2.Budget(**budget),
            ),
            runs_pb2.Stage(
                kind=caps.STAGE_KIND_SFT,
                data=[runs_pb2.DataSource(dataset_id=CHAT)],
                budget=runs_pb2.Budget(**budget),
            ),
        ],
    )


# Each case a `Default:` names: the spec to fill and which of its two stages the case is about.
CASES: dict[str, tuple[runs_pb2.RunSpec, list[int]]] = {
    "": (bare(), [0, 1]),
    "tiny models": (bare("tiny:qwen3"), [0, 1]),
    "other models": (bare("example-org/example-model"), [0, 1]),
    "midtrain stages": (bare(), [0]),
    "sft stages": (bare(), [1]),
    "a LoRA stage after a LoRA stage": (bare(), [1]),
    "max_tokens and max_steps are 0": (bare(), [0, 1]),
}
# "otherwise" is the case the other part does not name.
OTHERWISE = {
    "a LoRA stage after a LoRA stage": (bare(), [0]),
    "max_tokens and max_steps are 0": (bare(max_steps=5), [0, 1]),
}
PARENTS = {
    "RunSpec": lambda spec, stage: spec,
    "Stage": lambda spec, stage: stage,
    "DataSource": lambda spec, stage: stage.data[0],
    "Packing": lambda spec, stage: stage.packing,
    "Optimizer": lambda spec, stage: stage.optimizer,
    "Schedule": lambda spec, stage: stage.schedule,
    "Budget": lambda spec, stage: stage.budget,
    "LoraConfig": lambda spec, stage: stage.adapter.lora,
}


def _value(message: Any, name: str) -> object:
    field = message.DESCRIPTOR.fields_by_name[name]
    value = getattr(message, name)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return field.enum_type.values_by_number[value].name
    if field.is_repeated:
        return list(value)
    return value


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, float | int) and not isinstance(expected, bool):
        return isinstance(actual, float | int) and math.isclose(actual, expected, rel_tol=1e-6)
    return actual == expected


@pytest.mark.parametrize("default", DOCUMENTED, ids=lambda default: default.path)
def test_the_worker_applies_each_documented_default(default: Default) -> None:
    if default.path == "stages[].adapter":
        filled = defaults.effective_spec(bare())
        assert [stage.adapter.WhichOneof("adapter") for stage in filled.stages] == ["lora"] * 2
        return
    cases = default.cases()
    for value, case in cases:
        if case == "otherwise":
            named = next(name for _, name in cases if name != "otherwise")
            spec, stages = OTHERWISE[named]
        else:
            spec, stages = CASES[case]
        filled = defaults.effective_spec(spec)
        for index in stages:
            parent = PARENTS[default.message](filled, filled.stages[index])
            actual = _value(parent, default.field)
            assert _same(actual, value), (
                f"{default.path} ({case or 'always'}, stage {index}): the proto says {value!r}, "
                f"the worker applies {actual!r}"
            )


def _set_fields(message: Any, prefix: str = "") -> set[str]:
    """Dotted names of every field set in a message (repeated messages by their first element)."""
    names = set()
    for field, value in message.ListFields():
        name = f"{prefix}{message.DESCRIPTOR.name}.{field.name}"
        names.add(name)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            items = value if field.is_repeated else [value]
            for item in items[:1]:
                if not hasattr(item, "ListFields"):
                    continue  # map entries (labels)
                names |= _set_fields(item)
    return names


def test_every_field_the_worker_fills_is_documented() -> None:
    documented = {f"{default.message}.{default.field}" for default in DOCUMENTED}
    # Messages the worker adds as containers of documented fields (and the oneof's LoRA choice).
    containers = {
        "Stage.packing",
        "Stage.optimizer",
        "Stage.schedule",
        "Stage.budget",
        "Adapter.lora",
    }
    for spec, _ in [*CASES.values(), *OTHERWISE.values()]:
        filled = _set_fields(defaults.effective_spec(spec)) - _set_fields(spec)
        undocumented = filled - documented - containers
        assert not undocumented, f"filled without a Default: in runs.proto: {undocumented}"


def test_a_value_the_user_set_is_kept() -> None:
    spec = bare("example-org/example-model")
    stage = spec.stages[1]
    stage.name = "aft"
    stage.packing.max_length = 300
    stage.optimizer.max_grad_norm = 0.0  # present: clipping off, not the default 1.0
    stage.optimizer.weight_decay = 0.0
    stage.continue_adapter = False
    stage.adapter.lora.r = 8
    filled = defaults.effective_spec(spec).stages[1]
    assert filled.name == "aft"
    assert filled.packing.max_length == 300
    assert filled.optimizer.max_grad_norm == 0.0
    assert filled.optimizer.weight_decay == 0.0
    assert filled.continue_adapter is False
    # Alpha follows the rank the user chose: twice r.
    assert (filled.adapter.lora.r, filled.adapter.lora.alpha) == (8, 16.0)


def test_a_repeated_default_stage_name_gets_its_position() -> None:
    spec = bare()
    spec.stages.append(runs_pb2.Stage(kind=caps.STAGE_KIND_SFT, data=[spec.stages[1].data[0]]))
    names = [stage.name for stage in defaults.effective_spec(spec).stages]
    assert names == ["midtrain", "sft", "sft-3"]


def test_full_finetuning_stages_do_not_continue_an_adapter() -> None:
    spec = bare()
    spec.stages[0].adapter.full.SetInParent()
    filled = defaults.effective_spec(spec)
    assert filled.stages[0].adapter.WhichOneof("adapter") == "full"
    assert filled.stages[1].continue_adapter is False
    # The plan trains what the effective spec says.
    plan = runspec.validate(spec, FORMATS)
    assert plan.effective == filled
    assert plan.stages[0].lora is None
    assert plan.stages[1].continue_adapter is False
    assert plan.stages[1].max_grad_norm == defaults.MAX_GRAD_NORM


def test_the_readme_table_is_the_protos() -> None:
    assert readme_block() == table(DOCUMENTED), (
        "workers/torch/README.md's defaults table is stale: run "
        "`.venv/bin/python tests/proto_defaults.py --write` in workers/torch"
    )


def test_a_stored_run_reports_its_effective_spec(tmp_path) -> None:
    from midspec_worker.store import Store

    store = Store(tmp_path / "worker.sqlite")
    spec = bare()
    spec.stages[0].optimizer.learning_rate = 3e-3
    run = store.create_run(spec, "")
    for found in (run, store.get_run(run.id), store.list_runs()[0]):
        assert found is not None
        assert found.spec == spec  # what was submitted stays as it was
        assert found.effective_spec == runspec.validate(spec, FORMATS).effective
        assert found.effective_spec.stages[0].optimizer.learning_rate == 3e-3
        assert found.effective_spec.stages[0].optimizer.max_grad_norm == defaults.MAX_GRAD_NORM
