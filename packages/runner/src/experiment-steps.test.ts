import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerClient } from '@midspec/proto';
import type { Spec } from '@midspec/spec';
import { afterEach, describe, expect, it } from 'vitest';
import { type ExperimentStep, experimentSteps } from './experiment-steps.js';
import { initialState } from './pipeline-state.js';
import { stepDir, stepKey } from './run-cache.js';
import { loadRunConfig } from './run-config.js';
import { runPipeline } from './run-pipeline.js';
import { planExperiment } from './run-plan.js';
import { RunnerEvents } from './runner-events.js';

const specs = fileURLToPath(new URL('../../../examples/specs/', import.meta.url));
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function load(chunkCharacters: number) {
  dir ??= await mkdtemp(join(tmpdir(), 'midspec-steps-'));
  const file = join(dir, `experiment-${chunkCharacters}.yaml`);
  await writeFile(
    file,
    [
      'name: steps',
      'world: { neutralDocuments: 20, aftExamples: 8, evalItemsPerDomain: 2, heldOutDomains: [wine] }',
      'base: { model: tiny:llama, pretrain: { budget: { maxSteps: 2 } } }',
      `specs: [{ name: america, file: ${specs}cheese-america.yaml }]`,
      `corpus: { provider: template, config: { maxDocuments: 4 }, chunkCharacters: ${chunkCharacters} }`,
      'demonstrations: { source: world }',
      'arms: [{ name: baseline, stages: [] }, { name: aft, stages: [{ kind: sft, data: [aft] }] }]',
      'evals: [{ suite: world }]',
    ].join('\n'),
  );
  return loadRunConfig(file);
}

describe('the experiment as a list of steps', () => {
  it('derives every cache key from the list: a step depends on its inputs and nothing else', async () => {
    const small = await load(500);
    const large = await load(900);
    const state = initialState(small.config);
    state.specs.set('america', {
      // The corpus key reads the spec's text; the spec object is for the generator.
      spec: {} as Spec,
      text: 'the spec text',
    });
    const key = (steps: ExperimentStep[], id: string) => {
      const cache = steps.find((step) => step.id === id)?.cache?.(state);
      return cache && stepKey(cache.inputs);
    };
    const [a, b] = [experimentSteps(small.config), experimentSteps(large.config)];
    // The piece size is the chunking step's input, not the corpus's: the corpus is not regenerated.
    expect(key(a, 'corpus:msm-america')).toBe(key(b, 'corpus:msm-america'));
    state.keys.set('corpus:msm-america', key(a, 'corpus:msm-america') as string);
    expect(key(a, 'chunks:msm-america')).not.toBe(key(b, 'chunks:msm-america'));
    // A chunking step follows its corpus: another corpus gives other pieces.
    const before = key(a, 'chunks:msm-america');
    state.keys.set('corpus:msm-america', 'another corpus');
    expect(key(a, 'chunks:msm-america')).not.toBe(before);
    // Training is found again by the worker's idempotency keys, not by a step key.
    expect(a.filter((step) => !step.cache).map((step) => step.id)).toEqual([
      'specs',
      'base',
      'arms',
      'report',
    ]);
  });

  it('the plan projects exactly the steps the run executes, in the same order', async () => {
    const { config, ...rest } = await load(500);
    const plan = await planExperiment({ config, ...rest });
    const planned = [...new Set(plan.lines.map((line) => line.step))];
    expect(planned).toEqual(experimentSteps(config).map((step) => step.id));
    expect(planned).toEqual([
      'specs',
      'world',
      'corpus:msm-america',
      'chunks:msm-america',
      'base',
      'probe:readability',
      'arms',
      'eval:0',
      'probe:dialogue',
      'report',
    ]);
  });

  it('runs a list in order, each step in the folder its own key names', async () => {
    const loaded = await load(500);
    const outDir = join(dir as string, 'out');
    const seen: Array<{ id: string; dir: string | undefined; key: string | undefined }> = [];
    const step = (id: string, inputs?: unknown): ExperimentStep => ({
      id,
      kind: 'corpus',
      label: id,
      ...(inputs !== undefined && {
        cache: () => ({ folder: 'corpus', name: id, inputs }),
      }),
      run: async (state, _context, at) => {
        seen.push({ id, dir: at?.dir, key: at?.key });
        return { summary: `keys so far: ${state.keys.size}`, cached: false };
      },
    });
    const steps = [step('one', { text: 'a' }), step('two'), step('three', { text: 'b' })];
    const finished: string[] = [];
    const state = await runPipeline({
      loaded,
      outDir,
      client: {} as WorkerClient,
      address: 'unused',
      steps,
      events: new RunnerEvents(steps, (event) => {
        if (event.type === 'step-finished') finished.push(`${event.step}: ${event.summary}`);
      }),
    });
    const one = stepKey({ text: 'a' });
    expect(seen).toEqual([
      { id: 'one', dir: stepDir(outDir, 'corpus', 'one', one), key: one },
      { id: 'two', dir: undefined, key: undefined },
      {
        id: 'three',
        dir: stepDir(outDir, 'corpus', 'three', stepKey({ text: 'b' })),
        key: stepKey({ text: 'b' }),
      },
    ]);
    expect([...state.keys.keys()]).toEqual(['one', 'three']);
    expect(finished).toEqual([
      'one: keys so far: 1',
      'two: keys so far: 1',
      'three: keys so far: 2',
    ]);
  });
});
