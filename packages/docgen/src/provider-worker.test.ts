import { Metadata, Server, ServerCredentials, type ServiceError, status } from '@grpc/grpc-js';
import { FinishReason, type SampleRequest, type WorkerServer, WorkerService } from '@midspec/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from './docgen-error.js';
import { createWorkerProvider } from './provider-worker.js';

const unimplemented = (_call: unknown, callback: (error: ServiceError) => void) =>
  callback(
    Object.assign(new Error('not here'), {
      code: status.UNIMPLEMENTED,
      details: 'not here',
      metadata: new Metadata(),
    }),
  );

let server: Server;
let address: string;
const seen: SampleRequest[] = [];
let failNext = false;

beforeEach(async () => {
  seen.length = 0;
  const implementation = Object.fromEntries(
    Object.keys(WorkerService).map((name) => [name, unimplemented]),
  ) as unknown as WorkerServer;
  implementation.sample = (call, callback) => {
    seen.push(call.request);
    if (failNext) {
      failNext = false;
      callback(
        Object.assign(new Error('busy'), {
          code: status.UNAVAILABLE,
          details: 'busy',
          metadata: new Metadata(),
        }),
      );
      return;
    }
    const chat = call.request.prompts[0]?.prompt;
    const last = chat?.$case === 'chat' ? chat.chat.messages.at(-1)?.content : '';
    callback(null, {
      results: [
        {
          completions: [
            {
              text: `echo: ${last}`,
              finishReason: FinishReason.FINISH_REASON_LENGTH,
              promptTokens: 9,
              completionTokens: 4,
              logprobs: [],
            },
          ],
        },
      ],
    });
  };
  implementation.tokenize = (call, callback) =>
    callback(null, {
      results: call.request.texts.map((text) => ({ count: text.split(' ').length, ids: [] })),
    });
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

describe('worker provider', () => {
  it('samples through the Sample RPC with the chat, parameters and seed', async () => {
    const provider = createWorkerProvider({ address, model: 'tiny:llama' });
    const result = await provider.complete({
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.7,
      maxTokens: 32,
      seed: 5,
      task: { stage: 'documents', spec: {} as never },
    });
    provider.close?.();
    expect(result).toEqual({
      text: 'echo: hi',
      finishReason: 'length',
      promptTokens: 9,
      completionTokens: 4,
    });
    expect(seen[0]?.model?.ref).toEqual({ $case: 'baseModel', baseModel: 'tiny:llama' });
    expect(seen[0]?.params).toMatchObject({ n: 1, temperature: 0.7, maxTokens: 32, seed: 5 });
  });

  it('maps retryable worker errors and counts tokens with Tokenize', async () => {
    const provider = createWorkerProvider({ address, model: 'run:r1:c2' });
    failNext = true;
    const error = await provider
      .complete({
        messages: [],
        temperature: 0,
        maxTokens: 1,
        task: { stage: 'documents', spec: {} as never },
      })
      .catch((caught: unknown) => caught);
    expect(ProviderError.isInstance(error) && error.retryable).toBe(true);
    expect(seen[0]?.model?.ref).toEqual({
      $case: 'checkpoint',
      checkpoint: { runId: 'r1', checkpointId: 'c2', merged: false },
    });
    expect(await provider.count(['a b c', 'd'])).toEqual([3, 1]);
    provider.close?.();
  });
});
