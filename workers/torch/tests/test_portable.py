"""Portable checkpoints: the base as the user named it, group-readable files, a model card."""

from __future__ import annotations

import json
import os
import stat

from midspec_worker.train import portable


def test_a_final_checkpoint_names_its_base_and_is_readable(tmp_path):
    folder = tmp_path / "final"
    (folder / "adapter").mkdir(parents=True)
    config = {"base_model_name_or_path": "/data/worker/models/hub/snapshots/x", "r": 8}
    (folder / "adapter" / "adapter_config.json").write_text(json.dumps(config))
    (folder / "config.json").write_text("{}")
    os.chmod(folder / "config.json", 0o600)
    os.chmod(folder / "adapter", 0o700)
    stages = [{"name": "msm", "learning_rate": 1e-4, "lora": True}]
    portable.finish(folder, "Qwen/Qwen3-8B@abc123", stages)
    written = json.loads((folder / "adapter" / "adapter_config.json").read_text())
    assert written["base_model_name_or_path"] == "Qwen/Qwen3-8B"
    assert written["revision"] == "abc123" and written["r"] == 8
    card = (folder / "README.md").read_text()
    assert "base_model: Qwen/Qwen3-8B" in card and "library_name: peft" in card
    assert '"learning_rate": 0.0001' in card
    for path in [folder, folder / "adapter"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o755
    for path in [
        folder / "config.json",
        folder / "README.md",
        folder / "adapter" / "adapter_config.json",
    ]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_local_base_keeps_the_path_the_user_gave(tmp_path):
    (tmp_path / "adapter_config.json").write_text("{}")
    portable.rename_base(tmp_path, "/models/qwen3-local")
    written = json.loads((tmp_path / "adapter_config.json").read_text())
    assert written == {"base_model_name_or_path": "/models/qwen3-local"}


def test_an_adapter_on_merged_stages_names_no_base_it_does_not_fit(tmp_path):
    (tmp_path / "adapter").mkdir()
    config = {"base_model_name_or_path": "/data/worker/models/x", "revision": "old"}
    (tmp_path / "adapter" / "adapter_config.json").write_text(json.dumps(config))
    stages = [{"name": "msm", "lora": False}, {"name": "aft", "lora": True}]
    portable.finish(tmp_path, "Qwen/Qwen3-8B@abc123", stages, step=4)
    written = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert written["base_model_name_or_path"].startswith("Qwen/Qwen3-8B with earlier")
    assert "revision" not in written
    card = (tmp_path / "README.md").read_text()
    assert (tmp_path / "adapter" / "README.md").read_text() == card
    assert "at its step 4" in card and "load a merged folder of this run" in card


def test_only_adapters_chained_from_the_first_stage_sit_on_the_base():
    lora, chained = {"lora": True}, {"lora": True, "continue_adapter": True}
    assert portable.adapter_on_base([lora])
    assert portable.adapter_on_base([lora, chained, chained])
    assert not portable.adapter_on_base([lora, lora])
    assert not portable.adapter_on_base([{"lora": False}, chained])


def test_the_model_cache_serves_a_default_lora_stage_unmerged():
    from midspec_worker.gen.midspec.worker.v1 import runs_pb2
    from midspec_worker.inference.model_cache import _adapter_on_base

    default = runs_pb2.Stage()  # no adapter set: runspec trains LoRA
    full = runs_pb2.Stage(adapter=runs_pb2.Adapter(full=runs_pb2.FullFinetune()))
    chained = runs_pb2.Stage(continue_adapter=True)
    assert _adapter_on_base([default], 0)
    assert _adapter_on_base([default, chained], 1)
    assert not _adapter_on_base([full, chained], 1)
    assert not _adapter_on_base([default, default], 1)
