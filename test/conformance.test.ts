import { formatConformanceTable, runConformance } from '@midspec/worker-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerFixture, type WorkerFixture } from './worker-fixture.js';

let fixture: WorkerFixture;

beforeAll(async () => {
  fixture = await startWorkerFixture();
}, 180_000);

afterAll(async () => {
  await fixture?.close();
});

describe('the reference worker passes the contract conformance suite', () => {
  it('passes every check it implements', async () => {
    const results = await runConformance(fixture.worker.address);
    const table = formatConformanceTable(results);
    console.log(table);
    const failed = results.filter((result) => result.status === 'fail');
    expect(failed, table).toEqual([]);
    // DownloadCheckpoint is the only check a worker may skip, by not listing it in implemented_rpcs.
    expect(
      results.filter((result) => result.status === 'skip' && result.id !== 'download'),
    ).toEqual([]);
  }, 900_000); // the semantic checks train three more tiny runs
});
