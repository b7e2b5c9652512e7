import { createWorkerClient, runStateFromJSON, type WorkerClient } from '@midspec/proto';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { FINAL_STATES, followRun } from './follow-run.js';
import { parseInteger } from './option-parsers.js';
import { RunProgress, stateName } from './run-progress.js';
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

  runs
    .command('list')
    .description('List runs, newest first')
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .option('--state <state...>', 'only runs in these states (queued, running, succeeded, …)')
    .option('--format <format>', 'table or json', 'table')
    .action(async (options: { worker?: string; state?: string[]; format: string }) => {
      const states = (options.state ?? []).map((state) => {
        const parsed = runStateFromJSON(`RUN_STATE_${state.toUpperCase()}`);
        if (parsed < 1) throw new CliUsageError(`unknown run state "${state}"`);
        return parsed;
      });
      const address = requireWorkerAddress(options.worker, io.env);
      const response = await withClient(address, (client) => client.listRuns({ states }));
      if (options.format === 'json') {
        io.stdout.write(`${JSON.stringify(response.runs, null, 2)}\n`);
        return;
      }
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

  runs
    .command('watch <runId>')
    .description(
      'Follow a run to its end with a progress bar; Ctrl-C stops watching, never the run',
    )
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .option('--after-seq <n>', 'resume after this event number', parseInteger, 0)
    .action(async (runId: string, options: { worker?: string; afterSeq: number }) => {
      const address = requireWorkerAddress(options.worker, io.env);
      await withClient(address, async (client) => {
        const progress = new RunProgress(io.stderr, (line) => io.stderr.write(`${line}\n`));
        const run = await followRun(client, runId, {
          afterSeq: options.afterSeq,
          onEvent: (event) => progress.handle(event),
        });
        progress.close();
        io.stdout.write(`run ${run.id} ${stateName(run.state)}\n`);
      });
    });

  runs
    .command('cancel <runId>')
    .description('Cancel a run at its next step boundary (its last checkpoint is kept)')
    .option('--worker <address>', 'worker HOST:PORT (env MIDSPEC_WORKER)')
    .action(async (runId: string, options: { worker?: string }) => {
      const address = requireWorkerAddress(options.worker, io.env);
      const run = await withClient(address, (client) => client.cancelRun({ runId }));
      const note = FINAL_STATES.has(run.state) ? '' : ' (stops at the next step boundary)';
      io.stdout.write(`run ${run.id} ${stateName(run.state)}${note}\n`);
    });
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
