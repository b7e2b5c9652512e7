import { resolve } from 'node:path';
import { startLocalWorker } from '@midspec/runner';
import { formatConformanceTable, runConformance } from '@midspec/worker-testkit';
import type { Command } from 'commander';
import { CliExit } from './cli-exit.js';
import type { CliIo } from './cli-io.js';
import { printResult, withJsonOption } from './json-output.js';
import { parseInteger } from './option-parsers.js';
import { requireWorkerAddress } from './worker-address.js';

export function registerWorkerCommands(program: Command, io: CliIo): void {
  const worker = program.command('worker').description('Run and inspect midspec workers');

  withJsonOption(worker.command('start'))
    .description('Start the reference PyTorch worker from its own environment and keep it running')
    .option('--host <host>', 'address to bind (127.0.0.1 keeps it local)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', parseInteger, 50051)
    .option('--data-dir <dir>', 'where datasets, runs and checkpoints live', '.midspec/worker')
    .option(
      '--python <path>',
      'Python interpreter with midspec_worker installed (env MIDSPEC_WORKER_PYTHON)',
    )
    .action(
      async (options: {
        host: string;
        port: number;
        dataDir: string;
        python?: string;
        json?: boolean;
      }) => {
        const dataDir = resolve(io.cwd, options.dataDir);
        const local = await startLocalWorker({
          dataDir,
          host: options.host,
          port: options.port,
          python: options.python,
          env: io.env,
          onLog: (line) => io.stderr.write(`${line}\n`),
        });
        printResult(
          io,
          options,
          { address: local.address, dataDir },
          () =>
            `midspec worker listening on ${local.address} (data in ${dataDir})\n` +
            `use it with --worker ${local.address} or MIDSPEC_WORKER=${local.address}\n`,
        );
        const forward = (signal: NodeJS.Signals) => () => {
          io.stderr.write(`received ${signal}, stopping the worker\n`);
          void local.stop();
        };
        const onInt = forward('SIGINT');
        const onTerm = forward('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
        const code = await local.exited;
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        if (code !== 0) throw new CliExit(code);
      },
    );

  withJsonOption(worker.command('conformance'))
    .description(
      'Check that a worker keeps the midspec.worker.v1 contract: uploads (hash checks, dedup, resume), ' +
        'idempotent submission, watch resume, cancellation, error codes, health and reflection. ' +
        'It uploads small datasets and trains a few tiny runs on that worker.',
    )
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .option(
      '--model <model>',
      "base model for the tiny runs (default: the worker's first built-in)",
    )
    .option('--only <checks...>', 'only the checks whose id starts with one of these')
    .action(
      async (options: { worker?: string; model?: string; only?: string[]; json?: boolean }) => {
        const address = requireWorkerAddress(options.worker, io.env);
        const results = await runConformance(address, {
          ...(options.model && { model: options.model }),
          ...(options.only && { only: options.only }),
          onResult: (result) =>
            io.stderr.write(`${result.status.padEnd(4)}  ${result.id} (${result.durationMs} ms)\n`),
        });
        printResult(io, options, results, () => formatConformanceTable(results));
        if (results.some((result) => result.status === 'fail')) throw new CliExit(1);
      },
    );
}
