import { stableJson } from '@midspec/core';
import type { Checkpoint } from '@midspec/proto';
import type { RunConfig } from './run-config.js';

type Arm = RunConfig['arms'][number];

/** Where an arm whose stages open another arm's is read from instead of being trained. */
export interface SharedStages {
  /** The arm whose runs train these stages (and more after them). */
  source: string;
  /** How many of the source's stages the arm has: it is read at the end of stage `stages − 1`. */
  stages: number;
}

/** Everything about an arm that decides its training, except its name, description and stages. */
const settingsOf = ({ name: _name, description: _description, stages: _stages, ...rest }: Arm) =>
  stableJson(rest);

/**
 * Arms whose stages are exactly the first stages of another, longer arm (same stages, same arm
 * settings; every arm runs at the experiment's seeds): such an arm is not trained on its own but
 * read from the longer arm's run at each seed, at the checkpoint that run writes when the shared
 * stages end. The worker seeds a stage from the run's seed and the stage's index and keeps every
 * stage's last checkpoint, so these are the weights the arm's own run would have trained — the
 * cheese study's MSM-only arms are the MSM stage of its MSM+AFT runs. Arms without stages (the
 * untrained base) are left alone. The source is always an arm that is trained itself, the first
 * in file order among the longer arms.
 */
export function sharedStagePrefixes(arms: Arm[]): Map<string, SharedStages> {
  const found = new Map<string, SharedStages>();
  const stagesOf = (arm: Arm) => arm.stages.map((stage) => stableJson(stage));
  for (const arm of arms) {
    if (arm.stages.length === 0) continue;
    const own = stagesOf(arm);
    const source = arms.find(
      (other) =>
        other !== arm &&
        other.stages.length > arm.stages.length &&
        settingsOf(other) === settingsOf(arm) &&
        own.every((stage, index) => stage === stagesOf(other)[index]),
    );
    if (source) found.set(arm.name, { source: source.name, stages: arm.stages.length });
  }
  // A source must be trained, not read from a third arm: take the longest chain's end.
  for (const [name, shared] of found) {
    let source = shared.source;
    for (let next = found.get(source); next; next = found.get(source)) source = next.source;
    found.set(name, { ...shared, source });
  }
  return found;
}

/**
 * The checkpoint a run wrote when its stage `stageIndex` ended: that stage's non-final checkpoint
 * with the highest step (a stage also writes checkpoints mid-way when `checkpointEverySteps` asks).
 */
export function stageEndCheckpoint(
  checkpoints: Checkpoint[],
  stageIndex: number,
): Checkpoint | undefined {
  return checkpoints
    .filter((checkpoint) => !checkpoint.final && checkpoint.stageIndex === stageIndex)
    .reduce<Checkpoint | undefined>(
      (best, checkpoint) => (best && best.step >= checkpoint.step ? best : checkpoint),
      undefined,
    );
}
