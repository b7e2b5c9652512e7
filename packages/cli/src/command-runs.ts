import { resolve } from 'node:path';
import {
  CheckpointFormat,
  checkpointFormatFromJSON,
  createWorkerClient,
  runStateFromJSON,
  type WorkerClient,
} from '@midspec/proto';
import {
  downloadCheckpoint,
  FINAL_STATES,
  getMetricHistory,
  listCheckpoints,
  watchRunEvents,
} from '@midspec/trainer';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { printResult, withJsonOption } from './json-output.js';
import { parseInteger } from './option-parsers.js';
import { ProgressBar } from './progress-bar.js';
import { RunEventsDisplay, stateName } from './run-progress.js';
import { requireWorkerAddress } from './worker-address.js';

async function withClient<T>(
  address: string,
  use: (client: WorkerClient) => Promise<T>,
): Promise<T> {
  const client = createWorkerClient(address);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

export function registerRunsCommands(program: Command, io: CliIo): void {
  const runs = program.command('runs').description('List, watch and cancel runs on a worker');

  withJsonOption(runs.command('list'))
    .description('List runs, newest first')
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .option('--state <state...>', 'only runs in these states (queued, running, succeeded, …)')
    .action(async (options: { worker?: string; state?: string[]; json?: boolean }) => {
      const states = (options.state ?? []).map((state) => {
        const parsed = runStateFromJSON(`RUN_STATE_${state.toUpperCase()}`);
        if (parsed < 1) throw new CliUsageError(`unknown run state "${state}"`);
        return parsed;
      });
      const address = requireWorkerAddress(options.worker, io.env);
      const response = await withClient(address, (client) => client.listRuns({ states }));
      if (options.json) return printResult(io, options, response.runs, () => '');
      const rows = response.runs.map((run) => [
        run.id,
        run.spec?.name ?? '',
        stateName(run.state),
        `${run.stageIndex + 1}/${run.spec?.stages.length ?? 0}`,
        `${run.step}/${run.totalSteps}`,
        run.latestMetrics ? run.latestMetrics.loss.toFixed(4) : '',
        run.createdAt?.toISOString() ?? '',
      ]);
      io.stdout.write(
        formatTable(['ID', 'NAME', 'STATE', 'STAGE', 'STEP', 'LOSS', 'CREATED'], rows),
      );
    });

  withJsonOption(runs.command('watch <runId>'))
    .description(
      'Follow a run to its end with a progress bar; Ctrl-C stops watching, never the run',
    )
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .option('--after-seq <n>', 'resume after this event number', parseInteger, 0)
    .action(
      async (runId: string, options: { worker?: string; afterSeq: number; json?: boolean }) => {
        const address = requireWorkerAddress(options.worker, io.env);
        await withClient(address, async (client) => {
          const progress = new RunEventsDisplay(io.stderr, (line) => io.stderr.write(`${line}\n`));
          const watching = watchRunEvents(client, runId, {
            afterSeq: options.afterSeq,
            // Rides out worker restarts (up to DEFAULT_RECONNECT_WINDOW_MS without an event).
            onReconnect: ({ attempt, afterSeq }) =>
              io.stderr.write(
                `worker unreachable; reconnecting after event ${afterSeq} (try ${attempt})\n`,
              ),
          });
          for await (const event of watching) progress.handle(event);
          progress.close();
          const run = await client.getRun({ runId });
          printResult(io, options, run, () => `run ${run.id} ${stateName(run.state)}\n`);
        });
      },
    );

  withJsonOption(runs.command('cancel <runId>'))
    .description('Cancel a run at its next step boundary (its last checkpoint is kept)')
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .action(async (runId: string, options: { worker?: string; json?: boolean }) => {
      const address = requireWorkerAddress(options.worker, io.env);
      const run = await withClient(address, (client) => client.cancelRun({ runId }));
      const note = FINAL_STATES.has(run.state) ? '' : ' (stops at the next step boundary)';
      printResult(io, options, run, () => `run ${run.id} ${stateName(run.state)}${note}\n`);
    });

  withJsonOption(runs.command('metrics <runId>'))
    .description('Print the metric history of a run (every step of every stage so far)')
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .action(async (runId: string, options: { worker?: string; json?: boolean }) => {
      const address = requireWorkerAddress(options.worker, io.env);
      const history = await withClient(address, (client) => getMetricHistory(client, runId));
      if (options.json) return printResult(io, options, history, () => '');
      const rows = history.map((metrics) => [
        String(metrics.stageIndex + 1),
        `${metrics.step}/${metrics.totalSteps}`,
        metrics.loss.toFixed(4),
        metrics.learningRate.toExponential(2),
        metrics.gradNorm.toFixed(3),
        metrics.tokensPerSecond.toFixed(0),
      ]);
      io.stdout.write(formatTable(['STAGE', 'STEP', 'LOSS', 'LR', 'GRAD_NORM', 'TOK/S'], rows));
    });

  withJsonOption(runs.command('checkpoints <runId>'))
    .description("List a run's checkpoints")
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .action(async (runId: string, options: { worker?: string; json?: boolean }) => {
      const address = requireWorkerAddress(options.worker, io.env);
      const checkpoints = await withClient(address, (client) => listCheckpoints(client, runId));
      if (options.json) return printResult(io, options, checkpoints, () => '');
      const rows = checkpoints.map((checkpoint) => [
        checkpoint.id,
        String(checkpoint.stageIndex + 1),
        String(checkpoint.step),
        checkpoint.final ? 'yes' : '',
        String(checkpoint.sizeBytes),
        checkpoint.localPath,
      ]);
      io.stdout.write(formatTable(['ID', 'STAGE', 'STEP', 'FINAL', 'BYTES', 'PATH'], rows));
    });

  withJsonOption(runs.command('download <runId>'))
    .description('Download a checkpoint to a folder (streamed, every file sha256-verified)')
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .option('--checkpoint <id>', 'checkpoint id (default: the latest)')
    .option('--format <format>', 'native, adapter, merged-hf or onnx', 'native')
    .requiredOption('--out <dir>', 'folder to write the files into')
    .action(
      async (
        runId: string,
        options: {
          worker?: string;
          checkpoint?: string;
          format: string;
          out: string;
          json?: boolean;
        },
      ) => {
        const format =
          options.format === 'native'
            ? CheckpointFormat.CHECKPOINT_FORMAT_UNSPECIFIED
            : checkpointFormatFromJSON(
                `CHECKPOINT_FORMAT_${options.format.toUpperCase().replace('-', '_')}`,
              );
        if (format < 0) throw new CliUsageError(`unknown checkpoint format "${options.format}"`);
        const address = requireWorkerAddress(options.worker, io.env);
        const directory = resolve(io.cwd, options.out);
        let bar: ProgressBar | undefined;
        const downloaded = await withClient(address, (client) =>
          downloadCheckpoint(client, runId, directory, {
            ...(options.checkpoint && { checkpointId: options.checkpoint }),
            format,
            onProgress: (progress) => {
              bar ??= new ProgressBar(io.stderr, 'download', progress.totalBytes);
              bar.update(progress.bytes, { MB: (progress.bytes / 1e6).toFixed(1) });
            },
          }),
        );
        bar?.done();
        printResult(
          io,
          options,
          { checkpoint: downloaded.checkpoint, directory, files: downloaded.files },
          () =>
            `checkpoint ${downloaded.checkpoint?.id ?? ''}: ${downloaded.files.length} files verified in ${directory}\n`,
        );
      },
    );
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `${cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  return [header, ...rows].map(line).join('');
}
