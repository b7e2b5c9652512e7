import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startWorkerFixture, type WorkerFixture } from './worker-fixture.js';

// `buf curl` is a gRPC client we did not write: it discovers the schema through server reflection.
const run = promisify(execFile);
const buf = join(repoRoot, 'node_modules/.bin/buf');
let fixture: WorkerFixture;

beforeAll(async () => {
  fixture = await startWorkerFixture();
}, 180_000);

afterAll(async () => {
  await fixture?.close();
});

async function curl(method: string, body = '{}'): Promise<unknown> {
  const { stdout } = await run(
    buf,
    [
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      '-d',
      body,
      `http://${fixture.worker.address}/${method}`,
    ],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout);
}

describe('a third-party gRPC client (buf curl, via reflection)', () => {
  it('gets SERVING from grpc.health.v1.Health/Check', async () => {
    expect(await curl('grpc.health.v1.Health/Check')).toEqual({ status: 'SERVING' });
    expect(
      await curl('grpc.health.v1.Health/Check', '{"service": "midspec.worker.v1.Worker"}'),
    ).toEqual({ status: 'SERVING' });
  });

  it('calls GetCapabilities', async () => {
    const capabilities = (await curl('midspec.worker.v1.Worker/GetCapabilities')) as Record<
      string,
      unknown
    >;
    expect(capabilities.protocolVersion).toBe('midspec.worker.v1');
    expect(capabilities.builtinModels).toContain('tiny:llama');
    expect(capabilities.supportsLora).toBe(true);
  });
});
