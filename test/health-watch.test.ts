import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerFixture, type WorkerFixture } from './worker-fixture.js';

// grpc.health.v1.Health/Watch, as clients that gate on server health use it, against a worker
// whose bearer-token guard wraps every handler. HealthCheckRequest{service: ""} is empty on the
// wire; HealthCheckResponse is field 1, a varint enum (1 = SERVING).
let fixture: WorkerFixture;

beforeAll(async () => {
  fixture = await startWorkerFixture({
    extraArgs: [],
    env: { ...process.env, MIDSPEC_WORKER_TOKEN: 's3cret' },
  });
}, 180_000);

afterAll(async () => {
  await fixture?.close();
});

function status(bytes: Buffer): number {
  return bytes.length >= 2 && bytes[0] === 0x08 ? (bytes[1] ?? 0) : 0;
}

describe('gRPC health Watch through the auth guard', () => {
  it('streams SERVING to a grpc-js client without a token', async () => {
    const client = new grpc.Client(fixture.worker.address, grpc.credentials.createInsecure());
    try {
      const first = await new Promise<number>((resolve, reject) => {
        const call = client.makeServerStreamRequest(
          '/grpc.health.v1.Health/Watch',
          (request: Buffer) => request,
          (response: Buffer) => response,
          Buffer.alloc(0),
          { deadline: Date.now() + 20_000 },
        );
        call.on('data', (message: Buffer) => {
          resolve(status(message));
          call.cancel();
        });
        call.on('error', (error: grpc.ServiceError) => {
          if (error.code !== grpc.status.CANCELLED) reject(error);
        });
      });
      expect(first).toBe(1);
    } finally {
      client.close();
    }
  }, 60_000);
});
