import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '@midspec/cli';
import type { Backend } from '@midspec/eval';
import { type Run, RunSpec, RunState } from '@midspec/proto';
import { runExperiment } from '@midspec/runner';
import {
  curriculumExperiment,
  parseCurriculum,
  planTrainingExperiment,
  submitExperiment,
} from '@midspec/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captureOutput,
  repoRoot,
  startWorkerFixture,
  type WorkerFixture,
  workerPython,
} from './worker-fixture.js';

// One recipe: the same training asked for three ways must reach the worker as the same effective
// run spec (the worker applies every default; the TypeScript side sends only what was set).
const quickstart = join(repoRoot, 'examples/quickstart');
const documents = join(quickstart, 'documents.jsonl');
const chats = join(quickstart, 'chats.jsonl');
// What the user sets, the same in each path; everything else is left to the worker.
const settings = {
  optimizer: { learningRate: 3e-3 },
  budget: { maxSteps: 2 },
  packing: { maxLength: 128 },
  adapter: { type: 'lora' as const, r: 8 },
};
const stages = [
  { kind: 'midtrain' as const, data: ['docs'], ...settings },
  { kind: 'sft' as const, data: ['chats'], ...settings },
];
const datasets = { docs: { path: documents }, chats: { path: chats } };

/** An eval backend that answers at once: this test is about training, not scores. */
function noEval(model: string): Backend {
  return {
    id: `test:${model}`,
    model,
    limiterKey: 'test',
    sample: async () => {
      throw new Error('not used');
    },
    scoreLogprobs: async (items) =>
      items.map(() => ({
        logprob: -1,
        continuationTokens: 1,
        usage: { inputTokens: 1, outputTokens: 0 },
      })),
    close: async () => {},
  };
}

/** The effective spec without what names a run (its name and labels). */
function recipe(run: Run): unknown {
  expect(run.effectiveSpec, `run ${run.id} reports no effective spec`).toBeDefined();
  const {
    name: _name,
    labels: _labels,
    ...rest
  } = RunSpec.toJSON(run.effectiveSpec as RunSpec) as Record<string, unknown>;
  return rest;
}

let fixture: WorkerFixture;
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'midspec-effective-'));
  fixture = await startWorkerFixture({ env: { ...process.env, MIDSPEC_TORCH_THREADS: '1' } });
}, 180_000);

afterAll(async () => {
  await fixture?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe.skipIf(!existsSync(workerPython))(
  'one recipe across the SDK, `midspec train` and `midspec run`',
  () => {
    it('reaches the worker as the same effective run spec', { timeout: 300_000 }, async () => {
      const { client } = fixture;

      // (3) `midspec run`'s training step: the runner library the command is a shell over. Its run
      // trains; while it holds the worker's one training slot, the other two wait queued, show their
      // spec, and are cancelled before they start.
      let failed: unknown;
      const experiment = runExperiment(
        {
          baseDir: directory,
          experiment: {
            name: 'effective-spec',
            base: { model: 'tiny:llama' },
            specs: [{ name: 'spec', file: join(repoRoot, 'examples/specs/cheese-america.yaml') }],
            corpus: {
              provider: 'template',
              config: { seed: 0, domains: 1, subdomains: 1, assertions: 1, docTypes: 1, ideas: 1 },
            },
            datasets,
            arms: [{ name: 'msm-aft', stages }],
            evals: [
              { file: join(repoRoot, 'examples/sdk-quickstart/held-out-suite.yaml'), limit: 1 },
            ],
          },
        },
        { worker: fixture.worker.address, outDir: join(directory, 'out'), backendFor: noEval },
      );
      experiment.catch((error: unknown) => {
        failed = error;
      });
      for (;;) {
        if (failed) throw failed;
        const { runs } = await client.listRuns({
          states: [RunState.RUN_STATE_RUNNING],
          labels: { experiment: 'effective-spec' },
        });
        if (runs.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }

      // (1) A curriculum through @midspec/trainer.
      const curriculum = parseCurriculum({ baseModel: 'tiny:llama', datasets, stages });
      const [fromCurriculum] = await submitExperiment(
        client,
        await planTrainingExperiment(curriculumExperiment(curriculum)),
      );

      // (2) `midspec train` with flags.
      const stdout = captureOutput();
      const stderr = captureOutput();
      const code = await runCli(
        [
          'node',
          'midspec',
          'train',
          '--worker',
          fixture.worker.address,
          '--text',
          documents,
          '--chat',
          chats,
          '--lr',
          '3e-3',
          '--max-steps',
          '2',
          '--max-length',
          '128',
          '--lora-r',
          '8',
          '--detach',
          '--json',
        ],
        { stdout: stdout.stream, stderr: stderr.stream, env: process.env, cwd: directory },
      );
      expect(code, stderr.text()).toBe(0);
      const printed = JSON.parse(stdout.text()) as { runId: string; effectiveSpec: unknown };
      const fromCliId = printed.runId;
      for (const runId of [fromCurriculum?.run.id ?? '', fromCliId]) {
        const cancelled = await client.cancelRun({ runId });
        expect(cancelled.state).toBe(RunState.RUN_STATE_CANCELLED);
      }

      const outcome = await experiment;
      const fromRunnerId = outcome.result.runs[0]?.runId ?? '';

      const [curriculumRun, cliRun, runnerRun] = await Promise.all(
        [fromCurriculum?.run.id ?? '', fromCliId, fromRunnerId].map((runId) =>
          client.getRun({ runId }),
        ),
      );
      expect(runnerRun?.state).toBe(RunState.RUN_STATE_SUCCEEDED);
      // `midspec train --json` prints the effective spec it got back.
      expect(RunSpec.fromJSON(printed.effectiveSpec)).toEqual((cliRun as Run).effectiveSpec);
      const expected = recipe(curriculumRun as Run);
      expect(recipe(cliRun as Run)).toEqual(expected);
      expect(recipe(runnerRun as Run)).toEqual(expected);

      // What the user set is there, and so are the worker's defaults.
      const [midtrain, sft] = (runnerRun as Run).effectiveSpec?.stages ?? [];
      expect(midtrain?.packing).toEqual({ enabled: true, maxLength: 128 });
      expect(midtrain?.optimizer?.learningRate).toBe(3e-3);
      expect(midtrain?.optimizer?.maxGradNorm).toBe(1);
      expect(midtrain?.adapter?.adapter).toEqual({
        $case: 'lora',
        lora: { r: 8, alpha: 16, dropout: 0, targetModules: ['all-linear'] },
      });
      expect([midtrain?.name, sft?.name]).toEqual(['midtrain', 'sft']);
      expect([midtrain?.continueAdapter, sft?.continueAdapter]).toEqual([false, true]);

      // The training process reports the same spec in the run's events.
      const logged: string[] = [];
      for await (const event of client.watchRun({ runId: fromRunnerId }))
        if (event.event?.$case === 'log') logged.push(event.event.log.message);
      const line = logged.find((message) => message.startsWith('effective run spec: '));
      expect(line, logged.join('\n')).toBeDefined();
      const reported = RunSpec.fromJSON(
        JSON.parse((line ?? '').slice('effective run spec: '.length)),
      );
      expect(reported).toEqual((runnerRun as Run).effectiveSpec);
      // And in the worker's log and the run's folder.
      expect(fixture.logs.some((entry) => entry.includes('"effective run spec"'))).toBe(true);
      const file = join(fixture.dataDir, 'runs', fromRunnerId, 'effective-spec.json');
      expect(RunSpec.fromJSON(JSON.parse(await readFile(file, 'utf8')))).toEqual(reported);
    });
  },
);
