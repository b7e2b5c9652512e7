import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerPython } from './worker-fixture.js';

// An ONNX export of a tiny checkpoint, run by onnxruntime-node here, gives the logits PyTorch and
// onnxruntime in Python give on the same inputs (both computed by the worker's Python).
const REFERENCE = `
import json, sys
from pathlib import Path
import numpy as np, onnxruntime, torch
from midspec_worker import models, onnx_export
folder, out = Path(sys.argv[1]), Path(sys.argv[2])
model_dir = models.materialize("tiny:llama", folder / "models", 11)
onnx_export.export(model_dir, out / "model.onnx")
model, _ = models.load(model_dir, torch.float32)
ids = np.random.default_rng(1).integers(0, model.config.vocab_size, size=(2, 9), dtype=np.int64)
mask = np.ones_like(ids)
with torch.no_grad():
    torch_logits = model.eval()(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits.numpy()
session = onnxruntime.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
(ort_logits,) = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
json.dump({"ids": ids.tolist(), "shape": list(torch_logits.shape), "torch": torch_logits.ravel().tolist(),
           "python_ort": ort_logits.ravel().tolist()}, open(out / "reference.json", "w"))
`;

interface Reference {
  ids: number[][];
  shape: number[];
  torch: number[];
  python_ort: number[];
}

let folder: string;
let reference: Reference;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'midspec-onnx-'));
  await promisify(execFile)(workerPython, ['-c', REFERENCE, folder, folder], {
    env: { ...process.env, MIDSPEC_TORCH_THREADS: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  reference = JSON.parse(await readFile(join(folder, 'reference.json'), 'utf8')) as Reference;
}, 300_000);

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return most;
}

describe('ONNX export ↔ onnxruntime-node', () => {
  it('gives the logits of PyTorch and of onnxruntime in Python', async () => {
    const session = await ort.InferenceSession.create(join(folder, 'model.onnx'));
    const [batch, length] = [reference.ids.length, reference.ids[0]?.length ?? 0];
    const ids = BigInt64Array.from(reference.ids.flat(), (value) => BigInt(value));
    const mask = new BigInt64Array(ids.length).fill(1n);
    const outputs = await session.run({
      input_ids: new ort.Tensor('int64', ids, [batch, length]),
      attention_mask: new ort.Tensor('int64', mask, [batch, length]),
    });
    const logits = outputs.logits;
    expect(logits?.dims).toEqual(reference.shape);
    const values = logits?.data as Float32Array;
    expect(values.length).toBe(reference.torch.length);
    expect(maxDifference(values, reference.torch)).toBeLessThan(1e-4);
    expect(maxDifference(values, reference.python_ort)).toBeLessThan(1e-5);
    await session.release();
  });
});
