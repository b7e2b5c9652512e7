import { resolve } from 'node:path';
import { createWorkerClient, type WorkerClient } from '@midspec/proto';
import { type LocalWorker, startLocalWorker } from '@midspec/runner';
import { connectWorker } from '@midspec/trainer';
import type { CliIo } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';
import { optionalWorkerAddress, requireWorkerAddress } from './worker-address.js';

export interface WorkerSession {
  client: WorkerClient;
  close(): Promise<void>;
}

/**
 * A client of the worker named by --worker (or MIDSPEC_WORKER), checked to answer; without one, a
 * local worker started for this command and stopped by `close` (which the command calls in its
 * `finally`, on Ctrl-C too: see interrupt.ts).
 */
export async function openWorkerSession(
  io: CliIo,
  options: {
    worker?: string;
    dataDir?: string;
    python?: string;
    allowLocal: boolean;
    why?: string;
    /** Stops a local worker that is still starting. */
    signal?: AbortSignal;
  },
): Promise<WorkerSession> {
  const address = options.allowLocal
    ? optionalWorkerAddress(options.worker, io.env)
    : requireWorkerAddress(options.worker, io.env);
  if (address) {
    const { client } = await connectWorker(address, { signal: options.signal });
    return { client, close: async () => client.close() };
  }
  if (options.why) throw new CliUsageError(options.why);
  io.stderr.write('starting a local worker (pass --worker HOST:PORT to use a running one)…\n');
  const local: LocalWorker = await startLocalWorker({
    dataDir: resolve(io.cwd, options.dataDir ?? '.midspec/worker'),
    python: options.python,
    env: io.env,
    signal: options.signal,
  });
  io.stderr.write(`local worker listening on ${local.address}\n`);
  const client = createWorkerClient(local.address);
  return {
    client,
    async close() {
      client.close();
      await local.stop();
    },
  };
}
