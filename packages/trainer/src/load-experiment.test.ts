import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTrainingExperiment } from './load-experiment.js';
import { planTrainingExperiment } from './plan-experiment.js';
import { TrainerError } from './trainer-error.js';

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'midspec-experiment-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const text = `${JSON.stringify({ text: 'the rule and the value behind it' })}\n`;
const chat = `${JSON.stringify({
  messages: [
    { role: 'user', content: 'q' },
    { role: 'assistant', content: 'a' },
  ],
})}\n`;

describe('arms from curriculum files', () => {
  it('take the curriculum stages and share datasets with the experiment', async () => {
    const dir = await folder({
      'docs.jsonl': text,
      'other-docs.jsonl': text.replace('rule', 'spec'),
      'aft.jsonl': chat,
      'msm.yaml': [
        'baseModel: tiny:qwen3',
        'datasets:',
        '  docs: { path: docs.jsonl }',
        '  aft: { path: other-docs.jsonl }', // the experiment's `aft` is different data
        'stages:',
        '  - { kind: midtrain, data: [docs, aft], optimizer: { learningRate: 0.002 } }',
        '  - { kind: sft, data: [aft.jsonl] }',
      ].join('\n'),
      'experiment.yaml': [
        'name: study',
        'baseModel: tiny:llama',
        'seeds: [1, 2]',
        'datasets:',
        '  corpus: { path: docs.jsonl }',
        '  aft: { path: aft.jsonl }',
        'stageDefaults: { midtrain: { optimizer: { learningRate: 0.5 } } }',
        'arms:',
        '  - { name: aft-only, stages: [{ kind: sft, data: [aft] }] }',
        '  - { name: msm-aft, curriculum: msm.yaml }',
        '  - { name: msm-aft-llama, curriculum: msm.yaml, baseModel: tiny:llama }',
      ].join('\n'),
    });
    const experiment = await loadTrainingExperiment(join(dir, 'experiment.yaml'));
    const [, msm, msmLlama] = experiment.arms;
    expect(msm?.curriculum.baseModel).toBe('tiny:qwen3');
    expect(msmLlama?.curriculum.baseModel).toBe('tiny:llama');
    expect(msm?.curriculum.name).toBe('study/msm-aft');
    // The same file is one dataset; a name taken by other data gets the arm's prefix; a file
    // named directly (aft.jsonl) is the experiment's dataset of that file.
    expect(msm?.curriculum.stages[0]?.data.map((source) => source.dataset)).toEqual([
      'corpus',
      'msm-aft/aft',
    ]);
    expect(msm?.curriculum.stages[1]?.data[0]?.dataset).toBe('aft');
    expect(experiment.datasets['msm-aft/aft']?.path).toBe(join(dir, 'other-docs.jsonl'));
    // The curriculum's own settings, not the experiment's stageDefaults.
    expect(msm?.curriculum.stages[0]?.optimizer?.learningRate).toBe(0.002);

    const plan = await planTrainingExperiment(experiment);
    expect(plan.runs.map((run) => run.name)).toEqual([
      'study/aft-only/seed-1',
      'study/aft-only/seed-2',
      'study/msm-aft/seed-1',
      'study/msm-aft/seed-2',
      'study/msm-aft-llama/seed-1',
      'study/msm-aft-llama/seed-2',
    ]);
    const ids = (arm: string) =>
      plan.runs
        .find((run) => run.arm === arm)
        ?.spec.stages.flatMap((stage) => stage.data.map((source) => source.datasetId));
    // aft.jsonl is one dataset however it is named: the same content id in both arms.
    expect(ids('msm-aft')?.[2]).toBe(ids('aft-only')?.[0]);
    expect(new Set(plan.datasets.map((dataset) => dataset.id)).size).toBe(3);
  });

  it('refuses an arm with both stages and a curriculum, and names a bad curriculum file', async () => {
    const dir = await folder({
      'docs.jsonl': text,
      'bad.yaml':
        'baseModel: tiny:qwen3\nstages:\n  - { kind: midtrain, data: [docs.jsonl], lr: 1 }\n',
      'both.yaml': [
        'name: study',
        'baseModel: tiny:llama',
        'arms:',
        '  - { name: a, curriculum: bad.yaml, stages: [] }',
      ].join('\n'),
      'bad-ref.yaml':
        'name: study\nbaseModel: tiny:llama\narms:\n  - { name: a, curriculum: bad.yaml }\n',
    });
    const error = await loadTrainingExperiment(join(dir, 'bad-ref.yaml')).catch((caught) => caught);
    expect(error).toBeInstanceOf(TrainerError);
    expect((error as TrainerError).message).toContain('bad.yaml');
    expect((error as TrainerError).message).toContain('arms[0].curriculum');

    await writeFile(
      join(dir, 'missing.yaml'),
      'name: s\nbaseModel: tiny:llama\narms:\n  - { name: a, curriculum: nope.yaml }\n',
    );
    const missing = await loadTrainingExperiment(join(dir, 'missing.yaml')).catch(
      (caught) => caught,
    );
    expect(TrainerError.isInstance(missing)).toBe(true);
    expect((missing as TrainerError).message).toMatch(
      /missing\.yaml: arms\[0\]\.curriculum: cannot read .*nope\.yaml/,
    );
    expect((error as TrainerError).problems[0]).toMatchObject({ line: 3 });

    await writeFile(
      join(dir, 'bad.yaml'),
      'baseModel: tiny:qwen3\nstages:\n  - { kind: midtrain, data: [docs.jsonl] }\n',
    );
    const both = await loadTrainingExperiment(join(dir, 'both.yaml')).catch((caught) => caught);
    expect((both as TrainerError).problems).toEqual([
      expect.objectContaining({ path: 'arms[0]', message: expect.stringContaining('not both') }),
    ]);
  });
});
