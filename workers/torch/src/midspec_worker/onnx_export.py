"""ONNX export of a checkpoint: the decoder, (input_ids, attention_mask) -> logits.

    python -m midspec_worker.onnx_export --model DIR_OR_TINY --out model.onnx [--check]

The graph has no KV cache (one full forward per call), dynamic batch and sequence axes, float32
logits, and loads in any ONNX runtime (onnxruntime in Python, onnxruntime-node, onnxruntime-web).
The tokenizer stays beside it: DownloadCheckpoint in the ONNX format sends model.onnx with the
tokenizer files.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import torch

from midspec_worker import models

OPSET = 18
log = logging.getLogger("midspec.onnx")


class _Decoder(torch.nn.Module):
    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        return out.logits.float()


def load_for_export(path: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # Eager attention traces to plain matmul/softmax ops every runtime has.
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=torch.float32, attn_implementation="eager"
    )
    return model.eval(), AutoTokenizer.from_pretrained(path)


def export(model_dir: Path, out: Path) -> Path:
    """Write model_dir's decoder to `out` as ONNX (weights embedded); return out."""
    model, _ = load_for_export(model_dir)
    decoder = _Decoder(model).eval()
    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]], dtype=torch.long)
    mask = torch.ones_like(ids)
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            decoder,
            (ids, mask),
            dynamo=True,
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_shapes=({0: batch, 1: sequence}, {0: batch, 1: sequence}),
            opset_version=OPSET,
            verbose=False,
        )
    assert program is not None
    program.save(str(out), external_data=False)
    return out


# The files a tokenizer loads from (transformers 5 saves the chat template as chat_template.jinja).
TOKENIZER_PREFIXES = ("tokenizer", "special_tokens", "chat_template")
TOKENIZER_NAMES = ("vocab.json", "merges.txt")


def tokenizer_files(model_dir: Path) -> list[Path]:
    """The tokenizer's files in model_dir, copied beside model.onnx so scorers use the model's own
    tokenizer and chat template (the ONNX backend reads tokenizer.json, never bytes)."""
    return sorted(
        path
        for path in model_dir.iterdir()
        if path.is_file()
        and (path.name.startswith(TOKENIZER_PREFIXES) or path.name in TOKENIZER_NAMES)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m midspec_worker.onnx_export")
    parser.add_argument("--model", required=True, help="a Hugging Face folder or tiny:<name>")
    parser.add_argument("--out", required=True, type=Path, help="the .onnx file to write")
    parser.add_argument("--models-dir", type=Path, default=Path("midspec-data/models"))
    parser.add_argument("--seed", type=int, default=0, help="init seed of a tiny model")
    args = parser.parse_args(argv)
    folder = models.materialize(args.model, args.models_dir, args.seed)
    export(folder, args.out)
    for path in tokenizer_files(folder):
        shutil.copy2(path, args.out.parent / path.name)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
