import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTrainingExperiment, parseExperiment } from './load-experiment.js';
import { planToJson, planTrainingExperiment } from './plan-experiment.js';
import { TrainerError } from './trainer-error.js';

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

const examples = fileURLToPath(new URL('../../../examples/curricula/', import.meta.url));

describe('experiments', () => {
  it('expands the cheese study into six arms × three seeds with stable names and keys', async () => {
    const experiment = await loadTrainingExperiment(`${examples}cheese.yaml`);
    expect(experiment.arms.map((arm) => arm.name)).toEqual([
      'baseline',
      'aft-only',
      'msm-america',
      'msm-affordability',
      'msm-aft-america',
      'msm-aft-affordability',
    ]);
    const plan = await planTrainingExperiment(experiment);
    expect(plan.runs).toHaveLength(18);
    expect(plan.runs[0]?.name).toBe('cheese/baseline/seed-1');
    expect(plan.runs.filter((run) => !run.trains).map((run) => run.arm)).toEqual([
      'baseline',
      'baseline',
      'baseline',
    ]);
    const keys = plan.runs.map((run) => run.idempotencyKey);
    expect(new Set(keys).size).toBe(18);
    // Both MSM+AFT arms fine-tune on the very same dataset.
    const aft = (arm: string) =>
      plan.runs.find((run) => run.arm === arm)?.spec.stages[1]?.data[0]?.datasetId;
    expect(aft('msm-aft-america')).toBe(aft('msm-aft-affordability'));
    expect(
      plan.runs.find((run) => run.arm === 'msm-aft-america')?.spec.stages[1]?.continueAdapter,
    ).toBe(true);
    expect(plan.runs[4]?.spec.labels).toEqual({ experiment: 'cheese', arm: 'aft-only', seed: '2' });

    const again = await planTrainingExperiment(
      await loadTrainingExperiment(`${examples}cheese.yaml`),
    );
    expect(again.runs.map((run) => run.idempotencyKey)).toEqual(keys);
  });

  it('expands the agentic study into its five arms and prints them as JSON', async () => {
    const plan = await planTrainingExperiment(
      await loadTrainingExperiment(`${examples}agentic.yaml`),
    );
    const json = planToJson(plan) as { runs: { arm: string; stages: { reasoning: string }[] }[] };
    expect(json.runs.map((run) => run.arm)).toEqual([
      'baseline',
      'aft',
      'aft-reasoning',
      'msm-aft',
      'msm-aft-reasoning',
    ]);
    expect(json.runs[2]?.stages[0]?.reasoning).toBe('train');
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('changes the key when any part of the definition changes', async () => {
    const base = {
      name: 'x',
      baseModel: 'tiny:llama',
      datasets: { docs: { path: `${examples}data/agentic-spec-documents.jsonl` } },
      arms: [{ name: 'a', stages: [{ kind: 'midtrain', data: ['docs'] }] }],
    };
    const key = async (input: unknown) =>
      (await planTrainingExperiment(parseExperiment(input))).runs[0]?.idempotencyKey;
    const original = await key(base);
    expect(await key(base)).toBe(original);
    expect(
      await key({
        ...base,
        arms: [
          {
            name: 'a',
            stages: [{ kind: 'midtrain', data: ['docs'], optimizer: { learningRate: 2e-4 } }],
          },
        ],
      }),
    ).not.toBe(original);
    expect(await key({ ...base, seed: 7 })).not.toBe(original);
  });

  it('lists every problem of an experiment with its path', () => {
    const error = thrown(() => {
      parseExperiment({
        name: 'bad name',
        baseModel: 'tiny:llama',
        seeds: [1, 1],
        arms: [
          { name: 'a', stages: [{ kind: 'sft', data: ['missing'] }] },
          { name: 'a', stages: [] },
        ],
      });
    }) as TrainerError;
    expect(TrainerError.isInstance(error)).toBe(true);
    expect(error?.problems.map((problem) => problem.path)).toEqual(['name']);
    const second = thrown(() => {
      parseExperiment({
        name: 'ok',
        baseModel: 'tiny:llama',
        seeds: [1, 1],
        arms: [
          { name: 'a', stages: [{ kind: 'sft', data: ['missing'] }] },
          { name: 'a', stages: [] },
        ],
      });
    }) as TrainerError;
    expect(second?.problems.map((problem) => problem.path)).toEqual([
      'arms[0].stages[0].data[0]',
      'arms[1].name',
      'seeds',
    ]);
  });

  it('reports bad lines of every dataset in one error before anything else happens', async () => {
    const experiment = parseExperiment({
      name: 'x',
      baseModel: 'tiny:llama',
      datasets: { chats: { path: `${examples}data/cheese-america-documents.jsonl` } },
      arms: [{ name: 'a', stages: [{ kind: 'sft', data: ['chats'] }] }],
    });
    const error = (await planTrainingExperiment(experiment).catch(
      (caught: unknown) => caught,
    )) as TrainerError;
    expect(error.problems).toEqual([
      expect.objectContaining({
        path: 'arms[0].stages[0].data[0]',
        message: expect.stringContaining('text dataset'),
      }),
    ]);
  });
});
