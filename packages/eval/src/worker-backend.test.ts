import { Metadata, Server, ServerCredentials, type ServiceError, status } from '@grpc/grpc-js';
import {
  FinishReason,
  type SampleRequest,
  type ScoreLogprobsRequest,
  type WorkerServer,
  WorkerService,
} from '@midspec/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackendError } from './backend.js';
import { parseModelRef, WorkerBackend } from './worker-backend.js';

// An in-process worker implementing Sample and ScoreLogprobs; every other RPC is UNIMPLEMENTED.
function failure(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}
const unimplemented = (_call: unknown, callback: (error: ServiceError) => void) =>
  callback(failure(status.UNIMPLEMENTED, 'not here'));

let server: Server;
let address: string;
let lastSample: SampleRequest | undefined;
let lastScore: ScoreLogprobsRequest | undefined;
let failNext: ServiceError | undefined;

beforeEach(async () => {
  failNext = undefined;
  const streamUnimplemented = (call: { destroy(error: Error): void }) =>
    call.destroy(failure(status.UNIMPLEMENTED, 'later'));
  const implementation: WorkerServer = {
    sample: (call, callback) => {
      lastSample = call.request;
      if (failNext) return callback(failNext);
      const prompt = call.request.prompts[0]?.prompt;
      const text =
        prompt?.$case === 'chat' ? `echo: ${prompt.chat.messages.at(-1)?.content}` : 'text';
      callback(null, {
        results: [
          {
            completions: [
              {
                text,
                finishReason: FinishReason.FINISH_REASON_STOP,
                promptTokens: 12,
                completionTokens: 4,
                logprobs: [],
              },
            ],
          },
        ],
      });
    },
    scoreLogprobs: (call, callback) => {
      lastScore = call.request;
      callback(null, {
        results: call.request.items.map((item) => ({
          logprob: item.continuation === 'A' ? -0.1 : -2.3,
          tokens: [],
          isGreedy: item.continuation === 'A',
          promptTokens: 9,
          continuationTokens: 1,
        })),
      });
    },
    getCapabilities: unimplemented,
    uploadDataset: unimplemented,
    getUploadStatus: unimplemented,
    getDataset: unimplemented,
    listDatasets: unimplemented,
    submitRun: unimplemented,
    getRun: unimplemented,
    listRuns: unimplemented,
    watchRun: streamUnimplemented,
    cancelRun: unimplemented,
    listCheckpoints: unimplemented,
    downloadCheckpoint: streamUnimplemented,
    sampleStream: streamUnimplemented,
    tokenize: unimplemented,
  };
  server = new Server();
  server.addService(WorkerService, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

describe('WorkerBackend', () => {
  it('samples through Sample with the model reference, seed and chat prompt', async () => {
    const backend = new WorkerBackend({ address, model: 'run:r-7/ckpt-2' });
    const output = await backend.sample({
      prompt: { messages: [{ role: 'user', content: 'hello' }] },
      temperature: 0.7,
      maxTokens: 64,
      seed: 42,
    });
    await backend.close();
    expect(output).toMatchObject({
      text: 'echo: hello',
      finishReason: 'stop',
      usage: { inputTokens: 12, outputTokens: 4 },
    });
    expect(lastSample?.model?.ref).toEqual({
      $case: 'checkpoint',
      checkpoint: { runId: 'r-7', checkpointId: 'ckpt-2', merged: false },
    });
    expect(lastSample?.params).toMatchObject({ n: 1, temperature: 0.7, maxTokens: 64, seed: 42 });
  });

  it('scores continuations through ScoreLogprobs', async () => {
    const backend = new WorkerBackend({ address, model: 'tiny:llama' });
    const scores = await backend.scoreLogprobs([
      { prompt: { text: 'Q' }, continuation: 'A' },
      { prompt: { text: 'Q' }, continuation: 'B' },
    ]);
    await backend.close();
    expect(scores.map((score) => score.logprob)).toEqual([-0.1, -2.3]);
    expect(lastScore?.model?.ref).toEqual({ $case: 'baseModel', baseModel: 'tiny:llama' });
    expect(lastScore?.items[0]?.prompt?.prompt).toEqual({ $case: 'text', text: 'Q' });
  });

  it('sends chat prompts as chats, for the worker to render with the model template', async () => {
    const backend = new WorkerBackend({ address, model: 'run:r1/final' });
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'A) Brie\nB) Gouda\n\nAnswer A or B.' },
    ];
    await backend.scoreLogprobs([{ prompt: { messages }, continuation: 'A' }]);
    await backend.close();
    expect(lastScore?.items[0]?.prompt?.prompt).toEqual({
      $case: 'chat',
      chat: { messages: messages.map((turn) => ({ ...turn, reasoning: '' })) },
    });
    expect(lastScore?.items[0]?.continuation).toBe('A');
  });

  it('maps worker errors: UNIMPLEMENTED is unsupported, UNAVAILABLE retryable', async () => {
    failNext = failure(status.UNIMPLEMENTED, 'Sample is not implemented yet');
    const backend = new WorkerBackend({ address, model: 'tiny:llama' });
    const input = { prompt: { text: 'x' }, temperature: 0, maxTokens: 4 };
    const unsupported = (await backend.sample(input).catch((e: unknown) => e)) as BackendError;
    expect(unsupported).toMatchObject({ unsupported: true, retryable: false });
    failNext = failure(status.UNAVAILABLE, 'warming up');
    const unavailable = (await backend.sample(input).catch((e: unknown) => e)) as BackendError;
    expect(BackendError.isInstance(unavailable) && unavailable.retryable).toBe(true);
    await backend.close();
  });

  it('parses model references', () => {
    expect(parseModelRef('Qwen/Qwen3-8B')).toEqual({
      ref: { $case: 'baseModel', baseModel: 'Qwen/Qwen3-8B' },
    });
    expect(parseModelRef('run:abc').ref).toMatchObject({
      $case: 'checkpoint',
      checkpoint: { runId: 'abc', checkpointId: '' },
    });
  });
});
