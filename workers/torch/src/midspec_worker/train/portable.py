"""Checkpoints that work outside this worker: the base named as the user named it, files readable
by the group, and a model card with the recipe.

peft writes the folder it loaded the base from into adapter_config.json; for a hub model that is a
snapshot path inside one machine's cache, for a built-in tiny model a path in the worker's data
dir. The adapter instead names the base by the reference the run was submitted with (a hub id, its
revision in peft's `revision` field, or the user's own folder path), so `PeftModel.from_pretrained`
finds it elsewhere. That is only true of an adapter trained on the base weights themselves: one
started after an earlier stage was merged sits on weights the run does not store, and its config
says so instead of naming a base it does not fit.

Stage checkpoints get the same treatment as the final one, so any of them can be downloaded and
loaded outside the worker.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from midspec_worker import hub


def adapter_on_base(stages: list[dict[str, Any]]) -> bool:
    """True when the last stage's adapter was trained on the base weights themselves: every stage
    up to it is LoRA and each after the first continues the same adapter."""
    return all(
        stage.get("lora") and (index == 0 or stage.get("continue_adapter"))
        for index, stage in enumerate(stages)
    )


def rename_base(folder: Path, base_model: str, on_base: bool = True) -> None:
    """Point every adapter_config.json under folder at the base as the user named it (or, for an
    adapter on merged intermediate weights, say that no stored model is its base)."""
    parsed = hub.parse(base_model)
    name = parsed[0] if parsed else base_model
    for config_path in folder.rglob("adapter_config.json"):
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if on_base:
            config["base_model_name_or_path"] = name
            if parsed and parsed[1]:
                config["revision"] = parsed[1]
        else:
            # Not a loadable id on purpose: loading fails naming this, rather than on a wrong base.
            config["base_model_name_or_path"] = (
                f"{name} with earlier midspec stages merged (not stored; load the merged folder)"
            )
            config.pop("revision", None)
        config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", "utf-8")


def model_card(base_model: str, stages: list[dict[str, Any]], step: int | None = None) -> str:
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
    if step is not None:
        lines += ["", f"A checkpoint of the last stage listed, at its step {step}."]
    if any(stage.get("lora") for stage in stages) and not adapter_on_base(stages):
        lines += [
            "",
            "The adapter was trained on the base with earlier stages merged into it, weights this "
            "folder does not hold: load a merged folder of this run, not the adapter on the base.",
        ]
    return "\n".join(lines) + "\n"


def share(folder: Path) -> None:
    """Folders 0755, files 0644: readable by the group and others, as the downloaded files go."""
    for root, directories, files in os.walk(folder):
        os.chmod(root, 0o755)
        for name in directories:
            os.chmod(Path(root) / name, 0o755)
        for name in files:
            os.chmod(Path(root) / name, 0o644)


def finish(
    folder: Path, base_model: str, stages: list[dict[str, Any]], step: int | None = None
) -> None:
    """Make a checkpoint folder portable; stages are those trained up to it, step is set for a
    stage (non-final) checkpoint."""
    rename_base(folder, base_model, adapter_on_base(stages))
    card = model_card(base_model, stages, step)
    # Downloads send the adapter/ or model/ folder alone: each carries the card too.
    for target in (folder, folder / "adapter", folder / "model"):
        if target.is_dir():
            (target / "README.md").write_text(card, "utf-8")
    share(folder)
