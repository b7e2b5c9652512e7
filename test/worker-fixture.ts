import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalWorker, startLocalWorker } from '@midspec/cli';
import { createWorkerClient, type WorkerClient } from '@midspec/proto';

export interface WorkerFixture {
  worker: LocalWorker;
  client: WorkerClient;
  dataDir: string;
  logs: string[];
  close(): Promise<void>;
}

/** Starts the real Python worker on a free port with a fresh data folder. */
export async function startWorkerFixture(extraArgs: string[] = []): Promise<WorkerFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), 'midspec-e2e-'));
  const logs: string[] = [];
  const worker = await startLocalWorker({
    dataDir,
    port: 0,
    extraArgs,
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

export const repoRoot = new URL('..', import.meta.url).pathname;
export const workerPython = join(repoRoot, 'workers/torch/.venv/bin/python');
