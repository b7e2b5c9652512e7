import { resolve } from 'node:path';
import {
  formatExperimentPlan,
  loadExperiment,
  planExperiment,
  runExperiment,
} from '@midspec/runner';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { interruptible } from './interrupt.js';
import { printResult, withJsonOption } from './json-output.js';
import { RunnerEventDisplay } from './run-display.js';
import { optionalWorkerAddress, WORKER_ADDRESS_ENV } from './worker-address.js';

interface RunOptions {
  out?: string;
  worker?: string;
  python?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerRunCommand(program: Command, io: CliIo): void {
  withJsonOption(program.command('run <experiment>'))
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
      const loaded = await loadExperiment(resolve(io.cwd, file));
      if (options.dryRun) {
        const plan = await planExperiment(loaded);
        printResult(io, options, plan, () => formatExperimentPlan(plan, loaded.config));
        return;
      }
      const worker = optionalWorkerAddress(options.worker, io.env);
      const startedAt = Date.now();
      await interruptible(
        io,
        'rerun the same command to resume (finished steps are cached)',
        async (signal) => {
          const outcome = await runExperiment(loaded, {
            outDir: resolve(io.cwd, options.out ?? `runs/${loaded.config.name}`),
            ...(worker && { worker }),
            ...(options.python && { python: options.python }),
            onEvent: new RunnerEventDisplay(io.stderr).handle,
            env: io.env,
            signal,
          });
          const seconds = (Date.now() - startedAt) / 1000;
          printResult(
            io,
            options,
            { outDir: outcome.outDir, seconds, report: outcome.report, result: outcome.result },
            () =>
              `${outcome.markdown}\nwall time ${seconds.toFixed(0)} s; report in ${outcome.outDir}\n`,
          );
        },
      );
    });
}
