import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { interruptible } from './interrupt.js';
import { loadRunConfig } from './run-config.js';
import { PipelineDisplay } from './run-display.js';
import { pipelineSteps, runPipeline } from './run-pipeline.js';
import { formatRunPlan, planRun } from './run-plan.js';
import { writeExperimentReport } from './run-report.js';
import { WORKER_ADDRESS_ENV } from './worker-address.js';
import { openWorkerSession } from './worker-session.js';

interface RunOptions {
  out?: string;
  worker?: string;
  python?: string;
  dryRun?: boolean;
}

export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run <experiment>')
    .description(
      'Run a whole experiment: specs → corpora → demonstrations → training arms × seeds → evals → report (every step cached by its inputs)',
    )
    .option('--out <dir>', 'output folder (default runs/<experiment name>)')
    .option(
      '--worker <address>',
      `a running worker HOST:PORT (env ${WORKER_ADDRESS_ENV}); default: start a local one`,
    )
    .option('--python <path>', 'Python with midspec_worker, for the local worker')
    .option(
      '--dry-run',
      'print the plan with projected tokens, training steps and API cost; run nothing',
    )
    .action(async (file: string, options: RunOptions) => {
      const loaded = await loadRunConfig(resolve(io.cwd, file));
      if (options.dryRun) {
        io.stdout.write(formatRunPlan(await planRun(loaded), loaded.config));
        return;
      }
      const outDir = resolve(io.cwd, options.out ?? `runs/${loaded.config.name}`);
      const startedAt = Date.now();
      await interruptible(
        io,
        'rerun the same command to resume (finished steps are cached)',
        async (signal) => {
          const session = await openWorkerSession(io, {
            worker: options.worker,
            python: options.python,
            dataDir: resolve(outDir, 'worker'),
            allowLocal: true,
            signal,
          });
          try {
            const display = new PipelineDisplay(io.stderr, pipelineSteps(loaded.config) + 1);
            const result = await runPipeline({
              loaded,
              outDir,
              client: session.client,
              address: session.client.address,
              display,
              env: io.env,
              signal,
            });
            display.step('report');
            const { markdown } = await writeExperimentReport(outDir, result);
            display.done(`${resolve(outDir, 'report.md')}`);
            io.stdout.write(
              `${markdown}\nwall time ${((Date.now() - startedAt) / 1000).toFixed(0)} s; report in ${outDir}\n`,
            );
          } finally {
            await session.close();
          }
        },
      );
    });
}
