import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '@midspec/eval';
import type { RunnerEvent } from '@midspec/runner';
import { type FakeWorker, startFakeWorker } from '@midspec/worker-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuickstart } from '../examples/sdk-quickstart/src/run-quickstart.js';

const spec = fileURLToPath(new URL('../examples/specs/cheese-america.yaml', import.meta.url));
let worker: FakeWorker;
let directory: string;

/** Trained models choose the American option, the base model whatever is shown first. */
function scorer(model: string): Backend {
  return {
    id: `test:${model}`,
    model,
    limiterKey: 'test',
    sample: async () => {
      throw new Error('not used');
    },
    scoreLogprobs: async (items) =>
      items.map((item) => {
        const text =
          'messages' in item.prompt
            ? (item.prompt.messages.at(-1)?.content ?? '')
            : item.prompt.text;
        const american = /^A\) .*(Napa|Kona|California|San Francisco)/m.test(text) ? 'A' : 'B';
        const chosen = model.startsWith('run:') ? american : 'A';
        return {
          logprob: item.continuation.trim() === chosen ? -0.1 : -3,
          continuationTokens: 1,
          usage: { inputTokens: 10, outputTokens: 0 },
        };
      }),
    close: async () => {},
  };
}

// The fake worker from @midspec/worker-testkit trains in milliseconds; the evaluation scores through
// a test backend. Against the reference worker the same program takes minutes (see the README).
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'midspec-quickstart-'));
  worker = await startFakeWorker({ stepMs: 1 });
});

afterAll(async () => {
  await worker?.close();
  await rm(directory, { recursive: true, force: true });
});

describe('the SDK quickstart', () => {
  it('goes from spec to report through @midspec/runner', async () => {
    const events: RunnerEvent[] = [];
    const outcome = await runQuickstart(spec, {
      outDir: join(directory, 'out'),
      worker: worker.address,
      backendFor: scorer,
      onEvent: (event) => events.push(event),
    });
    expect(outcome.result.runs.map((run) => run.name)).toEqual(['sdk-quickstart/msm-aft/seed-0']);
    expect(outcome.result.corpora.spec?.documents).toBeGreaterThan(10);
    expect(outcome.result.aft?.examples).toBeGreaterThan(5);
    const arm = (name: string) => outcome.report.suites[0]?.arms.find((row) => row.arm === name);
    expect(arm('msm-aft')?.splits['held-out']?.rate).toBe(1);
    expect(arm('base')?.firstPosition).toBe(1);
    expect(await readFile(join(outcome.outDir, 'report.md'), 'utf8')).toBe(outcome.markdown);
    expect(events.flatMap((event) => (event.type === 'step-started' ? [event.step] : []))).toEqual([
      'specs',
      'corpus:msm-spec',
      'demonstrations',
      'arms',
      'eval:0',
      'report',
    ]);
  }, 120_000);
});
