import { countTexts, createWorkerModelClient, workerModelRef as modelRef } from '@midspec/models';
import { createWorkerClient, type WorkerClient } from '@midspec/proto';
import { fromModelClient, toProviderError } from './model-provider.js';
import type { CallOptions, Provider } from './provider.js';
import type { TokenCounter } from './token-counter.js';

export { modelRef };

export interface WorkerProviderOptions {
  /** HOST:PORT of a midspec worker. */
  address: string;
  /** `tiny:llama`, a local Hugging Face folder or hub id, or `run:<runId>[:<checkpointId>]`. */
  model: string;
  token?: string;
  /** Requests in flight; default 4 (a worker batches internally). */
  concurrency?: number;
  /** An existing client (not closed by the provider). */
  client?: WorkerClient;
}

/** The midspec worker's Sample RPC (through @midspec/models), and its Tokenize RPC as a counter. */
export function createWorkerProvider(options: WorkerProviderOptions): Provider & TokenCounter {
  const client = options.client ?? createWorkerClient(options.address, { token: options.token });
  const model = createWorkerModelClient({
    address: options.address,
    model: options.model,
    client,
  });
  const provider = fromModelClient(model, {
    id: 'worker',
    concurrency: options.concurrency ?? 4,
    sendSeed: true,
  });
  return {
    ...provider,
    name: `worker:${options.model}`,
    async count(texts: string[], call?: CallOptions): Promise<number[]> {
      try {
        return await countTexts(client, modelRef(options.model), model.id, texts, call);
      } catch (error) {
        throw toProviderError(error, 'worker', call?.signal);
      }
    },
    close() {
      if (!options.client) client.close();
    },
  };
}
