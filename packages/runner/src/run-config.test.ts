import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRunConfig } from './run-config.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function write(text: string): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'midspec-run-config-'));
  const file = join(dir, 'experiment.yaml');
  await writeFile(file, text);
  return file;
}

describe('experiment files', () => {
  it('loads the cheese example with its defaults', async () => {
    const { config } = await loadRunConfig(
      new URL('../../../examples/cheese/experiment.yaml', import.meta.url).pathname,
    );
    expect(config.arms.map((arm) => arm.name)).toEqual([
      'baseline',
      'aft-only',
      'msm-america',
      'msm-affordability',
      'msm-aft-america',
      'msm-aft-affordability',
    ]);
    expect(config.seeds.length).toBeGreaterThanOrEqual(3);
    expect(config.world?.heldOutDomains).toContain('wine');
  });

  it('takes published Markdown/plain-text specs with values for their placeholders', async () => {
    const file = await write(
      [
        'name: x',
        'base: { model: tiny:llama }',
        'specs:',
        '  - { name: rules, file: rules_spec.txt, variables: { model_name: Claude } }',
        '  - { name: values, file: values.md }',
        'corpus: { provider: template }',
        'arms: [{ name: a, stages: [{ kind: midtrain, data: [msm-rules] }] }]',
        'evals: [{ file: q.yaml }]',
      ].join('\n'),
    );
    const { config } = await loadRunConfig(file);
    expect(config.specs).toEqual([
      { name: 'rules', file: 'rules_spec.txt', variables: { model_name: 'Claude' } },
      { name: 'values', file: 'values.md' },
    ]);
  });

  it('lists every problem with its line', async () => {
    const file = await write(
      [
        'name: bad name',
        'base: { model: tiny:llama }',
        'specs: []',
        'corpus: { provider: nobody }',
        'arms: [{ name: a, stages: [] }]',
        'evals: [{ suite: world }]',
        'surprise: 1',
      ].join('\n'),
    );
    const error = (await loadRunConfig(file).catch((caught: unknown) => caught)) as Error;
    expect(error.message).toMatch(/experiment\.yaml:1: name: letters/);
    expect(error.message).toMatch(/experiment\.yaml:3: specs:/);
    expect(error.message).toMatch(/experiment\.yaml:4: corpus\.provider:/);
    expect(error.message).toMatch(/surprise/);
  });

  it('checks names across sections', async () => {
    const file = await write(
      [
        'name: x',
        'base: { model: tiny:llama, pretrain: { budget: { maxSteps: 2 } } }',
        'specs: [{ name: a, file: a.yaml }]',
        'corpus: { provider: template }',
        'demonstrations: { source: spec, provider: template, spec: b }',
        'arms: [{ name: a, stages: [] }]',
        'evals: [{ suite: world, maxTokens: 64 }]',
        'report: { contrasts: [{ treated: a, control: nope }] }',
      ].join('\n'),
    );
    const error = (await loadRunConfig(file).catch((caught: unknown) => caught)) as Error;
    expect(error.message).toMatch(/base\.pretrain: needs world/);
    expect(error.message).toMatch(/the `world` suite needs world/);
    expect(error.message).toMatch(/demonstrations\.spec: no spec named "b"/);
    expect(error.message).toMatch(/report\.contrasts\[0\]\.control: no arm named "nope"/);
    expect(error.message).toMatch(/evals\[0\]\.maxTokens: the world suite scores choices/);
  });

  it("checks the arms with the trainer's rules when the file is read, each problem at its line", async () => {
    const file = await write(
      [
        'name: x',
        'seeds: [1, 1]',
        'world: {}',
        'base: { model: tiny:llama, pretrain: { adapter: { type: lora }, continueAdapter: true } }',
        'specs: [{ name: a, file: a.yaml }]',
        'corpus: { provider: template }',
        'demonstrations: { source: world }',
        'arms:',
        '  - name: fine',
        '    stages: [{ kind: midtrain, data: [msm-a] }, { kind: sft, data: [aft] }]',
        '  - name: typo',
        '    stages: [{ kind: midtrain, data: [msm-b] }]',
        '  - name: wrong-format',
        '    stages: [{ kind: sft, data: [neutral] }]',
        '  - { name: fine, stages: [] }',
        'evals: [{ suite: world }]',
      ].join('\n'),
    );
    const error = (await loadRunConfig(file).catch((caught: unknown) => caught)) as Error;
    expect(error.message.split('\n')[0]).toMatch(/experiment\.yaml is not a valid experiment$/);
    // The generated datasets (msm-a, aft, neutral) are known by name and format before they exist.
    expect(error.message).toMatch(
      /experiment\.yaml:12: arms\[1\]\.stages\[0\]\.data\[0\]: "msm-b" is neither a dataset/,
    );
    expect(error.message).toMatch(
      /experiment\.yaml:14: arms\[2\]\.stages\[0\]\.data\[0\]: a sft stage trains on chat data, but "neutral" is text/,
    );
    expect(error.message).toMatch(
      /experiment\.yaml:15: arms\[3\]\.name: duplicate arm name "fine"/,
    );
    expect(error.message).toMatch(/experiment\.yaml:2: seeds: seeds must be distinct/);
    expect(error.message).toMatch(
      /experiment\.yaml:4: base\.pretrain\.continueAdapter: the first stage has no previous adapter/,
    );
    expect(error.message).not.toMatch(/arms\[0\]/);
  });

  it('gives the run the validated training: the generated datasets stand in by name until written', async () => {
    const file = await write(
      [
        'name: x',
        'world: {}',
        'base: { model: tiny:llama }',
        'specs: [{ name: a, file: a.yaml }]',
        'corpus: { provider: template }',
        'demonstrations: { source: world }',
        'datasets: { extra: { path: extra.jsonl, format: chat } }',
        'arms: [{ name: m, stages: [{ kind: midtrain, data: [msm-a] }, { kind: sft, data: [aft, extra] }] }]',
        'evals: [{ suite: world }]',
      ].join('\n'),
    );
    const { training } = await loadRunConfig(file);
    expect(training.generated).toEqual({ 'msm-a': 'text', aft: 'chat', neutral: 'text' });
    expect(Object.keys(training.arms.datasets)).toEqual(['msm-a', 'aft', 'neutral', 'extra']);
    expect(training.arms.datasets.extra?.path).toBe(join(dir as string, 'extra.jsonl'));
    expect(training.arms.arms[0]?.curriculum.stages.map((stage) => stage.kind)).toEqual([
      'midtrain',
      'sft',
    ]);
    expect(training.base).toBeUndefined();
  });
});
