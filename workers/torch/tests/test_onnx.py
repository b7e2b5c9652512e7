"""ONNX export: logits from onnxruntime match PyTorch on the same inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from midspec_worker import models, onnx_export


def test_onnx_logits_match_pytorch(tmp_path: Path):
    import onnxruntime

    folder = models.materialize("tiny:qwen3", tmp_path / "models", 3)
    out = onnx_export.export(folder, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask"]
    model, _ = models.load(folder, torch.float32)
    model.eval()
    rng = np.random.default_rng(0)
    for batch, length in [(1, 5), (3, 11)]:
        ids = rng.integers(0, model.config.vocab_size, size=(batch, length), dtype=np.int64)
        mask = np.ones_like(ids)
        mask[-1, : length // 3] = 0  # left padding on the last row
        (logits,) = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        with torch.no_grad():
            expected = model(
                input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)
            ).logits.numpy()
        assert logits.shape == expected.shape
        real = mask.astype(bool)
        np.testing.assert_allclose(logits[real], expected[real], atol=1e-4, rtol=1e-4)
