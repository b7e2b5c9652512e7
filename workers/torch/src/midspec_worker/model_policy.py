"""Where base models may come from: the built-in tiny family, Hugging Face hub ids, and local
folders only under the roots the operator configured (`midspec-worker serve --model-root DIR`,
repeatable; MIDSPEC_MODEL_ROOTS, os.pathsep-separated, which the flag sets so training children
follow the same policy).

Any other path is refused with one message whatever is on disk there, so a client can neither copy
a model folder the operator did not offer (train one step at a tiny learning rate, download the
merge) nor probe which directories exist or hold a config.json. A folder under a root that cannot
be loaded (no or unreadable config.json, no weights) is a bad request, named as such.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from midspec_worker import hub
from midspec_worker.errors import InvalidRequest, ModelNotFound

ROOTS_ENV = "MIDSPEC_MODEL_ROOTS"
TINY_PREFIX = "tiny:"
_WEIGHTS = ("*.safetensors", "pytorch_model*.bin", "model*.safetensors.index.json")


def roots() -> tuple[Path, ...]:
    value = os.environ.get(ROOTS_ENV, "")
    return tuple(Path(part) for part in value.split(os.pathsep) if part)


def add_root(folder: Path) -> None:
    """Allow base models from under `folder`, in this process and the training children it starts
    (the worker adds its own data dir's runs/, whose final checkpoints serve as base models)."""
    resolved = Path(folder).resolve()
    if resolved not in roots():
        os.environ[ROOTS_ENV] = os.pathsep.join(str(r) for r in (*roots(), resolved))


def is_hub_id(reference: str) -> bool:
    """`org/name` or `name`, optionally pinned `@revision` (hub.parse is the one grammar)."""
    return hub.parse(reference) is not None


def local_folder(reference: str) -> Path | None:
    """The allowed local folder a base-model reference names, or None for a tiny model or a hub id
    (resolved elsewhere).

    Raises ModelNotFound (the same message whether or not the path exists) for a path outside
    every model root, and InvalidRequest for a folder under a root that holds no loadable model.
    """
    if reference.startswith(TINY_PREFIX):
        return None
    folder = _under_a_root(reference)
    if folder is not None and _is_dir(folder):
        _check_folder(reference, folder)
        return folder
    if is_hub_id(reference):
        return None
    if folder is not None:
        raise ModelNotFound(f"base model {reference!r}: no such folder under the model roots")
    raise ModelNotFound(
        f"base model {reference!r} is not a built-in tiny model, a hub id or a folder under one"
        " of this worker's model roots (midspec-worker serve --model-root DIR)"
    )


def _under_a_root(reference: str) -> Path | None:
    """The resolved folder when it lies under a root (symlinks followed), else None; relative
    references are taken relative to each root in turn."""
    for root in roots():
        try:
            candidate = Path(reference).expanduser()
            candidate = candidate if candidate.is_absolute() else root / candidate
            resolved = candidate.resolve()
        except (OSError, RuntimeError, ValueError):  # a NUL byte, a symlink loop, no home
            return None
        if resolved == root or root in resolved.parents:
            return resolved
    return None


def _is_dir(folder: Path) -> bool:
    try:
        return folder.is_dir()
    except OSError:  # a name too long, say
        return False


def _check_folder(reference: str, folder: Path) -> None:
    config = folder / "config.json"
    if not config.is_file():
        raise ModelNotFound(f"base model {reference!r}: no config.json in that model-root folder")
    try:
        parsed = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InvalidRequest(
            f"base model {reference!r}: config.json is not readable JSON ({error})"
        ) from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("model_type"), str):
        raise InvalidRequest(
            f'base model {reference!r}: config.json has no "model_type"; not a Hugging Face'
            " model folder"
        )
    if not any(next(folder.glob(pattern), None) for pattern in _WEIGHTS):
        raise InvalidRequest(
            f"base model {reference!r}: no weights (*.safetensors or pytorch_model*.bin) in the"
            " folder"
        )
