"""Base models named by a Hugging Face Hub id: `org/name`, pinned with `org/name@revision`.

Resolution goes through huggingface_hub's own cache (HF_HOME, HF_HUB_CACHE), token (HF_TOKEN or
`hf auth login`) and endpoint (HF_ENDPOINT). HF_HUB_OFFLINE is the user's to set and is respected,
never forced: offline (by that variable, or because the Hub cannot be reached) a model must already
be in the cache, and the error says how to put it there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from midspec_worker.errors import ModelNotFound

# A repo id is `name` or `namespace/name` of letters, digits, '-', '_' and '.'; a revision (branch,
# tag or commit) may follow '@'.
_HUB_ID = re.compile(
    r"^(?P<repo>(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,95})"
    r"(?:@(?P<revision>[A-Za-z0-9_./-]{1,200}))?$"
)
# What loading a causal LM and its tokenizer reads; other files (other formats, originals) are left.
ALLOW_PATTERNS = [
    "*.json",
    "*.safetensors",
    "*.model",
    "*.txt",
    "*.jinja",
    "*.tiktoken",
    "*.py",
]
_TRUE = {"1", "on", "yes", "true"}


def parse(base_model: str) -> tuple[str, str | None] | None:
    """(repo id, revision or None) for a hub reference, None for anything else."""
    match = _HUB_ID.match(base_model)
    if match is None or ".." in base_model:
        return None
    return match["repo"], match["revision"]


def offline() -> bool:
    from huggingface_hub import constants

    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE or constants.HF_HUB_OFFLINE


def download_hint(repo: str, revision: str | None) -> str:
    pinned = f" --revision {revision}" if revision else ""
    return (
        f"download it on a machine with network access first (`hf download {repo}{pinned}`, or "
        f"`huggingface-cli download {repo}{pinned}` with older huggingface_hub) into the cache "
        "this worker reads (HF_HOME, or HF_HUB_CACHE), or pass a local folder instead"
    )


def resolve(base_model: str, download: bool = True) -> Path:
    """The local snapshot folder of a hub model: from the cache, or downloaded when allowed and
    the machine is online. Raises ModelNotFound with the way out."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    parsed = parse(base_model)
    if parsed is None:
        raise ModelNotFound(f"{base_model!r} is not a Hugging Face Hub id (org/name[@revision])")
    repo, revision = parsed
    cache_only = offline() or not download
    try:
        folder = snapshot_download(
            repo,
            revision=revision,
            allow_patterns=ALLOW_PATTERNS,
            local_files_only=cache_only,
        )
    except GatedRepoError:
        raise ModelNotFound(
            f"hub model {repo!r} is gated: accept its licence on huggingface.co and set HF_TOKEN "
            "(or run `hf auth login`) for this worker"
        ) from None
    except RevisionNotFoundError:
        raise ModelNotFound(f"hub model {repo!r} has no revision {revision!r}") from None
    except RepositoryNotFoundError:
        raise ModelNotFound(
            f"hub model {repo!r} does not exist or is private (set HF_TOKEN for private models)"
        ) from None
    except LocalEntryNotFoundError:
        if offline():
            why = "HF_HUB_OFFLINE is set"
        elif download:
            why = "the Hub cannot be reached"
        else:
            why = "checked without downloading"
        raise ModelNotFound(
            f"hub model {base_model!r} is not in the local Hugging Face cache ({why}): "
            + download_hint(repo, revision)
        ) from None
    except OSError as error:
        # Connection failures surface as OSError subclasses across huggingface_hub versions.
        raise ModelNotFound(
            f"hub model {base_model!r} could not be downloaded ({error}): "
            + download_hint(repo, revision)
        ) from None
    path = Path(folder)
    if not (path / "config.json").is_file():
        raise ModelNotFound(f"hub model {base_model!r} has no config.json (not transformers)")
    return path
