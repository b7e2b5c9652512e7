"""Model references resolved to loadable models, and a small LRU of loaded ones.

Resolution (cheap checks and store look-ups) happens on the event loop so unknown references fail
fast with NOT_FOUND; loading happens on the inference thread, the only thread that touches models.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from midspec_worker import models
from midspec_worker.errors import (
    BadState,
    CheckpointNotFound,
    InvalidRequest,
    RunNotFound,
)
from midspec_worker.gen.midspec.worker.v1 import common_pb2, runs_pb2
from midspec_worker.store import Store

# Built-in tiny models named as a base model are the ones initialised with this seed.
BASE_SEED = 0
RUN_PREFIX = "run:"
ADAPTER_SUFFIX = "@adapter"


@dataclass
class LoadedModel:
    key: str
    model: Any
    tokenizer: Any
    context_length: int
    stop_ids: frozenset[int]


@dataclass(frozen=True)
class Resolved:
    """A reference checked against the store and the disk; `load` runs on the inference thread."""

    key: str
    load: Callable[[], LoadedModel]


def parse_name(name: str) -> common_pb2.ModelRef:
    """OpenAI-style model names: "tiny:llama", a local folder, "run:<id>[/<ckpt>][@adapter]"."""
    if not name.startswith(RUN_PREFIX):
        return common_pb2.ModelRef(base_model=name)
    rest = name[len(RUN_PREFIX) :]
    merged = not rest.endswith(ADAPTER_SUFFIX)
    if not merged:
        rest = rest[: -len(ADAPTER_SUFFIX)]
    run_id, _, checkpoint_id = rest.partition("/")
    ref = common_pb2.CheckpointRef(run_id=run_id, checkpoint_id=checkpoint_id, merged=merged)
    return common_pb2.ModelRef(checkpoint=ref)


def _context_length(model: Any) -> int:
    config = model.config
    length = getattr(config, "max_position_embeddings", None) or models.MAX_SEQUENCE_LENGTH
    return int(length)


def _stop_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    ids: set[int] = set()
    eos = getattr(model.generation_config, "eos_token_id", None)
    for value in eos if isinstance(eos, list) else [eos, tokenizer.eos_token_id]:
        if value is not None:
            ids.add(int(value))
    # End-of-turn markers (ChatML's, Llama 3's end of turn and end of tool-call message) end an
    # assistant answer even when they are not the EOS token.
    vocabulary = tokenizer.get_vocab()
    for marker in ("<|im_end|>", "<|eot_id|>", "<|eom_id|>"):
        if marker in vocabulary:
            ids.add(vocabulary[marker])
    return frozenset(ids)


def _finish(key: str, model: Any, tokenizer: Any, device: Any) -> LoadedModel:
    model.to(device)
    model.eval()
    return LoadedModel(key, model, tokenizer, _context_length(model), _stop_ids(model, tokenizer))


def _adapter_on_base(stages: Any, stage_index: int) -> bool:
    """True when the adapter at stage_index was trained on the run's base weights themselves.

    A stage that does not continue the previous adapter merges it first; its adapter then sits on
    intermediate weights that are not stored, so it can only be served from a merged folder.
    """
    for index, stage in enumerate(stages[: stage_index + 1]):
        # An unset adapter is LoRA (runspec's default), so only "full" means no adapter.
        full = stage.adapter.WhichOneof("adapter") == "full"
        if full or (index > 0 and not stage.continue_adapter):
            return False
    return True


class ModelCache:
    def __init__(
        self, data_dir: Path, store: Store, device: Any, dtype: Any, capacity: int
    ) -> None:
        self._data_dir = data_dir
        self._store = store
        self._device = device
        self._dtype = dtype
        self._capacity = max(1, capacity)
        self._loaded: OrderedDict[str, LoadedModel] = OrderedDict()

    def resolve(self, ref: common_pb2.ModelRef) -> Resolved:
        kind = ref.WhichOneof("ref")
        if kind == "base_model":
            return self._resolve_base(ref.base_model)
        if kind == "checkpoint":
            return self._resolve_checkpoint(ref.checkpoint)
        raise InvalidRequest("model is required: set model.base_model or model.checkpoint")

    def get(self, resolved: Resolved) -> LoadedModel:
        """Return the loaded model, loading it (and evicting the least recently used) if needed."""
        loaded = self._loaded.get(resolved.key)
        if loaded is None:
            loaded = resolved.load()
            self._loaded[resolved.key] = loaded
            while len(self._loaded) > self._capacity:
                self._loaded.popitem(last=False)
        self._loaded.move_to_end(resolved.key)
        return loaded

    def loaded_keys(self) -> list[str]:
        return list(self._loaded)

    def _load_folder(self, key: str, path: Path) -> LoadedModel:
        model, tokenizer = models.load(path, self._dtype, self._device)
        return _finish(key, model, tokenizer, self._device)

    def _resolve_base(self, name: str) -> Resolved:
        if not name:
            raise InvalidRequest("model.base_model is empty")
        if name.startswith(RUN_PREFIX):
            return self.resolve(parse_name(name))
        models.check_base_model(name)
        key = f"base:{name}"

        def load() -> LoadedModel:
            path = models.materialize(name, self._data_dir / "models", BASE_SEED)
            return self._load_folder(key, path)

        return Resolved(key, load)

    def checkpoint(self, ref: common_pb2.CheckpointRef) -> tuple[runs_pb2.Run, runs_pb2.Checkpoint]:
        run = self._store.get_run(ref.run_id)
        if run is None:
            raise RunNotFound(f"run {ref.run_id!r} not found")
        checkpoints = self._store.list_checkpoints(ref.run_id)
        if not checkpoints:
            raise CheckpointNotFound(f"run {ref.run_id} has no checkpoints yet")
        if not ref.checkpoint_id:
            return run, checkpoints[-1]
        for checkpoint in checkpoints:
            if checkpoint.id == ref.checkpoint_id:
                return run, checkpoint
        ids = ", ".join(c.id for c in checkpoints)
        raise CheckpointNotFound(
            f"run {ref.run_id} has no checkpoint {ref.checkpoint_id!r}; it has: {ids}"
        )

    def checkpoint_names(self) -> list[str]:
        """OpenAI-style names of every run's latest checkpoint and of each checkpoint."""
        names = []
        for run in self._store.list_runs():
            checkpoints = self._store.list_checkpoints(run.id)
            if checkpoints:
                names.append(RUN_PREFIX + run.id)
                names += [f"{RUN_PREFIX}{run.id}/{c.id}" for c in checkpoints]
        return names

    def checkpoint_dir(self, checkpoint: runs_pb2.Checkpoint) -> Path:
        return self._data_dir / "runs" / checkpoint.run_id / "checkpoints" / checkpoint.id

    def _resolve_checkpoint(self, ref: common_pb2.CheckpointRef) -> Resolved:
        run, checkpoint = self.checkpoint(ref)
        folder = self.checkpoint_dir(checkpoint)
        key = f"run:{run.id}/{checkpoint.id}" + ("" if ref.merged else ADAPTER_SUFFIX)
        has_adapter = (folder / "adapter" / "adapter_config.json").is_file()
        merged_folder = next(
            (p for p in (folder, folder / "model") if (p / "config.json").is_file()), None
        )
        if merged_folder is not None and (ref.merged or not has_adapter):
            return Resolved(key, lambda: self._load_folder(key, merged_folder))
        if not has_adapter:
            raise CheckpointNotFound(f"checkpoint {checkpoint.id} of run {run.id} has no weights")
        stages = run.spec.stages
        stage_index = len(stages) - 1 if checkpoint.final else checkpoint.stage_index
        if not _adapter_on_base(stages, stage_index):
            raise BadState(
                f"the adapter of checkpoint {checkpoint.id} was trained on weights merged from "
                "earlier stages, which are not stored; serve the final checkpoint with merged=true"
            )
        base_model, seed = run.spec.base_model, run.spec.seed
        merged = ref.merged

        def load() -> LoadedModel:
            from peft import PeftModel

            base = models.materialize(base_model, self._data_dir / "models", seed)
            model, tokenizer = models.load(base, self._dtype, self._device)
            model = PeftModel.from_pretrained(model, folder / "adapter")
            if merged:
                model = model.merge_and_unload()
            return _finish(key, model, tokenizer, self._device)

        return Resolved(key, load)


def model_name(ref: common_pb2.ModelRef) -> str:
    """The OpenAI-style name of a reference (inverse of parse_name)."""
    if ref.WhichOneof("ref") == "base_model":
        return ref.base_model
    checkpoint = ref.checkpoint
    name = RUN_PREFIX + checkpoint.run_id
    if checkpoint.checkpoint_id:
        name += "/" + checkpoint.checkpoint_id
    return name + ("" if checkpoint.merged else ADAPTER_SUFFIX)
