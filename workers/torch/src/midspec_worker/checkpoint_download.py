"""DownloadCheckpoint: a manifest (paths, sizes, sha256), then every file's bytes in chunks.

Formats: ADAPTER (the peft folder), MERGED_HF (a folder AutoModelForCausalLM.from_pretrained
loads) and ONNX (model.onnx plus the tokenizer files, exported once on the inference thread and
kept under DIR/exports/). Unset means the native form: the adapter for LoRA checkpoints, the
merged folder otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from midspec_worker.errors import BadState, InvalidRequest
from midspec_worker.gen.midspec.worker.v1 import capabilities_pb2 as caps
from midspec_worker.gen.midspec.worker.v1 import common_pb2, runs_pb2
from midspec_worker.inference.model_cache import ModelCache
from midspec_worker.train.checkpoints import write_atomically

CHUNK_BYTES = 1024 * 1024
# Files of a checkpoint folder that belong to resuming, not to the model.
_SKIP = {"trainer_state.pt"}
_NAMES = {
    caps.CHECKPOINT_FORMAT_ADAPTER: "ADAPTER",
    caps.CHECKPOINT_FORMAT_MERGED_HF: "MERGED_HF",
    caps.CHECKPOINT_FORMAT_ONNX: "ONNX",
}


def _files(root: Path, skip_dirs: tuple[str, ...] = ()) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.name not in _SKIP
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.relative_to(root).parts[0] not in skip_dirs
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _read(path: Path, offset: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(CHUNK_BYTES)


class CheckpointDownloads:
    def __init__(
        self,
        data_dir: Path,
        cache: ModelCache,
        run_exclusive: Callable[[Callable[[], Any]], Awaitable[Any]],
    ) -> None:
        self._data_dir = data_dir
        self._cache = cache
        # Exports run where models run (the inference thread), never on the event loop.
        self._run_exclusive = run_exclusive

    async def download(
        self, request: runs_pb2.DownloadCheckpointRequest
    ) -> AsyncIterator[runs_pb2.DownloadCheckpointResponse]:
        ref = common_pb2.CheckpointRef(run_id=request.run_id, checkpoint_id=request.checkpoint_id)
        _, checkpoint = self._cache.checkpoint(ref)
        folder = self._cache.checkpoint_dir(checkpoint)
        fmt = request.format
        adapter = folder / "adapter"
        merged = next(
            (p for p in (folder, folder / "model") if (p / "config.json").is_file()), None
        )
        if fmt == caps.CHECKPOINT_FORMAT_UNSPECIFIED:
            fmt = (
                caps.CHECKPOINT_FORMAT_ADAPTER
                if adapter.is_dir() and merged is None
                else caps.CHECKPOINT_FORMAT_MERGED_HF
            )
        if fmt not in _NAMES:
            raise InvalidRequest(f"unknown checkpoint format {fmt}")
        if fmt == caps.CHECKPOINT_FORMAT_ADAPTER:
            if not adapter.is_dir():
                raise BadState(f"checkpoint {checkpoint.id} has no adapter (a full fine-tune)")
            root, files = adapter, _files(adapter)
        elif merged is None:
            raise BadState(
                f"checkpoint {checkpoint.id} holds only an adapter; download it as ADAPTER, or "
                "the run's final checkpoint as MERGED_HF or ONNX"
            )
        elif fmt == caps.CHECKPOINT_FORMAT_MERGED_HF:
            root, files = merged, _files(merged, skip_dirs=("adapter", "model"))
        else:
            root = await self._onnx(checkpoint, merged)
            files = _files(root)
        digests = await asyncio.gather(*(asyncio.to_thread(_sha256, f) for f in files))
        manifest = runs_pb2.DownloadManifest(checkpoint=checkpoint, format=fmt)
        for path, digest in zip(files, digests, strict=True):
            manifest.files.append(
                runs_pb2.CheckpointFile(
                    path=path.relative_to(root).as_posix(),
                    size_bytes=path.stat().st_size,
                    sha256=digest,
                )
            )
        yield runs_pb2.DownloadCheckpointResponse(manifest=manifest)
        for path, entry in zip(files, manifest.files, strict=True):
            offset = 0
            while offset < entry.size_bytes or (offset == 0 and entry.size_bytes == 0):
                data = await asyncio.to_thread(_read, path, offset)
                chunk = runs_pb2.FileChunk(path=entry.path, offset=offset, data=data)
                yield runs_pb2.DownloadCheckpointResponse(chunk=chunk)
                offset += len(data)
                if not data:
                    break

    async def _onnx(self, checkpoint: runs_pb2.Checkpoint, merged: Path) -> Path:
        target = self._data_dir / "exports" / checkpoint.run_id / checkpoint.id / "onnx"
        if (target / "model.onnx").is_file():
            return target

        def export() -> None:
            from midspec_worker import onnx_export

            def fill(staging: Path) -> None:
                onnx_export.export(merged, staging / "model.onnx")
                for path in onnx_export.tokenizer_files(merged):
                    shutil.copy2(path, staging / path.name)

            write_atomically(target, fill)

        await self._run_exclusive(export)
        return target
