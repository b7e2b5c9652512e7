import { resolve } from 'node:path';
import { MidspecError } from '@midspec/core';
import type { Run, WorkerClient } from '@midspec/proto';
import {
  formatExperimentPlan,
  loadExperiment as loadRunnerExperiment,
  planExperiment as planRunnerExperiment,
} from '@midspec/runner';
import {
  findPlannedRuns,
  loadTrainingExperiment,
  planToJson,
  planTrainingExperiment,
  runStateName,
  submitExperiment,
  type TrainingPlan,
  watchRun,
} from '@midspec/trainer';
import type { Command } from 'commander';
import { CliExit } from './cli-exit.js';
import type { CliIo } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { formatTable } from './command-runs.js';
import { uploadBars } from './command-train.js';
import { experimentFormat } from './experiment-format.js';
import { ExperimentProgress } from './experiment-progress.js';
import { interruptible } from './interrupt.js';
import { printResult, withJsonOption } from './json-output.js';
import { openWorkerSession } from './worker-session.js';

const WORKER_OPTION = ['--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)'] as const;

async function plan(io: CliIo, file: string): Promise<TrainingPlan> {
  const path = resolve(io.cwd, file);
  if ((await experimentFormat(path)) === 'runner')
    throw new CliUsageError(
      `${file} is a whole study (specs, corpora, evals): \`midspec run ${file}\` generates the data its arms train on, trains and evaluates them; \`midspec experiment plan ${file}\` shows its plan`,
    );
  return planTrainingExperiment(await loadTrainingExperiment(path));
}

export function registerExperimentCommands(program: Command, io: CliIo): void {
  const experiment = program
    .command('experiment')
    .description('Plan, submit and follow an experiment: named arms × seeds, each a run');

  withJsonOption(experiment.command('plan <experiment>'))
    .description(
      'Expand an experiment into its runs (arm, seed, stages, idempotency key) without contacting a worker',
    )
    .action(async (file: string, options: { json?: boolean }) => {
      const path = resolve(io.cwd, file);
      if ((await experimentFormat(path)) === 'runner') {
        // The same plan as `midspec run --dry-run`: one experiment format for both commands.
        const loaded = await loadRunnerExperiment(path);
        const projected = await planRunnerExperiment(loaded);
        printResult(io, options, projected, () => formatExperimentPlan(projected, loaded.config));
        return;
      }
      const expanded = await plan(io, file);
      if (options.json) return printResult(io, options, planToJson(expanded), () => '');
      io.stdout.write(
        formatTable(
          ['DATASET', 'FORMAT', 'RECORDS', '~TOKENS', 'SHA256'],
          expanded.datasets.map((dataset) => [
            dataset.name,
            dataset.format ?? '?',
            String(dataset.validation?.statistics.records ?? ''),
            String(dataset.validation?.statistics.estimatedTokens ?? ''),
            dataset.id.slice(0, 16),
          ]),
        ),
      );
      io.stdout.write('\n');
      const arms = new Map(expanded.experiment.arms.map((arm) => [arm.name, arm]));
      io.stdout.write(
        formatTable(
          ['RUN', 'ARM', 'SEED', 'STAGES', 'IDEMPOTENCY KEY'],
          expanded.runs.map((run) => [
            run.name,
            run.arm,
            String(run.seed),
            run.trains
              ? (arms.get(run.arm)?.curriculum.stages ?? [])
                  .map(
                    (stage) =>
                      `${stage.name}(${stage.data.map((source) => source.dataset).join('+')})`,
                  )
                  .join(' → ')
              : '(base model, not trained)',
            run.trains ? run.idempotencyKey : '',
          ]),
        ),
      );
    });

  withJsonOption(experiment.command('submit <experiment>'))
    .description('Upload the data and submit every run; safe to repeat (runs are never duplicated)')
    .option(...WORKER_OPTION)
    .option('--watch', 'follow the runs to the end after submitting')
    .action(async (file: string, options: { worker?: string; watch?: boolean; json?: boolean }) => {
      const expanded = await plan(io, file);
      await interruptible(
        io,
        'the runs submitted so far go on on the worker; rerun the same command to resume (it never duplicates a run)',
        async (signal) => {
          const session = await openWorkerSession(io, { ...options, allowLocal: false, signal });
          try {
            const submitted = await submitExperiment(session.client, expanded, {
              signal,
              onUploadProgress: uploadBars(io),
              onUploaded: (dataset, uploaded) =>
                io.stderr.write(
                  `${dataset.name}: ${uploaded.alreadyExisted ? 'already on the worker' : `uploaded ${uploaded.dataset.sizeBytes} bytes`}\n`,
                ),
              onSubmitted: ({ planned, run, alreadyExisted }) => {
                if (!options.json)
                  io.stdout.write(
                    `${planned.name}  ${run.id}  ${alreadyExisted ? 'already submitted' : 'submitted'}\n`,
                  );
              },
            });
            const runs = new Map(submitted.map((entry) => [entry.planned.name, entry.run]));
            const watched = options.watch
              ? await watchAll(io, session.client, runs, signal, options)
              : undefined;
            if (options.json && !watched)
              printResult(
                io,
                options,
                {
                  runs: submitted.map(({ planned, run, alreadyExisted }) => ({
                    name: planned.name,
                    id: run.id,
                    alreadyExisted,
                  })),
                },
                () => '',
              );
          } finally {
            await session.close();
          }
        },
      );
    });

  withJsonOption(experiment.command('status <experiment>'))
    .description('Show the state of each run of an experiment on the worker')
    .option(...WORKER_OPTION)
    .action(async (file: string, options: { worker?: string; json?: boolean }) => {
      const expanded = await plan(io, file);
      const session = await openWorkerSession(io, { ...options, allowLocal: false });
      try {
        const found = await findPlannedRuns(session.client, expanded);
        const rows = expanded.runs.map((planned) => {
          const run = found.get(planned.name);
          return {
            name: planned.name,
            id: run?.id ?? '',
            state: planned.trains
              ? run
                ? runStateName(run.state)
                : 'not submitted'
              : 'base model',
            stage: run ? `${run.stageIndex + 1}/${run.spec?.stages.length ?? 0}` : '',
            step: run ? `${run.step}/${run.totalSteps}` : '',
            loss: run?.latestMetrics ? run.latestMetrics.loss.toFixed(4) : '',
          };
        });
        if (options.json) return printResult(io, options, rows, () => '');
        io.stdout.write(
          formatTable(
            ['RUN', 'ID', 'STATE', 'STAGE', 'STEP', 'LOSS'],
            rows.map((row) => Object.values(row)),
          ),
        );
      } finally {
        await session.close();
      }
    });

  withJsonOption(experiment.command('watch <experiment>'))
    .description(
      'Follow every submitted run of an experiment to its end; Ctrl-C stops watching, never the runs',
    )
    .option(...WORKER_OPTION)
    .action(async (file: string, options: { worker?: string; json?: boolean }) => {
      const expanded = await plan(io, file);
      await interruptible(
        io,
        'the runs go on on the worker; rerun the same command to follow them',
        async (signal) => {
          const session = await openWorkerSession(io, { ...options, allowLocal: false, signal });
          try {
            const found = await findPlannedRuns(session.client, expanded, { signal });
            if (found.size === 0)
              throw new MidspecError({
                code: 'cli/nothing-to-watch',
                message: `no run of ${expanded.experiment.name} is on the worker yet: run \`midspec experiment submit ${file}\``,
              });
            await watchAll(io, session.client, found, signal, options);
          } finally {
            await session.close();
          }
        },
      );
    });
}

/** Follows runs together with one progress line each; exits 1 when any run did not succeed. */
async function watchAll(
  io: CliIo,
  client: WorkerClient,
  runs: Map<string, Run>,
  signal: AbortSignal | undefined,
  options: { json?: boolean },
): Promise<true> {
  const progress = new ExperimentProgress(
    io.stderr,
    [...runs].map(([name, run]) => ({ name, state: runStateName(run.state) })),
  );
  const finals = await Promise.all(
    [...runs].map(async ([name, run]) => {
      // From the first event: a finished run replays its history and ends at once.
      for await (const event of watchRun(client, run.id, { signal })) progress.handle(name, event);
      return [name, await client.getRun({ runId: run.id }, { signal })] as const;
    }),
  );
  progress.close();
  const failed = finals.filter(([, run]) => runStateName(run.state) !== 'succeeded');
  printResult(
    io,
    options,
    {
      runs: finals.map(([name, run]) => ({
        name,
        id: run.id,
        state: runStateName(run.state),
        ...(run.error && { error: run.error.message }),
      })),
    },
    () =>
      `${finals.length - failed.length} of ${finals.length} runs succeeded\n${failed
        .map(
          ([name, run]) =>
            `  ${name}: ${runStateName(run.state)}${run.error ? ` (${run.error.message})` : ''}\n`,
        )
        .join('')}`,
  );
  if (failed.length > 0) throw new CliExit(1);
  return true;
}
