import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BackendError, loadModelTokenizer, resolveBackend } from '@midspec/eval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, workerPython } from './worker-fixture.js';

// A Qwen3-format model (the real tokenizer and chat template, tiny random weights) exported to ONNX
// the way DownloadCheckpoint exports it; PyTorch scores a choice prompt rendered by transformers'
// apply_chat_template. The ONNX backend must score exactly that prompt, never a flattened one.
const REFERENCE = `
import json, shutil, sys
from pathlib import Path
sys.path.insert(0, "workers/torch/tests")
import torch
from real_models import build_model_folder, tokenizer_dir
from transformers import AutoModelForCausalLM, AutoTokenizer
from midspec_worker import onnx_export
out = Path(sys.argv[1])
messages = json.loads(sys.argv[2])
model_dir = build_model_folder("qwen3", out / "qwen3")
tokenizer = AutoTokenizer.from_pretrained(model_dir)
tokenizer.save_pretrained(model_dir)  # as a worker checkpoint has it: chat_template.jinja
export = out / "export"
onnx_export.export(model_dir, export / "model.onnx")
for path in onnx_export.tokenizer_files(model_dir):
    shutil.copy2(path, export / path.name)
mismatch = out / "mismatch"
mismatch.mkdir()
shutil.copy2(export / "model.onnx", mismatch / "model.onnx")
for name in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy2(tokenizer_dir("llama3_1") / name, mismatch / name)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()

def score(text, continuation):
    context = tokenizer(text, add_special_tokens=False).input_ids
    target = tokenizer(continuation, add_special_tokens=False).input_ids
    with torch.no_grad():
        logprobs = torch.log_softmax(model(torch.tensor([context + target])).logits[0].float(), -1)
    return sum(float(logprobs[len(context) - 1 + i, t]) for i, t in enumerate(target))

rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
flattened = "\\n\\n".join(m["role"].capitalize() + ": " + m["content"] for m in messages) + "\\n\\nAssistant:"
llama = AutoTokenizer.from_pretrained(tokenizer_dir("llama3_1"))
llama_rendered = llama.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
json.dump({
    "rendered": rendered,
    "ids": tokenizer(rendered, add_special_tokens=False).input_ids,
    "templated": {label: score(rendered, label) for label in ("A", "B")},
    "flattened": {label: score(flattened, " " + label) for label in ("A", "B")},
    "llama": {"dir": str(tokenizer_dir("llama3_1")), "rendered": llama_rendered,
              "ids": llama(llama_rendered, add_special_tokens=False).input_ids},
}, open(out / "reference.json", "w"))
`;

const messages = [
  { role: 'system' as const, content: 'You are a helpful assistant.' },
  {
    role: 'user' as const,
    content: 'Which cheese is cheaper?\n\nA) Brie\nB) Gouda\n\nAnswer with A or B.',
  },
];

interface Reference {
  rendered: string;
  ids: number[];
  templated: Record<'A' | 'B', number>;
  flattened: Record<'A' | 'B', number>;
  llama: { dir: string; rendered: string; ids: number[] };
}

let folder: string;
let reference: Reference;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'midspec-onnx-chat-'));
  await promisify(execFile)(workerPython, ['-c', REFERENCE, folder, JSON.stringify(messages)], {
    cwd: repoRoot,
    env: { ...process.env, MIDSPEC_TORCH_THREADS: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  reference = JSON.parse(await readFile(join(folder, 'reference.json'), 'utf8')) as Reference;
}, 300_000);

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('choice evals through the chat template (onnx backend)', () => {
  it('renders and tokenizes chats exactly as transformers does (Qwen3 and Llama 3.1)', () => {
    const qwen = loadModelTokenizer(join(folder, 'export'));
    const rendered = qwen.renderChat?.(messages);
    expect(rendered).toBe(reference.rendered);
    expect(rendered).toContain('<|im_start|>user\nWhich cheese');
    expect(qwen.encode(rendered as string, { addSpecialTokens: false })).toEqual(reference.ids);
    const llama = loadModelTokenizer(reference.llama.dir);
    const llamaRendered = llama.renderChat?.(messages) as string;
    expect(llamaRendered).toBe(reference.llama.rendered);
    expect(llama.encode(llamaRendered, { addSpecialTokens: false })).toEqual(reference.llama.ids);
  });

  it('scores the templated prompt, not a User:/Assistant: flattening', async () => {
    const { backend } = resolveBackend(`onnx:${join(folder, 'export', 'model.onnx')}`);
    try {
      const scores = await backend.scoreLogprobs([
        { prompt: { messages }, continuation: 'A' },
        { prompt: { messages }, continuation: 'B' },
      ]);
      expect(scores[0]?.logprob).toBeCloseTo(reference.templated.A, 4);
      expect(scores[1]?.logprob).toBeCloseTo(reference.templated.B, 4);
      // The two renderings score differently, so the match above is not a coincidence.
      expect(Math.abs(reference.templated.A - reference.flattened.A)).toBeGreaterThan(1e-3);
    } finally {
      await backend.close();
    }
  });

  it("refuses a tokenizer that is not the model's", async () => {
    const { backend } = resolveBackend(`onnx:${join(folder, 'mismatch', 'model.onnx')}`);
    try {
      const failure = await backend
        .scoreLogprobs([{ prompt: { messages }, continuation: 'A' }])
        .catch((error: unknown) => error);
      expect(BackendError.isInstance(failure)).toBe(true);
      expect((failure as Error).message).toMatch(
        /the tokenizer has 128256 tokens but the model scores 151669: tokenizer\.json is not this model's/,
      );
    } finally {
      await backend.close();
    }
  });
});
