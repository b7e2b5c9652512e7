import type { Checkpoint } from '@midspec/proto';
import { describe, expect, it } from 'vitest';
import type { RunConfig } from './run-config.js';
import { sharedStagePrefixes, stageEndCheckpoint } from './run-shared-stages.js';

type Arm = RunConfig['arms'][number];
const msm = (spec: string) => ({ name: 'msm', kind: 'midtrain', data: [`msm-${spec}`] });
const aft = { name: 'aft', kind: 'sft', data: ['aft'] };
const arm = (name: string, stages: unknown[], extra: object = {}) =>
  ({ name, stages, ...extra }) as unknown as Arm;

describe('sharedStagePrefixes', () => {
  it("reads the cheese study's MSM-only arms from the MSM+AFT arms of the same spec", () => {
    const shared = sharedStagePrefixes([
      arm('baseline', []),
      arm('aft-only', [aft]),
      arm('msm-america', [msm('america')]),
      arm('msm-affordability', [msm('affordability')]),
      arm('msm-aft-america', [msm('america'), aft]),
      arm('msm-aft-affordability', [msm('affordability'), aft]),
    ]);
    expect(Object.fromEntries(shared)).toEqual({
      'msm-america': { source: 'msm-aft-america', stages: 1 },
      'msm-affordability': { source: 'msm-aft-affordability', stages: 1 },
    });
  });

  it('trains an arm whose stage differs in any setting, or whose arm settings differ', () => {
    const shared = sharedStagePrefixes([
      arm('msm-short', [{ ...msm('america'), budget: { maxSteps: 40 } }]),
      arm('msm-other-base', [msm('america')], { baseModel: 'tiny:other' }),
      arm('aft-first', [aft]),
      arm('msm-aft', [msm('america'), aft]),
    ]);
    expect(shared.size).toBe(0);
  });

  it('reads every prefix from the arm that is trained, through a chain of prefixes', () => {
    const third = { name: 'more', kind: 'sft', data: ['extra'] };
    const shared = sharedStagePrefixes([
      arm('one', [msm('america')]),
      arm('two', [msm('america'), aft]),
      arm('three', [msm('america'), aft, third]),
    ]);
    expect(shared.get('one')?.source).toBe('three');
    expect(shared.get('one')?.stages).toBe(1);
    expect(shared.get('two')).toEqual({ source: 'three', stages: 2 });
    expect(shared.has('three')).toBe(false);
  });
});

describe('stageEndCheckpoint', () => {
  const checkpoint = (id: string, stageIndex: number, step: number, final = false) =>
    ({ id, stageIndex, step, final }) as Checkpoint;
  it("takes the stage's last non-final checkpoint, not a mid-stage one or the run's final", () => {
    const list = [
      checkpoint('stage-0-step-40', 0, 40),
      checkpoint('stage-0-step-80', 0, 80),
      checkpoint('stage-1-step-60', 1, 60),
      checkpoint('final', 1, 60, true),
    ];
    expect(stageEndCheckpoint(list, 0)?.id).toBe('stage-0-step-80');
    expect(stageEndCheckpoint(list, 1)?.id).toBe('stage-1-step-60');
    expect(stageEndCheckpoint(list, 2)).toBeUndefined();
  });
});
