import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, ScoreInput } from '@midspec/eval';
import { type FakeWorker, startFakeWorker } from '@midspec/worker-testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { runExperiment } from './run-experiment.js';
import type { RunnerEvent } from './runner-events.js';

const specs = fileURLToPath(new URL('../../../examples/specs/', import.meta.url));
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** Picks the cheaper option for trained models and always the first-shown one for the base model. */
function scoringBackend(model: string): Backend {
  const pick = (item: ScoreInput) => {
    const text =
      'messages' in item.prompt ? (item.prompt.messages[0]?.content ?? '') : item.prompt.text;
    // The tier world shows "Name, imported and affordable".
    const cheaper = /^A\) .* and affordable$/m.test(text) ? 'A' : 'B';
    return model.startsWith('run:') ? cheaper : 'A';
  };
  return {
    id: `test:${model}`,
    model,
    limiterKey: 'test',
    sample: async () => {
      throw new Error('not used');
    },
    scoreLogprobs: async (items) =>
      items.map((item) => ({
        logprob: item.continuation.trim() === pick(item) ? -0.1 : -3,
        continuationTokens: 1,
        usage: { inputTokens: 10, outputTokens: 0 },
      })),
    close: async () => {},
  };
}

const experiment = (steps: number) => `
name: toy
seeds: [1, 2]
world: { neutralDocuments: 20, aftExamples: 8, evalItemsPerDomain: 2, heldOutDomains: [wine, tea] }
base: { model: tiny:llama }
specs:
  - { name: america, file: ${specs}cheese-america.yaml }
  - { name: affordability, file: ${specs}cheese-affordability.yaml }
corpus: { provider: template, config: { maxDocuments: 4 }, chunkCharacters: 800 }
demonstrations: { source: world }
stageDefaults:
  midtrain: { packing: { maxLength: 256 } }
  sft: { packing: { maxLength: 256 }, budget: { maxSteps: ${steps} } }
arms:
  - { name: baseline, stages: [] }
  - { name: aft-only, stages: [{ kind: sft, data: [aft] }] }
  - { name: msm-affordability, stages: [{ kind: midtrain, data: [msm-affordability] }] }
  - { name: msm-aft-affordability, stages: [{ kind: midtrain, data: [msm-affordability] }, { kind: sft, data: [aft] }] }
evals: [{ suite: world }]
report:
  contrasts: [{ treated: aft-only, control: baseline }]
`;

describe('runExperiment against a fake worker', () => {
  it('runs every step, writes a consistent report, and redoes only what changed', async () => {
    const fake: FakeWorker = await startFakeWorker({ stepMs: 1 });
    cleanup.push(() => fake.close());
    const dir = await mkdtemp(join(tmpdir(), 'midspec-run-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'experiment.yaml');
    await writeFile(file, experiment(2));
    const outDir = join(dir, 'out');
    const events: RunnerEvent[] = [];
    const run = () =>
      runExperiment(file, {
        outDir,
        worker: fake.address,
        backendFor: scoringBackend,
        onEvent: (event) => events.push(event),
      });

    const first = await run();
    expect(first.result.runs.map((r) => r.name).sort()).toEqual([
      'toy/aft-only/seed-1',
      'toy/aft-only/seed-2',
      'toy/msm-aft-affordability/seed-1',
      'toy/msm-aft-affordability/seed-2',
    ]);
    expect(first.result.corpora.affordability?.pieces).toBeGreaterThan(
      first.result.corpora.affordability?.documents ?? 0,
    );
    const suite = first.report.suites[0];
    const arm = (name: string) => suite?.arms.find((row) => row.arm === name);
    expect(arm('aft-only')?.splits['held-out']).toMatchObject({ rate: 1, n: 2 * 2 * 2 * 2 });
    expect(arm('baseline')?.splits['held-out']?.rate).toBeCloseTo(0.5);
    expect(arm('baseline')?.firstPosition).toBe(1);
    expect(arm('aft-only')?.seeds.map((seed) => seed.seed)).toEqual([1, 2]);
    expect(suite?.contrasts[0]?.difference).toMatchObject({ rate: 0.5, excludesZero: true });
    // The untrained baseline is one model for both seeds: it pairs with each.
    expect(suite?.contrasts[0]?.seedLevel).toMatchObject({
      rate: 0.5,
      n: 2,
      perSeed: [0.5, 0.5],
      excludesZero: true,
    });
    expect(first.markdown).toMatch(/\| aft-only − baseline \(held-out\) \| \+0\.50/);
    const json = JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8'));
    expect(json.runs).toHaveLength(4);
    expect(events).toContainEqual({
      type: 'step-started',
      step: 'eval:0',
      label: 'eval world',
      index: 9,
      total: 11,
    });
    expect(events).toContainEqual({
      type: 'note',
      step: 'eval:0',
      text: 'suite world-held-out: 7 models',
    });
    // The MSM-only arm is not trained: it is the MSM stage of the MSM+AFT run at each seed.
    const models = first.result.evals[0]?.models ?? [];
    for (const seed of [1, 2]) {
      const source = first.result.runs.find(
        (r) => r.arm === 'msm-aft-affordability' && r.seed === seed,
      );
      const read = models.find((m) => m.name === `msm-affordability/seed-${seed}`);
      // (The fake worker numbers checkpoint ids from stage 1; its first stage ends with stage-1-step-3.)
      expect(read?.model).toBe(`run:${source?.runId}/stage-1-step-3`);
    }
    expect(arm('msm-affordability')?.seeds.map((seed) => seed.seed)).toEqual([1, 2]);
    expect(events.at(-1)).toEqual({ type: 'report-written', path: join(outDir, 'report.md') });
    // Every step of the list ran, in its order.
    expect(events.flatMap((event) => (event.type === 'step-started' ? [event.step] : []))).toEqual([
      'specs',
      'world',
      'corpus:msm-america',
      'chunks:msm-america',
      'corpus:msm-affordability',
      'chunks:msm-affordability',
      'probe:readability',
      'arms',
      'eval:0',
      'probe:dialogue',
      'report',
    ]);

    // The same file again: every step is found, nothing is submitted or generated anew.
    const submitted = fake.submitCalls;
    events.length = 0;
    const second = await run();
    expect(second.result.runs.every((r) => r.alreadyExisted)).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'step-finished', step: 'corpus:msm-america', cached: true }),
    );
    expect(second.markdown).toBe(first.markdown);
    expect(fake.submitCalls - submitted).toBe(4); // idempotent re-submissions, all answered "already exists"
    expect(fake.runs.size).toBe(4);

    // A changed AFT budget retrains the arms that use it, and only those.
    await writeFile(file, experiment(3));
    const third = await run();
    expect(third.result.runs.filter((r) => !r.alreadyExisted)).toHaveLength(4);
    expect(fake.runs.size).toBe(8);
  });
});
