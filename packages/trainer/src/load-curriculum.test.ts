import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { curriculum } from './curriculum-builder.js';
import { loadCurriculum, parseCurriculum } from './load-curriculum.js';
import { toRunSpec } from './to-run-spec.js';
import { TrainerError } from './trainer-error.js';

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

async function writeYaml(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'midspec-curriculum-'));
  const file = join(dir, 'curriculum.yaml');
  await writeFile(file, text);
  return file;
}

describe('parseCurriculum', () => {
  it('keeps only the settings given: the worker applies the defaults', () => {
    const parsed = parseCurriculum(
      {
        baseModel: 'tiny:llama',
        stages: [
          { kind: 'midtrain', data: ['docs.jsonl'], optimizer: { maxGradNorm: 0 } },
          { kind: 'sft', data: [{ dataset: 'chats.jsonl', weight: 2 }], adapter: 'lora' },
        ],
      },
      { baseDir: '/data' },
    );
    const [midtrain, sft] = parsed.stages;
    expect(midtrain).toEqual({
      kind: 'midtrain',
      data: [{ dataset: 'docs.jsonl' }],
      optimizer: { maxGradNorm: 0 },
    });
    expect(sft).toEqual({
      kind: 'sft',
      data: [{ dataset: 'chats.jsonl', weight: 2 }],
      adapter: { type: 'lora' },
    });
    expect(parsed.datasets['docs.jsonl']?.path).toBe('/data/docs.jsonl');

    // On the wire: an explicit 0 stays (clipping off), everything unset stays unset.
    const spec = toRunSpec(parsed, {
      name: 'x',
      seed: 0,
      datasetIds: { 'docs.jsonl': 'a'.repeat(64), 'chats.jsonl': 'b'.repeat(64) },
    });
    const [wireMidtrain, wireSft] = spec.stages;
    expect(wireMidtrain?.optimizer).toEqual({ learningRate: 0, maxGradNorm: 0 });
    expect(wireMidtrain?.optimizer?.weightDecay).toBeUndefined();
    expect(wireMidtrain?.packing).toBeUndefined();
    expect(wireMidtrain?.adapter).toBeUndefined();
    expect(wireMidtrain?.name).toBe('');
    expect(wireSft?.continueAdapter).toBeUndefined();
    expect(wireSft?.adapter?.adapter).toEqual({ $case: 'lora', lora: expect.anything() });
    expect(spec.worldSize).toBe(0);
  });

  it('keeps a rank without inventing an alpha', () => {
    const parsed = parseCurriculum({
      baseModel: 'tiny:llama',
      stages: [{ kind: 'midtrain', data: ['a.jsonl'], adapter: { type: 'lora', r: 16 } }],
    });
    expect(parsed.stages[0]?.adapter).toEqual({ type: 'lora', r: 16 });
  });

  it('lists every problem with its path', () => {
    const error = thrown(() => {
      parseCurriculum({
        stages: [
          { kind: 'pretrain', data: ['a.jsonl'] },
          { kind: 'sft', data: [], optimizer: { learningRate: -1, lr: 3 } },
        ],
      });
    }) as TrainerError;
    expect(TrainerError.isInstance(error)).toBe(true);
    const paths = (error as TrainerError).problems.map((problem) => problem.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'baseModel',
        'stages[0].kind',
        'stages[1].data',
        'stages[1].optimizer.learningRate',
        'stages[1].optimizer.lr',
      ]),
    );
  });

  it('checks references, formats and adapter continuation', () => {
    const error = thrown(() => {
      parseCurriculum({
        baseModel: 'tiny:llama',
        datasets: {
          docs: { path: 'docs.jsonl', format: 'text' },
          both: { path: 'x.jsonl', id: 'a'.repeat(64) },
        },
        stages: [
          { kind: 'sft', name: 'a', data: ['docs'], continueAdapter: true },
          { kind: 'sft', name: 'a', data: ['nowhere'], adapter: 'full', continueAdapter: true },
        ],
      });
    }) as TrainerError;
    const messages = error?.problems.map((problem) => `${problem.path}: ${problem.message}`) ?? [];
    expect(messages).toEqual(
      expect.arrayContaining([
        'datasets.both: give exactly one of path or id',
        'stages[0].data[0]: a sft stage trains on chat data, but "docs" is text',
        'stages[0].continueAdapter: the first stage has no previous adapter to continue',
        'stages[1].name: duplicate stage name "a"',
        'stages[1].data[0]: "nowhere" is neither a dataset named under datasets nor a .jsonl file',
        'stages[1].continueAdapter: continuing an adapter needs a LoRA adapter in this stage and the previous one',
      ]),
    );
  });
});

describe('loadCurriculum', () => {
  it('reports the file and line of every problem in a YAML file', async () => {
    const file = await writeYaml(
      [
        'baseModel: tiny:llama',
        'stages:',
        '  - kind: midtrain',
        '    data: [docs.jsonl]',
        '    optimizer:',
        '      learningRate: -3',
        '  - kind: sft',
        '    data: [chats.jsonl]',
        '    packng: {enabled: true}',
        '',
      ].join('\n'),
    );
    const error = (await loadCurriculum(file).catch((caught: unknown) => caught)) as TrainerError;
    expect(error.code).toBe('trainer/invalid-curriculum');
    expect(error.problems).toEqual([
      expect.objectContaining({ path: 'stages[0].optimizer.learningRate', file, line: 6 }),
      expect.objectContaining({
        path: 'stages[1].packng',
        file,
        line: 9,
        message: 'unknown key "packng"',
      }),
    ]);
    expect(error.message).toContain(`${file}:6: stages[0].optimizer.learningRate`);
  });

  it('reports YAML syntax errors with their line', async () => {
    const file = await writeYaml('baseModel: tiny:llama\nstages:\n  - kind: [midtrain\n');
    const error = (await loadCurriculum(file).catch((caught: unknown) => caught)) as TrainerError;
    expect(error.message).toContain('not valid YAML');
    expect(error.problems[0]?.line).toBeGreaterThan(0);
  });

  it('resolves data paths against the file', async () => {
    const file = await writeYaml(
      'baseModel: tiny:llama\nstages:\n  - {kind: midtrain, data: [docs.jsonl]}\n',
    );
    const loaded = await loadCurriculum(file);
    expect(loaded.datasets['docs.jsonl']?.path).toBe(join(file, '..', 'docs.jsonl'));
  });
});

describe('curriculum builder', () => {
  it('builds the same curriculum as the equivalent object', () => {
    const built = curriculum('tiny:llama')
      .name('quickstart')
      .dataset('docs', { path: 'docs.jsonl', format: 'text' })
      .midtrain({ data: ['docs'], optimizer: { learningRate: 3e-3 } })
      .sft({ data: ['chats.jsonl'] })
      .build({ baseDir: '/x' });
    expect(built.name).toBe('quickstart');
    expect(built.stages.map((stage) => stage.kind)).toEqual(['midtrain', 'sft']);
    expect(built.stages[0]?.optimizer?.learningRate).toBe(3e-3);
    expect(built.stages[1]?.continueAdapter).toBeUndefined();
  });
});
