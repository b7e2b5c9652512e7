import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatConformanceTable, runConformance } from '@midspec/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningWorker,
  startWorker,
} from '../examples/bring-your-own-worker/src/start-worker.js';

const fakeTrainer = fileURLToPath(
  new URL('../examples/bring-your-own-worker/scripts/fake-trainer.mjs', import.meta.url),
);

let worker: RunningWorker;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'midspec-byow-'));
  worker = await startWorker({
    dataDir,
    port: 0,
    trainCommand: `node ${JSON.stringify(fakeTrainer)}`,
    heartbeatMs: 500,
  });
});

afterAll(async () => {
  await worker?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the bring-your-own-worker example', () => {
  it('passes every conformance check, download included', async () => {
    const results = await runConformance(worker.address);
    const table = formatConformanceTable(results);
    const notPassed = results.filter((result) => result.status !== 'pass');
    expect(notPassed, table).toEqual([]);
  }, 120_000);
});
