import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorkerClient, type WorkerClient } from '@midspec/proto';
import { type LocalWorker, startLocalWorker } from '@midspec/runner';

export interface WorkerFixture {
  worker: LocalWorker;
  client: WorkerClient;
  dataDir: string;
  logs: string[];
  close(): Promise<void>;
}

/** Starts the real Python worker on a free port with a fresh data folder. */
export async function startWorkerFixture(
  options: string[] | { extraArgs?: string[]; env?: NodeJS.ProcessEnv } = [],
): Promise<WorkerFixture> {
  const { extraArgs = [], env } = Array.isArray(options) ? { extraArgs: options } : options;
  const dataDir = await mkdtemp(join(tmpdir(), 'midspec-e2e-'));
  const logs: string[] = [];
  const worker = await startLocalWorker({
    dataDir,
    port: 0,
    extraArgs,
    ...(env && { env }),
    onLog: (line) => logs.push(line),
  });
  const client = createWorkerClient(worker.address);
  return {
    worker,
    client,
    dataDir,
    logs,
    async close() {
      client.close();
      await worker.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** An output stream for runCli that keeps what was written. */
export function captureOutput() {
  let text = '';
  return {
    stream: { write: (chunk: string) => (text += chunk), isTTY: false },
    text: () => text,
  };
}

export const repoRoot = new URL('..', import.meta.url).pathname;
export const workerPython = join(repoRoot, 'workers/torch/.venv/bin/python');
