"""Checkpoints that work outside this worker: the base named as the user named it, files readable
by the group, and a model card with the recipe.

peft writes the folder it loaded the base from into adapter_config.json; for a hub model that is a
snapshot path inside one machine's cache, for a built-in tiny model a path in the worker's data
dir. The adapter instead names the base by the reference the run was submitted with (a hub id, its
revision in peft's `revision` field, or the user's own folder path), so `PeftModel.from_pretrained`
finds it elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from midspec_worker import hub


def rename_base(folder: Path, base_model: str) -> None:
    """Point every adapter_config.json under folder at the base as the user named it."""
    parsed = hub.parse(base_model)
    for config_path in folder.rglob("adapter_config.json"):
        config = json.loads(config_path.read_text(encoding="utf-8"))
        config["base_model_name_or_path"] = parsed[0] if parsed else base_model
        if parsed and parsed[1]:
            config["revision"] = parsed[1]
        config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", "utf-8")


def model_card(base_model: str, stages: list[dict[str, Any]]) -> str:
    lines = [
        "---",
        "library_name: " + ("peft" if any(s.get("lora") for s in stages) else "transformers"),
        f"base_model: {hub.parse(base_model)[0] if hub.parse(base_model) else base_model}",
        "tags: [midspec, model-spec-midtraining]",
        "---",
        "",
        f"# Trained with midspec from `{base_model}`",
        "",
        "Stages, in order (the run's resolved recipe):",
        "",
    ]
    lines += [f"- `{json.dumps(stage, sort_keys=True)}`" for stage in stages]
    return "\n".join(lines) + "\n"


def share(folder: Path) -> None:
    """Folders 0755, files 0644: readable by the group and others, as the downloaded files go."""
    for root, directories, files in os.walk(folder):
        os.chmod(root, 0o755)
        for name in directories:
            os.chmod(Path(root) / name, 0o755)
        for name in files:
            os.chmod(Path(root) / name, 0o644)


def finish(folder: Path, base_model: str, stages: list[dict[str, Any]]) -> None:
    rename_base(folder, base_model)
    (folder / "README.md").write_text(model_card(base_model, stages), "utf-8")
    share(folder)
