import { Metadata, Server, ServerCredentials, type ServiceError, status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunEvent, RunState } from './gen/midspec/worker/v1/runs.js';
import { type WorkerServer, WorkerService } from './gen/midspec/worker/v1/worker.js';
import { createWorkerClient, type WorkerClient } from './worker-client.js';
import { WorkerError } from './worker-error.js';

function failure(code: status, details: string, extra: Record<string, string> = {}): ServiceError {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
  return Object.assign(new Error(details), { code, details, metadata });
}

const unimplemented = (_call: unknown, callback: (error: ServiceError) => void) =>
  callback(failure(status.UNIMPLEMENTED, 'not here'));

let server: Server;
let client: WorkerClient;
let watchCancelled: Promise<void>;
let uploadedBytes = 0;
let seenAuthorization: string | undefined;

beforeEach(async () => {
  let markCancelled = () => {};
  watchCancelled = new Promise((resolve) => {
    markCancelled = resolve;
  });
  uploadedBytes = 0;
  const implementation: WorkerServer = {
    getCapabilities: (call, callback) => {
      seenAuthorization = String(call.metadata.get('authorization')[0] ?? '');
      callback(null, {
        workerName: 'fake',
        workerVersion: '0',
        protocolVersion: 'midspec.worker.v1',
        modelFamilies: [],
        builtinModels: ['tiny:llama'],
        maxSequenceLength: 128,
        supportsLora: true,
        supportsFullFinetune: true,
        dtypes: [],
        devices: ['cpu'],
        maxWorldSize: 1,
        stageKinds: [],
        lossMasks: [],
        checkpointFormats: [],
        libraryVersions: {},
        implementedRpcs: [],
      });
    },
    getRun: (call, callback) =>
      callback(
        failure(status.NOT_FOUND, `run ${call.request.runId} not found`, {
          'midspec-reason': 'ERROR_REASON_RUN_NOT_FOUND',
          'midspec-retryable': 'false',
        }),
      ),
    submitRun: (_call, callback) => {
      // Never answers: exercises deadlines and cancellation.
      void callback;
    },
    uploadDataset: (call, callback) => {
      call.on('data', (message: { part?: { $case: string; chunk?: Buffer } }) => {
        if (message.part?.$case === 'chunk') uploadedBytes += message.part.chunk?.length ?? 0;
      });
      call.on('end', () =>
        callback(
          failure(status.INVALID_ARGUMENT, 'line 3: "text" must be a string', {
            'midspec-reason': 'ERROR_REASON_INVALID_DATA',
            'midspec-retryable': 'false',
            'midspec-line': '3',
          }),
        ),
      );
    },
    watchRun: (call) => {
      let seq = call.request.afterSeq;
      const timer = setInterval(() => {
        seq += 1;
        call.write(
          RunEvent.fromPartial({
            seq,
            runId: call.request.runId,
            event: { $case: 'stateChanged', stateChanged: { state: RunState.RUN_STATE_RUNNING } },
          }),
        );
      }, 5);
      call.on('cancelled', () => {
        clearInterval(timer);
        markCancelled();
      });
    },
    getUploadStatus: unimplemented,
    getDataset: unimplemented,
    listDatasets: unimplemented,
    listRuns: unimplemented,
    cancelRun: unimplemented,
    listCheckpoints: unimplemented,
    downloadCheckpoint: (call) => call.destroy(failure(status.UNIMPLEMENTED, 'later')),
    sample: unimplemented,
    sampleStream: (call) => call.destroy(failure(status.UNIMPLEMENTED, 'later')),
    scoreLogprobs: unimplemented,
    tokenize: unimplemented,
  };
  server = new Server();
  server.addService(WorkerService, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  client = createWorkerClient(`127.0.0.1:${port}`, { token: 'secret' });
});

afterEach(async () => {
  client.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

describe('WorkerClient', () => {
  it('makes unary calls and sends the bearer token', async () => {
    const capabilities = await client.getCapabilities();
    expect(capabilities.builtinModels).toEqual(['tiny:llama']);
    expect(seenAuthorization).toBe('Bearer secret');
  });

  it('turns failures into WorkerError with the server reason', async () => {
    const error = await client.getRun({ runId: 'r-404' }).catch((caught: unknown) => caught);
    expect(WorkerError.isInstance(error)).toBe(true);
    const workerError = error as WorkerError;
    expect(workerError.grpcStatus).toBe('NOT_FOUND');
    expect(workerError.reason).toBe('ERROR_REASON_RUN_NOT_FOUND');
    expect(workerError.isRetryable).toBe(false);
    expect(workerError.message).toContain('GetRun');
    expect(workerError.message).toContain('r-404 not found');
  });

  it('applies timeoutMs as a deadline', async () => {
    const error = (await client
      .submitRun({ spec: { baseModel: 'tiny:llama' } }, { timeoutMs: 50 })
      .catch((caught: unknown) => caught)) as WorkerError;
    expect(error.grpcStatus).toBe('DEADLINE_EXCEEDED');
    expect(error.isRetryable).toBe(true);
  });

  it('cancels on abort and removes its abort listener when settled', async () => {
    const controller = new AbortController();
    let listeners = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners += 1;
      add(...args);
    }) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners -= 1;
      remove(...args);
    }) as typeof remove;

    await client.getCapabilities({}, { signal });
    expect(listeners).toBe(0);

    const pending = client.submitRun({ spec: {} }, { signal });
    setTimeout(() => controller.abort(), 20);
    const error = (await pending.catch((caught: unknown) => caught)) as WorkerError;
    expect(error.grpcStatus).toBe('CANCELLED');
    expect(listeners).toBe(0);
  });

  it('streams as an AsyncIterable and cancels the stream when the consumer stops', async () => {
    const seqs: number[] = [];
    for await (const event of client.watchRun({ runId: 'r1', afterSeq: 10 })) {
      seqs.push(event.seq);
      if (seqs.length === 3) break;
    }
    expect(seqs).toEqual([11, 12, 13]);
    await watchCancelled;
  });

  it('uploads a client stream and reports the offending line', async () => {
    const chunk = Buffer.alloc(256 * 1024, 7);
    async function* parts() {
      yield {
        part: {
          $case: 'header' as const,
          header: { name: 'data.jsonl', sha256: 'x', sizeBytes: 4 },
        },
      };
      for (let index = 0; index < 16; index += 1)
        yield { part: { $case: 'chunk' as const, chunk } };
    }
    const error = (await client
      .uploadDataset(parts())
      .catch((caught: unknown) => caught)) as WorkerError;
    expect(error.grpcStatus).toBe('INVALID_ARGUMENT');
    expect(error.line).toBe(3);
    expect(error.reason).toBe('ERROR_REASON_INVALID_DATA');
    expect(uploadedBytes).toBe(16 * chunk.length);
  });

  it('names the address and what to do when no worker answers', async () => {
    const nobody = createWorkerClient('127.0.0.1:1');
    const error = (await nobody
      .getCapabilities({}, { timeoutMs: 2000 })
      .catch((caught: unknown) => caught)) as WorkerError;
    nobody.close();
    expect(WorkerError.isInstance(error)).toBe(true);
    expect(error.message).toContain('127.0.0.1:1');
    expect(error.isRetryable).toBe(true);
  });
});
